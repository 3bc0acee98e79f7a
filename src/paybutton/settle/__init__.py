"""Settlement (结算/分账, issue 21): a paid order's held money goes to the seller, the receivers and the platform."""

"""Developer-created orders (order/create_order), CPS (order/query_cps) and the developer's marketing calculation
(marketing/query_and_calculate): issue 22."""

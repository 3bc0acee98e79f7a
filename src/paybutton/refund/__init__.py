"""refund domain: refund kinds, the refund flow, merchant audit."""

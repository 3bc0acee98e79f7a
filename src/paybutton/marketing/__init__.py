"""Marketing (`marketing-ready`): the merchant's query_marketing_info / calculate_price / query_and_calculate
extension points, their strict validation, and the pricing an order carries (reference §14.5)."""

"""Reservations (预约, book/*): a paid unit of a BOOK_IN_ADVANCE good booked for a day (issue 22)."""

"""Email campaigns: recipients and per-recipient deliveries in SQL, sent exactly once each."""

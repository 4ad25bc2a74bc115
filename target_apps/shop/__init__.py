"""``shop``: a small FastAPI service (catalogue, orders, payments) with switchable seeded faults."""

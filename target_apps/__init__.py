"""Services the harness runs: the sample ``shop`` service (with seeded faults) and its downstream."""

"""Services the harness runs: the sample ``shop`` service (seeded faults) and its downstream."""

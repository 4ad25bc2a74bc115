"""The control process: one run (orchestrator), the target and load it starts, the
resource sampler, game days (conductor, live view) and sweeps."""

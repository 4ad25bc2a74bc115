"""The service's own ``harness`` package (a common name: lagscope must not shadow it)."""

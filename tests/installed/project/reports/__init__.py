"""The service's own ``reports`` package (a common name: lagscope must not shadow it)."""

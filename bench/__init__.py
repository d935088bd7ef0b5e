"""Performance benchmark of the letters back end: `python -m bench.run` (see bench/README.md)."""

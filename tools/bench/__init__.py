"""Benchmarks against a real (local) Table Storage: `python -m tools.bench [reconcile] --help`."""

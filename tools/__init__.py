"""Operator and developer tools: local host, admin CLI, Entra simulator, benchmarks."""

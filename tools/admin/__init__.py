"""Admin CLI: `python -m tools.admin --help`."""

"""Benchmarks: scripts run by hand, results in README.md (a package so mypy names them apart)."""

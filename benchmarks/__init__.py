"""Benchmarks of the trace engine on generated networks (not part of the test suite)."""

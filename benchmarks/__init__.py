"""Benchmarks of sisso-lite (run with ``make bench``)."""

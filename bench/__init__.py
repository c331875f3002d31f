"""Benchmarks that print numbers (run each file as a script)."""

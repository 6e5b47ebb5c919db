"""Reliability tests: the guarantees of docs/en/guarantees.md."""

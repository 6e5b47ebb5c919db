"""Reliability tests: the guarantees of docs/guarantees.md."""

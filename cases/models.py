"""Data and invariants for cases (built out by its own issue)."""

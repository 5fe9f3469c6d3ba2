"""Data and invariants for committee (built out by its own issue)."""

"""Data and invariants for systems (built out by its own issue)."""

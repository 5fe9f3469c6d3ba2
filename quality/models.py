"""Data and invariants for quality (built out by its own issue)."""

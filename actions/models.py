"""Data and invariants for actions (built out by its own issue)."""

"""The authorization matrix: every API route x method x object scope x role, as data."""

"""Readers of scanner reports: each streams one format into the plain values of `records`."""

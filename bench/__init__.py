"""Benchmarks at company scale (issue 8): each measures our path and a bare one side by side."""

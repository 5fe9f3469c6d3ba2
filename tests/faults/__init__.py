"""Fault injection on the real services: a broker, a database or a process taken away mid-work."""

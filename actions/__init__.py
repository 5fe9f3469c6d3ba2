"""Owned work: actions, status updates and evidence, directives, chasing and escalation."""

"""Incidents and risks: their timelines, root causes and recurrence-prevention measures."""

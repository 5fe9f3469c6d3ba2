"""The Risk Compliance Committee: meetings, agendas, attendance, minutes and decisions."""

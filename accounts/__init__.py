"""Who people are and what office they hold: users, business units, offices, delegations, roles."""

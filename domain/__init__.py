"""The business: aggregates, their events and rules. Pure Python, no I/O, no clock."""

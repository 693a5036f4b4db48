"""Read models: one per question a user asks. Each is rebuilt from the event log at will."""

"""Use cases: commands in, aggregates saved; the event store's one Application."""

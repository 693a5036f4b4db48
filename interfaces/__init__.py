"""The edges: settings, the composition root, persistence adapters, HTTP, CLI, workers."""

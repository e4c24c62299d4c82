"""Orchestration examples: supervisor, fan-out and join, handoff, choreography."""

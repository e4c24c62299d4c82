"""Orchestration patterns beyond a single agent: fan-out and join, handoff, an event bus."""

"""Tools: registry, executor, built-ins."""

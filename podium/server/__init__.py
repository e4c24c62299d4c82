"""The agent over HTTP: the app (invoke, stream, approvals, events) and its triggers."""

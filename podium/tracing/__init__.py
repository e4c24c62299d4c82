"""What a run leaves behind: typed events, the hash-chained audit log, OpenTelemetry, views."""

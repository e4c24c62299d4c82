"""Customer support: classify, redact, look up, recall, reply, refund with approval."""

"""Data pipeline: extract, validate, transform, load, with quarantine and rollback."""

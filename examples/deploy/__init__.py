"""Deployment workflow: checks, a versioned release, a health check, rollback."""

"""Evaluation suites: suite format, runner, scoring, reports."""

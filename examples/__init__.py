"""Runnable examples of the workflows people build on podium."""

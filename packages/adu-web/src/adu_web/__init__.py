"""ADU web dashboard."""

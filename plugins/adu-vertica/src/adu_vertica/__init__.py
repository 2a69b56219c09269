"""ADU Vertica source through vertica-python."""

"""ADU command line."""

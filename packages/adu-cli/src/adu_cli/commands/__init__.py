"""One module per ``adu`` command; each exposes a click ``command`` (or ``group``)."""

"""pytest plugin for ADU and its plugin authors (loaded with ``-p adu_core.testing`` or
through the ``pytest11`` entry point)."""

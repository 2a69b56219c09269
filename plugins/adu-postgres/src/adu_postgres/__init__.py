"""ADU PostgreSQL source: parallel binary COPY, exact types, one snapshot."""

"""ADU Parquet sink: atomic publishing, manifest-ready files."""

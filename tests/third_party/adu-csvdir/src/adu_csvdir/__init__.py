"""adu-csvdir: a folder of CSV files as an ADU source (the worked example of docs/plugins.md)."""

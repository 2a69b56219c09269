"""Plugin hooks (filled in by the plugin's issue)."""

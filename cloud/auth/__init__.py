"""Cloud auth."""

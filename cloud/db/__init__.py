"""Cloud db."""

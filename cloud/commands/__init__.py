"""Cloud commands."""

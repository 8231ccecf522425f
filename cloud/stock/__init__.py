"""Cloud stock."""

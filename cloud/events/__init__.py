"""Cloud events."""

"""Cloud masterdata."""

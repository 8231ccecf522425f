"""Cloud audit."""

"""Alembic migration environment (packaged so that an installed wims can migrate)."""

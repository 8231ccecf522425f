"""BI reports at ``/reports``: SQL aggregates in PostgreSQL over facts rolled up from the ops."""

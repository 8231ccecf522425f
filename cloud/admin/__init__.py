"""Administration of a cloud deployment from the command line: gateways, users, master data imports.

Each module is a typer app mounted by ``cloud.cli``; the database work lives with its domain
(``cloud.ingest.gateways``, ``cloud.auth.users``, ``cloud.masterdata.store``), shared with the HTTP API.
"""

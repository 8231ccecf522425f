"""The central reconciliation service: ingests gateway ops, keeps the network stock ledger, serves views."""

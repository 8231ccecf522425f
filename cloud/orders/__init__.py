"""Customer orders across the network: which warehouse ships what (``routing``, a pure core)."""

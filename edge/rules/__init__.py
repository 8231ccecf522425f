"""Site rules: conditions on ops and floor events, and the actions they call for (``engine.py``)."""

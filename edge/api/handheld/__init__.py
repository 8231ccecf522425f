"""The handheld app every gateway serves at ``/app``: an installable mobile web app for the floor.

It talks only to its own gateway (so it works with the cloud unreachable), keeps every scan in an
IndexedDB outbox keyed by the op's ``op_id`` (the journal's idempotency key) until the gateway stored
it, and replays the outbox on page load, on reconnect, on a timer and on the service worker's sync
event. ``routes.py`` serves the shell, the service worker and the manifest (open: they hold no data);
``catalog.py`` and ``photos.py`` are API resources under ``/v1`` (behind the gateway's token).
"""

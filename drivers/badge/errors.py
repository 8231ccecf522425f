"""The badge driver's error tree. Cards that cannot be read are events (``CardUnreadable``), not these."""

from __future__ import annotations


class BadgeError(Exception):
    """Root of every error the badge driver raises."""


class BadgeConfigError(BadgeError, ValueError):
    """An option is missing or invalid; ``option`` names it so a site config error can point at it."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


class ReaderUnavailable(BadgeError):
    """pcscd is not running, or the reader is not there (yet); the driver keeps retrying with backoff."""

    def __init__(self, reader: str, reason: str) -> None:
        super().__init__(f"{reader}: {reason}")
        self.reader = reader
        self.reason = reason


class PcscUnavailable(BadgeError):
    """pyscard is not installed (the ``badge`` extra); badge readers cannot run on this gateway."""

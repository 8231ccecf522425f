"""The barcode driver's error tree. Bad scans are events (``ScanRejected``), not these: these are for
the caller's mistakes (configuration) and for device trouble that the driver reports rather than hides."""

from __future__ import annotations


class BarcodeError(Exception):
    """Root of every error the barcode drivers raise."""


class BarcodeConfigError(BarcodeError, ValueError):
    """An option is missing or invalid; ``option`` names it so a site config error can point at it."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


class DeviceUnavailable(BarcodeError):
    """The port or camera cannot be opened (yet); the driver keeps retrying with backoff."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"{target}: {reason}")
        self.target = target
        self.reason = reason


class SourceClosed(BarcodeError):
    """The source was used outside its ``async with`` block."""

"""The RFID driver's error tree: one root, flat leaves carrying what a caller needs."""

from __future__ import annotations


class RfidDriverError(Exception):
    """Root of every error the RFID (LLRP) driver raises."""


class LlrpDecodeError(RfidDriverError, ValueError):
    """Bytes that are not a valid LLRP message; ``where`` names the message/parameter being read."""

    def __init__(self, reason: str, where: str = "", offset: int | None = None) -> None:
        text = f"{where}: {reason}" if where else reason
        if offset is not None:
            text += f" (at byte {offset})"
        super().__init__(text)
        self.reason = reason
        self.where = where
        self.offset = offset


class LlrpEncodeError(RfidDriverError, ValueError):
    """A message or parameter that cannot be encoded (unknown name, value out of range)."""


class RfidConfigError(RfidDriverError, ValueError):
    """An option is missing or invalid; ``option`` names it so a site config error can point at it."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


class LlrpStatusError(RfidDriverError):
    """The reader answered a request with a non-success LLRPStatus."""

    def __init__(self, request: str, code: int, description: str) -> None:
        super().__init__(f"{request}: reader status {code} {description!r}")
        self.request = request
        self.code = code
        self.description = description


class ReaderUnavailable(RfidDriverError):
    """The reader cannot be reached or its link died; the driver keeps retrying with backoff."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"{target}: {reason}")
        self.target = target
        self.reason = reason


class ReaderClosed(RfidDriverError):
    """The reader was used outside its ``async with`` block."""

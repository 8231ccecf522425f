"""The Modbus driver's error tree.

Poll failures of one sensor are events (``PollFailed``), not exceptions: a silent sensor on a shared
bus must not stop the others. These types are for configuration mistakes and for the bus itself.
"""

from __future__ import annotations


class ModbusDriverError(Exception):
    """Root of every error the Modbus driver raises."""


class ModbusConfigError(ModbusDriverError, ValueError):
    """An option is missing or invalid; ``option`` is its dotted path so a site config error can name it."""

    def __init__(self, option: str, message: str) -> None:
        super().__init__(f"{option}: {message}")
        self.option = option
        self.message = message


class BusUnavailable(ModbusDriverError):
    """The serial port or TCP endpoint cannot be opened (yet); the bus keeps retrying with backoff."""

    def __init__(self, target: str, reason: str) -> None:
        super().__init__(f"{target}: {reason}")
        self.target = target
        self.reason = reason


class DecodeError(ModbusDriverError, ValueError):
    """Registers that cannot be turned into a value (wrong count, NaN float)."""


class BusClosed(ModbusDriverError):
    """The bus was used outside its ``async with`` block."""

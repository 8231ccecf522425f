"""PC/SC badge readers through pyscard and pcscd: card inserted/removed with its UID (GET DATA).

Knows nothing of operators: mapping a UID to a person is the edge's job.
"""

from drivers.badge.errors import BadgeConfigError, BadgeError, PcscUnavailable, ReaderUnavailable
from drivers.badge.events import BadgeEvent, CardInserted, CardRemoved, CardUnreadable, ReaderState
from drivers.badge.pcsc import GET_UID, pyscard_installed
from drivers.badge.reader import BadgeReader

__all__ = [
    "GET_UID",
    "BadgeConfigError",
    "BadgeError",
    "BadgeEvent",
    "BadgeReader",
    "CardInserted",
    "CardRemoved",
    "CardUnreadable",
    "PcscUnavailable",
    "ReaderState",
    "ReaderUnavailable",
    "pyscard_installed",
]

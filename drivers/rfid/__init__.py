"""Fixed RFID readers over LLRP 1.0.1 (TCP 5084), and EPC decoding (SGTIN-96, SSCC-96).

Knows nothing of warehouses: it turns reader reports into typed tag reads, and raw reads into
arrived/departed events per tag and read point (``smoothing``). The codec is table-driven from the
LLRP Toolkit definition file and pure, so it is fuzzed on its own.
"""

from drivers.rfid.codec import Message, Param, decode_message, encode_message, message, param
from drivers.rfid.epc import Epc, decode_epc, decode_epc_hex
from drivers.rfid.errors import (
    LlrpDecodeError,
    LlrpEncodeError,
    LlrpStatusError,
    ReaderClosed,
    ReaderUnavailable,
    RfidConfigError,
    RfidDriverError,
)
from drivers.rfid.events import FrameRejected, LinkState, ReaderEvent, ReaderState, TagRead
from drivers.rfid.options import ReaderOptions, parse_reader_options
from drivers.rfid.reader import LlrpReader
from drivers.rfid.smoothing import Direction, ReadPoint, SmoothingConfig, TagEvent, TagSmoother

__all__ = [
    "Direction",
    "Epc",
    "FrameRejected",
    "LinkState",
    "LlrpDecodeError",
    "LlrpEncodeError",
    "LlrpReader",
    "LlrpStatusError",
    "Message",
    "Param",
    "ReadPoint",
    "ReaderClosed",
    "ReaderEvent",
    "ReaderOptions",
    "ReaderState",
    "ReaderUnavailable",
    "RfidConfigError",
    "RfidDriverError",
    "SmoothingConfig",
    "TagEvent",
    "TagRead",
    "TagSmoother",
    "decode_epc",
    "decode_epc_hex",
    "decode_message",
    "encode_message",
    "message",
    "param",
    "parse_reader_options",
]

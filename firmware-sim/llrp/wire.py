"""The simulator's own LLRP bytes, written by hand from the standard (it never imports drivers.rfid).

Only what a reader needs: build the messages a reader sends, and walk the TLV tree of what a client
sends far enough to pull out the ROSpec and keepalive settings. Kept deliberately different from the
driver's table-driven codec so that a mistake in one is caught by the other.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

# message types (LLRP 1.0.1 section 16.1)
GET_READER_CAPABILITIES, GET_READER_CAPABILITIES_RESPONSE = 1, 11
GET_READER_CONFIG, GET_READER_CONFIG_RESPONSE = 2, 12
SET_READER_CONFIG, SET_READER_CONFIG_RESPONSE = 3, 13
CLOSE_CONNECTION_RESPONSE, CLOSE_CONNECTION = 4, 14
ADD_ROSPEC, ADD_ROSPEC_RESPONSE = 20, 30
DELETE_ROSPEC, DELETE_ROSPEC_RESPONSE = 21, 31
START_ROSPEC, START_ROSPEC_RESPONSE = 22, 32
STOP_ROSPEC, STOP_ROSPEC_RESPONSE = 23, 33
ENABLE_ROSPEC, ENABLE_ROSPEC_RESPONSE = 24, 34
DISABLE_ROSPEC, DISABLE_ROSPEC_RESPONSE = 25, 35
GET_ROSPECS, GET_ROSPECS_RESPONSE = 26, 36
ADD_ACCESSSPEC, ADD_ACCESSSPEC_RESPONSE = 40, 50
DELETE_ACCESSSPEC, DELETE_ACCESSSPEC_RESPONSE = 41, 51
ENABLE_ACCESSSPEC, ENABLE_ACCESSSPEC_RESPONSE = 42, 52
DISABLE_ACCESSSPEC, DISABLE_ACCESSSPEC_RESPONSE = 43, 53
GET_ACCESSSPECS, GET_ACCESSSPECS_RESPONSE = 44, 54
GET_REPORT, RO_ACCESS_REPORT, KEEPALIVE, READER_EVENT_NOTIFICATION = 60, 61, 62, 63
ENABLE_EVENTS_AND_REPORTS, KEEPALIVE_ACK, ERROR_MESSAGE = 64, 72, 100

RESPONSES = {
    GET_READER_CONFIG: GET_READER_CONFIG_RESPONSE,
    SET_READER_CONFIG: SET_READER_CONFIG_RESPONSE,
    CLOSE_CONNECTION: CLOSE_CONNECTION_RESPONSE,
    ADD_ROSPEC: ADD_ROSPEC_RESPONSE,
    DELETE_ROSPEC: DELETE_ROSPEC_RESPONSE,
    START_ROSPEC: START_ROSPEC_RESPONSE,
    STOP_ROSPEC: STOP_ROSPEC_RESPONSE,
    ENABLE_ROSPEC: ENABLE_ROSPEC_RESPONSE,
    DISABLE_ROSPEC: DISABLE_ROSPEC_RESPONSE,
    GET_ROSPECS: GET_ROSPECS_RESPONSE,
    ADD_ACCESSSPEC: ADD_ACCESSSPEC_RESPONSE,
    DELETE_ACCESSSPEC: DELETE_ACCESSSPEC_RESPONSE,
    ENABLE_ACCESSSPEC: ENABLE_ACCESSSPEC_RESPONSE,
    DISABLE_ACCESSSPEC: DISABLE_ACCESSSPEC_RESPONSE,
    GET_ACCESSSPECS: GET_ACCESSSPECS_RESPONSE,
}
"""Requests answered with a bare LLRPStatus (capabilities are built separately)."""

# TV parameter sizes (type -> value bytes) a client message may carry, from the standard's TV table
TV_SIZES = {
    1: 2,
    2: 8,
    3: 8,
    4: 8,
    5: 8,
    6: 1,
    7: 2,
    8: 2,
    9: 4,
    10: 2,
    11: 2,
    12: 1,
    13: 12,
    14: 2,
    15: 2,
    16: 4,
    17: 4,
    18: 4,
}

STATUS_SUCCESS = 0
STATUS_PARAMETER_ERROR = 100
STATUS_FIELD_ERROR = 101
STATUS_UNSUPPORTED_MESSAGE = 109


class WireError(ValueError):
    """A client frame the simulator cannot read."""


def frame(msg_type: int, msg_id: int, body: bytes = b"") -> bytes:
    """Header: 3 reserved bits, version 1 in 3 bits, type in 10 bits; u32 total length; u32 id."""
    return struct.pack(">HII", (1 << 10) | msg_type, 10 + len(body), msg_id) + body


def tlv(ptype: int, body: bytes = b"") -> bytes:
    return struct.pack(">HH", ptype, 4 + len(body)) + body


def tv(ptype: int, value: bytes) -> bytes:
    return bytes([0x80 | ptype]) + value


def status(code: int = STATUS_SUCCESS, text: str = "") -> bytes:
    raw = text.encode()
    return tlv(287, struct.pack(">HH", code, len(raw)) + raw)


def utc_timestamp(us: int) -> bytes:
    return tlv(128, struct.pack(">Q", us))


@dataclass
class Node:
    """One client parameter: TLV body bytes (after its header) and its children, parsed lazily."""

    ptype: int
    body: bytes
    children: list[Node] = field(default_factory=list)

    def first(self, ptype: int) -> Node | None:
        for c in self.children:
            if c.ptype == ptype:
                return c
        return None

    def all(self, ptype: int) -> list[Node]:
        return [c for c in self.children if c.ptype == ptype]


def read_params(data: bytes, fixed: int = 0, depth: int = 0) -> list[Node]:
    """TLV/TV parameters of ``data`` after ``fixed`` bytes of fields; children of known containers."""
    out: list[Node] = []
    pos = fixed
    while pos < len(data):
        if data[pos] & 0x80:
            ptype = data[pos] & 0x7F
            size = TV_SIZES.get(ptype)
            if size is None or pos + 1 + size > len(data):
                raise WireError(f"bad TV parameter {ptype} at {pos}")
            out.append(Node(ptype, data[pos + 1 : pos + 1 + size]))
            pos += 1 + size
            continue
        if pos + 4 > len(data):
            raise WireError(f"truncated parameter at {pos}")
        ptype, length = struct.unpack_from(">HH", data, pos)
        ptype &= 0x3FF
        if length < 4 or pos + length > len(data):
            raise WireError(f"parameter {ptype} has bad length {length}")
        body = data[pos + 4 : pos + length]
        node = Node(ptype, body)
        skip = _CONTAINERS.get(ptype)
        if skip is not None and depth < 8:
            node.children = read_params(body, _fixed_len(ptype, body, skip), depth + 1)
        out.append(node)
        pos += length
    return out


def _fixed_len(ptype: int, body: bytes, skip: int) -> int:
    if ptype == 183:  # AISpec: u16v AntennaIDs
        if len(body) < 2:
            raise WireError("AISpec too short")
        return 2 + 2 * struct.unpack_from(">H", body, 0)[0]
    return skip


_CONTAINERS = {177: 6, 178: 0, 183: -1, 237: 3, 222: 2, 186: 3, 179: 1, 182: 5, 184: 5}
"""Parameter types whose children the simulator reads, with their fixed-field byte counts
(ROSpec, ROBoundarySpec, AISpec, ROReportSpec, AntennaConfiguration, InventoryParameterSpec,
ROSpecStartTrigger, ROSpecStopTrigger, AISpecStopTrigger)."""


@dataclass
class RoSpec:
    """What the simulator takes from an ADD_ROSPEC."""

    rospec_id: int
    antennas: tuple[int, ...]
    report_n: int
    aispec_duration_ms: int
    start_trigger: int
    period_ms: int
    tx_power: dict[int, int]
    observe_tags: int = 0
    """AISpec stop trigger Tag_Observation (Upon_Seeing_N_Tags_Or_Timeout): N unique tags ..."""
    observe_timeout_ms: int = 0
    """... or this timeout, whichever comes first."""


def parse_rospec(body: bytes) -> RoSpec:
    params = read_params(body)
    rospec = next((p for p in params if p.ptype == 177), None)
    if rospec is None or len(rospec.body) < 6:
        raise WireError("ADD_ROSPEC without a ROSpec")
    rospec_id = struct.unpack_from(">I", rospec.body, 0)[0]
    if rospec.body[5] != 0:
        raise WireError("ROSpec CurrentState must be Disabled (0)")
    start_trigger, period = 0, 0
    boundary = rospec.first(178)
    start = boundary.first(179) if boundary else None
    if start is not None and start.body:
        start_trigger = start.body[0]
        periodic = read_params(start.body, 1)
        p = next((n for n in periodic if n.ptype == 180), None)
        if p is not None and len(p.body) >= 8:
            period = struct.unpack_from(">I", p.body, 4)[0]
    ai = rospec.first(183)
    if ai is None:
        raise WireError("ROSpec without an AISpec")
    count = struct.unpack_from(">H", ai.body, 0)[0]
    antennas = struct.unpack_from(f">{count}H", ai.body, 2)
    stop = ai.first(184)
    duration = struct.unpack_from(">I", stop.body, 1)[0] if stop is not None and len(stop.body) >= 5 else 0
    observe_tags = observe_timeout = 0
    if stop is not None and stop.body[:1] == b"\x03":
        obs = stop.first(185)  # TagObservationTrigger: type u8, rsvd u8, N u16, attempts u16, T u16, timeout u32
        if obs is None or len(obs.body) < 12 or obs.body[0] != 0:
            raise WireError("only Upon_Seeing_N_Tags_Or_Timeout tag observation triggers are simulated")
        observe_tags = struct.unpack_from(">H", obs.body, 2)[0]
        observe_timeout = struct.unpack_from(">I", obs.body, 8)[0]
        duration = 0
    power: dict[int, int] = {}
    for ips in ai.all(186):
        for ac in ips.all(222):
            tx = next((n for n in read_params(ac.body, 2) if n.ptype == 224), None)
            if tx is not None and len(tx.body) >= 6:
                power[struct.unpack_from(">H", ac.body, 0)[0]] = struct.unpack_from(">H", tx.body, 4)[0]
    report = rospec.first(237)
    n = struct.unpack_from(">H", report.body, 1)[0] if report is not None and len(report.body) >= 3 else 0
    return RoSpec(rospec_id, tuple(antennas), n, duration, start_trigger, period, power, observe_tags, observe_timeout)


def parse_keepalive_ms(body: bytes) -> int | None:
    """Periodic keepalive interval from a SET_READER_CONFIG body (after its 1-byte reset flag)."""
    for p in read_params(body, 1):
        if p.ptype == 220 and len(p.body) >= 5:
            return struct.unpack_from(">I", p.body, 1)[0] if p.body[0] == 1 else 0
    return None

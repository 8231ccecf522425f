"""LLRP binary codec: bytes <-> ``Message``/``Param`` trees, driven by the tables in ``defs``.

Pure and synchronous, so it can be fuzzed: any malformed input raises ``LlrpDecodeError`` naming the
message or parameter and the offset, never another exception. Field values are ints (bit, integer
fields), ``bytes`` (``u96``, ``u8v``, ``u1v``, ``bytesToEnd``), tuples of ints (``u16v``, ``u32v``) or
``str`` (``utf8v``). A TLV parameter whose type the tables do not know is kept as raw bytes (vendor
extensions); an unknown TV parameter cannot be sized, so it ends the decode with an error.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Union

from drivers.rfid.defs import ElementDef, tables
from drivers.rfid.errors import LlrpDecodeError, LlrpEncodeError

FieldValue = Union[int, bytes, str, tuple[int, ...]]  # noqa: UP007 - a runtime alias
HEADER = struct.Struct(">HII")
HEADER_SIZE = 10
VERSION = 1
MAX_MESSAGE = 4 << 20
"""Largest message accepted (4 MiB); a bigger length field means a broken or hostile peer."""

_INT = {"u8": ">B", "s8": ">b", "u16": ">H", "s16": ">h", "u32": ">I", "u64": ">Q"}
_STRUCTS = {k: struct.Struct(v) for k, v in _INT.items()}


@dataclass(slots=True)
class Param:
    """A decoded or to-be-encoded parameter; ``raw`` holds the body of a TLV the tables do not know."""

    name: str
    fields: dict[str, FieldValue] = field(default_factory=dict)
    params: list[Param] = field(default_factory=list)
    type_num: int = 0
    raw: bytes | None = None

    def find(self, name: str) -> Param | None:
        """The first direct sub-parameter called ``name``."""
        for p in self.params:
            if p.name == name:
                return p
        return None

    def find_all(self, name: str) -> list[Param]:
        return [p for p in self.params if p.name == name]

    def walk(self) -> Iterator[Param]:
        """This parameter's descendants, depth first."""
        for p in self.params:
            yield p
            yield from p.walk()

    def int(self, name: str, default: int = 0) -> int:
        v = self.fields.get(name, default)
        return v if isinstance(v, int) else default


@dataclass(slots=True)
class Message(Param):
    """A message: a parameter tree with a message id."""

    msg_id: int = 0


def param(name: str, *children: Param, **fields: FieldValue) -> Param:
    """Build a parameter by its LTK name (checked when encoded)."""
    return Param(name, dict(fields), list(children))


def message(name: str, msg_id: int, *children: Param, **fields: FieldValue) -> Message:
    return Message(name, dict(fields), list(children), msg_id=msg_id)


# ---------------------------------------------------------------- decoding


def _decode_fields(el: ElementDef, buf: bytes, pos: int, end: int) -> tuple[dict[str, FieldValue], int]:
    out: dict[str, FieldValue] = {}
    acc = 0
    nbits = 0
    pending: list[tuple[str, int]] = []
    for f in el.fields:
        if f.bits:
            pending.append((f.name, f.bits))
            nbits += f.bits
            if nbits % 8:
                continue
            nbytes = nbits // 8
            if pos + nbytes > end:
                raise LlrpDecodeError("truncated bit fields", el.name, pos)
            acc = int.from_bytes(buf[pos : pos + nbytes], "big")
            pos += nbytes
            shift = nbits
            for name, width in pending:
                shift -= width
                if name:
                    out[name] = (acc >> shift) & ((1 << width) - 1)
            pending.clear()
            nbits = 0
            continue
        kind = f.kind
        if kind in _STRUCTS:
            st = _STRUCTS[kind]
            if pos + st.size > end:
                raise LlrpDecodeError(f"truncated field {f.name}", el.name, pos)
            out[f.name] = st.unpack_from(buf, pos)[0]
            pos += st.size
        elif kind == "u96":
            if pos + 12 > end:
                raise LlrpDecodeError(f"truncated field {f.name}", el.name, pos)
            out[f.name] = bytes(buf[pos : pos + 12])
            pos += 12
        elif kind == "bytesToEnd":
            out[f.name] = bytes(buf[pos:end])
            pos = end
        else:  # a vector: u16 count, then elements
            if pos + 2 > end:
                raise LlrpDecodeError(f"truncated count of {f.name}", el.name, pos)
            count = int.from_bytes(buf[pos : pos + 2], "big")
            pos += 2
            size = (count + 7) // 8 if kind == "u1v" else count * {"u8v": 1, "utf8v": 1, "u16v": 2, "u32v": 4}[kind]
            if pos + size > end:
                raise LlrpDecodeError(f"field {f.name} runs past the end", el.name, pos)
            chunk = bytes(buf[pos : pos + size])
            pos += size
            if kind in ("u1v", "u8v"):
                out[f.name] = chunk
            elif kind == "utf8v":
                try:
                    out[f.name] = chunk.decode("utf-8")
                except UnicodeDecodeError:
                    raise LlrpDecodeError(f"field {f.name} is not UTF-8", el.name, pos) from None
            else:
                out[f.name] = struct.unpack(f">{count}{'H' if kind == 'u16v' else 'I'}", chunk)
    if pending:
        raise LlrpDecodeError("bit fields do not fill a byte", el.name, pos)
    return out, pos


def _decode_params(buf: bytes, pos: int, end: int, where: str, depth: int) -> list[Param]:
    if depth > 16:
        raise LlrpDecodeError("parameters nested too deep", where, pos)
    out: list[Param] = []
    t = tables()
    while pos < end:
        first = buf[pos]
        if first & 0x80:
            type_num = first & 0x7F
            el = t.params_by_type.get(type_num)
            if el is None or not el.is_tv:
                raise LlrpDecodeError(f"unknown TV parameter type {type_num}", where, pos)
            stop = pos + 1 + el.tv_size
            if stop > end:
                raise LlrpDecodeError(f"truncated TV parameter {el.name}", where, pos)
            values, _ = _decode_fields(el, buf, pos + 1, stop)
            out.append(Param(el.name, values, [], type_num))
            pos = stop
            continue
        if pos + 4 > end:
            raise LlrpDecodeError("truncated parameter header", where, pos)
        type_num = int.from_bytes(buf[pos : pos + 2], "big") & 0x3FF
        length = int.from_bytes(buf[pos + 2 : pos + 4], "big")
        if length < 4 or pos + length > end:
            raise LlrpDecodeError(f"parameter type {type_num} has bad length {length}", where, pos)
        pel = t.params_by_type.get(type_num)
        body_start, stop = pos + 4, pos + length
        if pel is None or pel.is_tv:
            if type_num < 128:
                raise LlrpDecodeError(f"TLV parameter with reserved type {type_num}", where, pos)
            out.append(Param(f"Unknown{type_num}", {}, [], type_num, bytes(buf[body_start:stop])))
        else:
            values, after = _decode_fields(pel, buf, body_start, stop)
            children = _decode_params(buf, after, stop, pel.name, depth + 1)
            out.append(Param(pel.name, values, children, type_num))
        pos = stop
    return out


def decode_header(header: bytes) -> tuple[int, int, int]:
    """(type, length, message id) of a 10-byte header, checking version and length bounds."""
    if len(header) < HEADER_SIZE:
        raise LlrpDecodeError(f"header needs {HEADER_SIZE} bytes, got {len(header)}")
    word, length, msg_id = HEADER.unpack_from(header, 0)
    version = (word >> 10) & 0x7
    if version != VERSION:
        raise LlrpDecodeError(f"unsupported LLRP version {version}")
    if not HEADER_SIZE <= length <= MAX_MESSAGE:
        raise LlrpDecodeError(f"message length {length} out of range")
    return word & 0x3FF, length, msg_id


def decode_message(frame: bytes) -> Message:
    """One complete frame (header included) to a ``Message``."""
    type_num, length, msg_id = decode_header(frame)
    if length != len(frame):
        raise LlrpDecodeError(f"length field {length} but frame has {len(frame)} bytes")
    el = tables().messages_by_type.get(type_num)
    if el is None:
        raise LlrpDecodeError(f"unknown message type {type_num}")
    values, after = _decode_fields(el, frame, HEADER_SIZE, length)
    children = _decode_params(frame, after, length, el.name, 0)
    return Message(el.name, values, children, type_num, None, msg_id)


def split_frames(buf: bytearray) -> Iterator[bytes]:
    """Take whole frames off the front of ``buf`` (a stream buffer), leaving any partial tail."""
    while len(buf) >= HEADER_SIZE:
        _, length, _ = decode_header(bytes(buf[:HEADER_SIZE]))
        if len(buf) < length:
            return
        frame = bytes(buf[:length])
        del buf[:length]
        yield frame


# ---------------------------------------------------------------- encoding


def _encode_fields(el: ElementDef, values: dict[str, FieldValue]) -> bytes:
    out = bytearray()
    acc = 0
    nbits = 0
    unknown = set(values) - {f.name for f in el.fields}
    if unknown:
        raise LlrpEncodeError(f"{el.name}: unknown fields {sorted(unknown)}")
    for f in el.fields:
        v = values.get(f.name, 0) if f.name else 0
        try:
            if f.bits:
                if not isinstance(v, int) or not 0 <= v < (1 << f.bits):
                    raise LlrpEncodeError(f"{el.name}.{f.name}: {v!r} does not fit {f.bits} bits")
                acc = (acc << f.bits) | v
                nbits += f.bits
                if nbits % 8 == 0:
                    out += acc.to_bytes(nbits // 8, "big")
                    acc = nbits = 0
            elif f.kind in _STRUCTS:
                out += _STRUCTS[f.kind].pack(v)
            elif f.kind == "u96":
                if not isinstance(v, bytes) or len(v) != 12:
                    raise LlrpEncodeError(f"{el.name}.{f.name}: u96 needs 12 bytes")
                out += v
            elif f.kind == "bytesToEnd":
                out += bytes(v) if isinstance(v, bytes) else b""
            else:
                out += _encode_vector(f.kind, v if v != 0 else b"")
        except (struct.error, TypeError, OverflowError) as exc:
            raise LlrpEncodeError(f"{el.name}.{f.name}: {exc}") from None
    return bytes(out)


def _encode_vector(kind: str, v: FieldValue) -> bytes:
    if kind == "utf8v":
        data = v.encode() if isinstance(v, str) else bytes(v)
        return len(data).to_bytes(2, "big") + data
    if kind in ("u8v", "u1v"):
        data = bytes(v)  # type: ignore[arg-type]
        count = len(data) * 8 if kind == "u1v" else len(data)
        return count.to_bytes(2, "big") + data
    items = tuple(v) if isinstance(v, tuple | list) else ()
    return len(items).to_bytes(2, "big") + struct.pack(f">{len(items)}{'H' if kind == 'u16v' else 'I'}", *items)


def encode_param(p: Param) -> bytes:
    el = tables().params_by_name.get(p.name)
    if el is None:
        if p.raw is not None and p.type_num >= 128:
            return (p.type_num).to_bytes(2, "big") + (len(p.raw) + 4).to_bytes(2, "big") + p.raw
        raise LlrpEncodeError(f"unknown parameter {p.name!r}")
    body = _encode_fields(el, p.fields)
    if el.is_tv:
        return bytes([0x80 | el.type_num]) + body
    body += b"".join(encode_param(c) for c in p.params)
    if len(body) + 4 > 0xFFFF:
        raise LlrpEncodeError(f"{p.name}: parameter longer than 65535 bytes")
    return el.type_num.to_bytes(2, "big") + (len(body) + 4).to_bytes(2, "big") + body


def encode_message(m: Message) -> bytes:
    el = tables().messages_by_name.get(m.name)
    if el is None:
        raise LlrpEncodeError(f"unknown message {m.name!r}")
    body = _encode_fields(el, m.fields) + b"".join(encode_param(c) for c in m.params)
    return HEADER.pack((VERSION << 10) | el.type_num, len(body) + HEADER_SIZE, m.msg_id & 0xFFFFFFFF) + body

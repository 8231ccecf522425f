"""Canonical bytes of an op: what is hashed, chained and sent on the wire.

The encoding is JSON with sorted keys, no insignificant white space, UTF-8, no floats and ``None``
fields left out; timestamps are ISO 8601 UTC with microseconds and ``Z``, decimals are strings. It is
produced by orjson (``OPT_SORT_KEYS``): it gives the same bytes as ``json.dumps(sort_keys=True,
separators=(",", ":"), ensure_ascii=False)`` about ten times faster, and this is the journal's hot path.

Hashing the *dict* (not a re-serialised model) keeps old ops verifiable after a payload model gains an
optional field: a verifier recomputes the hash from the fields it received, whatever version of the
models it runs.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

import orjson
from pydantic import BaseModel, ValidationError

from sync.ops import GENESIS_HASH, Op, OpDraft


class ChainError(ValueError):
    """An op whose hash or link to its predecessor does not verify."""

    def __init__(self, seq: int, reason: str) -> None:
        super().__init__(f"seq {seq}: {reason}")
        self.seq = seq
        self.reason = reason


_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATETIME


def _default(obj: Any) -> Any:
    if isinstance(obj, datetime):
        return iso_utc(obj)
    if isinstance(obj, Decimal | uuid.UUID):  # a UUID subclass is not orjson's native UUID
        return str(obj)
    if isinstance(obj, Enum):
        return obj.value
    if isinstance(obj, BaseModel):
        return model_dict(obj)
    if isinstance(obj, float):
        raise TypeError("floats are not allowed in canonical bodies (use int or Decimal)")
    raise TypeError(f"cannot encode {type(obj).__name__} canonically")


def canonical_bytes(body: Any) -> bytes:
    """The one byte form of an op body (or any wire object) that both ends compute identically."""
    return orjson.dumps(body, default=_default, option=_OPTS)


def model_dict(model: BaseModel) -> dict[str, Any]:
    """A model's fields with ``None`` left out, values left for ``canonical_bytes`` to encode.

    Faster than ``model_dump(mode="json")`` because orjson encodes enums, UUIDs, lists and nested
    models itself; the bytes are the same.
    """
    return {k: v for k, v in model.__dict__.items() if v is not None}


def loads(data: bytes | str) -> Any:
    return orjson.loads(data)


def hash_body(body: dict[str, Any]) -> str:
    """SHA-256 over the canonical bytes of everything but ``hash`` itself."""
    if "hash" in body:
        body = {k: v for k, v in body.items() if k != "hash"}
    return hashlib.sha256(canonical_bytes(body)).hexdigest()


def seal(draft: OpDraft, *, gateway_id: str, seq: int, prev_hash: str, recorded_at: str) -> dict[str, Any]:
    """Turn a draft into the wire body of the op at ``seq``, hash included.

    ``recorded_at`` is passed pre-formatted (ISO 8601, ``Z``) so a whole group commit shares one
    formatting call.
    """
    text, hash_ = seal_canonical(draft, gateway_id=gateway_id, seq=seq, prev_hash=prev_hash, recorded_at=recorded_at)
    return body_from_stored(text, hash_)


def seal_canonical(
    draft: OpDraft,
    *,
    gateway_id: str,
    seq: int,
    prev_hash: str,
    recorded_at: str,
    op_id: str | None = None,
    occurred_at: str | None = None,
) -> tuple[str, str]:
    """The canonical text of the op at ``seq`` (everything but ``hash``) and its hash.

    The journal stores exactly this text, so what is verified later is what was hashed now. ``op_id``
    and ``occurred_at`` may be passed pre-formatted by a caller that needs those strings anyway.
    """
    body: dict[str, Any] = {
        "op_id": op_id or str(draft.op_id),
        "gateway_id": gateway_id,
        "seq": seq,
        "kind": draft.payload.kind,
        "payload": model_dict(draft.payload),
        "actor": draft.actor,
        "occurred_at": occurred_at or iso_utc(draft.occurred_at),
        "recorded_at": recorded_at,
        "prev_hash": prev_hash,
    }
    if draft.device_id is not None:
        body["device_id"] = draft.device_id
    text = canonical_bytes(body)
    return text.decode(), hashlib.sha256(text).hexdigest()


def body_from_stored(canonical_text: str, hash_: str) -> dict[str, Any]:
    """The wire body of an op stored as its canonical text (everything but ``hash``) and its hash."""
    body: dict[str, Any] = orjson.loads(canonical_text)
    body["hash"] = hash_
    return body


def iso_utc(dt: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a ``Z``, the one timestamp form on the wire."""
    if dt.tzinfo is not UTC:
        dt = dt.astimezone(UTC)
    if dt.microsecond and type(dt) is datetime:  # orjson writes the same text 8x faster (not subclasses)
        return orjson.dumps(dt, option=orjson.OPT_UTC_Z)[1:-1].decode()
    return dt.isoformat(timespec="microseconds")[:-6] + "Z"  # orjson would drop a zero fraction


def iso_utc_many(dts: list[datetime]) -> list[str]:
    """``[iso_utc(dt) for dt in dts]``, formatted by orjson in one call (a journal group formats one
    timestamp per op). orjson leaves out a zero fraction and writes other offsets as they are; those
    few are formatted one by one, so the text is always ``iso_utc``'s. orjson hands a datetime
    subclass (freezegun's, pendulum's) to ``iso_utc`` itself."""
    texts: list[str] = orjson.loads(orjson.dumps(dts, default=iso_utc, option=orjson.OPT_UTC_Z))
    return [
        t if len(t) == 27 and t[-1] == "Z" and dt.tzinfo is UTC else iso_utc(dt)
        for t, dt in zip(texts, dts, strict=True)
    ]


def uuid_texts(ids: list[uuid.UUID]) -> list[str]:
    """``[str(i) for i in ids]`` in one orjson call: ``UUID.__str__`` is Python, a fifth of a µs each."""
    texts: list[str] = orjson.loads(orjson.dumps(ids, default=str))
    return texts


def op_from_body(body: dict[str, Any]) -> Op:
    """Parse a wire body into an Op, checking its own hash (not its link: see ``verify_chain``)."""
    return op_from_canonical(body, canonical_bytes(unhashed(body)))


def unhashed(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` without its ``hash`` field: what the hash covers. A C-level copy, not a comprehension
    (a fifth of the cost), and the caller's dict is left as it was."""
    rest = body.copy()
    rest.pop("hash", None)
    return rest


_validate_op = Op.__pydantic_validator__.validate_python
"""``Op.model_validate`` minus its Python wrapper (about 0.3 µs an op at ingest rates): same schema,
same strictness, same errors."""


def op_from_canonical(body: dict[str, Any], canonical: bytes) -> Op:
    """``op_from_body`` for a caller that already holds ``canonical_bytes(unhashed(body))`` (ingest
    stores that text), so the op's canonical bytes are computed once, not twice.

    The hash is checked over those bytes, i.e. over the fields *as received*, never over a model
    re-serialised. A schema error is reported before a hash mismatch, as ``op_from_body`` always has.
    """
    try:
        op: Op = _validate_op(body)
    except ValidationError as exc:
        raise ChainError(int(body.get("seq", 0) or 0), f"invalid op: {exc.errors()[0]['msg']}") from exc
    if hashlib.sha256(canonical).hexdigest() != op.hash:
        raise ChainError(op.seq, "hash does not match the op's content (edited op?)")
    return op


def verify_link(body: dict[str, Any], prev_hash: str, prev_seq: int) -> None:
    """Check that ``body`` directly follows the op with ``prev_seq``/``prev_hash``."""
    seq = int(body["seq"])
    if seq != prev_seq + 1:
        raise ChainError(seq, f"expected seq {prev_seq + 1} (gap or reorder)")
    if body["prev_hash"] != prev_hash:
        raise ChainError(seq, "prev_hash does not match the previous op's hash (dropped or edited op?)")
    if hash_body(body) != body["hash"]:
        raise ChainError(seq, "hash does not match the op's content (edited op?)")


def verify_chain(bodies: list[dict[str, Any]], *, prev_hash: str = GENESIS_HASH, prev_seq: int = 0) -> tuple[int, str]:
    """Walk consecutive bodies from a known head; returns the new head (seq, hash)."""
    for body in bodies:
        verify_link(body, prev_hash, prev_seq)
        prev_seq, prev_hash = int(body["seq"]), str(body["hash"])
    return prev_seq, prev_hash

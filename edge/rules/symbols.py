"""The symbols a rule may use, per subject: an op kind's envelope and payload fields, or an event's fields.

Rules are typed: each subject (``on``) has a map of symbol -> rule-engine data type, derived from the
pydantic models (``sync.ops`` payloads, ``edge.rules.events``), so a misspelt field or a comparison of a
string with a number is refused when the rules load, not when a pallet arrives at 3 a.m. Payload fields
sit at the top level beside the envelope (``qty > 100 and actor == 'op1'``).
"""

from __future__ import annotations

import datetime as dt
import types
import typing
import uuid
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

import rule_engine
from pydantic import BaseModel

from edge.rules.events import EVENTS, Event
from sync.ops import Op, OpDraft, Payload

D = rule_engine.DataType
ENVELOPE: dict[str, Any] = {
    "kind": D.STRING,
    "op_id": D.STRING,
    "actor": D.STRING,
    "device_id": D.STRING,
    "occurred_at": D.DATETIME,
}
EVENT_ENVELOPE: dict[str, Any] = {"event": D.STRING, "occurred_at": D.DATETIME, "actor": D.STRING}


def _payload_models() -> dict[str, type[BaseModel]]:
    union = typing.get_args(Payload)[0]
    models = {m.model_fields["kind"].default.value: m for m in typing.get_args(union)}
    models.pop("rule_fired", None)  # rules are not on their own firings: no rule can feed itself
    return models


PAYLOADS = _payload_models()
SUBJECTS: tuple[str, ...] = tuple(PAYLOADS) + tuple(EVENTS)


def _datatype(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _datatype(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _datatype(inner[0]) if len(inner) == 1 else D.UNDEFINED
    if origin is typing.Literal:
        values = typing.get_args(annotation)
        return D.STRING if all(isinstance(v, str) for v in values) else D.UNDEFINED
    if origin is list:
        (item,) = typing.get_args(annotation)
        inner = _datatype(item)
        return D.ARRAY(inner if inner in (D.STRING, D.FLOAT, D.BOOLEAN) else D.UNDEFINED)
    if isinstance(annotation, type):
        if issubclass(annotation, bool):
            return D.BOOLEAN
        if issubclass(annotation, str | Enum | uuid.UUID):
            return D.STRING
        if issubclass(annotation, int | float | Decimal):
            return D.FLOAT
        if issubclass(annotation, dt.datetime):
            return D.DATETIME
    return D.UNDEFINED


@cache
def symbol_types(on: str) -> dict[str, Any]:
    """Symbol -> data type for rules ``on`` an op kind or an event (``KeyError`` if neither)."""
    if on in PAYLOADS:
        fields = PAYLOADS[on].model_fields
        return {**ENVELOPE, **{name: _datatype(f.annotation) for name, f in fields.items()}}
    model = EVENTS[on]
    return {**EVENT_ENVELOPE, **{name: _datatype(f.annotation) for name, f in model.model_fields.items()}}


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, BaseModel):
        return {k: _plain(v) for k, v in value}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def subject_values(subject: Op | OpDraft | Event) -> tuple[str, dict[str, Any], str | None]:
    """What a rule is ``on``, the symbol values, and the op id (``None`` for an event)."""
    if isinstance(subject, Event):
        values = {name: _plain(v) for name, v in subject}
        return subject.name, {"event": subject.name, **values}, None
    payload = subject.payload
    values = {name: _plain(v) for name, v in payload}
    envelope = {
        "kind": payload.kind.value,
        "op_id": str(subject.op_id),
        "actor": subject.actor,
        "device_id": subject.device_id,
        "occurred_at": subject.occurred_at,
    }
    return payload.kind.value, {**values, **envelope}, str(subject.op_id)

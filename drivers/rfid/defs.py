"""LLRP 1.0.1 message and parameter tables, read from the LLRP Toolkit's definition XML at import.

The codec is driven by these tables instead of one hand-written class per message, so the 40 messages
and 108 parameters of the standard come from the same machine-readable source the LTK generates its
own libraries from (``data/llrp-1x0-def.xml``, Apache-2.0, see ``data/LICENSE-llrp-def.txt``).

A parameter with a type number below 128 is TV-encoded (one byte ``0x80 | type``, fixed size); the
others are TLV. Fields are kept in order; bit fields (``u1``, ``u2``) and ``reserved`` bit runs are
packed most significant bit first, as the standard's tables are drawn.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

_NS = "{http://www.llrp.org/ltk/schema/core/encoding/binary/1.0}"

BIT_TYPES = {"u1": 1, "u2": 2}
"""Field types packed as bits, with their widths."""

FIXED_TYPES = {"u8": 1, "s8": 1, "u16": 2, "s16": 2, "u32": 4, "u64": 8, "u96": 12}
"""Byte-aligned fixed-size field types, with their sizes in bytes."""

VECTOR_TYPES = {"u1v": 0, "u8v": 1, "u16v": 2, "u32v": 4, "utf8v": 1}
"""Types prefixed by a u16 count, with the size of one element (u1v counts bits)."""

ALL_TYPES = frozenset(BIT_TYPES) | frozenset(FIXED_TYPES) | frozenset(VECTOR_TYPES) | {"bytesToEnd", "reserved"}


@dataclass(frozen=True, slots=True)
class FieldDef:
    """One field: ``kind`` is an LTK type name or ``reserved``; ``bits`` is set for bit runs."""

    name: str
    kind: str
    bits: int = 0
    enumeration: str | None = None


@dataclass(frozen=True, slots=True)
class ChildDef:
    """A sub-parameter slot: a parameter or a choice (``choice`` lists the allowed parameter names)."""

    name: str
    repeat: str
    choice: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ElementDef:
    """A message or parameter definition."""

    name: str
    type_num: int
    is_message: bool
    fields: tuple[FieldDef, ...]
    children: tuple[ChildDef, ...]
    response: str | None = None

    @property
    def is_tv(self) -> bool:
        return not self.is_message and self.type_num < 128

    @property
    def tv_size(self) -> int:
        """Bytes after the TV type byte (TV parameters hold fixed-size fields only)."""
        return sum(FIXED_TYPES[f.kind] for f in self.fields)


@dataclass(frozen=True, slots=True)
class Tables:
    messages_by_type: dict[int, ElementDef] = field(default_factory=dict)
    messages_by_name: dict[str, ElementDef] = field(default_factory=dict)
    params_by_type: dict[int, ElementDef] = field(default_factory=dict)
    params_by_name: dict[str, ElementDef] = field(default_factory=dict)
    enums: dict[str, dict[str, int]] = field(default_factory=dict)


class DefinitionError(Exception):
    """The definition XML does not say what the codec relies on (a broken or foreign file)."""


def _element(node: ET.Element, *, is_message: bool, choices: dict[str, tuple[str, ...]]) -> ElementDef:
    fields: list[FieldDef] = []
    children: list[ChildDef] = []
    for sub in node:
        tag = sub.tag.removeprefix(_NS)
        if tag == "field":
            kind = sub.attrib["type"]
            if kind not in ALL_TYPES:
                raise DefinitionError(f"{node.attrib['name']}.{sub.attrib['name']}: unknown field type {kind}")
            fields.append(FieldDef(sub.attrib["name"], kind, BIT_TYPES.get(kind, 0), sub.attrib.get("enumeration")))
        elif tag == "reserved":
            fields.append(FieldDef("", "reserved", int(sub.attrib["bitCount"])))
        elif tag == "parameter":
            children.append(ChildDef(sub.attrib["type"], sub.attrib.get("repeat", "1")))
        elif tag == "choice":
            name = sub.attrib["type"]
            children.append(ChildDef(name, sub.attrib.get("repeat", "1"), choices.get(name, ())))
    return ElementDef(
        name=node.attrib["name"],
        type_num=int(node.attrib["typeNum"]),
        is_message=is_message,
        fields=tuple(fields),
        children=tuple(children),
        response=node.attrib.get("responseType"),
    )


def parse_definitions(xml_text: bytes) -> Tables:
    """Build the tables from definition XML text (public so tests can feed a broken file)."""
    root = ET.fromstring(xml_text)
    choices = {
        c.attrib["name"]: tuple(p.attrib["type"] for p in c if p.tag == f"{_NS}parameter")
        for c in root.iter(f"{_NS}choiceDefinition")
    }
    tables = Tables()
    for node in root:
        tag = node.tag.removeprefix(_NS) if isinstance(node.tag, str) else ""
        if tag == "messageDefinition":
            el = _element(node, is_message=True, choices=choices)
            tables.messages_by_type[el.type_num] = el
            tables.messages_by_name[el.name] = el
        elif tag == "parameterDefinition":
            el = _element(node, is_message=False, choices=choices)
            if el.is_tv and any(f.kind not in FIXED_TYPES for f in el.fields):
                raise DefinitionError(f"TV parameter {el.name} has a field that is not fixed-size")
            tables.params_by_type[el.type_num] = el
            tables.params_by_name[el.name] = el
        elif tag == "enumerationDefinition":
            tables.enums[node.attrib["name"]] = {
                e.attrib["name"]: int(e.attrib["value"]) for e in node if e.tag == f"{_NS}entry"
            }
    if "RO_ACCESS_REPORT" not in tables.messages_by_name or "TagReportData" not in tables.params_by_name:
        raise DefinitionError("definition file lacks RO_ACCESS_REPORT / TagReportData")
    return tables


@cache
def tables() -> Tables:
    """The LLRP 1.0.1 tables from the packaged LTK file, parsed once per process."""
    data = resources.files("drivers.rfid").joinpath("data/llrp-1x0-def.xml").read_bytes()
    return parse_definitions(data)

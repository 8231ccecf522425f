"""Fuzz the two TOML-facing parsers: any input gives a validated object or a clear error, never a crash."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.floor.layout import LayoutError, PickGrid, parse_layout
from edge.rules.engine import RulesError, evaluate_all, parse_rules
from edge.rules.events import ShortPick
from sync.ops import OpDraft, ReceivePayload, utc_now

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 50), st.floats(-10, 100, allow_nan=False), st.text(max_size=12)
)
values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)

CONDITIONS = ["true", "qty > 3", "sku == 'MILK'", "qty >", "sku + 1", "lot =~ '('", "nope", "picked < wanted", "1", ""]
ACTIONS = [
    {"action": "create_task", "task": "qc"},
    {"action": "hold_stock", "reason": "r {sku}"},
    {"action": "open_work_order", "wo_type": "x", "description": "{missing}"},
    {"action": "notify", "webhook": "erp", "event": "Bad Event"},
    {"action": "agv_transport", "from_location": "{location}", "to_location": "B"},
    {"action": "fly"},
    {},
]


@st.composite
def rule_files(draw: st.DrawFn) -> dict[str, Any]:
    rules = []
    for n in range(draw(st.integers(0, 4))):
        rule: dict[str, Any] = {
            "id": draw(st.sampled_from([f"r{n}", "r0", "", "bad id!"])),
            "on": draw(st.sampled_from(["receive", "short_pick", "temp_alarm", "nope"])),
            "when": draw(st.sampled_from(CONDITIONS)),
            "then": draw(st.lists(st.sampled_from(ACTIONS), max_size=3)),
        }
        if draw(st.booleans()):
            rule[draw(st.sampled_from(["enabled", "extra", "description"]))] = draw(values)
        rules.append(rule)
    return {"rules": rules} if draw(st.integers(0, 9)) else {"rules": draw(values)}


@settings(max_examples=300, deadline=None)
@given(rule_files())
def test_rules_parse_or_are_refused_with_reasons(data: dict[str, Any]) -> None:
    try:
        rules = parse_rules(data, "fuzz.toml")
    except RulesError as exc:
        assert exc.problems and all(isinstance(p, str) and p for p in exc.problems)
        return
    op = OpDraft(payload=ReceivePayload(sku="MILK", location="D", qty=5), actor="op1", occurred_at=utc_now())
    for subject in (op, ShortPick(order_id="O", sku="MILK", location="A", wanted=3, picked=1)):
        result = evaluate_all(rules, subject)
        assert all(f.ruleset_hash == rules.hash for f in result.firings)


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.fixed_dictionaries(
            {
                "grid": st.dictionaries(
                    st.sampled_from(
                        ["aisles", "aisle_spacing_m", "blocks", "slot_pitch_m", "location_format", "depot_x_m", "x"]
                    ),
                    values,
                    max_size=6,
                )
            }
        ),
        st.dictionaries(
            st.sampled_from(["name", "aisles", "cross_aisles", "depot", "slots", "grid"]), values, max_size=5
        ),
    )
)
def test_layouts_parse_or_are_refused_naming_keys(data: dict[str, Any]) -> None:
    try:
        layout = parse_layout(data, "fuzz.toml")
    except LayoutError as exc:
        assert exc.problems and all(p.startswith("layout") for p in exc.problems)
        return
    PickGrid(layout)

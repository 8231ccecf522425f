"""The rules engine: whole-file validation naming rule and key, typed actions, firings tied to the set."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from edge.rules.actions import AgvTransport, CreateTask, HoldStock, OpenWorkOrder
from edge.rules.engine import (
    EMPTY,
    ActiveRules,
    RuleFailure,
    RulesError,
    evaluate,
    evaluate_all,
    load_rules,
    parse_rules,
)
from edge.rules.events import QcResult, ShortPick
from sync.ops import AlarmState, OpDraft, PutawayPayload, ReceivePayload, TempAlarmPayload

DEFAULT = Path(__file__).parents[2] / "edge" / "rules" / "default.toml"
T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)

GOOD = """
[[rules]]
id = "big-chilled-receipt"
on = "receive"
when = "qty >= 100 and location =~ 'DOCK-.*'"
then = [
  { action = "create_task", task = "qc", location = "{location}", note = "{qty} {sku} lot {lot} by {actor}" },
  { action = "agv_transport", from_location = "{location}", to_location = "QC-1", priority = 3 },
]

[[rules]]
id = "off"
on = "receive"
enabled = false
then = [{ action = "notify", webhook = "erp", event = "receipt" }]
"""


def receive(qty: int, location: str = "DOCK-1") -> OpDraft:
    return OpDraft(
        payload=ReceivePayload(sku="MILK", lot="L7", location=location, qty=qty),
        actor="op1",
        device_id="hh-3",
        occurred_at=T0,
    )


def write(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_rule_fires_with_typed_actions_and_filled_templates(tmp_path: Path) -> None:
    rules = load_rules(write(tmp_path, GOOD))
    (firing,) = evaluate(rules, receive(120))
    assert firing.rule_id == "big-chilled-receipt"
    assert firing.ruleset_hash == rules.hash and len(rules.hash) == 64
    assert firing.on == "receive"
    assert firing.op_id is not None and uuid.UUID(firing.op_id)
    assert firing.actions == (
        CreateTask(action="create_task", task="qc", location="DOCK-1", note="120 MILK lot L7 by op1"),
        AgvTransport(action="agv_transport", from_location="DOCK-1", to_location="QC-1", priority=3),
    )
    assert evaluate(rules, receive(99)) == []
    assert evaluate(rules, receive(500, location="A-01")) == []
    putaway = OpDraft(
        payload=PutawayPayload(sku="MILK", from_location="D", to_location="A", qty=1), actor="op1", occurred_at=T0
    )
    assert evaluate(rules, putaway) == []  # rules only see their own kind


def test_the_hash_is_the_canonical_form_not_the_text(tmp_path: Path) -> None:
    a = load_rules(write(tmp_path, GOOD, "a.toml"))
    reformatted = GOOD.replace("[[rules]]", "# a comment\n[[rules]]").replace(
        'id = "off"', 'id="off"\npriority_note = 1'
    )
    with pytest.raises(RulesError):
        load_rules(write(tmp_path, reformatted, "b.toml"))  # an unknown key is an error, not ignored
    same = GOOD.replace("[[rules]]", "# a comment\n[[rules]]").replace(
        "enabled = false", "enabled = false\nwhen = 'true'"
    )
    assert load_rules(write(tmp_path, same, "c.toml")).hash == a.hash  # comments and written-out defaults
    changed = GOOD.replace("qty >= 100", "qty >= 101")
    assert load_rules(write(tmp_path, changed, "d.toml")).hash != a.hash


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ('when = "qtty > 1"', "rule 'r1' (rules[0]).when: unknown symbol 'qtty' (did you mean 'qty'?)"),
        ("when = \"qty > 'many'\"", "rule 'r1' (rules[0]).when: data type mismatch in \"qty > 'many'\""),
        ('when = "qty >"', "rule 'r1' (rules[0]).when: syntax error at: EOF in 'qty >'"),
        ('when = "sku"', "rule 'r1' (rules[0]).when: the condition gives a STRING, not true or false"),
        ('on = "recieve"', "rule 'r1' (rules[0]).on: 'recieve' is not an op kind or event (did you mean 'receive'?)"),
        ('colour = "red"', "rule 'r1' (rules[0]).colour: Extra inputs are not permitted"),
    ],
)
def test_a_rule_with_an_error_is_refused_naming_the_rule_and_key(tmp_path: Path, rule: str, problem: str) -> None:
    text = f"""
[[rules]]
id = "r1"
on = "receive"
{rule}
then = [{{ action = "create_task", task = "qc" }}]
"""
    text = text.replace('on = "receive"\non = "recieve"', 'on = "recieve"')
    path = write(tmp_path, text)
    with pytest.raises(RulesError) as info:
        load_rules(path)
    assert str(info.value).startswith(f"{path}: ")
    assert info.value.problems == [problem]


def test_action_errors_name_the_action_and_key(tmp_path: Path) -> None:
    text = """
[[rules]]
id = "fine"
on = "receive"
then = [{ action = "create_task", task = "qc" }]

[[rules]]
id = "bad-actions"
on = "receive"
then = [
  { action = "hold_stock", scope = "zone" },
  { action = "open_work_order", wo_type = "x", description = "at {locaton}" },
  { action = "teleport" },
  { action = "create_task", task = "qc", note = "{qty:>5}" },
]

[[rules]]
id = "fine"
on = "receive"
then = [{ action = "create_task", task = "count", priority = 0 }]
"""
    with pytest.raises(RulesError) as info:
        load_rules(write(tmp_path, text))
    assert info.value.problems == [
        "rule 'bad-actions' (rules[1]).then[0].hold_stock.reason: Field required",
        "rule 'bad-actions' (rules[1]).then[2]: Input tag 'teleport' found using 'action' does not match any of"
        " the expected tags: 'create_task', 'hold_stock', 'release_stock', 'open_work_order', 'notify',"
        " 'agv_transport'",
        "rule 'fine' (rules[2]).then[0].create_task.priority: Input should be greater than or equal to 1",
    ]
    text = text.replace('{ action = "hold_stock", scope = "zone" },', "").replace('{ action = "teleport" },', "")
    text = text.replace("priority = 0", "priority = 1")
    with pytest.raises(RulesError) as info:
        load_rules(write(tmp_path, text))
    assert info.value.problems == [
        "rule 'bad-actions' (rules[1]).then[0].description: unknown symbol 'locaton' (did you mean 'location'?)"
        " in template",
        "rule 'bad-actions' (rules[1]).then[1].note: templates take plain {symbol} only, not {qty...}",
        "rule 'fine' (rules[2]).id: duplicate rule id 'fine'",
    ]


def test_a_refused_reload_leaves_the_old_rules_in_force(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    active = ActiveRules()
    assert active.current is EMPTY and evaluate(active.current, receive(120)) == []
    old = active.reload(path)
    path.write_text(GOOD.replace("qty >= 100", "qty >= "))
    with pytest.raises(RulesError, match=r"rule 'big-chilled-receipt' \(rules\[0\]\)\.when: syntax error"):
        active.reload(path)
    assert active.current is old
    assert [f.rule_id for f in evaluate(active.current, receive(120))] == ["big-chilled-receipt"]
    path.write_text(GOOD.replace("qty >= 100", "qty >= 10"))
    new = active.reload(path)  # takes effect without a restart
    assert new.hash != old.hash
    assert [f.ruleset_hash for f in evaluate(active.current, receive(20))] == [new.hash]


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="cannot read"):
        load_rules(tmp_path / "missing.toml")
    with pytest.raises(RulesError, match="not valid TOML"):
        load_rules(write(tmp_path, "[[rules]\nid="))
    with pytest.raises(RulesError, match="rulez: Extra inputs are not permitted"):
        load_rules(write(tmp_path, "[[rulez]]\nid = 'x'\n"))


def test_a_condition_failing_at_run_time_is_reported_and_the_others_still_run() -> None:
    rules = parse_rules(
        {
            "rules": [
                {
                    "id": "arithmetic-on-none",
                    "on": "receive",
                    "when": "asn_line + 1 > 2",
                    "then": [{"action": "create_task", "task": "qc"}],
                },
                {"id": "always", "on": "receive", "then": [{"action": "create_task", "task": "putaway"}]},
            ]
        }
    )
    result = evaluate_all(rules, receive(5))
    assert [f.rule_id for f in result.firings] == ["always"]
    assert result.failures == [
        RuleFailure("arithmetic-on-none", "EvaluationError: data type mismatch (not a numeric value)")
    ]


def test_events_are_subjects_too() -> None:
    rules = load_rules(DEFAULT)
    short = ShortPick(order_id="SO-9", sku="MILK", location="A-01", wanted=10, picked=7, occurred_at=T0)
    (firing,) = evaluate(rules, short)
    assert firing.rule_id == "short-pick" and firing.op_id is None
    assert firing.actions[0] == OpenWorkOrder(
        action="open_work_order",
        wo_type="short_pick",
        location="A-01",
        sla_minutes=30,
        description="order SO-9: 7 of 10 MILK at A-01",
    )
    assert isinstance(firing.actions[1], CreateTask) and firing.actions[1].task == "count"
    passed = QcResult(sku="MILK", location="QC-1", qty=5, result="pass")
    assert evaluate(rules, passed) == []
    rejected = passed.model_copy(update={"result": "reject", "reason_code": "SEAL"})
    assert [f.rule_id for f in evaluate(rules, rejected)] == ["qc-reject"]


def test_cold_chain_excursion_runs_as_rules() -> None:
    """The default rules do what the cold-chain logic does on an alarm: hold the zone, open one work order."""
    rules = load_rules(DEFAULT)
    alarm = OpDraft(
        payload=TempAlarmPayload(
            zone="CHILL-A",
            sensor_id="t-1",
            alarm="temp_high",
            state=AlarmState.RAISED,
            value=Decimal("9.4"),
            limit=Decimal("8"),
        ),
        actor="system",
        device_id="bus-1",
        occurred_at=T0,
    )
    (firing,) = evaluate(rules, alarm)
    hold, work_order = firing.actions
    assert hold == HoldStock(
        action="hold_stock", scope="zone", zone="CHILL-A", reason="temp_excursion temp_high: t-1 read 9.4, limit 8"
    )
    assert isinstance(work_order, OpenWorkOrder) and work_order.wo_type == "temp_excursion"
    cleared = alarm.model_copy(update={"payload": alarm.payload.model_copy(update={"state": AlarmState.CLEARED})})
    assert evaluate(rules, cleared) == []
    stale = alarm.model_copy(update={"payload": alarm.payload.model_copy(update={"alarm": "stale", "value": None})})
    assert [f.rule_id for f in evaluate(rules, stale)] == ["cold-chain-sensor-stale"]

"""The rules alone: readings and simulated time in, op drafts out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from edge.config import parse_config
from edge.rules.coldchain import ColdChainRules, HoldLine, RuleOptions
from edge.rules.engine import load_rules
from edge.rules.runner import DEFAULT_RULES, preview
from sync.ops import ExceptionPayload, OpDraft, QcHoldPayload, StockStatus, TempAlarmPayload, WorkOrderPayload
from tests.support.coldchain import site

T0 = datetime(2026, 1, 1, tzinfo=UTC)
STOCK = {
    "CHILL-A": [HoldLine("MILK", "L1", "A-01", 40), HoldLine("YOGH", "", "A-02", 25)],
    "CHILL-B": [HoldLine("MILK", "L2", "B-01", 30)],
}


ZONES = {z.code: z for z in parse_config(site(Path("/tmp"))).zones}
SITE_RULES = load_rules(DEFAULT_RULES)


class Stock:
    """The zones' available stock above, for the rules' hold (a StockView)."""

    def lines(
        self, scope: str, zone: str | None, location: str | None, line: object, status: StockStatus
    ) -> list[HoldLine]:
        assert scope == "zone" and zone is not None and status == StockStatus.AVAILABLE
        return STOCK[zone]


def with_rules(drafts: list[OpDraft]) -> list[OpDraft]:
    """Each alarm followed by what the site's default rules record for it (the holds, the work order)."""
    out: list[OpDraft] = []
    for d in drafts:
        out.append(d)
        for fired in preview(SITE_RULES, d, Stock(), d.occurred_at):
            out += fired.effects
    return out


def rules(**opts: object) -> ColdChainRules:
    r = ColdChainRules(
        ZONES,
        RuleOptions.model_validate(opts),
        device_id="bus-1",
        poll_interval_s=10,
    )
    r.add_sensor("TA1", "CHILL-A", 0.0)
    r.add_sensor("TA2", "CHILL-A", 0.0)
    r.add_sensor("TB1", "CHILL-B", 0.0)
    return r


def feed(r: ColdChainRules, sensor: str, temps: list[float], start: float = 0.0, step: float = 10.0) -> list[OpDraft]:
    out: list[OpDraft] = []
    for i, t in enumerate(temps):
        now = start + i * step
        out += with_rules(r.observe(sensor, {"temperature": t, "humidity": 60.0}, T0 + timedelta(seconds=now), now))
    return out


def kinds(drafts: list[OpDraft]) -> list[str]:
    return [d.kind.value for d in drafts]


def test_breach_shorter_than_min_duration_raises_nothing() -> None:
    r = rules(min_duration_s=300)
    assert feed(r, "TA1", [5.0] + [9.0] * 29 + [5.0]) == []  # 290 s above 8 C


def test_excursion_holds_the_zone_stock_and_opens_one_work_order() -> None:
    r = rules(min_duration_s=300)
    drafts = feed(r, "TA1", [5.0] + [9.0] * 40)
    assert kinds(drafts) == ["temp_alarm", "qc_hold", "qc_hold", "work_order"]
    alarm, hold1, hold2, wo = (d.payload for d in drafts)
    assert isinstance(alarm, TempAlarmPayload) and alarm.alarm == "temp_high" and alarm.state == "raised"
    assert alarm.since == T0 + timedelta(seconds=10)
    assert isinstance(hold1, QcHoldPayload) and hold1.alarm_op_id == drafts[0].op_id
    assert isinstance(hold2, QcHoldPayload) and {hold1.location, hold2.location} == {"A-01", "A-02"}
    # routed to the supervisor role (the floor's work orders name no person at opening; this was sup1)
    assert isinstance(wo, WorkOrderPayload) and wo.assignee_role == "supervisor" and wo.wo_type == "temp_excursion"
    assert wo.ref_op_id == drafts[0].op_id
    # a second sensor in the same excursion adds its alarm, not a second hold or work order
    assert kinds(feed(r, "TA2", [9.5] * 40, start=400)) == ["temp_alarm"]


def test_hysteresis_and_clear_duration() -> None:
    r = rules(min_duration_s=60, hysteresis_c=0.5, clear_duration_s=60)
    raised = feed(r, "TB1", [9.0] * 10)
    assert kinds(raised) == ["temp_alarm", "qc_hold", "work_order"]
    assert feed(r, "TB1", [7.8] * 30, start=100) == []  # inside, but not by the hysteresis
    cleared = feed(r, "TB1", [7.4] * 10, start=400)
    assert kinds(cleared) == ["temp_alarm"]
    assert isinstance(cleared[0].payload, TempAlarmPayload) and cleared[0].payload.state == "cleared"
    assert r.excursions == {}


def test_flapping_around_the_limit_raises_no_storm() -> None:
    r = rules(min_duration_s=300)
    assert feed(r, "TA1", [7.9, 8.1] * 360) == []  # two hours of flapping


def test_stale_sensor_is_its_own_alarm_without_hold() -> None:
    r = rules(stale_after_s=60)
    feed(r, "TA1", [5.0])
    assert r.tick(T0 + timedelta(seconds=50), 50.0) == []
    drafts = r.tick(T0 + timedelta(seconds=70), 70.0)
    stale = [d for d in drafts if isinstance(d.payload, TempAlarmPayload) and d.payload.sensor_id == "TA1"]
    assert len(stale) == 1 and stale[0].payload.alarm == "stale"  # type: ignore[union-attr]
    assert "qc_hold" not in kinds(drafts)
    assert r.tick(T0 + timedelta(seconds=80), 80.0) == []  # raised once, not every tick
    back = feed(r, "TA1", [5.0], start=90)
    assert kinds(back) == ["temp_alarm"] and back[0].payload.state == "cleared"  # type: ignore[union-attr]


def test_implausible_values_are_one_exception_not_an_alarm() -> None:
    r = rules(min_duration_s=0)
    drafts = feed(r, "TA1", [3276.7] * 50)
    assert kinds(drafts) == ["exception"]
    assert isinstance(drafts[0].payload, ExceptionPayload) and drafts[0].payload.code == "sensor_out_of_range"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=12, allow_nan=False), min_size=1, max_size=300))
def test_alarms_alternate_and_are_bounded_by_min_duration(temps: list[float]) -> None:
    """Whatever the readings, raised/cleared alternate, and raises are at most one per min_duration."""
    r = rules(min_duration_s=120, clear_duration_s=30)
    drafts = feed(r, "TA1", temps)
    states: dict[str, list[str]] = {}
    for d in drafts:
        if isinstance(d.payload, TempAlarmPayload):
            states.setdefault(d.payload.alarm, []).append(d.payload.state.value)
    for seq in states.values():
        assert seq[::2] == ["raised"] * len(seq[::2]) and seq[1::2] == ["cleared"] * len(seq[1::2])
        assert seq.count("raised") <= len(temps) * 10 / 120 + 1
    assert kinds(drafts).count("work_order") <= max(1, sum(s.count("raised") for s in states.values()))


def test_restored_alarms_are_not_raised_twice_after_a_restart() -> None:
    before = rules(min_duration_s=60)
    raised = feed(before, "TA1", [9.0] * 10)
    after = rules(min_duration_s=60)  # a new process: state comes back from the journal's alarms
    for d in raised:
        if isinstance(d.payload, TempAlarmPayload):
            after.restore(d.payload, d.op_id)
    assert after.excursions == {"CHILL-A": str(raised[0].op_id)}
    assert feed(after, "TA1", [9.0] * 20, start=200) == []
    cleared = feed(after, "TA1", [5.0] * 10, start=500)
    assert kinds(cleared) == ["temp_alarm"] and after.excursions == {}

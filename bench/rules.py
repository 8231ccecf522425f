"""Rule evaluation speed: one condition, and whole rule sets per op, against plain Python predicates.

The condition is three clauses over a receive op's symbols (a number, a string, a regex match). The
baseline is the same test written as a Python function over the same symbol dictionary, in the same
run. Then ``evaluate`` over rule sets of 10 and 50 rules on the op's kind (every rule evaluated,
firings built, templates filled). If a CEL library is installed (``common-expression-language``, the
Rust bindings, or ``cel-python``; neither is a dependency), the same condition in CEL is timed too:
the comparison behind choosing rule-engine (``edge/rules/engine.py``).

    python -m bench.rules [--quick] [--json]
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench._common import emit_json, parser, rss_mb, table
from edge.rules.engine import evaluate, parse_rules
from edge.rules.symbols import subject_values
from sync.ops import OpDraft, ReceivePayload

CONDITION = "qty > 100 and lot == 'L7' and location =~ 'DOCK-.*'"
CEL = "qty > 100 && lot == 'L7' && location.matches('^DOCK-.*$')"


def _per_call_us(fn: Callable[[], Any], n: int) -> float:
    fn()
    t = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - t) / n * 1e6


def _cel(values: dict[str, Any], n: int) -> dict[str, float]:
    out = {}
    plain = {k: v for k, v in values.items() if isinstance(v, str | int)}
    try:
        import cel  # type: ignore[import-not-found]

        program = cel.compile(CEL)
        assert program.execute(plain) is True
        out["cel_rust_us"] = _per_call_us(lambda: program.execute(plain), n)
    except ImportError:
        pass
    try:
        import celpy  # type: ignore[import-not-found]

        env = celpy.Environment()
        prg = env.program(env.compile(CEL))
        activation = celpy.json_to_cel(plain)
        out["cel_python_us"] = _per_call_us(lambda: prg.evaluate(activation), max(50, n // 20))
    except ImportError:
        pass
    return out


def main() -> None:
    args = parser(__doc__ or "").parse_args()
    n = 5_000 if args.quick else 50_000
    op = OpDraft(
        payload=ReceivePayload(sku="MILK", lot="L7", location="DOCK-1", qty=120),
        actor="op1",
        occurred_at=datetime(2026, 12, 1, 8, 0, tzinfo=UTC),
    )
    _, values, _ = subject_values(op)
    one = parse_rules(
        {"rules": [{"id": "r", "on": "receive", "when": CONDITION, "then": [{"action": "create_task", "task": "qc"}]}]}
    )
    condition = one.by_on["receive"][0].condition
    dock = re.compile("DOCK-.*")

    def python(v: dict[str, Any]) -> bool:
        return bool(v["qty"] > 100 and v["lot"] == "L7" and dock.search(v["location"]))

    figures: dict[str, Any] = {
        "condition_us": round(_per_call_us(lambda: condition.matches(values), n), 2),
        "python_predicate_us": round(_per_call_us(lambda: python(values), n), 2),
    }
    figures.update({k: round(v, 2) for k, v in _cel(values, n).items()})
    rows = [
        ["rule-engine condition", figures["condition_us"]],
        ["Python predicate (baseline)", figures["python_predicate_us"]],
    ]
    rows += [
        [name, figures[key]]
        for key, name in (("cel_rust_us", "CEL, Rust bindings"), ("cel_python_us", "CEL, cel-python"))
        if key in figures
    ]
    table(f"one condition: {CONDITION}", ["evaluator", "us per evaluation"], rows)
    set_rows = []
    for size in (10, 50):
        rules = [
            {"id": f"r{i}", "on": "receive", "when": CONDITION.replace("100", str(i * 10)), "then": [
                {"action": "create_task", "task": "qc", "note": "{qty} {sku} at {location}"}]}
            for i in range(size)
        ]  # fmt: skip
        ruleset = parse_rules({"rules": rules})
        us = _per_call_us(lambda rs=ruleset: evaluate(rs, op), max(200, n // size))  # type: ignore[misc]
        fired = len(evaluate(ruleset, op))
        figures[f"evaluate_{size}_rules_us"] = round(us, 1)
        set_rows.append([size, fired, us, us / size])
    table(
        "evaluate(ruleset, op): every rule on the op's kind", ["rules", "fired", "us per op", "us per rule"], set_rows
    )
    figures["rss_mb"] = round(rss_mb(), 1)
    print(f"\npeak RSS {figures['rss_mb']} MB")
    if args.json:
        emit_json(figures)


if __name__ == "__main__":
    main()

"""The site rules engine: TOML rules, typed conditions, typed actions, firings tied to the rule set.

A rules file::

    [[rules]]
    id = "excursion-hold"
    on = "temp_alarm"                  # an op kind (sync.ops.OpKind) or an event (edge.rules.events)
    when = "state == 'raised' and alarm != 'stale'"
    enabled = true                     # default
    description = "Freeze the zone's stock while a person looks"
    then = [
      { action = "hold_stock", scope = "zone", zone = "{zone}", reason = "temperature excursion in {zone}" },
      { action = "open_work_order", wo_type = "temp_excursion", zone = "{zone}", sla_minutes = 30 },
    ]

Loading validates the whole file, and a file with any error is refused whole: every problem is listed
with the file, the rule's id and the key (``rules.toml: rule 'excursion-hold' (rules[0]).when: unknown
symbol 'stat' (did you mean 'state'?)``). ``ActiveRules.reload`` keeps the rule set in force when a new
file is refused, so a typo never leaves a site without its rules.

``evaluate(ruleset, subject)`` is pure: an op or event in, the firings out, each naming the rule id and
the rule set's hash (SHA-256 of its canonical JSON form: key order, comments, spacing and defaults
written out or not do not change it), so the op a firing becomes says exactly which rules made it.

Conditions: rule-engine 5.x, not CEL. Both are maintained expression languages with a real grammar.
``bench/rules.py`` times one three-clause condition (a number, a string and a regex match over a
receive op's symbols) on this project's shared 2-core machine: rule-engine 5.1 about 32-34 us an
evaluation; common-expression-language 0.10 (Rust CEL bindings) 36-57 us, converting the symbols to CEL
values each call; cel-python 0.5 (pure Python CEL) 390-460 us. So rule-engine is at least as fast as
the Rust CEL here, and it checks a condition against a typed symbol table when the rules load (unknown
symbols and type mismatches are load errors naming the symbol), where the Rust bindings find an
undefined variable only when they evaluate. It is pure Python (no wheel to build for an ARM
appliance) and its syntax (``and``, ``or``, ``in``, ``=~`` for regexes) reads well to the warehouse
engineers who write the rules. CEL's selling point, one language across services, does not apply:
rules run on the gateway only. ``by_on`` evaluates only the rules ``on`` the subject's kind; a site
with tens of rules a kind spends well under a millisecond an op (a firing, with its templates filled,
costs about as much again as its condition).
"""

from __future__ import annotations

import difflib
import hashlib
import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import rule_engine
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from edge.rules.actions import Action
from edge.rules.events import Event
from edge.rules.symbols import SUBJECTS, subject_values, symbol_types
from sync.codes import Code
from sync.ops import Op, OpDraft


class RulesError(ValueError):
    """A rules file refused whole; ``problems`` each name the rule id and the key."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


class Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Code
    on: str = Field(min_length=1, max_length=64, description="An op kind or an event name.")
    when: str = Field(default="true", max_length=4000, description="A rule-engine condition over the symbols.")
    then: list[Action] = Field(min_length=1, max_length=20)
    enabled: bool = True
    description: str = Field(default="", max_length=500)


class _RulesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    rules: list[dict[str, Any]] = Field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    condition: rule_engine.Rule


@dataclass(frozen=True, slots=True)
class RuleSet:
    """A validated rule set: its rules, its hash, and the enabled ones indexed by subject."""

    source: str
    hash: str
    rules: tuple[Rule, ...]
    by_on: Mapping[str, tuple[_Compiled, ...]] = field(repr=False)


@dataclass(frozen=True, slots=True)
class Firing:
    """One rule fired: what it asks for, with templates filled from the subject."""

    rule_id: str
    ruleset_hash: str
    on: str
    actions: tuple[Action, ...]
    op_id: str | None = None  # the op it fired on (None for an event)


@dataclass(frozen=True, slots=True)
class RuleFailure:
    """A condition that could not be evaluated on this subject (the other rules still ran)."""

    rule_id: str
    error: str


@dataclass(frozen=True, slots=True)
class Evaluation:
    firings: list[Firing]
    failures: list[RuleFailure]


def canonical_hash(rules: tuple[Rule, ...]) -> str:
    body = orjson.dumps([r.model_dump(mode="json") for r in rules], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(body).hexdigest()


def _context(on: str) -> rule_engine.Context:
    return rule_engine.Context(
        type_resolver=rule_engine.type_resolver_from_dict(symbol_types(on)), default_timezone="UTC"
    )


def _loc(loc: tuple[int | str, ...]) -> str:
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)


def _unknown(name: str, known: Mapping[str, Any]) -> str:
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"unknown symbol {name!r}" + (f" (did you mean {close[0]!r}?)" if close else "")


def _compile_when(rule: Rule) -> tuple[rule_engine.Rule | None, str | None]:
    try:
        condition = rule_engine.Rule(rule.when, context=_context(rule.on))
    except rule_engine.SymbolResolutionError as exc:
        return None, _unknown(exc.symbol_name, symbol_types(rule.on))
    except rule_engine.RuleSyntaxError as exc:
        return None, f"{exc.message} in {rule.when!r}"
    except rule_engine.EngineError as exc:
        return None, f"{exc.message} in {rule.when!r}"
    result = condition.statement.expression.result_type
    if result not in (rule_engine.DataType.BOOLEAN, rule_engine.DataType.UNDEFINED):
        return None, f"the condition gives a {result.name}, not true or false"
    return condition, None


def _template_problems(rule: Rule) -> list[str]:
    known = symbol_types(rule.on)
    problems = []
    for j, action in enumerate(rule.then):
        for name in action.templates:
            text = getattr(action, name)
            if not isinstance(text, str):
                continue
            try:
                parts = list(string.Formatter().parse(text))
            except ValueError as exc:
                problems.append(f"then[{j}].{name}: bad template: {exc}")
                continue
            for _, symbol, spec, conversion in parts:
                if symbol is None:
                    continue
                if spec or conversion:
                    problems.append(f"then[{j}].{name}: templates take plain {{symbol}} only, not {{{symbol}...}}")
                elif symbol not in known:
                    problems.append(f"then[{j}].{name}: {_unknown(symbol, known)} in template")
    return problems


def parse_rules(data: dict[str, Any], source: str = "<rules>") -> RuleSet:
    """Validate a rules table (``{"rules": [...]}``); any problem refuses the whole set (``RulesError``)."""
    try:
        raw = _RulesFile.model_validate(data).rules
    except ValidationError as exc:
        raise RulesError(source, [f"{_loc(tuple(e['loc'])).lstrip('.')}: {e['msg']}" for e in exc.errors()]) from None
    problems: list[str] = []
    rules: list[Rule] = []
    compiled: dict[str, list[_Compiled]] = {}
    seen: set[str] = set()
    for i, item in enumerate(raw):
        name = f"rule {item.get('id')!r} (rules[{i}])"
        try:
            rule = Rule.model_validate(item)
        except ValidationError as exc:
            problems += [
                f"{name}{_loc(tuple(e['loc']))}: {e['msg'].removeprefix('Value error, ')}" for e in exc.errors()
            ]
            continue
        if rule.id in seen:
            problems.append(f"{name}.id: duplicate rule id {rule.id!r}")
        seen.add(rule.id)
        if rule.on not in SUBJECTS:
            close = difflib.get_close_matches(rule.on, SUBJECTS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"{name}.on: {rule.on!r} is not an op kind or event{hint}")
            continue
        condition, error = _compile_when(rule)
        if error:
            problems.append(f"{name}.when: {error}")
        problems += [f"{name}.{p}" for p in _template_problems(rule)]
        rules.append(rule)
        if condition is not None and rule.enabled:
            compiled.setdefault(rule.on, []).append(_Compiled(rule, condition))
    if problems:
        raise RulesError(source, problems)
    frozen = tuple(rules)
    return RuleSet(source, canonical_hash(frozen), frozen, {k: tuple(v) for k, v in compiled.items()})


def load_rules(path: Path | str) -> RuleSet:
    """Read and validate a rules TOML file (``RulesError`` names the file, the rule and the key)."""
    p = Path(path)
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(str(p), [f"cannot read: {exc.strerror}"]) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise RulesError(str(p), [f"not valid TOML: {exc}"]) from None
    return parse_rules(data, str(p))


EMPTY = parse_rules({})


def _render(text: str, values: Mapping[str, Any]) -> str:
    out = []
    for literal, symbol, _, _ in string.Formatter().parse(text):
        out.append(literal)
        if symbol is not None:
            value = values.get(symbol)
            out.append("" if value is None else str(value))
    return "".join(out)


def _fill(action: Action, values: Mapping[str, Any]) -> Action:
    update = {n: _render(v, values) for n in action.templates if isinstance(v := getattr(action, n), str) and "{" in v}
    return action.model_copy(update=update) if update else action


def evaluate_all(ruleset: RuleSet, subject: Op | OpDraft | Event) -> Evaluation:
    """Every enabled rule ``on`` the subject's kind, in file order: the firings, and conditions that failed."""
    on, values, op_id = subject_values(subject)
    firings, failures = [], []
    for c in ruleset.by_on.get(on, ()):
        try:
            matched = c.condition.matches(values)
        except rule_engine.EngineError as exc:
            failures.append(RuleFailure(c.rule.id, f"{type(exc).__name__}: {exc.message}"))
            continue
        if matched:
            actions = tuple(_fill(a, values) for a in c.rule.then)
            firings.append(Firing(c.rule.id, ruleset.hash, on, actions, op_id))
    return Evaluation(firings, failures)


def evaluate(ruleset: RuleSet, subject: Op | OpDraft | Event) -> list[Firing]:
    """The firings of ``subject`` (see ``evaluate_all`` for the conditions that could not be evaluated)."""
    return evaluate_all(ruleset, subject).firings


class ActiveRules:
    """The rule set in force; a reload that fails leaves it in force (and raises, for the caller to report)."""

    def __init__(self, ruleset: RuleSet = EMPTY) -> None:
        self.current = ruleset

    def reload(self, path: Path | str) -> RuleSet:
        self.current = load_rules(path)  # raises RulesError before anything is replaced
        return self.current

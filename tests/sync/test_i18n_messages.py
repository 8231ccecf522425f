"""Every message of the APIs and the command line has Simplified Chinese: the catalog has no empty
translation, each error code has its sentence, each template keeps its placeholders, pydantic's own
wording still matches ours, and every literal message the sources raise or print is covered by a
template (a new one without its template fails here, naming the file and line)."""

from __future__ import annotations

import ast
import itertools
import re
import typing
from collections.abc import Iterator
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from pydantic_core import PydanticKnownError

from edge.store.errors import RejectCode
from sync.http.errors import STATUS_CODES
from sync.i18n import Template, messages, translations_for
from sync.i18n import catalog as book
from sync.i18n.console import cli_locale, fact_label, tr
from sync.web.i18n import LOCALE_DIR

ROOT = Path(__file__).resolve().parents[2]
ZH = "zh_Hans"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _po() -> list[tuple[str, str]]:
    with (LOCALE_DIR / ZH / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return [(str(m.id), str(m.string)) for m in read_po(fh, locale=ZH) if m.id]


def test_no_message_of_the_catalog_is_untranslated_and_the_mo_is_compiled() -> None:
    entries = _po()
    assert [m for m, s in entries if not s.strip()] == []
    compiled = translations_for(ZH)
    stale = [m for m, s in entries if compiled.gettext(m) != s]
    assert stale == [], "the .mo is older than the .po: run `make i18n`"


def _every_template() -> list[str]:
    typed = [m for ms in book.PYDANTIC.values() for m in ms]
    return [
        *book.API,
        *book.CLI,
        *book.NESTED_TEXT,
        *typed,
        *book.CODES.values(),
        *book.COLUMNS,
        *book.SYNC_FACTS.values(),
        *book.SYNC_STATES,
        *book.STOCK_STATUSES,
        *book.HELP,
        *book.TYPER,
    ]


def test_every_template_is_in_the_catalog_with_chinese_and_the_same_placeholders() -> None:
    po = dict(_po())
    problems = []
    for msgid in _every_template():
        zh = po.get(msgid)
        if zh is None:
            problems.append(f"not extracted (run `make i18n`): {msgid!r}")
        elif not CHINESE.search(zh) and msgid not in ("sku", "id") and _has_words(msgid):  # SKU, ID: so in Chinese
            problems.append(f"no Chinese: {msgid!r} -> {zh!r}")
        elif sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(zh)):
            problems.append(f"placeholders differ: {msgid!r} -> {zh!r}")
        elif _markup(msgid) != _markup(zh):
            problems.append(f"rich markup differs: {msgid!r} -> {zh!r}")
    assert problems == []


def _has_words(msgid: str) -> bool:
    """Whether ``msgid`` says anything itself (``"  %(name)s: %(status)s"`` only arranges values)."""
    return bool(re.search(r"[A-Za-z]", re.sub(r"\[/?\w*\]", "", PLACEHOLDER.sub("", msgid))))


def _markup(text: str) -> list[str]:
    """rich's style tags in ``text`` (``[red]``, ``[/red]``)."""
    return re.findall(r"\[/?(?:red|green|yellow|blue|bold)?\]", text)


def test_every_error_code_has_its_sentence() -> None:
    codes = set(STATUS_CODES.values()) | set(typing.get_args(RejectCode)) | {"error"}
    for path in _sources("cloud", "edge/api", "sync/http", "edge/store", "edge/floor"):
        for node in ast.walk(ast.parse(path.read_text())):
            # an error class's own code (edge.floor's TaskError and WorkOrderError subclasses)
            if isinstance(node, ast.ClassDef):
                codes |= {
                    stmt.value.value
                    for stmt in node.body
                    if isinstance(stmt, ast.Assign)
                    and [getattr(t, "id", "") for t in stmt.targets] == ["code"]
                    and isinstance(stmt.value, ast.Constant)
                    and isinstance(stmt.value.value, str)
                }
            # the codes given to the error helpers (a device's exception op has a `code` too: data, not an error)
            if isinstance(node, ast.Call) and _name(node.func) in ("error_response", "ApiError", "_answer", "_error"):
                codes |= {
                    k.value.value
                    for k in node.keywords
                    if k.arg == "code" and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)
                }
    assert sorted(codes - set(book.CODES)) == []


# pydantic's sample context per placeholder, to compare its wording with our templates
_CTX = {
    "ge": 1,
    "gt": 1,
    "le": 9,
    "lt": 9,
    "multiple_of": 2,
    "min_length": 2,
    "max_length": 3,
    "actual_length": 5,
    "field_type": "List",
    "pattern": "^x$",
    "expected": "'a' or 'b'",
    "class_name": "Op",
    "error": "boom",
    "max_digits": 4,
    "decimal_places": 2,
    "whole_digits": 2,
    "discriminator": "'kind'",
}


@pytest.mark.parametrize("kind", sorted(book.PYDANTIC))
def test_pydantic_still_words_its_errors_as_our_templates_say(kind: str) -> None:
    if kind == "string_nul":  # ours (RequestGuard), not pydantic's
        return
    templates = [Template.of(m) for m in book.PYDANTIC[kind]]
    for n in (1, 5):  # singular and plural
        ctx = {k: (n if isinstance(v, int) else v) for k, v in _CTX.items()}
        try:
            said = PydanticKnownError(kind, ctx).message()  # type: ignore[arg-type]
        except (KeyError, TypeError):
            said = PydanticKnownError(kind).message()  # type: ignore[arg-type]
        if kind == "json_invalid" or kind == "union_tag_not_found":
            said = said.replace("'kind'", "kind")
        assert any(t.match(said) is not None for t in templates), (kind, said)
        translated = messages().translate(said, ZH)
        assert translated is not None and CHINESE.search(translated), (kind, said)


# --- every literal message in the sources ---------------------------------------------------------------

API_CALLS = {
    # callable -> index of the message argument
    "HTTPException": 1,
    "ApiError": 1,
    "OpRejected": 1,
    "_unauthorized": 0,
    "UserExists": 0,
    "GatewayExists": 0,
    "GatewayHasOps": 0,
    "ReleaseRefused": 0,
    "error_response": 1,
    "_answer": 2,
    "_error": 2,
    "TaskError": 1,
    "WorkOrderError": 1,
    "NotAllowed": 1,
    "CloseNotAllowed": 1,
    "AlreadyClosed": 1,
    "NetworkError": 1,
    "NetworkWriteError": 0,
}
FLOOR_INIT = "__init__"  # super().__init__(id, message) in edge/floor's error classes
MODEL_FILES = (
    "sync/ops.py",
    "sync/masterdata.py",
    "sync/commands.py",
    "sync/roles.py",
    "cloud/auth/users.py",
    "cloud/masterdata/store.py",
    "edge/config.py",
    "cloud/planning/network.py",
    "cloud/planning/settings.py",
    "cloud/planning/calendar.py",
)
CLI_FILES = (
    "wims/demo/run.py",
    "edge/cli.py",
    "cloud/cli.py",
    "wims/cli.py",
    *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "cloud").glob("*/cli.py"))),
    *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "edge").glob("*/cli.py"))),
    *(str(p.relative_to(ROOT)) for p in sorted((ROOT / "cloud/admin").glob("*.py"))),
)
CONSOLES = {"out", "err", "console"}


def _sources(*dirs: str) -> Iterator[Path]:
    for d in dirs:
        p = ROOT / d
        yield from ([p] if p.is_file() else sorted(p.rglob("*.py")))


def _samples(node: ast.expr) -> list[str] | None:
    """The texts ``node`` can make, each value standing in as a sample (``None``: not a text)."""
    if isinstance(node, ast.Constant):
        return [node.value] if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        parts: list[list[str]] = []
        for v in node.values:
            if isinstance(v, ast.Constant):
                parts.append([str(v.value)])
            else:
                assert isinstance(v, ast.FormattedValue)
                chosen = _samples(v.value) if isinstance(v.value, ast.IfExp) else None  # {'a' if x else 'b'}
                name = "v" + re.sub(r"\W", "", ast.unparse(v.value))[:20]  # the same value, the same sample
                parts.append(chosen or [f"'{name}'" if v.conversion == ord("r") else name])
        return ["".join(p) for p in itertools.product(*parts)]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _samples(node.left), _samples(node.right)
        if left is None or right is None:
            return None
        return [a + b for a in left for b in right]
    if isinstance(node, ast.IfExp):
        a, b = _samples(node.body), _samples(node.orelse)
        return None if a is None or b is None else a + b
    return None


def _name(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def _api_messages() -> Iterator[tuple[str, str]]:
    for path in _sources("cloud", "edge/api", "edge/store", "edge/floor", "sync/http"):
        rel = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            arg: ast.expr | None = None
            if name in API_CALLS or (name == FLOOR_INIT and "edge/floor" in str(rel)):
                i = API_CALLS.get(name, 1)
                arg = (
                    node.args[i]
                    if len(node.args) > i
                    else next((k.value for k in node.keywords if k.arg == "detail"), None)
                )
            elif name == "_bad" and len(node.args) == 2:  # cloud.web.filters: "query parameter {param!r}: {why}"
                why = _samples(node.args[1]) or []
                for w in why:
                    yield f"{rel}:{node.lineno}", f"query parameter 'p': {w}"
                continue
            for text in (_samples(arg) or []) if arg is not None else []:
                yield f"{rel}:{node.lineno}", text
    for rel in MODEL_FILES:
        for node in ast.walk(ast.parse((ROOT / rel).read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and _name(node.exc.func) == "ValueError":
                for text in _samples(node.exc.args[0]) or [] if node.exc.args else []:
                    yield f"{rel}:{node.lineno}", text


def _cli_messages() -> Iterator[tuple[str, str]]:
    for rel in CLI_FILES:
        for node in ast.walk(ast.parse((ROOT / rel).read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = _name(node.func)
            owner = node.func.value if isinstance(node.func, ast.Attribute) else None
            texts: list[str] = []
            printed = name in ("print", "status", "rule") and isinstance(owner, ast.Name) and owner.id in CONSOLES
            if (printed or name == "tr") and node.args:
                texts = _samples(node.args[0]) or []
            elif name == "Table":
                texts = [s for k in node.keywords if k.arg == "title" for s in (_samples(k.value) or [])]
            for text in texts:
                yield f"{rel}:{node.lineno}", text


def _covered(text: str) -> bool:
    return messages().translate(text, ZH, nested=True) is not None


def test_every_api_error_message_in_the_sources_has_a_template() -> None:
    found = list(_api_messages())
    assert len(found) > 80, len(found)  # the walk finds them (a broken walk would pass vacuously)
    assert [f"{where}: {text!r}" for where, text in found if not _covered(text)] == []


def test_every_cli_message_in_the_sources_has_a_template() -> None:
    found = list(_cli_messages())
    assert len(found) > 30, len(found)
    assert [f"{where}: {text!r}" for where, text in found if not _covered(text)] == []


def test_table_headings_of_the_commands_are_in_the_catalog() -> None:
    headings = set()
    for rel in CLI_FILES:
        for node in ast.walk(ast.parse((ROOT / rel).read_text())):
            if isinstance(node, ast.Call) and _name(node.func) == "Table":
                headings |= {a.value for a in node.args if isinstance(a, ast.Constant) and a.value}
    assert sorted(headings - set(book.COLUMNS)) == []


def test_the_command_line_language_comes_from_wims_lang_then_the_locale() -> None:
    assert cli_locale({}) == "en"
    assert cli_locale({"LANG": "zh_CN.UTF-8"}) == ZH
    assert cli_locale({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}) == "en"
    assert cli_locale({"LC_MESSAGES": "zh_SG.UTF-8", "LANG": "en_US.UTF-8"}) == ZH
    assert cli_locale({"WIMS_LANG": "zh-Hans", "LC_ALL": "en_US.UTF-8"}) == ZH
    assert cli_locale({"WIMS_LANG": "en", "LANG": "zh_CN.UTF-8"}) == "en"
    assert cli_locale({"WIMS_LANG": "", "LANG": "zh_CN.UTF-8"}) == ZH  # empty is unset, as POSIX says
    assert cli_locale({"LANG": "zh_TW.UTF-8"}) == "en"  # traditional Chinese is not spoken
    assert cli_locale({"LANG": "fr_FR.UTF-8"}) == "en"
    assert tr("user 'ann' disabled", "en") == "user 'ann' disabled"
    assert tr("user 'ann' disabled", ZH) == "用户 'ann' 已停用"
    assert fact_label("backlog_ops", "en") == "backlog_ops" and fact_label("backlog_ops", ZH) == "积压（操作数）"


def test_every_command_and_option_help_has_chinese() -> None:
    import typer.main

    from cloud.cli import app as cloud_app
    from wims.cli import app as wims_app

    missing: list[str] = []
    seen: set[int] = set()

    def walk(cmd: typing.Any, path: str) -> None:
        if id(cmd) in seen:
            return
        seen.add(id(cmd))
        texts = [cmd.help, cmd.short_help, *(getattr(p, "help", None) for p in cmd.params)]
        missing.extend(f"{path}: {t!r}" for t in texts if t and not CHINESE.search(tr(t, ZH)))
        for name, sub in (getattr(cmd, "commands", None) or {}).items():
            walk(sub, f"{path} {name}")

    # both trees held while walking: ``seen`` goes by id(), and a freed first tree's ids can be reused
    # by the second's commands, which would then be skipped as seen
    trees = [(typer.main.get_command(wims_app), "wims"), (typer.main.get_command(cloud_app), "wims cloud")]
    for cmd, path in trees:
        walk(cmd, path)
    assert len(seen) > 30 and missing == []


def test_every_command_module_prints_through_the_local_console() -> None:
    plain = [
        f"{rel}:{node.lineno}"
        for rel in CLI_FILES
        if not rel.startswith("wims/demo")  # the demo prints to the console it is given (edge.cli's)
        for node in ast.walk(ast.parse((ROOT / rel).read_text()))
        if isinstance(node, ast.Call) and _name(node.func) == "Console"
    ]
    assert plain == [], "use sync.i18n.console.LocalConsole, so that the command speaks WIMS_LANG's language"

"""The command line's language: ``WIMS_LANG``, else the locale (``LC_ALL``, ``LC_MESSAGES``, ``LANG``).

The commands print through ``LocalConsole``, a rich ``Console`` that says each message in that language
(``sync.i18n.Messages``, the same catalog as the pages and the APIs) and the headings of the tables it
prints; ``--json`` output, tokens and the values in tables are data and stay as they are. English needs
no catalog, so an English command loads nothing more than before.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.status import Status
from rich.table import Table

from sync.i18n import DEFAULT, messages, normalise, word

if TYPE_CHECKING:
    import typer

LANG_VARS = ("WIMS_LANG", "LC_ALL", "LC_MESSAGES", "LANG")
"""Where the language comes from, first set (and not empty) wins, as POSIX orders the locale's."""


def cli_locale(environ: Any = None) -> str:
    """English or Simplified Chinese for this process: the first of ``LANG_VARS`` that is set decides
    (``zh``, ``zh_CN.UTF-8``, ``zh-Hans``: Chinese); a language we do not speak means English."""
    env = os.environ if environ is None else environ
    for var in LANG_VARS:
        value = env.get(var)
        if value:
            return normalise(value) or DEFAULT
    return DEFAULT


def tr(text: str, locale: str | None = None) -> str:
    """``text`` (a finished English message) in the command line's language."""
    loc = locale or cli_locale()
    return text if loc == DEFAULT else messages().text(text, loc)


def label(msgid: str, locale: str | None = None) -> str:
    """One catalog entry (a heading, a state) in the command line's language."""
    return word(msgid, locale or cli_locale())


def fact_label(key: str, locale: str | None = None) -> str:
    """A row of ``wims edge sync status``: its key in English (as ``--json`` says it), words otherwise."""
    from sync.i18n.catalog import SYNC_FACTS

    loc = locale or cli_locale()
    return key if loc == DEFAULT or key not in SYNC_FACTS else word(SYNC_FACTS[key], loc)


class LocalConsole(Console):
    """A rich ``Console`` that prints messages, table titles and headings in the command line's language."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        locale = cli_locale()
        if locale != DEFAULT:
            objects = tuple(_localize(o, locale) for o in objects)
        super().print(*objects, **kwargs)

    def rule(self, title: Any = "", *args: Any, **kwargs: Any) -> None:
        super().rule(tr(title) if isinstance(title, str) and title else title, *args, **kwargs)

    def status(self, status: Any, *args: Any, **kwargs: Any) -> Status:
        return super().status(tr(status) if isinstance(status, str) else status, *args, **kwargs)


def _localize(obj: Any, locale: str) -> Any:
    if isinstance(obj, str):
        return tr(obj, locale)
    if isinstance(obj, Table):
        if isinstance(obj.title, str):
            obj.title = tr(obj.title, locale)
        for column in obj.columns:
            if isinstance(column.header, str) and column.header:
                column.header = word(column.header, locale)
    return obj


def run(app: typer.Typer) -> None:
    """Run ``app`` as ``app()`` does; in Chinese, with its help translated first (``localize_help``)."""
    locale = cli_locale()
    if locale == DEFAULT:
        app()
        return
    import typer.main

    command = typer.main.get_command(app)
    localize_help(command, locale)
    command()


def localize_help(command: Any, locale: str) -> None:
    """Translate the help of ``command`` and everything under it, in place, and typer's own words.

    typer builds click commands from the typer apps and renders their ``help`` (the docstring) and each
    parameter's ``help`` when asked: translating those attributes on the built tree, before it runs,
    is all it takes; the headings typer prints (``Options``, ``[required]``...) are module settings of
    ``typer.rich_utils``; click makes ``--help`` itself on demand, so it is made here first. click's own
    usage errors (``Missing option``) stay English.
    """
    import typer.rich_utils as ru

    from sync.i18n.catalog import TYPER

    names = {
        "Arguments": "ARGUMENTS_PANEL_TITLE",
        "Options": "OPTIONS_PANEL_TITLE",
        "Commands": "COMMANDS_PANEL_TITLE",
        "Error": "ERRORS_PANEL_TITLE",
        "Aborted.": "ABORTED_TEXT",
        "[required]": "REQUIRED_LONG_STRING",
        "[default: {}]": "DEFAULT_STRING",
        "[env var: {}]": "ENVVAR_STRING",
        "Try [blue]'{command_path} {help_option}'[/] for help.": "RICH_HELP",
    }
    for msgid in TYPER:
        if msgid in names and hasattr(ru, names[msgid]):
            setattr(ru, names[msgid], word(msgid, locale))
    seen: set[int] = set()

    def walk(cmd: Any) -> None:
        if id(cmd) in seen:
            return
        seen.add(id(cmd))
        if cmd.help:
            cmd.help = tr(cmd.help, locale)
        if cmd.short_help:
            cmd.short_help = tr(cmd.short_help, locale)
        params = list(cmd.params)
        try:  # click builds --help on demand and keeps it (8.1.8+): build it here, to translate it too
            helper = cmd.get_help_option(cmd.context_class(cmd, info_name=cmd.name))
            params += [helper] if helper is not None else []
        except Exception:  # a click without the cache: --help stays English
            pass
        for param in params:
            text = getattr(param, "help", None)
            if isinstance(text, str) and text:
                param.help = tr(text, locale)
        for sub in (getattr(cmd, "commands", None) or {}).values():  # a group (typer's click or click's own)
            walk(sub)

    walk(command)

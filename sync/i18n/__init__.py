"""Messages a person reads outside a page (API errors, command-line lines) in English or Simplified Chinese.

Pages are translated where they are rendered (``sync.web``); an API error or a CLI line is a finished
English sentence by the time it leaves a route or a command, built by code that many people edit. So it
is translated on its way out, in one place: ``Messages.translate`` recognises the sentence by its
English template in the catalog (``sync.i18n.catalog``), takes the values out and puts them into the
Chinese template. Same Babel catalog as the pages (``make i18n``), one mechanism for both.

The values of placeholders named in ``NESTED`` are messages themselves (``invalid %(where)s:
%(reason)s``) and are translated in turn; a nested message no template covers is split where messages
are joined (``a; b`` and ``where: what``) and its parts translated, else it is kept as it is (a
driver's or the operating system's own words). Nothing here is imported by the default (English) path
beyond this module: English is the message itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import gettext

DEFAULT: Final = "en"
NESTED: Final = frozenset({"reason", "error", "problem", "errors", "text", "verdict", "lane"})
"""Placeholders whose values are messages too, translated in turn."""
FREE: Final = NESTED | {"detail", "where", "valid", "choices", "expected"}
"""Placeholders whose values may hold ``": "`` (a driver's message, a list); the others may not."""
WORDED: Final = frozenset({"status", "what"})
"""Placeholders whose values are catalog words (a stock status: ``reserved``), looked up as they are."""


def N_(message: str) -> str:
    """Mark ``message`` for extraction (``make i18n``); it is translated where it is shown. The same as
    ``sync.web.i18n.N_``, without loading Babel (the command line's English path needs none)."""
    return message


_PLACEHOLDER = re.compile(r"%\((\w+)\)s")
_CHINESE = re.compile(r"[\u4e00-\u9fff]")


@dataclass(frozen=True, slots=True)
class Template:
    """One English message with ``%(name)s`` placeholders, and the pattern that recognises it."""

    msgid: str
    pattern: re.Pattern[str]
    literal: int
    """Characters outside placeholders: a more specific template is tried first."""

    @classmethod
    def of(cls, msgid: str) -> Template:
        parts: list[str] = []
        seen: set[str] = set()
        pos = 0
        for m in _PLACEHOLDER.finditer(msgid):
            parts.append(re.escape(msgid[pos : m.start()].replace("%%", "%")))
            name = m.group(1)
            # a value (a code, a name, a number) holds no ": ", which joins messages: a leading placeholder
            # cannot swallow another message's words; messages and details themselves may hold anything
            value = ".+?" if name in FREE else "(?:(?!: ).)+?"
            parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>{value})")
            seen.add(name)
            pos = m.end()
        parts.append(re.escape(msgid[pos:].replace("%%", "%")))
        literal = len(_PLACEHOLDER.sub("", msgid))
        return cls(msgid, re.compile("".join(parts), re.DOTALL), literal)

    def match(self, text: str) -> dict[str, str] | None:
        m = self.pattern.fullmatch(text)
        return m.groupdict() if m else None


def has_chinese(text: str) -> bool:
    return bool(_CHINESE.search(text))


class Messages:
    """Translate finished English messages by their templates, for one catalog of templates."""

    def __init__(self, templates: Iterable[str], by_type: Mapping[str, Iterable[str]] | None = None) -> None:
        every = list(dict.fromkeys(templates))
        self.by_type = {t: [Template.of(m) for m in ms] for t, ms in (by_type or {}).items()}
        for ms in self.by_type.values():
            every += [t.msgid for t in ms if t.msgid not in every]
        compiled = [Template.of(m) for m in every if _PLACEHOLDER.search(m)]
        # one that starts with words first (a leading placeholder matches too easily), then the most words
        self.templates = sorted(compiled, key=lambda t: (t.msgid.startswith("%("), -t.literal))
        self.exact = frozenset(m for m in every if not _PLACEHOLDER.search(m))

    def find(self, text: str, templates: Iterable[Template] | None = None) -> tuple[str, dict[str, str]] | None:
        """The template ``text`` was made from, and its values (``None``: no template covers it)."""
        if text in self.exact and templates is None:
            return text, {}
        for t in self.templates if templates is None else templates:
            values = t.match(text)
            if values is not None:
                return t.msgid, values
        return None

    def translate(self, text: str, locale: str, *, nested: bool = False) -> str | None:
        """``text`` in ``locale``, or ``None`` when no template covers it. ``nested``: ``text`` is a part of
        another message, which may itself be joined from messages (``a; b``, ``where: what``)."""
        if locale == DEFAULT:
            return text
        found = self.find(text)
        if found is not None:
            return self.render(found[0], found[1], locale)
        said = translations_for(locale).gettext(text)  # any other entry of the catalog (a command's help)
        if said != text:
            return said
        if not nested:
            return None
        if "; " in text:
            parts = text.split("; ")
            done = [self.translate(p, locale, nested=True) for p in parts]
            if any(d is not None for d in done):
                return "；".join(d if d is not None else p for d, p in zip(done, parts, strict=True))
        where, sep, what = text.partition(": ")
        if sep and what:
            inner = self.translate(what, locale, nested=True)
            if inner is not None:
                return f"{where}：{inner}"
        return None

    def render(self, msgid: str, values: Mapping[str, str], locale: str) -> str:
        """The translation of ``msgid`` with ``values`` put in (nested ones translated too)."""
        out: dict[str, Any] = {}
        for name, value in values.items():
            if name in NESTED:
                got = self.translate(value, locale, nested=True)
                value = got if got is not None else value
            elif name in WORDED:
                value = translations_for(locale).gettext(value)
            elif name in ("expected", "choices", "roles", "states") and locale != DEFAULT:
                value = value.replace("' or '", "' 或 '").replace(" or ", " 或 ")
            out[name] = value
        text = translations_for(locale).gettext(msgid)
        return text % out if values else text

    def text(self, text: str, locale: str) -> str:
        """``text`` translated where a template covers it, else as it is."""
        got = self.translate(text, locale, nested=True)
        return text if got is None else got


@cache
def translations_for(locale: str) -> gettext.NullTranslations:
    """The compiled catalog of the pages, which holds these messages too."""
    from sync.web.i18n import gettext_for

    return gettext_for(locale)


def word(msgid: str, locale: str) -> str:
    """One catalog entry (a label, a code's sentence) in ``locale``."""
    return msgid if locale == DEFAULT else translations_for(locale).gettext(msgid)


@cache
def messages() -> Messages:
    """Every template: the APIs', the command line's and pydantic's."""
    import sync.i18n.catalog as book

    return Messages((*book.API, *book.CLI, *book.NESTED_TEXT, *book.HELP), book.PYDANTIC)


def normalise(tag: str | None) -> str | None:
    """A language tag or a POSIX locale (``zh_CN.UTF-8``, ``zh-Hans``, ``en_GB``, ``C``) as one of our
    locales, ``None`` if we do not speak it. The same rule as the pages' ``sync.web.i18n.normalise``
    (traditional Chinese is not Simplified), without loading Babel for an English command."""
    if not tag:
        return None
    base = tag.split(".", 1)[0].split("@", 1)[0].strip().replace("-", "_").lower()
    if base in ("c", "posix") or base.startswith("en"):
        return DEFAULT
    if base.startswith("zh"):
        traditional = base.startswith("zh_hant") or base in ("zh_tw", "zh_hk", "zh_mo")
        return None if traditional else "zh_Hans"
    return None

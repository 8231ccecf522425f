"""Jinja2 for both apps: one environment per language, the catalog installed, Babel formats as filters.

An environment per language (two) rather than one with per-request callables: rendering is then
thread-safe without context tricks, and each keeps its own compiled-template cache. A template sees
``_()``/``gettext``/``ngettext`` (the i18n extension, new style, autoescaped), the filters ``num``,
``pct``, ``money``, ``dt``, ``ago``, ``duration`` and ``unit`` in its language, and ``lang``,
``html_lang`` and ``languages``. Templates are looked up in the app's own folders first, then in
``sync/web/templates`` (shared macros).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from sync.web.i18n import HTML_LANG, LANGUAGE_NAMES, LOCALES, Formats, gettext_for

SHARED_TEMPLATES = Path(__file__).resolve().parent / "templates"
STATIC_DIR = Path(__file__).resolve().parent / "static"


class Pages:
    """Renders an app's templates in any of ``LOCALES``."""

    def __init__(self, template_dirs: Sequence[Path], *, tz: str = "UTC", globals_: Mapping[str, Any] | None = None):
        loader = jinja2.FileSystemLoader([*map(str, template_dirs), str(SHARED_TEMPLATES)])
        self._envs: dict[str, jinja2.Environment] = {}
        for locale in LOCALES:
            env = jinja2.Environment(
                loader=loader,
                autoescape=jinja2.select_autoescape(("html", "xml", "svg")),
                extensions=["jinja2.ext.i18n"],
                trim_blocks=True,
                lstrip_blocks=True,
                undefined=jinja2.StrictUndefined,
            )
            env.install_gettext_translations(gettext_for(locale), newstyle=True)  # type: ignore[attr-defined]
            fmt = Formats(locale, tz)
            env.filters.update(
                num=fmt.num, pct=fmt.pct, money=fmt.money, dt=fmt.dt, ago=fmt.ago, duration=fmt.duration, unit=fmt.unit
            )
            env.globals.update(
                lang=locale,
                html_lang=HTML_LANG[locale],
                languages=LANGUAGE_NAMES,
                fmt=fmt,
                **(globals_ or {}),
            )
            self._envs[locale] = env

    def env(self, locale: str) -> jinja2.Environment:
        return self._envs[locale]

    def render(self, name: str, locale: str, **context: Any) -> str:
        return self._envs[locale].get_template(name).render(**context)

    def gettext(self, locale: str, message: str) -> str:
        """``message`` in ``locale`` (for strings built outside a template: CSV headers, JSON labels)."""
        return gettext_for(locale).gettext(message)

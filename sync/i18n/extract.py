"""A Babel extractor for the command line's help: ``make i18n`` runs it on the CLI modules (``babel.cfg``).

typer takes a command's help from its function's docstring and an option's from ``help="..."``, neither
of which is a ``_()`` call that Babel's Python extractor sees. This one yields what that extractor finds
(``N_(...)``) and, besides, every docstring of a function decorated as a command or callback and every
``help=`` string, cleaned as ``inspect.getdoc`` cleans them, so that the catalog's ids are the texts
typer shows (``sync.i18n.console.localize_help`` looks them up).
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any

from babel.messages.extract import extract_python


def help_texts(source: str) -> Iterator[tuple[int, str]]:
    """``(line, text)`` of every command docstring and ``help=`` string literal in ``source``."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and any(
            _is_command(d) for d in node.decorator_list
        ):
            doc = ast.get_docstring(node, clean=True)
            if doc:
                yield node.lineno, doc
        elif isinstance(node, ast.keyword) and node.arg == "help" and isinstance(node.value, ast.Constant):
            text = node.value.value
            if isinstance(text, str) and text:
                yield node.value.lineno, text


def _is_command(decorator: ast.expr) -> bool:
    func = decorator.func if isinstance(decorator, ast.Call) else decorator
    return isinstance(func, ast.Attribute) and func.attr in ("command", "callback")


def extract_cli(
    fileobj: IO[bytes], keywords: Mapping[str, Any], comment_tags: Collection[str], options: Mapping[str, Any]
) -> Iterator[tuple[Any, ...]]:
    """Babel's extraction method (``babel.cfg``): what ``extract_python`` finds, then the help texts."""
    data = fileobj.read()
    fileobj.seek(0)
    yield from extract_python(fileobj, keywords, comment_tags, options)  # type: ignore[arg-type]
    for lineno, text in help_texts(data.decode(str(options.get("encoding", "utf-8")))):
        yield lineno, "", text, []

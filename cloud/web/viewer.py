"""Who is looking, in which language, and what they may see: the browser session over the users' tokens.

Logging in at ``/login`` makes the same bearer token as ``POST /v1/auth/login`` (so expiry, audit and
revocation are the API's) and keeps it in an HttpOnly, SameSite=Lax cookie. A state-changing form is
accepted only from our own origin (the ``Origin``/``Sec-Fetch-Site`` headers), which with SameSite
cookies covers cross-site request forgery without a token in every form. Roles are the API's: cost
prices and suppliers only for admin and planner; a supervisor or operator bound to a warehouse sees
that warehouse only, whatever the URL asks for.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from fastapi import Request

from cloud.auth.deps import resolve_token
from cloud.db.engine import dialect_insert
from cloud.db.schema import user_prefs
from cloud.services import Services
from sync.roles import COST_ROLES, Role
from sync.web.i18n import negotiate

SESSION_COOKIE = "wims_session"
LANG_COOKIE = "wims_lang"


class LoginRequired(Exception):
    """No valid session: pages redirect to ``/login``, data paths answer 401."""


class OutOfScope(Exception):
    """A bound user asked for another warehouse."""

    def __init__(self, warehouse: str) -> None:
        super().__init__(warehouse)
        self.warehouse = warehouse


@dataclass(frozen=True)
class Viewer:
    name: str
    role: Role
    warehouse: str | None
    locale: str

    @property
    def sees_costs(self) -> bool:
        return self.role in COST_ROLES

    @property
    def bound_to(self) -> str | None:
        """The one warehouse this person may see, or ``None`` for the whole network."""
        # any user bound to a warehouse, as on every API read route (cloud.auth.scope)
        return self.warehouse or None

    def scope(self, requested: str | None) -> str | None:
        """The warehouse a query is limited to: the bound one, or what was asked for (``None``: all)."""
        bound = self.bound_to
        if bound is None:
            return requested
        if requested not in (None, bound):
            raise OutOfScope(requested or "")
        return bound


def saved_locale(svc: Services, username: str) -> str | None:
    with svc.engine.connect() as conn:
        got = conn.execute(sa.select(user_prefs.c.locale).where(user_prefs.c.username == username)).scalar()
    return str(got) if got else None


def save_locale(svc: Services, username: str, locale: str) -> None:
    with svc.engine.begin() as conn:
        ins = dialect_insert(conn, user_prefs)
        conn.execute(
            ins.on_conflict_do_update(index_elements=["username"], set_={"locale": locale}),
            {"username": username, "locale": locale},
        )


def page_locale(request: Request, saved: str | None = None) -> str:
    """``?lang=`` first, then the user's saved choice, the cookie, and the browser's languages."""
    return negotiate(
        request.query_params.get("lang"),
        saved,
        request.cookies.get(LANG_COOKIE),
        accept_language=request.headers.get("accept-language"),
    )


def current_viewer(request: Request, svc: Services) -> Viewer:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise LoginRequired
    principal, _why = resolve_token(svc, token)
    if principal is None or principal.kind != "user":
        raise LoginRequired
    return Viewer(
        principal.name, principal.role, principal.warehouse, page_locale(request, saved_locale(svc, principal.name))
    )


def same_origin(request: Request) -> bool:
    """Whether a form post comes from our own pages (not another site riding on the cookie)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return True  # not a browser (curl, tests); SameSite=Lax keeps the cookie off cross-site posts anyway
    return origin.rstrip("/") == str(request.base_url).rstrip("/")

"""Warehouse scopes: a user bound to a warehouse (``wims cloud user add --warehouse``) reads only that
warehouse, on every read route.

Every route that reads warehouse data takes a ``Scope`` (``Reader`` for any staff role, or
``scope_for(*roles)``) and asks it instead of trusting its query parameters:

- ``scope.warehouse(requested)``: the warehouse to filter by. A bound caller gets its own warehouse
  (asking for another one is a 403); an unbound one gets what it asked (``None``: all).
- ``scope.check(warehouse)``: 403 unless the caller may see a record of ``warehouse``.
- ``scope.gateway(conn, gateway_id)``: the gateway's warehouse, after checking the caller may see it
  (404 for an unknown gateway). A gateway is bound to its own warehouse the same way.
- ``scope.network()``: 403 for a bound caller on a route that spans the whole network and cannot be
  narrowed (the audit log).

New read routes (reports, pages) use the same dependency; ``tests/cloud/test_scopes.py`` walks every GET
route of the app as a bound user and fails on a route it does not know.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

import sqlalchemy as sa
from fastapi import Depends, HTTPException, status
from sqlalchemy.engine import Connection

from cloud.auth.deps import Caller, Principal
from cloud.db.schema import gateways
from sync.roles import USER_ROLES, Role


@dataclass(frozen=True, slots=True)
class Scope:
    principal: Principal

    @property
    def bound(self) -> str | None:
        """The one warehouse the caller may see, or ``None`` for the whole network."""
        return self.principal.warehouse

    def warehouse(self, requested: str | None) -> str | None:
        bound = self.bound
        if bound is None:
            return requested
        if requested is not None and requested != bound:
            raise self._other(requested)
        return bound

    def check(self, warehouse: str) -> None:
        if self.bound is not None and warehouse != self.bound:
            raise self._other(warehouse)

    def gateway(self, conn: Connection, gateway_id: str) -> str:
        warehouse = conn.execute(
            sa.select(gateways.c.warehouse).where(gateways.c.gateway_id == gateway_id)
        ).scalar_one_or_none()
        if warehouse is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "unknown gateway")
        if self.principal.role is Role.GATEWAY and self.principal.name != gateway_id:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "a gateway may act only for itself")
        self.check(warehouse)
        return str(warehouse)

    def network(self) -> None:
        if self.bound is not None:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"{self.principal.audit_name} is bound to warehouse {self.bound}; this view spans the network",
            )

    def _other(self, warehouse: str) -> HTTPException:
        return HTTPException(
            status.HTTP_403_FORBIDDEN,
            f"{self.principal.audit_name} is bound to warehouse {self.bound}, not {warehouse[:64]}",
        )


def scope_for(*roles: Role) -> Callable[[Principal], Scope]:
    """A dependency that lets only ``roles`` through (403 otherwise) and hands their ``Scope``."""
    allowed = frozenset(roles)

    def resolve(principal: Caller) -> Scope:
        if principal.role not in allowed:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"role {principal.role} may not do this")
        return Scope(principal)

    return resolve


def any_caller(principal: Caller) -> Scope:
    """The scope of any authenticated caller (gateways included); the route checks roles itself."""
    return Scope(principal)


Reader = Annotated[Scope, Depends(scope_for(*USER_ROLES))]
"""Any staff role, scoped to its warehouse if it is bound to one."""
AnyScope = Annotated[Scope, Depends(any_caller)]

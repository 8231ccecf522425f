"""Who may do what: the one list of roles, shared by the gateway's operators and the cloud's users.

A person has one or more roles (``Operator.roles`` on a site, a user's role in the cloud); a gateway is
a principal of its own in the cloud (it pushes ops and reads its commands) and is never a person's role.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema


class Role(StrEnum):
    ADMIN = "admin"
    PLANNER = "planner"
    SUPERVISOR = "supervisor"
    OPERATOR = "operator"
    AUDITOR = "auditor"
    GATEWAY = "gateway"


USER_ROLES = tuple(r for r in Role if r is not Role.GATEWAY)
"""The roles a person can hold."""

COST_ROLES = frozenset({Role.ADMIN, Role.PLANNER})
"""Roles that may see cost prices and supplier data."""

RELEASE_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
"""Roles that may release held stock (after a QC hold or a temperature excursion)."""


def _a_person_role(role: Role) -> Role:
    if role is Role.GATEWAY:
        raise ValueError("'gateway' is not a role a person can hold")
    return role


PersonRole = Annotated[
    Role,
    AfterValidator(_a_person_role),
    WithJsonSchema({"type": "string", "enum": [r.value for r in USER_ROLES], "title": "PersonRole"}),
]
"""A role as a person holds it (anything but ``gateway``)."""

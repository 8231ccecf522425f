"""Login and user administration."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict, Field

from cloud.auth.deps import Caller, Principal, require
from cloud.auth.users import UserExists, add_user, login
from cloud.services import Svc
from sync.codes import Code
from sync.http.openapi import error_responses
from sync.roles import PersonRole, Role
from sync.times import UtcDateTime

router = APIRouter(prefix="/v1", tags=["auth"])


class LoginIn(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class TokenOut(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    access_token: str
    token_type: str = "bearer"
    expires_at: UtcDateTime
    role: Role


class UserIn(BaseModel):
    username: Code
    role: PersonRole
    password: str = Field(min_length=8, max_length=1024)
    warehouse: Code | None = None


class MeOut(BaseModel):
    kind: str
    name: str
    role: Role
    warehouse: str | None


@router.post("/auth/login", response_model=TokenOut, responses=error_responses(401))
def post_login(req: LoginIn, svc: Svc) -> TokenOut:
    got = login(
        svc.engine,
        req.username,
        req.password,
        now=svc.clock.now(),
        ttl_s=svc.settings.token_ttl_s,
        passwords=svc.passwords,
    )
    if got is None:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong username or password")
    token, expires, role = got
    return TokenOut(access_token=token, expires_at=expires, role=role)


@router.get("/me", response_model=MeOut)
def me(caller: Caller) -> MeOut:
    return MeOut(kind=caller.kind, name=caller.name, role=caller.role, warehouse=caller.warehouse)


@router.post("/users", status_code=201, response_model=MeOut, responses=error_responses(409))
def create_user(req: UserIn, svc: Svc, caller: Annotated[Principal, Depends(require(Role.ADMIN))]) -> MeOut:
    if req.role is Role.GATEWAY:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "register gateways at /v1/gateways")
    try:
        add_user(
            svc.engine,
            req.username,
            req.role,
            req.password,
            warehouse=req.warehouse,
            now=svc.clock.now(),
            actor=caller.audit_name,
            passwords=svc.passwords,
        )
    except UserExists as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    return MeOut(kind="user", name=req.username, role=req.role, warehouse=req.warehouse)

"""The site rules in force, and a reload of the rules file without a restart.

``POST /v1/rules/reload`` reads the site's rules file again: a file with any error is refused whole
(422, one error per problem naming the file, the rule and the key) and the rule set in force stays;
``wims edge rules reload`` calls it on the running gateway.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from edge.api.deps import Ctx
from edge.rules.engine import RulesError, RuleSet
from sync.http.errors import FieldError, error_response
from sync.http.openapi import error_responses

router = APIRouter(tags=["rules"])


class RulesView(BaseModel):
    model_config = ConfigDict(json_schema_serialization_defaults_required=True)

    file: str = Field(description="Where the rule set in force came from: the rules file, or a cloud command.")
    hash: str = Field(description="SHA-256 of the rule set in force: every rule_fired op names it.")
    rules: list[dict[str, Any]] = Field(description="The rules in force, in file order (disabled ones included).")
    cursor: int = Field(description="The last journal seq the rules runner has handled.")
    lag: int = Field(description="Committed ops the runner has not handled yet.")


class ReloadResult(RulesView):
    changed: bool = Field(description="False if the file gives the rule set already in force.")
    previous_hash: str


def _view(ctx: Ctx, ruleset: RuleSet) -> dict[str, Any]:
    runner = ctx.rules
    assert runner is not None
    return {
        "file": runner.source,
        "hash": ruleset.hash,
        "rules": [r.model_dump(mode="json") for r in ruleset.rules],
        "cursor": runner.cursor,
        "lag": max(0, ctx.journal.head()[0] - runner.cursor),
    }


def _no_runner() -> JSONResponse:
    return error_response(503, "the rules runner is not running on this gateway", code="unavailable")


@router.get("/rules", response_model=RulesView, responses=error_responses(503))
async def rules_in_force(ctx: Ctx) -> Any:
    """The rule set in force: its hash, its rules and how far the runner is."""
    if ctx.rules is None:
        return _no_runner()
    return _view(ctx, ctx.rules.current)


@router.post("/rules/reload", response_model=ReloadResult, responses=error_responses(422, 503))
async def reload_rules(ctx: Ctx) -> Any:
    """Read the rules file again; a file with an error is refused whole and the old set stays in force."""
    runner = ctx.rules
    if runner is None:
        return _no_runner()
    previous = runner.current
    try:
        new = await runner.reload()
    except RulesError as exc:
        return error_response(
            422,
            f"{exc.source}: rules refused, the rule set in force ({previous.hash[:12]}) stays",
            code="rules_invalid",
            errors=[FieldError(loc=["file", exc.source], msg=p, type="rules_invalid") for p in exc.problems],
        )
    return {**_view(ctx, new), "changed": new.hash != previous.hash, "previous_hash": previous.hash}

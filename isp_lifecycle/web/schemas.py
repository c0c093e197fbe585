"""The shapes of the JSON API (``docs/spec/api.md``), for validation and the OpenAPI description."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AdvanceBody(Strict):
    to: Literal["implement", "closed"] | None = None
    as_of: date | None = None


class DecisionBody(Strict):
    decision: Literal["approve", "reject"]
    note: str | None = None


class Health(BaseModel):
    status: str


class Me(BaseModel):
    email: str
    admin: bool


class Approval(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: int
    partnership: str
    from_: str = Field(alias="from")
    to: str
    requested_by: str
    requested_at: str
    status: Literal["pending", "approved", "rejected", "stale"]
    applied: bool
    decided_by: str | None
    decided_at: str | None
    decision: Literal["approve", "reject"] | None
    note: str | None



class Requested(BaseModel):
    request: Approval


class Approvals(BaseModel):
    approvals: list[Approval]
    next: int | None


class PartnershipSummary(BaseModel):
    id: str
    name: str
    mission: str
    stage: str
    stage_entered: str
    pending_request: int | None


class Partnerships(BaseModel):
    partnerships: list[PartnershipSummary]
    next: str | None


class PartnershipDetail(PartnershipSummary):
    version: int
    latest_verdict: dict[str, Any] | None


class Imported(BaseModel):
    version: int
    changed: bool


class Problem(BaseModel):
    type: str
    title: str
    status: int
    detail: str
    errors: list[dict[str, str]] | None = None
    verdict: dict[str, Any] | None = None

"""Pydantic v2 models of the ``isp/v1`` partnership document.

The field names are a public contract (``docs/spec/partnership-format.md``).
Models are strict: unknown keys are refused at every level, booleans must be
``true``/``false`` and numbers must be numbers (no silent coercion of ``"yes"``
or ``"12"``). An explicit ``null`` is the same as leaving the field out.
Cross-references (duplicate ids, unknown partner ids, an initiative ``lead``
outside its ``partners``) and date order are checked in ``isp_lifecycle.document``,
so that they are reported together with field errors.
"""



import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

from ._countries import ASSIGNED
from .encoding import quote

SCHEMA = "isp/v1"
STAGES = ("convene", "commit", "implement", "review", "closed")
SECTORS = ("public", "private", "civil_society")

_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_EMAIL_RE = re.compile(r"^[^@\s]+@(?:[^@\s.]+\.)+[^@\s.]+$")
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_TAG_RE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


def _parse_date(value: Any) -> Any:
    if isinstance(value, date) and type(value) is date:
        return value
    if isinstance(value, str):
        if not _DATE_RE.match(value):
            raise ValueError(f"must be a date written YYYY-MM-DD, not {quote(value)}")
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value} is not a real date") from None
    raise ValueError(f"must be a date written YYYY-MM-DD, not {type(value).__name__} {quote(value)}")


def _non_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


def _email(value: str) -> str:
    if not _EMAIL_RE.match(value):
        raise ValueError(f"{quote(value)} is not an email address (local@domain.tld)")
    return value


def _slug(value: str) -> str:
    if not _SLUG_RE.match(value):
        raise ValueError(
            f"{quote(value)} is not a valid id: 2-63 characters, lower-case letters, digits and '-', "
            "starting with a letter or digit"
        )
    return value


def _tag(value: str) -> str:
    if not _TAG_RE.match(value):
        raise ValueError(f"{quote(value)} is not a lower_snake tag (e.g. national_health_services)")
    return value


def _country(value: str) -> str:
    if value not in ASSIGNED:
        hint = " (the United Kingdom is GB)" if value.upper() == "UK" else ""
        raise ValueError(f"{quote(value)} is not an assigned ISO 3166-1 alpha-2 country code{hint}")
    return value


def _empty() -> list[Any]:
    # A Python function, not ``list``: pydantic inspects each default factory's signature,
    # and for a builtin that means parsing its text signature (about 3 ms over 18 fields).
    return []


Date = Annotated[date, BeforeValidator(_parse_date)]
Text = str  # optional free text; a blank one counts as missing for the rules
RequiredText = Annotated[str, AfterValidator(_non_blank)]
Email = Annotated[str, AfterValidator(_email)]
Slug = Annotated[str, AfterValidator(_slug)]
Tag = Annotated[str, AfterValidator(_tag)]
Sector = Literal["public", "private", "civil_society"]
Stage = Literal["convene", "commit", "implement", "review", "closed"]


class _Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        populate_by_name=True,
        allow_inf_nan=False,
        hide_input_in_errors=True,
    )

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(v is None for v in data.values()):
            return {k: v for k, v in data.items() if v is not None}
        return data


class Person(_Model):
    name: RequiredText
    email: Email


class Contact(_Model):
    name: RequiredText
    email: Email
    role: Text | None = None


class Leader(_Model):
    name: RequiredText
    email: Email
    partner: Slug | None = None
    sectors: list[Sector] = Field(default_factory=_empty)


class Resource(_Model):
    kind: Literal["financial", "in_kind", "staff_time"]
    amount: Annotated[float, Field(gt=0)]
    unit: RequiredText
    description: Text | None = None


class Commitment(_Model):
    signed: Date | None = None
    until: Date | None = None
    resources: list[Resource] = Field(default_factory=_empty)


class Partner(_Model):
    id: Slug
    name: RequiredText
    sector: Sector
    local: bool = False
    capacity: Literal["strong", "adequate", "developing", "needs_support"] | None = None
    capacity_plan: Text | None = None
    decision_authority: bool = False
    motives: Text | None = None
    goals: list[str] = Field(default_factory=_empty)
    responsibilities: list[Tag] = Field(default_factory=_empty)
    contacts: list[Contact] = Field(default_factory=_empty)
    commitment: Commitment | None = None


class Stakes(_Model):
    public: Text | None = None
    private: Text | None = None
    civil_society: Text | None = None


class Issue(_Model):
    statement: Text | None = None
    stakes: Stakes | None = None


class Governance(_Model):
    structure: Literal["network", "hierarchy"] | None = None
    opt_out_allowed: bool = False
    own_rules_adopted: bool = False
    accountability_agreement: Date | None = None


class Vision(_Model):
    statement: Text | None = None
    adopted: Date | None = None
    reaffirmed: Date | None = None


class Milestone(_Model):
    name: RequiredText
    due: Date
    done: Date | None = None


class Initiative(_Model):
    id: Slug
    name: RequiredText
    lead: Slug
    partners: list[Slug]
    milestones: list[Milestone] = Field(default_factory=_empty)


class Dissemination(_Model):
    date: Date
    audience: Literal["local", "international"]
    title: RequiredText


class Outcomes(_Model):
    public: list[str] = Field(default_factory=_empty)
    private: list[str] = Field(default_factory=_empty)
    civil_society: list[str] = Field(default_factory=_empty)


class Review(_Model):
    date: Date
    outcomes: Outcomes | None = None
    lessons: list[str] = Field(default_factory=_empty)
    assumptions_challenged: list[str] = Field(default_factory=_empty)
    goals_adapted: bool = False
    new_partners_considered: bool = False


class Training(_Model):
    date: Date
    topic: RequiredText
    attendees: Annotated[int, Field(ge=0)]


class Partnership(_Model):
    schema_: Literal["isp/v1"] = Field(alias="schema")
    id: Slug
    name: RequiredText
    country: Annotated[str, AfterValidator(_country)]
    mission: RequiredText
    stage: Stage
    started: Date
    stage_entered: Date | None = None
    issue: Issue | None = None
    local_context: Text | None = None
    mission_director: Person | None = None
    delegates: list[Person] = Field(default_factory=_empty)
    leaders: list[Leader] = Field(default_factory=_empty)
    partners: list[Partner] = Field(default_factory=_empty)
    governance: Governance | None = None
    vision: Vision | None = None
    initiatives: list[Initiative] = Field(default_factory=_empty)
    dissemination: list[Dissemination] = Field(default_factory=_empty)
    reviews: list[Review] = Field(default_factory=_empty)
    trainings: list[Training] = Field(default_factory=_empty)

    @property
    def entered(self) -> date:
        """When the current stage began (``stage_entered``, else ``started``)."""
        return self.stage_entered or self.started

    def to_data(self) -> dict[str, Any]:
        """The document as plain JSON-safe data, every field written out (dates as ISO strings)."""
        return self.model_dump(mode="json", by_alias=True, exclude_none=True)

"""Who may see and do what (``docs/spec/api.md``, "Who is who"), written once.

Pure functions over the people a document names (``Roles``), the caller (``Caller``) and the
settings: no store, no HTTP, so every rule is tested in milliseconds and every front end asks
the same questions. Emails and missions compare case-insensitively.

    sees            may the caller see this partnership (else: 404, existence not disclosed)
    may_edit        upload versions and request moves: admins, mission staff, director,
                    delegates, leaders
    may_create      a new partnership: admins, mission staff of its mission, and directors or
                    delegates of another partnership of that mission
    may_decide      only the director or a delegate of the version the request rests on, never
                    the requester; with ``ISP_REQUIRE_SIGNED_IN=1`` only a signed-in identity
    may_change_power  a version changing mission, director or delegates: admins, mission
                    staff of the mission, or the current director or a delegate

A refusal is ``Forbidden`` (a ``RefusedOperation``: exit 1, HTTP 403) with the reason.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import RefusedOperation
from .identity import Identity
from .settings import Settings


class Forbidden(RefusedOperation):
    """The caller may see the partnership but not do this (HTTP 403)."""


def _fold(value: Any) -> str | None:
    return value.casefold() if isinstance(value, str) else None


def _emails(people: Any) -> frozenset[str]:
    if not isinstance(people, list):
        return frozenset()
    return frozenset(e for e in (_fold(p.get("email")) for p in people if isinstance(p, Mapping)) if e)


@dataclass(frozen=True)
class Roles:
    """The people one version of a document names, case-folded."""

    mission: str
    director: str | None
    delegates: frozenset[str]
    leaders: frozenset[str]
    contacts: frozenset[str]

    @classmethod
    def of(cls, data: Mapping[str, Any]) -> Roles:
        """From a document's data (``Partnership.to_data()`` or the stored JSON)."""
        director = data.get("mission_director")
        contacts: set[str] = set()
        for partner in data.get("partners") or []:
            if isinstance(partner, Mapping):
                contacts |= _emails(partner.get("contacts"))
        return cls(
            mission=_fold(data.get("mission")) or "",
            director=_fold(director.get("email")) if isinstance(director, Mapping) else None,
            delegates=_emails(data.get("delegates")),
            leaders=_emails(data.get("leaders")),
            contacts=frozenset(contacts),
        )

    @property
    def deciders(self) -> frozenset[str]:
        return self.delegates | ({self.director} if self.director else frozenset())


@dataclass(frozen=True)
class Caller:
    """An identity with what the settings and the whole portfolio say about it."""

    identity: Identity
    admin: bool
    staff_of: frozenset[str]
    decides_in: frozenset[str]  # missions where the caller directs or is a delegate of some partnership

    @property
    def email(self) -> str:
        return self.identity.email.casefold()


def caller(identity: Identity, settings: Settings, portfolio: Iterable[Roles] = ()) -> Caller:
    """``portfolio``: the roles of every partnership (only needed for mission-wide sight)."""
    who = identity.email.casefold()
    return Caller(identity, settings.is_admin(who), settings.staff_missions(who),
                  frozenset(r.mission for r in portfolio if who in r.deciders))


def sees(who: Caller, roles: Roles) -> bool:
    if who.admin or roles.mission in who.staff_of or roles.mission in who.decides_in:
        return True
    return who.email in roles.deciders or who.email in roles.leaders or who.email in roles.contacts


def may_edit(who: Caller, roles: Roles) -> bool:
    """Upload versions and request moves (someone else then decides)."""
    if who.admin or roles.mission in who.staff_of:
        return True
    return who.email in roles.deciders or who.email in roles.leaders


def check_edit(who: Caller, roles: Roles, partnership_id: str, what: str) -> None:
    if not may_edit(who, roles):
        raise Forbidden(f"{who.identity.email} may not {what} {partnership_id}: only its leaders, mission director, "
                        "delegates, mission staff and admins may")


def check_create(who: Caller, roles: Roles, partnership_id: str) -> None:
    if who.admin or roles.mission in who.staff_of or roles.mission in who.decides_in:
        return
    raise Forbidden(f"{who.identity.email} may not create {partnership_id}: only admins, staff of its mission and "
                    "directors or delegates of that mission may")


def changes_power(old: Roles, new: Roles) -> bool:
    return (old.mission, old.director, old.delegates) != (new.mission, new.director, new.delegates)


def check_power(who: Caller, old: Roles, new: Roles, partnership_id: str) -> None:
    """A version changing ``mission``, ``mission_director`` or ``delegates`` needs power already."""
    if not changes_power(old, new):
        return
    if who.admin or old.mission in who.staff_of or who.email in old.deciders:
        return
    raise Forbidden(f"{who.identity.email} may not change the mission, mission_director or delegates of "
                    f"{partnership_id}: only admins, its mission staff, its mission director or a delegate may")


def check_decide(identity: Identity, roles: Roles, requested_by: str, settings: Settings, partnership_id: str) -> None:
    """``roles``: of the version the request rests on (a later version grants nothing)."""
    who = identity.email.casefold()
    if who not in roles.deciders:
        raise Forbidden(f"{identity.email} may not decide for {partnership_id}: only its mission director or a "
                        "delegate")
    if who == requested_by.casefold():
        raise Forbidden(f"{identity.email} requested this move and may not also decide it")
    if settings.require_signed_in and not identity.verified_for_decisions:
        raise Forbidden(f"ISP_REQUIRE_SIGNED_IN=1: a decision needs a signed-in identity, not {identity.method}")

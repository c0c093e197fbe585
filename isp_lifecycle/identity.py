"""Who acted, and how we know: the identity every decision, upload and move records.

``method`` says how the identity was established (``docs/spec/api.md``, "Who decided,
recorded"):

    email-link      signed in with a single-use link sent to that email
    oidc            signed in through the configured OpenID Connect provider
    token           an API token the person made while signed in (account page, ``isp login``)
    operator-token  an API token made on the service's host with ``isp token create``
    asserted        nobody verified it: the local CLI's ``--as`` / ``ISP_USER``, or a decision
                    typed into Prefect's UI form

``credential`` is the id of the session or token used (never the secret itself), and
``client`` the client address (``None`` for local commands). ``ISP_REQUIRE_SIGNED_IN=1``
refuses decisions whose identity is not ``verified_for_decisions``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Method = Literal["email-link", "oidc", "token", "operator-token", "asserted"]
METHODS: tuple[str, ...] = ("email-link", "oidc", "token", "operator-token", "asserted")
SIGNED_IN_METHODS: frozenset[str] = frozenset({"email-link", "oidc", "token"})


@dataclass(frozen=True)
class Identity:
    email: str
    method: Method = "asserted"
    credential: str | None = None
    client: str | None = None

    @classmethod
    def asserted(cls, who: str) -> Identity:
        return cls(email=who, method="asserted")

    @property
    def verified_for_decisions(self) -> bool:
        """What ``ISP_REQUIRE_SIGNED_IN=1`` accepts: a person who signed in (not an operator's
        token, not a typed ``--as``)."""
        return self.method in SIGNED_IN_METHODS

    def matches(self, email: str | None) -> bool:
        return email is not None and self.email.casefold() == email.casefold()

    def as_audit(self) -> dict[str, Any]:
        """The audit entry's ``identity`` object."""
        return {"email": self.email, "method": self.method, "credential": self.credential, "client": self.client}

"""Who may see and do what: the rules of api.md "Who is who", on plain data, in milliseconds."""

import pytest

from isp_lifecycle import authz
from isp_lifecycle.authz import Forbidden, Roles
from isp_lifecycle.identity import Identity
from isp_lifecycle.settings import Settings

DOC = {
    "id": "gh-x", "mission": "USAID/Ghana",
    "mission_director": {"name": "D", "email": "Director@mission.example.org"},
    "delegates": [{"name": "E", "email": "delegate@mission.example.org"}],
    "leaders": [{"name": "L", "email": "leader@ghs.example.org"}],
    "partners": [{"id": "p", "contacts": [{"name": "C", "email": "contact@partner.example.org"}]}],
}
OTHER_MISSION = {**DOC, "id": "ke-x", "mission": "USAID/Kenya", "mission_director": {"email": "kd@k.example.org"},
                 "delegates": [], "leaders": [], "partners": []}
SETTINGS = Settings(admins=frozenset({"admin@example.org"}),
                    staff=frozenset({("usaid/ghana", "staff@mission.example.org")}))
ROLES = Roles.of(DOC)
PORTFOLIO = [ROLES, Roles.of(OTHER_MISSION)]


def caller(email):
    return authz.caller(Identity(email, "token"), SETTINGS, PORTFOLIO)


@pytest.mark.parametrize("email", ["admin@example.org", "STAFF@mission.example.org", "director@mission.example.org",
                                   "delegate@mission.example.org", "leader@ghs.example.org",
                                   "contact@partner.example.org"])
def test_everyone_the_document_or_settings_name_sees_the_partnership(email):
    assert authz.sees(caller(email), ROLES)


def test_an_outsider_sees_nothing():
    assert not authz.sees(caller("someone@else.example.org"), ROLES)


def test_a_director_sees_every_partnership_of_her_mission_but_not_of_another():
    other_ghana = Roles.of({**DOC, "mission": "usaid/ghana", "mission_director": {"email": "x@y.org"},
                            "delegates": [], "leaders": [], "partners": []})
    kenya_director = caller("kd@k.example.org")
    assert authz.sees(caller("director@mission.example.org"), other_ghana)
    assert not authz.sees(kenya_director, ROLES)


def test_a_partner_contact_may_not_request_moves_but_a_leader_may():
    with pytest.raises(Forbidden):
        authz.check_edit(caller("contact@partner.example.org"), ROLES, "gh-x", "request a move of")
    authz.check_edit(caller("leader@ghs.example.org"), ROLES, "gh-x", "request a move of")


def test_only_the_director_or_a_delegate_decides_and_never_their_own_request():
    authz.check_decide(Identity("DELEGATE@mission.example.org", "token"), ROLES, "leader@ghs.example.org",
                       SETTINGS, "gh-x")
    for who in ("admin@example.org", "staff@mission.example.org", "contact@partner.example.org"):
        with pytest.raises(Forbidden, match="may not decide"):
            authz.check_decide(Identity(who, "token"), ROLES, "leader@ghs.example.org", SETTINGS, "gh-x")
    with pytest.raises(Forbidden, match="requested this move"):
        authz.check_decide(Identity("director@mission.example.org", "token"), ROLES, "Director@mission.example.org",
                           SETTINGS, "gh-x")


def test_require_signed_in_refuses_asserted_and_operator_token_decisions():
    strict = Settings(require_signed_in=True)
    for method in ("asserted", "operator-token"):
        with pytest.raises(Forbidden, match="ISP_REQUIRE_SIGNED_IN"):
            authz.check_decide(Identity("director@mission.example.org", method), ROLES, "l@x.org", strict, "gh-x")
    authz.check_decide(Identity("director@mission.example.org", "token"), ROLES, "l@x.org", strict, "gh-x")


def test_a_leader_naming_herself_delegate_is_refused_but_the_director_may():
    new = Roles.of({**DOC, "delegates": DOC["delegates"] + [{"email": "leader@ghs.example.org"}]})
    with pytest.raises(Forbidden, match="delegates"):
        authz.check_power(caller("leader@ghs.example.org"), ROLES, new, "gh-x")
    authz.check_power(caller("director@mission.example.org"), ROLES, new, "gh-x")
    authz.check_power(caller("staff@mission.example.org"), ROLES, new, "gh-x")


def test_a_leader_may_change_anything_but_who_holds_power():
    new = Roles.of({**DOC, "leaders": [{"email": "new@ghs.example.org"}]})
    authz.check_power(caller("leader@ghs.example.org"), ROLES, new, "gh-x")


def test_creating_needs_admin_mission_staff_or_a_decider_of_that_mission():
    ghana_new = Roles.of({"mission": "USAID/Ghana"})
    authz.check_create(caller("admin@example.org"), ghana_new, "n")
    authz.check_create(caller("staff@mission.example.org"), ghana_new, "n")
    authz.check_create(caller("delegate@mission.example.org"), ghana_new, "n")
    for who in ("leader@ghs.example.org", "kd@k.example.org"):
        with pytest.raises(Forbidden):
            authz.check_create(caller(who), ghana_new, "n")

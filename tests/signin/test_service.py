"""The sign-in service without HTTP: links, limits, who may sign in, sessions, CSRF, device codes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from isp_lifecycle import services, sessions, signin
from isp_lifecycle.settings import Settings
from isp_lifecycle.store.models import LoginLink, WebSession
from tests.store.conftest import doc, dump

DIRECTOR = "kboateng@mission.example.org"
CONTACT = "abena.quaye@tamalemobile.example.com"
OUTSIDER = "someone@elsewhere.example.net"
SETTINGS = Settings(admins=frozenset({"root@mission.example.org"}),
                    staff=frozenset({("usaid/ghana", "afia@mission.example.org")}))


@pytest.fixture
def known(store):
    services.import_document(store, doc())
    return store


def link_for(store, clock, email=DIRECTOR, client="10.0.0.1"):
    return signin.request_link(store, SETTINGS, email, client=client, clock=clock)


@pytest.mark.parametrize("email", [DIRECTOR, "EOwusu@Mission.Example.org", "ama.mensah@ghs.example.org", CONTACT,
                                   "root@mission.example.org", "AFIA@mission.example.org"])
def test_everyone_the_record_names_may_sign_in(known, email):
    assert signin.may_sign_in(known, SETTINGS, email)


@pytest.mark.parametrize("email", [OUTSIDER, "mission.example.org", "kboateng@mission", "%@%", "_boateng@mission.example.org"])
def test_nobody_else_may_sign_in(known, email):
    assert not signin.may_sign_in(known, SETTINGS, email)


def test_someone_named_only_in_an_older_version_may_no_longer_sign_in(known):
    data = doc().to_data()
    data["partners"][1]["contacts"] = data["partners"][1]["contacts"][:1]
    from isp_lifecycle.document import validate

    services.import_document(known, validate(data))
    assert not signin.may_sign_in(known, SETTINGS, CONTACT)


def test_a_link_signs_in_once_and_the_store_keeps_only_its_hash(known, clock):
    made = link_for(known, clock)
    assert made.secret and made.email == DIRECTOR
    with known.sessions() as s:
        stored = s.scalars(select(LoginLink)).one()
    assert made.secret not in repr(stored.__dict__) and stored.secret_sha256 == signin.digest(made.secret)
    first = sessions.sign_in_with_link(known, made.secret, client="10.0.0.1", clock=clock)
    assert first is not None and first.email == DIRECTOR and first.method == "email-link"
    assert sessions.sign_in_with_link(known, made.secret, client="10.0.0.1", clock=clock) is None


def test_looking_at_a_link_changes_nothing(known, clock):
    made = link_for(known, clock)
    before = dump(known)
    assert signin.peek_link(known, made.secret, clock=clock).email == DIRECTOR
    assert dump(known) == before


def test_a_link_expires_after_15_minutes(known, clock):
    made = link_for(known, clock)
    clock.advance(minutes=14, seconds=59)
    assert signin.peek_link(known, made.secret, clock=clock) is not None
    clock.advance(seconds=1)
    assert signin.peek_link(known, made.secret, clock=clock) is None
    assert sessions.sign_in_with_link(known, made.secret, client=None, clock=clock) is None


def test_an_unknown_email_gets_no_link_and_the_same_kind_of_answer(known, clock):
    answer = link_for(known, clock, OUTSIDER)
    assert answer.secret is None and answer.email == OUTSIDER
    with known.sessions() as s:
        assert s.scalars(select(LoginLink)).all() == []


def test_the_sixth_request_for_one_email_within_15_minutes_is_refused(known, clock):
    for _ in range(5):
        link_for(known, clock, "KBoateng@mission.example.org")
        clock.advance(minutes=2)
    with pytest.raises(signin.RateLimited) as refused:
        link_for(known, clock)
    assert 0 < refused.value.retry_after <= 15 * 60
    clock.advance(minutes=5, seconds=1)  # the first request is now more than 15 minutes old
    assert link_for(known, clock).secret


def test_unknown_emails_are_limited_the_same_way(known, clock):
    for _ in range(5):
        link_for(known, clock, OUTSIDER)
    with pytest.raises(signin.RateLimited):
        link_for(known, clock, OUTSIDER)


def test_one_client_address_gets_100_requests_in_15_minutes(known, clock):
    for n in range(100):
        link_for(known, clock, f"person{n}@elsewhere.example.net", client="10.9.9.9")
    with pytest.raises(signin.RateLimited):
        link_for(known, clock, DIRECTOR, client="10.9.9.9")
    assert link_for(known, clock, DIRECTOR, client="10.9.9.10").secret
    signin.reset_limits(known)
    assert link_for(known, clock, DIRECTOR, client="10.9.9.9").secret


@pytest.mark.parametrize("path,expected", [("/approvals/3", "/approvals/3"), ("//evil.example", "/"),
                                           ("/\\evil.example", "/"), ("https://evil.example/", "/"),
                                           ("approvals", "/"), (None, "/"), ("/a\nb", "/")])
def test_only_paths_on_this_site_are_followed_after_signing_in(path, expected):
    assert signin.safe_next(path) == expected


def test_a_session_ends_after_12_idle_hours(known, clock):
    started = sessions.sign_in_verified(known, DIRECTOR, "oidc", client="10.0.0.1", clock=clock)
    clock.advance(hours=11, minutes=59)
    who = sessions.authenticate(known, started.secret, client="10.0.0.2", clock=clock)
    assert (who.email, who.method, who.credential, who.client) == (DIRECTOR, "oidc", started.id, "10.0.0.2")
    clock.advance(hours=11, minutes=59)  # idle since the last use, not since the start
    assert sessions.authenticate(known, started.secret, clock=clock) is not None
    clock.advance(hours=12)
    assert sessions.authenticate(known, started.secret, clock=clock) is None


def test_any_session_ends_after_7_days(known, clock):
    started = sessions.sign_in_verified(known, DIRECTOR, "oidc", client=None, clock=clock)
    for _ in range(15):
        clock.advance(hours=11)
        assert sessions.authenticate(known, started.secret, clock=clock) is not None
    clock.advance(days=1)
    assert sessions.authenticate(known, started.secret, clock=clock) is None


def test_signing_out_and_revoking_end_a_session(known, clock):
    one = sessions.sign_in_verified(known, DIRECTOR, "oidc", client=None, clock=clock)
    two = sessions.sign_in_verified(known, DIRECTOR, "oidc", client=None, clock=clock)
    assert {s["id"] for s in sessions.list_sessions(known, DIRECTOR.upper(), clock=clock)} == {one.id, two.id}
    assert sessions.sign_out(known, one.secret, clock=clock)
    assert sessions.authenticate(known, one.secret, clock=clock) is None
    assert not sessions.revoke(known, two.id, email=CONTACT, clock=clock)  # not hers to end
    assert sessions.revoke(known, two.id, email=DIRECTOR, clock=clock)
    assert sessions.authenticate(known, two.secret, clock=clock) is None
    assert sessions.list_sessions(known, DIRECTOR, clock=clock) == []
    with known.sessions() as s:
        assert all(one.secret not in str(row.__dict__) for row in s.scalars(select(WebSession)))


def test_the_csrf_token_belongs_to_one_session(known, clock):
    one = sessions.sign_in_verified(known, DIRECTOR, "oidc", client=None, clock=clock)
    two = sessions.sign_in_verified(known, DIRECTOR, "oidc", client=None, clock=clock)
    assert sessions.csrf_ok(one.secret, one.csrf)
    assert not sessions.csrf_ok(one.secret, two.csrf)
    assert not sessions.csrf_ok(one.secret, "") and not sessions.csrf_ok(one.secret, None)


def test_isp_login_gets_one_token_once_the_person_confirms(known, clock):
    started = sessions.begin_device(known, name="laptop", client="10.0.0.1", clock=clock)
    made = []
    issue = lambda email, name: made.append((email, name)) or "isp_secret"  # noqa: E731
    assert sessions.collect_device(known, started.device_code, issue, clock=clock) == ("pending", None)
    assert sessions.pending_device(known, started.user_code.lower(), clock=clock)["name"] == "laptop"
    assert sessions.approve_device(known, started.user_code, DIRECTOR, clock=clock)
    assert not sessions.approve_device(known, started.user_code, CONTACT, clock=clock)
    assert sessions.collect_device(known, started.device_code, issue, clock=clock) == ("ok", "isp_secret")
    assert sessions.collect_device(known, started.device_code, issue, clock=clock) == ("expired", None)
    assert made == [(DIRECTOR, "laptop")]


def test_an_unconfirmed_isp_login_expires(known, clock):
    started = sessions.begin_device(known, name=None, client=None, clock=clock)
    clock.advance(minutes=10)
    assert not sessions.approve_device(known, started.user_code, DIRECTOR, clock=clock)
    assert sessions.collect_device(known, started.device_code, lambda e, n: "x", clock=clock) == ("expired", None)

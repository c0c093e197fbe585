"""Invitations: one per contact per review however often it runs, only when enabled and reachable; one reminder."""

from datetime import date

from isp_lifecycle import assessments, review, services

from .conftest import GHANA_CONTACTS, WEB, audited, invitations, later, messages, run, two_partnerships


def test_a_review_invites_every_contact_of_every_reviewed_partnership_once_with_one_audit_entry(store, enabled):
    two_partnerships(store)
    summary = run(store)
    found = invitations(store, summary.review_id)
    assert {e for p, e, _ in found if p == "gh-mnh-north"} == GHANA_CONTACTS
    assert len(found) == 2 * len(GHANA_CONTACTS)
    sent = messages(store, "assessment-invitation")
    assert sorted(r for r, _ in sent) == sorted(e for _, e, _ in found)
    link = next(p["link"] for r, p in sent if r == "hawa.issah@nmwa.example.org")
    assert link == f"{WEB}/partnerships/gh-mnh-north/assessments/{summary.review_id}"
    assert [d["invited"] for d in audited(store, "assessments-invited")] == [12]


def test_running_the_review_again_or_finishing_a_failed_one_invites_nobody_twice(store, enabled, monkeypatch):
    from ..review.conftest import fail_on

    two_partnerships(store)
    undo = fail_on(monkeypatch, "gh-mnh-north", RuntimeError("down"))
    first = run(store, chunk_size=1)
    assert not first.complete and invitations(store) == []
    undo()
    for _ in range(3):
        assert run(store, chunk_size=1).complete
    assert len(invitations(store)) == 12
    assert len(messages(store, "assessment-invitation")) == 12
    assert len(audited(store, "assessments-invited")) == 1
    second = run(store, date(2027, 9, 8), later(7))
    assert len(invitations(store, second.review_id)) == 12


def test_nobody_is_invited_when_assessments_are_off_or_the_web_service_is_unreachable(store, env, monkeypatch):
    two_partnerships(store)
    monkeypatch.setenv("ISP_WEB_URL", WEB)
    monkeypatch.delenv("ISP_ASSESSMENTS", raising=False)
    run(store)
    monkeypatch.setenv("ISP_ASSESSMENTS", "1")
    monkeypatch.delenv("ISP_WEB_URL")
    run(store, date(2027, 9, 2))
    assert invitations(store) == [] and messages(store, "assessment-invitation") == []


def test_a_running_isp_serve_makes_the_web_service_reachable(env, monkeypatch, tmp_path):
    import json
    import os

    from isp_lifecycle.settings import Settings

    home = tmp_path / "serving"
    home.mkdir()
    settings = Settings(home=home, assessments=True)
    assert assessments.reachable_url(settings) is None
    (home / "serve.json").write_text(json.dumps({"pid": os.getpid(), "web_url": "http://127.0.0.1:9999/"}))
    assert assessments.reachable_url(settings) == "http://127.0.0.1:9999"


def test_one_reminder_goes_past_half_the_period_to_those_who_neither_answered_nor_declined(store, enabled):
    from isp_lifecycle import assessments_form as form

    from .conftest import at, contact

    two_partnerships(store)
    summary = run(store)
    form.answer(store, contact("hawa.issah@nmwa.example.org"), "gh-mnh-north", summary.review_id,
                {"rating.flexibility": "green"}, at(later(1)))
    form.decline(store, contact("yaw.darko@ghs.example.org"), "gh-mnh-north", summary.review_id, at(later(1)))
    assert assessments.remind_due(store, at(later(6.9))) == 0
    assert assessments.remind_due(store, at(later(7))) == 10
    assert assessments.remind_due(store, at(later(8))) == 0
    assert run(store, date(2027, 9, 10), later(9)).complete  # a later review sends no second reminder
    reminded = sorted(r for r, _ in messages(store, "assessment-reminder"))
    assert len(reminded) == 10
    assert "hawa.issah@nmwa.example.org" not in reminded and "yaw.darko@ghs.example.org" not in reminded
    assert [d["reminded"] for d in audited(store, "assessments-reminded")] == [10]


def test_nobody_is_reminded_once_the_assessment_closed(store, enabled, monkeypatch):
    monkeypatch.setenv("ISP_ASSESSMENT_DAYS", "4")
    two_partnerships(store)
    run(store)
    assert assessments.remind_due(store, at_days(4)) == 0
    assert messages(store, "assessment-reminder") == []


def at_days(days):
    from .conftest import at

    return at(later(days))


def test_a_closed_partnership_is_not_reviewed_and_so_not_invited(store, enabled):
    ghana = two_partnerships(store)
    data = ghana.to_data()
    data["id"], data["stage"] = "gh-closed", "closed"
    for partner in data["partners"]:
        for c in partner["contacts"]:
            c["email"] = "closed." + c["email"]
    from isp_lifecycle.document import validate

    services.import_document(store, validate(data))
    summary = review.run_review(store, date(2027, 9, 1))
    assert {p for p, _, _ in invitations(store, summary.review_id)} == {"gh-mnh-north", "gh-copy"}


def test_a_contact_of_two_partnerships_gets_an_invitation_for_each_and_no_webhook_hears_of_them(store, enabled,
                                                                                               monkeypatch):
    from isp_lifecycle.document import validate

    monkeypatch.setenv("ISP_CHANNELS", "outbox,webhook")
    monkeypatch.setenv("ISP_WEBHOOK_URL", "https://hooks.example.org/isp")
    ghana = two_partnerships(store)
    data = ghana.to_data()
    data["id"], data["name"] = "gh-second", "A second partnership, same people"
    services.import_document(store, validate(data))
    summary = run(store)
    hawa = [p["link"] for r, p in messages(store, "assessment-invitation") if r == "hawa.issah@nmwa.example.org"]
    assert sorted(hawa) == [f"{WEB}/partnerships/{pid}/assessments/{summary.review_id}"
                            for pid in ("gh-mnh-north", "gh-second")]
    assert "*" not in {r for r, _ in messages(store, "assessment-invitation")}

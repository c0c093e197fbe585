"""The partnership page over HTTP: what it shows, to whom, and the leader's forms."""

from __future__ import annotations

import io

from isp_lifecycle.cli.store import dump_yaml as _dump
from isp_lifecycle.store.models import PartnershipRow

from .conftest import signed_in
from .site import CONTACT, DIRECTOR, LEADER, OTHER_DIRECTOR, OUTSIDER, blocked, healthy
from .test_pages import _text


def dump_yaml(data) -> str:
    out = io.StringIO()
    _dump(data, out)
    return out.getvalue()


def _form(client, path, fields=None, files=None):
    return client.post(path, data={**(fields or {}), "csrf_token": client.csrf}, files=files)


def test_the_page_shows_stages_findings_with_the_handbook_the_document_and_history(client):
    page = _text(signed_in(client, CONTACT).get("/partnerships/tamale-health").text)
    assert "In Convene since" in page and "What the gate found" in page and "The Convene gate passes" in page
    assert "Ghana Health Service" in page and "Download it as YAML" in page and "version 1 (import)" in page
    assert "You can read this partnership" in page and "Request the move" not in page


def test_a_director_of_another_mission_and_an_outsider_get_404(client):
    for who in (OTHER_DIRECTOR, OUTSIDER):
        assert signed_in(client, who).get("/partnerships/tamale-health").status_code == 404
        assert _form(client, "/partnerships/tamale-health/check").status_code == 404


def test_an_invalid_upload_shows_every_problem_with_its_path_and_line_and_saves_nothing(client):
    bad = dump_yaml(healthy(id="tamale-health", name="Tamale Maternal Health Partnership").to_data())
    bad = bad.replace("sector: public", "sector: publik", 1).replace("country: GH", "country: XX", 1)
    answer = _form(signed_in(client, LEADER), "/partnerships/tamale-health/upload", {"text": bad})
    assert answer.status_code == 422
    page = _text(answer.text)
    line = next(i for i, text in enumerate(bad.splitlines(), 1) if "publik" in text)
    assert f"Line {line}, partners[0].sector" in page and "country" in page
    with client.store.sessions() as session:
        assert session.get(PartnershipRow, "tamale-health").current_version == 1


def test_a_file_upload_saves_a_new_version(client):
    good = dump_yaml(healthy(id="tamale-health", name="Tamale Maternal Health Partnership",
                             local_context="Better roads.").to_data())
    answer = _form(signed_in(client, LEADER), "/partnerships/tamale-health/upload",
                   files={"file": ("p.yaml", good.encode(), "application/yaml")})
    assert answer.status_code == 200 and "Version 2 is saved." in answer.text
    assert client.ids  # the request on version 1 is now stale
    assert "can no longer be decided" in _text(signed_in(client, DIRECTOR).get(
        f"/approvals/{client.ids['tamale-health']}").text)


def test_a_partner_contact_may_not_upload(client):
    good = dump_yaml(healthy(id="tamale-health", name="X", local_context="Mine.").to_data())
    assert _form(signed_in(client, CONTACT), "/partnerships/tamale-health/upload", {"text": good}).status_code == 403


def test_checking_the_gate_shows_the_verdict_and_records_nothing(client):
    answer = _form(signed_in(client, LEADER), "/partnerships/tamale-health/check")
    assert "The gate today (not recorded)" in answer.text and "The Convene gate passes" in _text(answer.text)


def test_requesting_the_move_leads_to_the_decision_page_and_a_blocked_gate_says_why(client):
    from isp_lifecycle import services

    services.import_document(client.store, blocked("tamale-blocked", "Tamale Blocked"), actor=LEADER)
    answer = _form(signed_in(client, LEADER), "/partnerships/tamale-blocked/advance")
    assert answer.status_code == 409 and "The gate is blocked" in answer.text
    assert "What to do:" in answer.text
    fine = healthy(id="tamale-fine", name="Tamale Fine")
    services.import_document(client.store, fine, actor=LEADER)
    answer = _form(client, "/partnerships/tamale-fine/advance")
    assert answer.status_code == 303 and answer.headers["location"].startswith("/approvals/")


def test_the_download_link_gives_the_document_as_yaml_to_a_signed_in_reader(client):
    answer = signed_in(client, CONTACT).get("/api/v1/partnerships/tamale-health/document")
    assert answer.status_code == 200 and "id: tamale-health" in answer.text

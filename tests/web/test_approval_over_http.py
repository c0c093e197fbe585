"""The whole approval through HTTP with tokens, and each refusal leaving the record unchanged
but for the audit entry the spec names (api.md, "Who is who" and the JSON API)."""

from __future__ import annotations

import pytest

from isp_lifecycle import tokens

from .conftest import CONTACT, DELEGATE, DIRECTOR, LEADER, OUTSIDER, audit_count, last_audit, record

AS_OF = {"as_of": "2026-11-27"}


def _advance(client, pid):
    response = client.post(f"/api/v1/partnerships/{pid}/advance", json=AS_OF)
    assert response.status_code == 202, response.text
    return response.json()["request"]


def test_a_leader_advances_the_director_approves_and_the_stage_moves(as_, partnership):
    leader, director = as_(LEADER), as_(DIRECTOR)
    request = _advance(leader, partnership)
    assert (request["status"], request["applied"], request["requested_by"]) == ("pending", False, LEADER)
    assert leader.get("/api/v1/approvals/{}".format(request["id"])).json()["status"] == "pending"
    assert request["id"] in [a["id"] for a in director.get("/api/v1/approvals?status=pending").json()["approvals"]]

    decided = director.post(f"/api/v1/approvals/{request['id']}/decision", json={"decision": "approve",
                                                                                 "note": "Go.\nWell done."})
    assert decided.status_code == 200, decided.text
    body = decided.json()
    assert (body["status"], body["applied"], body["decision"], body["note"]) == ("approved", True, "approve",
                                                                                 "Go.\nWell done.")
    assert body["decided_by"].casefold() == DIRECTOR and body["decided_at"].endswith("Z")
    shown = leader.get(f"/api/v1/partnerships/{partnership}").json()
    assert (shown["stage"], shown["version"], shown["pending_request"]) == ("review", 2, None)


def test_every_decision_records_who_decided_and_how(as_, partnership, web_store):
    request = _advance(as_(LEADER), partnership)
    director = as_(DIRECTOR)
    director.post(f"/api/v1/approvals/{request['id']}/decision", json={"decision": "reject"})
    from sqlalchemy import select

    from isp_lifecycle.store.models import AuditEntry

    with web_store.sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "reject",
                                                         AuditEntry.partnership_id == partnership)).one()
    assert entry.detail["identity"]["email"] == DIRECTOR
    assert entry.detail["identity"]["method"] == "operator-token"
    assert entry.detail["identity"]["credential"] == director.made.id
    assert entry.detail["identity"]["client"] == "127.0.0.1"


def test_no_credentials_get_401_and_change_nothing(as_, partnership, web_store):
    request = _advance(as_(LEADER), partnership)
    before, entries = record(web_store), audit_count(web_store)
    anonymous = as_(None)
    response = anonymous.post(f"/api/v1/approvals/{request['id']}/decision", json={"decision": "approve"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert anonymous.get("/api/v1/partnerships", headers={"Authorization": "Bearer isp_forged"}).status_code == 401
    assert (record(web_store), audit_count(web_store)) == (before, entries)


def test_an_outsider_gets_404_exactly_as_for_what_does_not_exist(as_, partnership, web_store):
    request, outsider = _advance(as_(LEADER), partnership), as_(OUTSIDER)
    before, entries = record(web_store), audit_count(web_store)
    hidden = outsider.get(f"/api/v1/partnerships/{partnership}")
    missing = outsider.get("/api/v1/partnerships/gh-no-such-thing")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["detail"].replace(partnership, "X") == missing.json()["detail"].replace("gh-no-such-thing", "X")
    assert outsider.post(f"/api/v1/approvals/{request['id']}/decision", json={"decision": "approve"}).status_code == 404
    assert outsider.get(f"/api/v1/approvals/{request['id']}").status_code == 404
    assert partnership not in str(outsider.get("/api/v1/partnerships").json())
    assert request["id"] not in [a["id"] for a in outsider.get("/api/v1/approvals").json()["approvals"]]
    assert (record(web_store), audit_count(web_store)) == (before, entries)


@pytest.mark.parametrize("who", [CONTACT, LEADER], ids=["partner-contact", "requester"])
def test_a_partner_contact_or_the_requester_deciding_gets_403_and_one_audit_entry(as_, partnership, web_store, who):
    request, decider = _advance(as_(LEADER), partnership), as_(who)
    before, entries = record(web_store), audit_count(web_store)
    response = decider.post(f"/api/v1/approvals/{request['id']}/decision", json={"decision": "approve"})
    assert response.status_code == 403, response.text
    assert record(web_store) == before and audit_count(web_store) == entries + 1
    entry = last_audit(web_store)
    assert (entry.action, entry.partnership_id, entry.detail["error"]) == ("approve.refused", partnership, "Forbidden")


def test_the_director_deciding_her_own_request_gets_403(as_, partnership, web_store):
    director = as_(DIRECTOR)
    request = _advance(director, partnership)
    before, entries = record(web_store), audit_count(web_store)
    response = director.post(f"/api/v1/approvals/{request['id']}/decision", json={"decision": "approve"})
    assert response.status_code == 403 and "requested this move" in response.json()["detail"]
    assert record(web_store) == before and audit_count(web_store) == entries + 1


def test_a_leader_naming_herself_delegate_gets_403_and_one_audit_entry(as_, partnership, web_store):
    leader = as_(LEADER)
    data = leader.get(f"/api/v1/partnerships/{partnership}/document", headers={"Accept": "application/json"}).json()
    data["delegates"].append({"name": "Ama Mensah", "email": LEADER})
    before, entries = record(web_store), audit_count(web_store)
    response = leader.put(f"/api/v1/partnerships/{partnership}/document", json=data)
    assert response.status_code == 403, response.text
    assert record(web_store) == before and audit_count(web_store) == entries + 1
    assert (last_audit(web_store).action, last_audit(web_store).partnership_id) == ("import.refused", partnership)
    data["delegates"].pop()
    data["local_context"] = "Updated by the leader."
    assert leader.put(f"/api/v1/partnerships/{partnership}/document", json=data).json() == {"version": 2,
                                                                                         "changed": True}


def test_a_second_decision_gets_409_and_one_audit_entry(as_, partnership, web_store):
    request = _advance(as_(LEADER), partnership)
    assert as_(DIRECTOR).post(f"/api/v1/approvals/{request['id']}/decision",
                              json={"decision": "approve"}).status_code == 200
    delegate = as_(DELEGATE)
    before, entries = record(web_store), audit_count(web_store)
    second = delegate.post(f"/api/v1/approvals/{request['id']}/decision", json={"decision": "reject"})
    assert second.status_code == 409, second.text
    assert record(web_store) == before and audit_count(web_store) == entries + 1
    assert last_audit(web_store).action == "reject.refused"


def test_a_decision_on_a_stale_request_gets_409(as_, partnership, web_store):
    leader = as_(LEADER)
    request = _advance(leader, partnership)
    data = leader.get(f"/api/v1/partnerships/{partnership}/document", headers={"Accept": "application/json"}).json()
    data["local_context"] = "Changed after the request."
    assert leader.put(f"/api/v1/partnerships/{partnership}/document", json=data).status_code == 200
    assert leader.get(f"/api/v1/approvals/{request['id']}").json()["status"] == "stale"
    director = as_(DIRECTOR)
    before, entries = record(web_store), audit_count(web_store)
    response = director.post(f"/api/v1/approvals/{request['id']}/decision", json={"decision": "approve"})
    assert response.status_code == 409 and "stale" in response.json()["detail"]
    assert record(web_store) == before and audit_count(web_store) == entries + 1


def test_a_revoked_token_gets_401(as_, partnership, web_store):
    director = as_(DIRECTOR)
    assert director.get("/api/v1/me").json() == {"email": DIRECTOR, "admin": False}
    tokens.revoke(web_store, director.made.id)  # audited: token-revoke
    before, entries = record(web_store), audit_count(web_store)
    assert director.get("/api/v1/me").status_code == 401
    assert director.get(f"/api/v1/partnerships/{partnership}").status_code == 401
    assert (record(web_store), audit_count(web_store)) == (before, entries)


def test_emails_come_back_as_the_documents_write_them(as_, partnership):
    leader, director = as_(LEADER.upper()), as_("KBoateng@Mission.Example.org")
    request = _advance(leader, partnership)
    assert request["requested_by"] == LEADER
    decided = director.post(f"/api/v1/approvals/{request['id']}/decision", json={"decision": "approve"}).json()
    assert decided["decided_by"] == DIRECTOR


def test_a_forbidden_move_is_409_and_audited(as_, partnership, web_store):
    leader = as_(LEADER)
    entries = audit_count(web_store)
    response = leader.post(f"/api/v1/partnerships/{partnership}/advance", json={"to": "closed"})
    assert response.status_code == 409 and "leaving review" in response.json()["detail"]
    assert audit_count(web_store) == entries + 1 and last_audit(web_store).action == "request-approval.refused"


def test_a_listing_names_each_partnerships_pending_request_on_whichever_page_it_falls(as_, partnership, web_store):
    from isp_lifecycle import services
    from isp_lifecycle.document import validate

    data = services.export_document(web_store, partnership).to_data()
    services.import_document(web_store, validate({**data, "id": partnership + "b"}), actor=LEADER)
    waiting = _advance(as_(LEADER), partnership + "b")
    director = as_(DIRECTOR)
    pages = [director.get(f"/api/v1/partnerships?limit=1&after={after}").json()
             for after in (partnership[:-1], partnership)]
    assert [(p["id"], p["pending_request"]) for page in pages for p in page["partnerships"]] == [
        (partnership, None), (partnership + "b", waiting["id"])]

"""The HTTP contract beyond the approval: statuses and their order, problem+json, paging,
body cap, security headers, the OpenAPI description, and no secret in any log."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx

from .conftest import ADMIN, DIRECTOR, FIXTURES, LEADER

HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy")


def test_openapi_is_served_without_credentials_and_no_other_documentation_route(web):
    schema = httpx.get(web.url + "/api/v1/openapi.json")
    assert schema.status_code == 200 and schema.json()["openapi"].startswith("3.")
    assert "/api/v1/approvals/{request_id}/decision" in schema.json()["paths"]
    for path in ("/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"):
        assert httpx.get(web.url + path).status_code == 404


def test_every_response_carries_the_security_headers(web, as_):
    for response in (httpx.get(web.url + "/api/v1/health"), httpx.get(web.url + "/api/v1/me"),
                     httpx.get(web.url + "/nowhere"), as_(LEADER).get("/api/v1/partnerships/none")):
        csp = response.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp and "http" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "no-referrer"


def test_a_body_over_one_mebibyte_is_413_before_credentials_are_looked_at(web):
    big = b"x" * (1024 * 1024 + 1)
    response = httpx.put(web.url + "/api/v1/partnerships/gh-x/document", content=big)
    assert response.status_code == 413 and response.headers["content-type"] == "application/problem+json"

    def chunks():
        for _ in range(17):
            yield b"y" * 65536

    assert httpx.post(web.url + "/api/v1/check", content=chunks()).status_code == 413


def test_a_malformed_request_is_400_before_missing_credentials_are_401(web):
    assert httpx.get(web.url + "/api/v1/partnerships?limit=0").status_code == 400
    assert httpx.get(web.url + "/api/v1/partnerships?limit=1001").status_code == 400
    assert httpx.put(web.url + "/api/v1/partnerships/gh-a/document", json={"id": "gh-b"}).status_code == 400
    assert httpx.get(web.url + "/api/v1/partnerships?limit=5").status_code == 401


def test_a_body_that_is_not_the_json_described_is_400_not_422(as_, partnership):
    director = as_(DIRECTOR)
    for body in ({"decision": "maybe"}, {"decision": "approve", "extra": 1}, [], "approve"):
        response = director.post("/api/v1/approvals/1/decision", json=body)
        assert response.status_code == 400, (body, response.text)
        assert set(response.json()) >= {"type", "title", "status", "detail"}
    broken = director.post(f"/api/v1/partnerships/{partnership}/advance", content=b"{not json",
                           headers={"Content-Type": "application/json"})
    assert broken.status_code == 400


def test_a_note_over_2000_characters_is_422_at_note(as_, partnership):
    request = as_(LEADER).post(f"/api/v1/partnerships/{partnership}/advance", json={"as_of": "2026-11-27"}).json()
    response = as_(DIRECTOR).post(f"/api/v1/approvals/{request['request']['id']}/decision",
                                  json={"decision": "approve", "note": "n" * 2001})
    assert response.status_code == 422 and response.json()["errors"][0]["path"] == "note"


def _isp_check_problems(path: Path) -> list[dict]:
    done = subprocess.run([str(Path(sys.executable).parent / "isp"), "check", "--format", "json", str(path)],
                          capture_output=True, text=True)
    problems = json.loads(done.stdout.splitlines()[0])["problems"]
    return [{"path": p["path"], "message": p["message"]} for p in problems]  # isp check may add line, column


def test_an_invalid_document_is_422_with_the_paths_and_messages_of_isp_check(as_, tmp_path):
    text = (FIXTURES / "gh-mnh-north.yaml").read_text().replace("country: GH", "country: Ghana")
    text = text.replace("sector: public", "sector: government", 1)
    (tmp_path / "bad.yaml").write_text(text)
    response = as_(LEADER).post("/api/v1/check", content=text.encode(), headers={"Content-Type": "application/yaml"})
    assert response.status_code == 422
    assert response.json()["errors"] == _isp_check_problems(tmp_path / "bad.yaml")
    syntax = as_(LEADER).post("/api/v1/check", content=b"a: [", headers={"Content-Type": "application/yaml"})
    assert syntax.status_code == 422 and syntax.json()["errors"][0]["path"] == "(document)"


def test_check_answers_the_verdict_of_isp_check(as_):
    text = (FIXTURES / "gh-mnh-north.yaml").read_bytes()
    response = as_(LEADER).post("/api/v1/check?gate=commit&as_of=2026-11-27", content=text,
                                headers={"Content-Type": "application/yaml"})
    assert response.status_code == 200
    verdict = response.json()
    assert (verdict["partnership"], verdict["gate"], verdict["as_of"], verdict["passed"]) == (
        "gh-mnh-north", "commit", "2026-11-27", True)
    closed = text.replace(b"stage: implement", b"stage: closed")
    no_gate = as_(LEADER).post("/api/v1/check", content=closed, headers={"Content-Type": "application/yaml"})
    assert no_gate.status_code == 422 and [e["path"] for e in no_gate.json()["errors"]] == ["stage"]


def test_lists_are_paged_by_limit_and_after(as_, partnership, web_store):
    from isp_lifecycle import services
    from isp_lifecycle.document import load, validate

    data = load(FIXTURES / "gh-mnh-north.yaml").to_data()
    for suffix in ("a", "b"):
        services.import_document(web_store, validate({**data, "id": partnership + suffix}), actor=ADMIN)
    admin = as_(ADMIN)
    first = admin.get(f"/api/v1/partnerships?limit=1&after={partnership[:-1]}").json()
    ids = [first["partnerships"][0]["id"]]
    following = first["next"]
    while following is not None:
        page = admin.get(f"/api/v1/partnerships?limit=1&after={following}").json()
        ids += [p["id"] for p in page["partnerships"]]
        following = page["next"]
    assert [partnership, partnership + "a", partnership + "b"] == [i for i in ids if i.startswith(partnership)]
    assert ids == sorted(ids)


def test_a_new_partnership_is_201_for_an_admin_and_403_for_a_leader(as_, partnership):
    data = as_(ADMIN).get(f"/api/v1/partnerships/{partnership}/document",
                          headers={"Accept": "application/json"}).json()
    data["id"] = partnership + "-new"
    assert as_(LEADER).put(f"/api/v1/partnerships/{data['id']}/document", json=data).status_code == 403
    created = as_(ADMIN).put(f"/api/v1/partnerships/{data['id']}/document", json=data)
    assert (created.status_code, created.json()) == (201, {"version": 1, "changed": True})
    again = as_(ADMIN).put(f"/api/v1/partnerships/{data['id']}/document", json=data)
    assert (again.status_code, again.json()) == (200, {"version": 1, "changed": False})
    moved = dict(data, stage="review")
    assert as_(ADMIN).put(f"/api/v1/partnerships/{data['id']}/document", json=moved).status_code == 409


def test_the_document_comes_as_yaml_unless_json_is_asked_for(as_, partnership):
    leader = as_(LEADER)
    as_yaml = leader.get(f"/api/v1/partnerships/{partnership}/document")
    assert as_yaml.headers["content-type"].startswith("application/yaml") and f"id: {partnership}" in as_yaml.text
    assert leader.get(f"/api/v1/partnerships/{partnership}/document?version=9").status_code == 404


def test_no_token_reaches_any_log(web, as_, partnership):
    leader = as_(LEADER)
    secret = leader.made.secret
    leader.get(f"/api/v1/partnerships/{partnership}?token={secret}")
    leader.post(f"/api/v1/partnerships/{partnership}/advance", json={"as_of": "2026-11-27"})
    httpx.get(web.url + "/api/v1/me", headers={"Authorization": f"Bearer {secret}x"})
    logs = "".join(p.read_text(errors="replace") for p in web.home.rglob("*.log"))
    assert "/api/v1/partnerships/" in logs  # the access log is on
    assert secret not in logs and not re.search(r"isp_[A-Za-z0-9_-]{40,}", logs)

"""The limits apply to what comes in: a version stored before they existed, which they would
refuse today, stays readable (export, audit verification, gates), and the same text coming
in again is refused at its path."""

from __future__ import annotations

from datetime import date

import pytest

from isp_lifecycle import services
from isp_lifecycle.cli import main
from isp_lifecycle.document import intake, read_yaml, validate
from isp_lifecycle.errors import InvalidDocument
from isp_lifecycle.gates import evaluate
from tests.store.conftest import FIXTURES, backend, database_url, env, store  # noqa: F401  (fixtures)


def old_version():
    """Data the models of stored versions accept and the intake limits refuse."""
    data = read_yaml((FIXTURES / "gh-mnh-north.yaml").read_text("utf-8"))
    data["name"] = "Northern\tGhana\x1b[1m Partnership"
    data["partners"][0]["contacts"][0]["email"] = "x,victim@evil.example.org"
    data["delegates"] = [{"name": "Efua Owusu", "email": "eowusu@mission.example.org\n"}]
    return data


def test_the_intake_limits_refuse_what_a_stored_version_may_hold():
    with pytest.raises(InvalidDocument) as refused:
        intake(old_version())
    assert [p.path for p in refused.value.problems] == [
        "name", "delegates[0].email", "partners[0].contacts[0].email"]
    assert validate(old_version()).name.startswith("Northern\tGhana")


def test_a_stored_version_the_limits_would_refuse_stays_readable(store, env, capsys):  # noqa: F811
    services.import_document(store, validate(old_version()))
    assert main(["export", "gh-mnh-north"]) == 0
    exported = capsys.readouterr().out
    assert "x,victim@evil.example.org" in exported  # stored as given, never changed
    _, verdict = services.evaluate_gate(
        store, "gh-mnh-north", lambda doc, gate, when: evaluate(doc, gate, when, "python").to_json(),
        as_of=date(2026, 11, 27))
    assert verdict["partnership"] == "gh-mnh-north"
    assert main(["audit", "verify"]) == 0
    assert main(["show", "gh-mnh-north"]) == 0

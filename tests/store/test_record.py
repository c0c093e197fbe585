"""``isp audit verify`` against a tampered store: each change made straight in the database is
found (exit 1, naming the place); an untouched store verifies; a checkpoint kept outside the
database shows the newest entries removed; no key is ever created by verify or checkpoint."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import delete, func, select, update

from isp_lifecycle import services
from isp_lifecycle.cli import main
from isp_lifecycle.store.models import ApprovalRequest, AuditEntry, DocumentVersion, PartnershipRow, StageTransition

from .conftest import doc, verdict_for

AS_OF = date(2026, 11, 27)


@pytest.fixture
def lived(store):
    """One partnership moved through a gate (request #1 approved, version 2), one waiting for
    a decision (request #2 pending)."""
    services.import_document(store, doc())
    services.evaluate_gate(store, "gh-mnh-north", verdict_for(), as_of=AS_OF)
    services.request_approval(store, "gh-mnh-north", requested_by="ama.mensah@ghs.example.org")
    services.decide(store, "gh-mnh-north", by="kboateng@mission.example.org", approve=True)
    services.move_stage(store, "gh-mnh-north")
    ke = doc("ke-water-kisumu.yaml")
    services.import_document(store, ke)
    services.evaluate_gate(store, ke.id, verdict_for(), as_of=AS_OF)
    services.request_approval(store, ke.id, requested_by=ke.leaders[0].email)
    return store


def verify(capsys, *args):
    code = main(["audit", "verify", *args])
    out, err = capsys.readouterr()
    return code, out, err


def tamper(store, statement):
    with store.engine.begin() as conn:
        conn.execute(statement)


def request_of(store, partnership_id):
    with store.sessions() as session:
        return session.scalar(select(ApprovalRequest.id).where(ApprovalRequest.partnership_id == partnership_id))


def test_an_untouched_store_verifies(lived, capsys):
    code, out, err = verify(capsys)
    assert (code, err) == (0, "")
    assert out.startswith("audit chain intact: 8 entries verified; 2 partnerships agree with it")


def rename_in_first_version(lived) -> None:
    """Edit gh-mnh-north's first stored text in the database, leaving its digest as it was."""
    with lived.sessions() as session:
        text = session.scalar(select(DocumentVersion.document).where(DocumentVersion.version == 1,
                                                                     DocumentVersion.partnership_id == "gh-mnh-north"))
    tamper(lived, update(DocumentVersion).where(DocumentVersion.partnership_id == "gh-mnh-north",
                                                DocumentVersion.version == 1)
           .values(document=text.replace("Northern Ghana", "Southern Ghana")))


def test_a_document_versions_text_changed_is_found_naming_the_partnership_and_version(lived, capsys):
    rename_in_first_version(lived)
    code, _, err = verify(capsys)
    assert code == 1
    assert "partnership gh-mnh-north: the text of document version 1 does not match its recorded digest" in err


def test_a_document_versions_text_changed_is_never_served_by_export(lived, capsys):
    rename_in_first_version(lived)
    assert main(["export", "gh-mnh-north", "--version", "1"]) == 2
    out, err = capsys.readouterr()
    assert "Southern Ghana" not in out
    assert "gh-mnh-north version 1 no longer matches the digest recorded when it was written" in err

def test_a_changed_text_with_its_digest_recomputed_is_found_against_the_audit_log(lived, capsys):
    import hashlib

    with lived.sessions() as session:
        text = session.scalar(select(DocumentVersion.document).where(DocumentVersion.version == 2,
                                                                     DocumentVersion.partnership_id == "gh-mnh-north"))
    forged = text.replace("Northern Ghana", "Southern Ghana")
    tamper(lived, update(DocumentVersion).where(DocumentVersion.partnership_id == "gh-mnh-north",
                                                DocumentVersion.version == 2)
           .values(document=forged, sha256=hashlib.sha256(forged.encode()).hexdigest()))
    code, _, err = verify(capsys)
    assert code == 1
    assert "partnership gh-mnh-north: the text of document version 2 does not match the digest audit entry 5" in err


def test_a_stage_changed_is_found(lived, capsys):
    tamper(lived, update(PartnershipRow).where(PartnershipRow.id == "gh-mnh-north").values(stage="commit"))
    code, _, err = verify(capsys)
    assert code == 1 and "partnership gh-mnh-north: its stage is commit, the audit log says review" in err


def test_a_deleted_approval_request_is_found(lived, capsys):
    request = request_of(lived, "ke-water-kisumu")
    tamper(lived, delete(ApprovalRequest).where(ApprovalRequest.id == request))
    code, _, err = verify(capsys)
    assert code == 1 and f"partnership ke-water-kisumu: approval request #{request} (audit entry 8) is missing" in err


def test_a_deleted_decision_is_found(lived, capsys):
    request = request_of(lived, "gh-mnh-north")
    tamper(lived, update(ApprovalRequest).where(ApprovalRequest.id == request)
           .values(status="pending", decided_by=None, decided_at=None, note=None))
    code, _, err = verify(capsys)
    assert code == 1
    assert f"partnership gh-mnh-north: approval request #{request} is pending, the audit log says approved" in err


def test_a_deleted_stage_move_is_found(lived, capsys):
    request = request_of(lived, "gh-mnh-north")
    tamper(lived, delete(StageTransition))
    code, _, err = verify(capsys)
    assert code == 1
    assert f"partnership gh-mnh-north: the stage move of approval request #{request} (audit entry 5) is missing" in err


def test_the_newest_audit_entries_removed_are_found_with_the_checkpoint_kept(lived, capsys, tmp_path):
    kept = tmp_path / "elsewhere" / "checkpoint.json"
    assert main(["audit", "checkpoint", "--out", str(kept)]) == 0
    assert capsys.readouterr().out.strip() == str(kept)
    assert json.loads(kept.read_text())["entries"] == 8
    assert verify(capsys, "--checkpoint", str(kept))[0] == 0
    # the pending request and its entries go: the rest of the store agrees with the shorter log
    request = request_of(lived, "ke-water-kisumu")
    tamper(lived, delete(ApprovalRequest).where(ApprovalRequest.id == request))
    tamper(lived, delete(AuditEntry).where(AuditEntry.seq == 8))
    assert verify(capsys)[0] == 0  # without the checkpoint, nothing shows
    code, _, err = verify(capsys, "--checkpoint", str(kept))
    assert code == 1
    assert "audit entry 8: the log holds 7 entries, the checkpoint of" in err and "saw 8" in err


def test_a_checkpoint_edited_is_refused_naming_it(lived, capsys, tmp_path):
    kept = tmp_path / "checkpoint.json"
    main(["audit", "checkpoint", "--out", str(kept)])
    data = json.loads(kept.read_text())
    kept.write_text(json.dumps({**data, "entries": 3}))
    code, _, err = verify(capsys, "--checkpoint", str(kept))
    assert code == 1 and "the checkpoint: the checkpoint's MAC does not hold" in err


def test_a_log_rewritten_after_its_checkpoint_is_found_at_the_checkpoints_entry(lived, capsys, tmp_path):
    kept = tmp_path / "checkpoint.json"
    main(["audit", "checkpoint", "--out", str(kept)])
    tamper(lived, update(AuditEntry).where(AuditEntry.seq == 8).values(hmac="0" * 64))
    code, _, err = verify(capsys, "--checkpoint", str(kept))
    assert code == 1 and "audit entry 8" in err


def test_a_checkpoint_without_out_goes_under_isp_home_checkpoints(lived, capsys, env):
    assert main(["audit", "checkpoint"]) == 0
    path = capsys.readouterr().out.strip()
    assert path.startswith(str(env / "home" / "checkpoints" / "checkpoint-")) and path.endswith(".json")
    assert verify(capsys, "--checkpoint", path)[0] == 0


def test_a_store_with_a_partnership_the_log_never_imported_is_found(lived, capsys):
    with lived.engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq >= 6))
    code, _, err = verify(capsys)
    assert code == 1 and "partnership ke-water-kisumu: in the store, but the audit log records no import" in err


@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "checkpoint"]])
def test_without_an_audit_key_verify_and_checkpoint_exit_2_and_create_none(lived, capsys, env, monkeypatch, command):
    monkeypatch.delenv("ISP_AUDIT_KEY")
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "no audit key" in err and "ISP_AUDIT_KEY" in err
    assert not (env / "home" / "audit.key").exists()
    assert not (env / "home" / "checkpoints").exists()


def test_an_unreadable_checkpoint_is_bad_usage(lived, capsys, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    assert verify(capsys, "--checkpoint", str(bad))[0] == 2
    assert verify(capsys, "--checkpoint", str(tmp_path / "missing.json"))[0] == 2


def test_entries_saying_who_acted_and_how_verify_like_any_other(lived, capsys):
    from isp_lifecycle.identity import Identity
    from isp_lifecycle.store import audit

    who = Identity("kboateng@mission.example.org", "token", "tok_4f2a", "203.0.113.9")
    with lived.sessions.begin() as session:
        audit.append(session, audit.load_key(), at="2026-12-02T09:30:00Z", actor=who.email, action="remind",
                     partnership_id="ke-water-kisumu", detail={"request": 2, "identity": who.as_audit()})
    assert verify(capsys)[0] == 0
    tamper(lived, update(AuditEntry).where(AuditEntry.seq == 9).values(
        detail={"request": 2, "identity": {**who.as_audit(), "method": "oidc"}}))
    code, _, err = verify(capsys)
    assert code == 1 and "audit entry 9" in err

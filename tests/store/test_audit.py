import os
import stat

import pytest
from sqlalchemy import delete, select, update

from isp_lifecycle import services
from isp_lifecycle.store import audit
from isp_lifecycle.store.models import AuditEntry

from .conftest import doc


@pytest.fixture
def audited(store):
    """A store with five audit entries."""
    services.import_document(store, doc())
    services.import_document(store, doc("ke-water-kisumu.yaml"))
    for n in range(3):
        services.import_document(store, doc(local_context=f"Version {n + 2}."))
    assert services.verify_audit(store).checked == 5
    return store


def test_an_untouched_chain_verifies(audited):
    report = services.verify_audit(audited)
    assert report.ok and report.checked == 5


def test_an_edited_entry_is_found_by_its_seq(audited):
    with audited.engine.begin() as conn:
        conn.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor="someone-else"))
    report = services.verify_audit(audited)
    assert (report.ok, report.bad_seq) == (False, 3)


def test_a_deleted_entry_is_found_as_a_gap(audited):
    with audited.engine.begin() as conn:
        conn.execute(delete(AuditEntry).where(AuditEntry.seq == 2))
    report = services.verify_audit(audited)
    assert (report.ok, report.bad_seq) == (False, 2)
    assert "missing" in report.reason


def test_a_chain_rewritten_without_the_key_fails_from_its_first_entry(audited):
    forged_key = b"not-the-real-key"
    with audited.engine.begin() as conn:
        rows = conn.execute(select(AuditEntry).order_by(AuditEntry.seq)).mappings().all()
        prev = ""
        for row in rows:
            fields = dict(row, actor="forger")
            digest = audit.compute_hmac(forged_key, prev, fields)
            conn.execute(
                update(AuditEntry).where(AuditEntry.seq == row["seq"]).values(actor="forger", prev_hmac=prev, hmac=digest)
            )
            prev = digest
    report = services.verify_audit(audited)
    assert (report.ok, report.bad_seq) == (False, 1)


def test_without_isp_audit_key_a_key_file_is_made_readable_by_its_owner_only(env, monkeypatch):
    monkeypatch.delenv("ISP_AUDIT_KEY")
    key = audit.load_key()
    path = env / "home" / "audit.key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert audit.load_key() == key and len(key) == 64

from datetime import datetime

from sqlalchemy import inspect, insert

from isp_lifecycle.cli import main
from isp_lifecycle.services import canonical_document, sha256_text
from isp_lifecycle.store.engine import current_revision, head_revision, make_engine, upgrade
from isp_lifecycle.store.models import DocumentVersion, PartnershipRow

from .conftest import doc


def test_an_empty_database_gets_the_current_schema_on_first_use(backend, env, monkeypatch, capsys):
    url = backend.new_database()
    monkeypatch.setenv("ISP_DATABASE_URL", url)
    assert main(["list"]) == 0
    engine = make_engine(url)
    try:
        assert current_revision(engine) == head_revision()
        assert {"partnerships", "audit_log", "notifications"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_a_store_at_the_first_revision_is_refused_until_isp_db_upgrade_keeps_its_data(
    backend, env, monkeypatch, capsys
):
    url = backend.new_database()
    engine = make_engine(url)
    upgrade(engine, "0001")
    document = doc()
    text = canonical_document(document)
    with engine.begin() as conn:
        now = datetime(2026, 11, 1, 10, 0)
        conn.execute(insert(PartnershipRow.__table__).values(
            id=document.id, name=document.name, mission=document.mission, stage=document.stage,
            stage_entered=document.entered, current_version=1, row_version=1, created_at=now, updated_at=now))
        conn.execute(insert(DocumentVersion.__table__).values(
            partnership_id=document.id, version=1, document=text, sha256=sha256_text(text), stage=document.stage,
            reason="import", created_by="someone", created_at=now))
    monkeypatch.setenv("ISP_DATABASE_URL", url)
    capsys.readouterr()

    assert main(["list"]) == 2
    err = capsys.readouterr().err
    assert "older than this isp needs" in err and "run `isp db upgrade`" in err

    assert main(["db", "upgrade"]) == 0
    assert f"from 0001 to revision {head_revision()}" in capsys.readouterr().out
    assert current_revision(engine) == head_revision()
    indexes = {ix["name"] for ix in inspect(engine).get_indexes("partnerships")}
    assert {"ix_partnerships_stage", "ix_partnerships_mission"} <= indexes
    assert main(["export", "gh-mnh-north"]) == 0
    assert "id: gh-mnh-north" in capsys.readouterr().out
    engine.dispose()


def test_a_database_holding_other_tables_is_not_taken_for_a_store(backend, env, monkeypatch, capsys):
    from sqlalchemy import text

    url = backend.new_database()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE payroll (id INTEGER PRIMARY KEY)"))
    engine.dispose()
    monkeypatch.setenv("ISP_DATABASE_URL", url)
    assert main(["list"]) == 2
    assert "is not an isp store" in capsys.readouterr().err

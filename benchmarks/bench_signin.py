"""What asking for a sign-in link costs on a large store, on SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.bench_signin [--count 10000] [--backend sqlite|postgresql|both]

Who may sign in is decided from the current version of every document (``signin.known_as``):
a per-process directory of the people each document names, brought up to date on every
lookup from the partnerships' current version numbers. Measured per call after the first
(which reads every document once), for an address named by one partnership (a partner
contact of the last one) and for an unknown address, and ``request_link`` whole (the two
rate-limit counts, the lookup and the new link); and the first lookup, which builds the
directory. The baseline, in the same run and database, is a raw ``SELECT`` of every current
document's text: what deciding it by reading each document would cost at the least.
"""

from __future__ import annotations

import time

from benchmarks.bench_store import Database, arguments, generate

CALLS = 30


def per_call(work, calls: int = CALLS) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        work()
    return (time.perf_counter() - start) / calls


def fill(store, docs) -> None:
    """The partnerships and their first versions, written in one go (the import path is
    measured by ``bench_store``; here only what is read matters)."""
    from datetime import datetime

    from sqlalchemy import insert

    from isp_lifecycle import services
    from isp_lifecycle.store.models import DocumentVersion, PartnershipRow

    now = datetime(2026, 11, 30)
    with store.sessions.begin() as session:
        session.execute(insert(PartnershipRow), [
            {"id": d.id, "name": d.name, "mission": d.mission, "stage": d.stage, "stage_entered": d.entered,
             "current_version": 1, "row_version": 1, "created_at": now, "updated_at": now} for d in docs])
        session.execute(insert(DocumentVersion), [
            {"partnership_id": d.id, "version": 1, "document": services.canonical_document(d), "sha256": "0" * 64,
             "stage": d.stage, "reason": "import", "created_by": "bench", "created_at": now} for d in docs])


def run(backend: str, docs, pg_server: str) -> dict[str, float]:
    from sqlalchemy import text

    from isp_lifecycle import signin
    from isp_lifecycle.settings import Settings
    from isp_lifecycle.store import Store

    database = Database(backend, pg_server)
    try:
        store = Store.open(database.url)
        fill(store, docs)
        settings = Settings()
        named = docs[-1].partners[-1].contacts[-1].email
        start = time.perf_counter()
        assert signin.known_as(store, settings, named.upper()) == named
        first = time.perf_counter() - start

        def read_all():
            with store.engine.connect() as conn:
                return conn.execute(text("SELECT document FROM document_versions")).all()

        def ask(email):
            signin.reset_limits(store)
            return signin.request_link(store, settings, email, client="127.0.0.1")

        results = {
            "baseline": per_call(read_all, 5),
            "known": per_call(lambda: signin.known_as(store, settings, named)),
            "unknown": per_call(lambda: signin.known_as(store, settings, "nobody@nowhere.example.net")),
            "request": per_call(lambda: ask(named)),
            "first": first,
        }
        store.close()
        return results
    finally:
        database.drop()


def main(argv=None) -> None:
    args = arguments(__doc__.splitlines()[0], argv)
    docs = list(generate(args.count))
    for backend in args.backends:
        r = run(backend, docs, args.pg)
        print(f"\nsign-in lookups, {backend}  ({len(docs)} partnerships)")
        print(f"  baseline: read every current document  {r['baseline'] * 1000:8.1f} ms")
        for key, label in (("known", "known_as, a named address"), ("unknown", "known_as, an unknown address"),
                           ("request", "request_link whole (limits, lookup, link)"),
                           ("first", "the first lookup (builds the directory)")):
            print(f"  {label:<42} {r[key] * 1000:8.1f} ms  {r[key] / r['baseline']:6.2f}x baseline")


if __name__ == "__main__":
    main()

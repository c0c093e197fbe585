"""How fast the store imports and lists a portfolio, on SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.bench_store [--count 10000] [--backend sqlite|postgresql|both]

Generates ``--count`` valid partnership documents from a fixed seed, imports each through
``services.import_document`` (one transaction, one document version and one audit entry per
partnership: what ``isp import`` does per file), then lists them all. The baseline, measured
in the same run and database, is a raw ``executemany`` insert of the same canonical JSON rows
in one transaction, and a raw ``SELECT`` of them: the floor the store's bookkeeping sits on.
"""

from __future__ import annotations

import argparse
import os
import random
import tempfile
import time
import uuid
from datetime import date, timedelta

SECTORS = ("public", "private", "civil_society")
COUNTRIES = ("GH", "KE", "NG", "TZ", "UG", "SN", "NO", "PE", "BD", "XK")
STAGES = ("convene", "commit", "implement", "review", "closed")


def generate(count: int, seed: int = 20261127):
    """``count`` valid ``isp/v1`` documents, the same ones for the same seed."""
    from isp_lifecycle.document import validate

    rng = random.Random(seed)
    for i in range(count):
        started = date(2022, 1, 1) + timedelta(days=rng.randrange(1400))
        partners = [
            {
                "id": f"p{j}-{sector.replace('_', '-')}",
                "name": f"Partner {j} ({sector})",
                "sector": sector,
                "local": rng.random() < 0.6,
                "capacity": rng.choice(["strong", "adequate", "developing"]),
                "capacity_plan": "Mentoring by the lead partner.",
                "goals": [f"Goal {k} of partner {j}" for k in range(rng.randrange(1, 3))],
                "contacts": [{"name": f"Contact {k}", "email": f"c{k}.p{j}@org{i}.example.org"} for k in range(2)],
                "commitment": {
                    "signed": started.isoformat(),
                    "until": (started + timedelta(days=365 * 4)).isoformat(),
                    "resources": [{"kind": "financial", "amount": rng.randrange(1, 500) * 1000, "unit": "USD"}],
                },
            }
            for j, sector in enumerate(SECTORS)
        ]
        yield validate(
            {
                "schema": "isp/v1",
                "id": f"bench-{i:05d}",
                "name": f"Benchmark partnership {i}",
                "country": rng.choice(COUNTRIES),
                "mission": f"USAID/Mission-{rng.randrange(20):02d}",
                "stage": rng.choice(STAGES),
                "started": started.isoformat(),
                "stage_entered": (started + timedelta(days=rng.randrange(200))).isoformat(),
                "issue": {"statement": "An issue no sector can solve alone.",
                          "stakes": {s: f"The {s} stake." for s in SECTORS}},
                "mission_director": {"name": "Director", "email": f"director{i % 20}@mission.example.org"},
                "leaders": [{"name": "Leader", "email": f"leader@org{i}.example.org", "partner": "p0-public",
                             "sectors": ["public", "private"]}],
                "partners": partners,
                "governance": {"structure": "network", "opt_out_allowed": True},
            }
        )


class Database:
    """A throw-away database on one backend."""

    def __init__(self, backend: str, pg_server: str) -> None:
        self.backend, self.pg_server = backend, pg_server
        if backend == "sqlite":
            self.folder = tempfile.TemporaryDirectory(prefix="isp-bench-")
            self.url = f"sqlite:///{self.folder.name}/isp.db"
        else:
            import psycopg

            self.name = f"isp_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(f"{pg_server}/postgres", autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{self.name}"')
            self.url = f"postgresql+psycopg://{pg_server.split('://', 1)[1]}/{self.name}"

    def drop(self) -> None:
        if self.backend == "sqlite":
            self.folder.cleanup()
        else:
            import psycopg

            with psycopg.connect(f"{self.pg_server}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def timed(work):
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def run(backend: str, docs, pg_server: str) -> dict[str, float]:
    from sqlalchemy import text

    from isp_lifecycle import services
    from isp_lifecycle.store import Store

    database = Database(backend, pg_server)
    try:
        store = Store.open(database.url)
        rows = [{"id": d.id, "document": services.canonical_document(d)} for d in docs]
        rows = [{**r, "sha256": services.sha256_text(r["document"])} for r in rows]
        with store.engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_baseline (id VARCHAR(63) PRIMARY KEY, document TEXT, sha256 VARCHAR(64))"))

        def baseline_insert():
            with store.engine.begin() as conn:
                conn.execute(text("INSERT INTO bench_baseline VALUES (:id, :document, :sha256)"), rows)

        def baseline_select():
            with store.engine.connect() as conn:
                return conn.execute(text("SELECT id, document FROM bench_baseline ORDER BY id")).all()

        def store_import():
            for d in docs:
                services.import_document(store, d, actor="bench")

        results = {
            "baseline_insert": timed(baseline_insert)[0],
            "import": timed(store_import)[0],
            "baseline_select": timed(baseline_select)[0],
        }
        elapsed, listed = timed(lambda: services.list_partnerships(store))
        assert len(listed) == len(docs)
        results["list"] = elapsed
        elapsed, reimport = timed(lambda: [services.import_document(store, d, actor="bench") for d in docs[:1000]])
        assert all(r.status == "unchanged" for r in reimport)
        results["reimport_unchanged"] = (elapsed, len(reimport))
        elapsed, report = timed(lambda: services.verify_audit(store))
        assert report.ok and report.checked == len(docs)
        results["audit_verify"] = elapsed
        store.close()
        return results
    finally:
        database.drop()


def arguments(description: str, argv=None) -> argparse.Namespace:
    """``--count``, ``--backend`` and ``--pg`` of the store benchmarks; ``backends`` lists the
    chosen ones. Sets a throw-away ``ISP_HOME`` and an audit key unless given."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg", default=os.environ.get("ISP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432"))
    args = parser.parse_args(argv)
    args.backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    os.environ.setdefault("ISP_AUDIT_KEY", "benchmark-key")
    os.environ.setdefault("ISP_HOME", tempfile.mkdtemp(prefix="isp-bench-home-"))
    return args


def main(argv=None) -> None:
    args = arguments(__doc__.splitlines()[0], argv)

    elapsed, docs = timed(lambda: list(generate(args.count)))
    print(f"generated and validated {len(docs)} documents in {elapsed:.2f} s ({len(docs) / elapsed:,.0f} docs/s)")
    for backend in args.backends:
        r = run(backend, docs, args.pg)
        n = len(docs)
        print(f"\n{backend}  ({n} partnerships)")
        print(f"  baseline executemany insert  {r['baseline_insert']:8.2f} s  {n / r['baseline_insert']:>10,.0f} docs/s")
        print(f"  isp import (1 tx per doc)    {r['import']:8.2f} s  {n / r['import']:>10,.0f} docs/s"
              f"  {r['import'] / r['baseline_insert']:6.1f}x baseline")
        print(f"  baseline select              {r['baseline_select']:8.2f} s  {n / r['baseline_select']:>10,.0f} docs/s")
        print(f"  isp list                     {r['list']:8.2f} s  {n / r['list']:>10,.0f} docs/s"
              f"  {r['list'] / r['baseline_select']:6.1f}x baseline")
        elapsed, count = r["reimport_unchanged"]
        print(f"  re-import {count:<5} unchanged    {elapsed:8.2f} s  {count / elapsed:>10,.0f} docs/s")
        print(f"  audit verify ({n} entries)  {r['audit_verify']:8.2f} s  {n / r['audit_verify']:>10,.0f} entries/s")


if __name__ == "__main__":
    main()

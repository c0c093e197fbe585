"""The portfolio review of 10,000 partnerships: through the Prefect flow and by the bare core.

    .venv/bin/python -m benchmarks.bench_review [--count 10000] [--backend sqlite|postgresql|both]

For each store backend and each run, a fresh store is bulk-loaded with the same generated
portfolio (bulk rows, not the services: importing 10,000 documents one transaction each is
~30 s on SQLite and is not what is measured). Then, each in its own process so that peak memory
is its own:

- ``flow``: ``portfolio_review`` against a Prefect server that is already running (its start-up
  is reported on its own line), end to end: plan, one task per chunk of 500, digests, artifacts;
- ``bare``: ``isp_lifecycle.review.run_review``, the same work without Prefect.

Reported: both wall times, their ratio (target: the flow within 1.3x of the bare core), and
each process's RSS before the review and its peak during the review (sampled), and the
process's peak including start-up (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

AS_OF = date(2027, 9, 1)
ROOT = Path(__file__).resolve().parent.parent


def bulk_load(url: str, docs) -> None:
    """Rows straight into partnerships and document_versions: what import_document would write."""
    from sqlalchemy import insert

    from isp_lifecycle import services
    from isp_lifecycle.store import Store
    from isp_lifecycle.store.models import DocumentVersion, PartnershipRow

    store = Store.open(url)
    now = datetime(2027, 1, 1)
    try:
        with store.engine.begin() as conn:
            for start in range(0, len(docs), 1000):
                batch = docs[start:start + 1000]
                conn.execute(insert(PartnershipRow), [
                    {"id": d.id, "name": d.name, "mission": d.mission, "stage": d.stage, "stage_entered": d.entered,
                     "current_version": 1, "row_version": 1, "created_at": now, "updated_at": now} for d in batch])
                texts = [services.canonical_document(d) for d in batch]
                conn.execute(insert(DocumentVersion), [
                    {"partnership_id": d.id, "version": 1, "document": t, "sha256": services.sha256_text(t),
                     "stage": d.stage, "reason": "import", "created_by": "bench", "created_at": now}
                    for d, t in zip(batch, texts)])
    finally:
        store.close()


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


class PeakRss:
    """The highest RSS seen while the block runs (sampled every 20 ms): ``ru_maxrss`` would
    also count start-up (rule pack compilation, imports), which is not the review's."""

    def __enter__(self):
        import threading

        self.peak, self.stop = rss_mb(), threading.Event()

        def sample():
            while not self.stop.wait(0.02):
                self.peak = max(self.peak, rss_mb())

        self.thread = threading.Thread(target=sample, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()
        self.peak = max(self.peak, rss_mb())


def child(mode: str, url: str) -> None:
    """One measured review in this process; prints one JSON line."""
    os.environ["ISP_DATABASE_URL"] = url
    from isp_lifecycle import health, review
    from isp_lifecycle.store import Store

    health.default_checker()  # the rule pack and engine, loaded once by either path
    if mode == "flow":
        from isp_lifecycle.flows import _prefect

        _prefect.configure()
        from prefect.settings import PREFECT_FLOWS_HEARTBEAT_FREQUENCY, temporary_settings

        from isp_lifecycle.flows.review import portfolio_review
        with Store.open(url):
            pass
        before = rss_mb()
        start = time.perf_counter()
        with PeakRss() as peak, temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}):
            summary = portfolio_review(as_of=AS_OF)
        wall = time.perf_counter() - start
    else:
        store = Store.open(url)
        before = rss_mb()
        start = time.perf_counter()
        with PeakRss() as peak:
            summary = review.run_review(store, AS_OF).to_json()
        wall = time.perf_counter() - start
        store.close()
    process_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mode": mode, "wall_s": wall, "rss_before_mb": before, "peak_rss_mb": peak.peak,
                      "process_peak_mb": process_peak,
                      "reviewed": summary["reviewed"], "alerts": summary["alerts"], "status": summary["status"]}))


def measure(mode: str, url: str, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_review", "--child", mode, "--url", url],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"{mode} run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_backend(backend: str, docs, env: dict[str, str], pg_server: str, repeat: int) -> dict:
    """``repeat`` rounds of (bare, flow), each on a freshly loaded store; medians reported."""
    from benchmarks.bench_store import Database

    runs: dict[str, list[dict]] = {"bare": [], "flow": []}
    loads = []
    for _ in range(repeat):
        for mode in ("bare", "flow"):
            database = Database(backend, pg_server)
            try:
                start = time.perf_counter()
                bulk_load(database.url, docs)
                loads.append(time.perf_counter() - start)
                runs[mode].append(measure(mode, database.url, env))
            finally:
                database.drop()
    bare, flow = (sorted(runs[m], key=lambda r: r["wall_s"])[len(runs[m]) // 2] for m in ("bare", "flow"))
    assert (bare["reviewed"], bare["alerts"]) == (flow["reviewed"], flow["alerts"]), (bare, flow)
    ratio = flow["wall_s"] / bare["wall_s"]
    print(f"{backend}: bulk load of {len(docs)} partnerships {statistics.median(loads):.1f} s; "
          f"{bare['reviewed']} reviewed, {bare['alerts']} alerts; median of {repeat} runs each")
    for label, mode, m in (("bare core   ", "bare", bare), ("Prefect flow", "flow", flow)):
        each = ", ".join(f"{r['wall_s']:.1f}" for r in runs[mode])
        print(f"  {label}  {m['wall_s']:6.1f} s ({each})   RSS {m['rss_before_mb']:.0f} MB before the review, "
              f"peak {m['peak_rss_mb']:.0f} MB during it (process peak incl. start-up {m['process_peak_mb']:.0f} MB)")
    print(f"  flow / bare = {ratio:.2f}x (target <= 1.3x)")
    sys.stdout.flush()
    return {"backend": backend, "bare": bare, "flow": flow, "ratio": ratio, "runs": runs}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=3, help="rounds per mode; the median is reported")
    parser.add_argument("--pg", default=os.environ.get("ISP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--child", choices=["flow", "bare"], help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:] if __name__ == "__main__" else [])
    if args.child:
        child(args.child, args.url)
        return []

    from benchmarks.bench_store import generate
    from tests.prefect_server import PrefectServer

    docs = list(generate(args.count))
    with tempfile.TemporaryDirectory(prefix="isp-bench-review-") as home:
        server = PrefectServer(Path(home))
        start = time.perf_counter()
        server.start()
        print(f"Prefect server start-up (fresh database, not counted below): {time.perf_counter() - start:.1f} s")
        env = dict(server.env, PREFECT_API_URL=server.url, ISP_HOME=home, ISP_AUDIT_KEY="bench-audit-key")
        env.pop("ISP_WORK_POOL", None)
        try:
            backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
            return [run_backend(b, docs, env, args.pg, args.repeat) for b in backends]
        finally:
            server.stop()


if __name__ == "__main__":
    main()

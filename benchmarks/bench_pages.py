"""First byte of the people's pages on a 10,000-partnership store, beside a bare endpoint.

    .venv/bin/python -m benchmarks.bench_pages [--count 10000] [--rounds 300]

The store holds ``--count`` partnerships in 100 missions of 100 (director ``dNNN`` directs
mission NNN; leader ``lNNN`` leads 100 partnerships spread over every mission). Director d000
has a few requests waiting. One ``isp``-style web process serves the service's own app
(``web.create_app``: its guard, sign-in and pages) plus a bare route returning a constant JSON
object, so both run on the same stack, the same uvicorn settings and the same process. One
client, signed in with a session, asks in turn for the bare endpoint, "Waiting on you", a
decision page, a partnership page and the portfolio (its latest review), and times each until its response headers arrive (the
first byte). Target: each page's p95 within 5x the bare endpoint's. 127.0.0.1 only, bounded.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MISSIONS = 100
SERVER = """
import sys, uvicorn
from isp_lifecycle.settings import Settings
from isp_lifecycle.store import Store
from isp_lifecycle.web import create_app
app = create_app(Settings.from_env(), Store.open(sys.argv[1]))
@app.get("/bare")
def bare():
    return {"status": "ok", "answer": 42}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[2]), log_level="warning", access_log=False)
"""


def director(m: int) -> str:
    return f"d{m:03d}@mission.example.org"


def portfolio(count: int):
    from benchmarks.bench_store import generate
    from isp_lifecycle.document import validate

    per = max(1, count // MISSIONS)
    out = []
    for i, doc in enumerate(generate(count)):
        data = doc.to_data()
        data["mission"] = f"USAID/M-{i // per:03d}"
        data["mission_director"] = {"name": "Director", "email": director(i // per)}
        data["leaders"][0]["email"] = f"l{i % MISSIONS:03d}@lead.example.org"
        out.append(validate(data))
    return out


def prepare(url: str, docs) -> tuple[int, str, str]:
    """Load the store, open requests for director d000; return a request, a partnership, a session."""
    from benchmarks.bench_review import bulk_load
    from isp_lifecycle import services, sessions
    from isp_lifecycle.store import Store

    bulk_load(url, docs)
    store = Store.open(url)
    try:
        mine = [d for d in docs if d.mission_director.email == director(0) and d.stage == "review"][:4]
        requests = [services.request_approval(store, d.id, requested_by=d.leaders[0].email, to="closed",
                                              actor=d.leaders[0].email) for d in mine]
        secret = sessions.sign_in_verified(store, director(0), "email-link", client="127.0.0.1").secret
        from isp_lifecycle import review

        review.run_review(store, date(2026, 11, 27))  # the portfolio page shows the latest review
    finally:
        store.close()
    return requests[0], mine[0].id, secret


def first_bytes(base: str, paths: dict[str, str], secret: str, rounds: int) -> dict[str, list[float]]:
    import httpx

    times: dict[str, list[float]] = {name: [] for name in paths}
    with httpx.Client(base_url=base, cookies={"isp_session": secret}, timeout=30) as client:
        for name, path in paths.items():  # warm up: imports, caches, the rule pack
            client.get(path).raise_for_status()
        for _ in range(rounds):
            for name, path in paths.items():
                start = time.perf_counter()
                with client.stream("GET", path) as answer:
                    times[name].append(time.perf_counter() - start)
                    answer.read()
                    assert answer.status_code == 200, (path, answer.status_code)
    return times


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def serve(url: str, home: str):
    import os
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "ISP_HOME": home, "ISP_AUDIT_KEY": "bench", "ISP_WEB_URL": f"http://127.0.0.1:{port}"}
    process = subprocess.Popen([sys.executable, "-c", SERVER, url, str(port)], env=env, cwd=ROOT)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/bare", timeout=1)
            return process, f"http://127.0.0.1:{port}"
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("the web process did not start")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_pages")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args(argv or [])
    import os

    with tempfile.TemporaryDirectory(prefix="isp-bench-pages-") as home:
        os.environ.update(ISP_HOME=home, ISP_AUDIT_KEY="bench")
        url = f"sqlite:///{home}/isp.db"
        request_id, partnership_id, secret = prepare(url, portfolio(args.count))
        process, base = serve(url, home)
        try:
            paths = {"bare": "/bare", "inbox": "/inbox", "decision": f"/approvals/{request_id}",
                     "partnership": f"/partnerships/{partnership_id}", "portfolio": "/portfolio"}
            times = first_bytes(base, paths, secret, args.rounds)
        finally:
            process.terminate()
            process.wait(10)
    bare = p95(times["bare"])
    print(f"pages, first byte, {args.count} partnerships, SQLite, {args.rounds} rounds (one client):")
    for name, values in times.items():
        ratio = p95(values) / bare
        verdict = "" if name == "bare" else ("  within 5x" if ratio <= 5 else "  OVER 5x")
        print(f"  {name:12s} p50 {statistics.median(values) * 1000:7.2f} ms  p95 {p95(values) * 1000:7.2f} ms"
              f"  {ratio:5.1f}x bare{verdict}")


if __name__ == "__main__":
    main(sys.argv[1:])

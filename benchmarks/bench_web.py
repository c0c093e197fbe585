"""Load on the HTTP service (`isp web`) beside a bare FastAPI endpoint, in the same run.

A 10,000-partnership store (100 missions of 100; director ``dNNN`` directs mission NNN,
leader ``lNNN`` leads 100 partnerships spread over every mission), so each director or
leader sees about 100. 50 concurrent clients (half directors, half leaders) for ``--seconds``
mix list, show and pending; directors also decide requests opened for them (closing
partnerships in review: no gate, so a decision is only the service's own work). The bare
endpoint is a FastAPI route returning a constant JSON object under the same uvicorn settings
and workers, loaded by the same clients. Then ``isp advance`` through the service against
``isp check`` on the same document, alternated. 127.0.0.1 only, bounded in count and time.

    python -m benchmarks.bench_web [--seconds 60] [--backend sqlite|postgresql|both] [--clients 50]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MISSIONS = 100
REQUESTS_PER_DIRECTOR = 4
BARE = ("from fastapi import FastAPI\nimport sys\nfrom isp_lifecycle.web import server\n"
        "app = FastAPI()\n@app.get('/bare')\ndef bare():\n    return {'status': 'ok', 'answer': 42}\n"
        "sock = server.bind('127.0.0.1', 0)\nprint(server.ANNOUNCE + server.url_of(sock), file=sys.stderr, flush=True)\n"
        "import uvicorn\ncfg = server.config(sock)\ncfg.app, cfg.factory = app, False\n"
        "uvicorn.Server(cfg).run(sockets=[sock])\n")


def director(m: int) -> str:
    return f"d{m:03d}@mission.example.org"


def leader(k: int) -> str:
    return f"l{k:03d}@lead.example.org"


def portfolio(count: int):
    from benchmarks.bench_store import generate
    from isp_lifecycle.document import validate

    out = []
    for i, doc in enumerate(generate(count)):
        data = doc.to_data()
        data["mission"] = f"USAID/M-{i // (count // MISSIONS):03d}"
        data["mission_director"] = {"name": "Director", "email": director(i // (count // MISSIONS))}
        data["leaders"][0]["email"] = leader(i % MISSIONS)
        out.append(validate(data))
    return out


def prepare(url: str, docs) -> dict:
    """Load the store; open requests (review → closed) for directors; make every token."""
    from benchmarks.bench_review import bulk_load
    from isp_lifecycle import services, tokens
    from isp_lifecycle.store import Store

    bulk_load(url, docs)
    store = Store.open(url)
    try:
        per_director: dict[str, list[int]] = {}
        for doc in docs:
            who = doc.mission_director.email
            if doc.stage == "review" and len(per_director.setdefault(who, [])) < REQUESTS_PER_DIRECTOR:
                per_director[who].append(services.request_approval(store, doc.id, requested_by=doc.leaders[0].email,
                                                                   to="closed", actor=doc.leaders[0].email))
        people = [director(m) for m in range(MISSIONS)] + [leader(k) for k in range(MISSIONS)]
        secrets = {who: tokens.create(store, who, name="bench").secret for who in people}
    finally:
        store.close()
    return {"requests": per_director, "tokens": secrets, "ids": [d.id for d in docs]}


def start(args: list[str], env: dict[str, str], log: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(args, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        found = re.search(r"listening on (http://\S+)", log.read_text())
        if found:
            time.sleep(1.0)  # let the application finish starting
            return proc, found.group(1)
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    raise SystemExit(f"the server did not start: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


async def _client(http, n: int, plan: dict, url: str, until: float, seen: dict, bare: bool) -> None:
    rng = random.Random(n)
    is_director = n % 2 == 0
    who = director(n // 2) if is_director else leader(n // 2)
    headers = {"Authorization": f"Bearer {plan['tokens'][who]}"}
    mine = list(plan["requests"].get(who, [])) if is_director else []
    visible: list[str] = []
    while time.monotonic() < until:
        if bare:
            kind, method, path = "bare", "GET", "/bare"
        else:
            roll = rng.random()
            if mine and roll < 0.05:
                kind, method, path = "decision", "POST", f"/api/v1/approvals/{mine.pop()}/decision"
            elif roll < 0.40 or not visible:
                kind, method, path = "list", "GET", "/api/v1/partnerships?limit=100"
            elif roll < 0.75:
                kind, method, path = "show", "GET", f"/api/v1/partnerships/{rng.choice(visible)}"
            else:
                kind, method, path = "pending", "GET", "/api/v1/approvals?status=pending"
        began = time.perf_counter()
        try:
            response = await http.request(method, url + path, headers=headers,
                                          json={"decision": "approve"} if kind == "decision" else None)
            ok = response.status_code < 400
        except Exception:  # a timeout or a dropped connection is an error of the run, counted
            ok, response = False, None
        seen.setdefault(kind, []).append(time.perf_counter() - began)
        if not ok:
            seen.setdefault("errors", []).append(f"{kind} {getattr(response, 'status_code', 'no answer')}")
        elif kind == "list" and not visible:
            visible = [p["id"] for p in response.json()["partnerships"]]


async def load(url: str, plan: dict, clients: int, seconds: float, bare: bool) -> dict:
    import httpx

    seen: dict[str, list] = {}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(timeout=30, limits=limits) as http:
        until = time.monotonic() + seconds
        await asyncio.gather(*(_client(http, n, plan, url, until, seen, bare) for n in range(clients)))
    return seen


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def report(label: str, seen: dict, seconds: float) -> dict:
    out = {}
    total = sum(len(v) for k, v in seen.items() if k != "errors")
    print(f"  {label}: {total / seconds:7.1f} requests/s, errors {len(seen.get('errors', []))}"
          + (f" ({', '.join(sorted(set(seen['errors'])))[:200]})" if seen.get("errors") else ""))
    for kind in sorted(k for k in seen if k != "errors"):
        values = seen[kind]
        out[kind] = {"n": len(values), "p50": _pct(values, .5), "p95": _pct(values, .95), "p99": _pct(values, .99)}
        print(f"    {kind:<9} n={len(values):6d}  p50 {out[kind]['p50']:7.1f} ms  p95 {out[kind]['p95']:7.1f} ms  "
              f"p99 {out[kind]['p99']:7.1f} ms")
    out["errors"] = len(seen.get("errors", []))
    return out


def advance_vs_check(url: str, env: dict[str, str], store_url: str, home: Path, rounds: int = 5) -> float:
    """Wall time of ``isp advance`` through the service over ``isp check`` of the same document."""
    from isp_lifecycle import services, tokens
    from isp_lifecycle.document import load as load_doc, validate
    from isp_lifecycle.store import Store

    fixture = ROOT / "tests" / "fixtures" / "gh-mnh-north.yaml"
    data = load_doc(fixture).to_data()
    store = Store.open(store_url)
    try:
        token = tokens.create(store, "ama.mensah@ghs.example.org").secret
        for n in range(rounds):
            services.import_document(store, validate({**data, "id": f"adv-{n}", "mission": "USAID/M-000"}),
                                     actor="bench")
    finally:
        store.close()
    isp = str(Path(sys.executable).parent / "isp")
    cli_env = dict(env, ISP_URL=url, ISP_TOKEN=token, ISP_HOME=str(home / "cli"))
    times: dict[str, list[float]] = {"check": [], "advance": []}
    for n in range(rounds):
        for kind, argv in (("check", [isp, "check", "--as-of", "2026-11-27", str(fixture)]),
                           ("advance", [isp, "advance", f"adv-{n}", "--as-of", "2026-11-27"])):
            began = time.perf_counter()
            done = subprocess.run(argv, env=cli_env, capture_output=True, text=True, timeout=120)
            times[kind].append(time.perf_counter() - began)
            assert done.returncode == 0, (kind, done.stdout, done.stderr)
    check, advance = statistics.median(times["check"]), statistics.median(times["advance"])
    print(f"  isp check {check * 1000:.0f} ms, isp advance through the service {advance * 1000:.0f} ms "
          f"(medians of {rounds}): {advance / check:.1f}x (target <= 6x)")
    return advance / check


def run_backend(backend: str, docs, args) -> dict:
    from benchmarks.bench_store import Database

    database = Database(backend, args.pg)
    with tempfile.TemporaryDirectory(prefix="isp-bench-web-") as folder:
        home = Path(folder)
        env = dict(os.environ, ISP_HOME=str(home), ISP_DATABASE_URL=database.url, ISP_AUDIT_KEY="bench-audit-key")
        for name in ("ISP_URL", "ISP_TOKEN", "ISP_WEB_URL", "PREFECT_API_URL"):
            env.pop(name, None)
        os.environ["ISP_AUDIT_KEY"], os.environ["ISP_HOME"] = env["ISP_AUDIT_KEY"], str(home)
        try:
            began = time.perf_counter()
            plan = prepare(database.url, docs)
            print(f"{backend}: {len(docs)} partnerships loaded, {sum(map(len, plan['requests'].values()))} requests "
                  f"opened, {len(plan['tokens'])} tokens in {time.perf_counter() - began:.0f} s; "
                  f"{args.clients} clients for {args.seconds:.0f} s each")
            results = {}
            for label, argv, bare in (
                    ("bare", [sys.executable, "-c", BARE], True),
                    ("isp web", [str(Path(sys.executable).parent / "isp"), "web", "--port", "0"], False)):
                proc, url = start(argv, env, home / f"{label.replace(' ', '-')}.log")
                try:
                    seen = asyncio.run(load(url, plan, args.clients, args.seconds, bare))
                    results[label] = report(label, seen, args.seconds)
                    if not bare:
                        results["advance_ratio"] = advance_vs_check(url, env, database.url, home)
                finally:
                    stop(proc)
            bare_p95 = results["bare"]["bare"]["p95"]
            for kind in ("list", "show", "pending"):
                ratio = results["isp web"][kind]["p95"] / bare_p95
                print(f"  {kind} p95 / bare p95 = {ratio:.1f}x (target <= 5x)")
            if "decision" in results["isp web"]:
                print(f"  decision p95 {results['isp web']['decision']['p95']:.0f} ms (target < 1000 ms)")
            return results
        finally:
            database.drop()


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg", default=os.environ.get("ISP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432"))
    args = parser.parse_args(argv if argv is not None else sys.argv[1:] if __name__ == "__main__" else [])
    args.seconds = min(args.seconds, 120)  # bounded, whatever is asked
    docs = portfolio(args.count)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    return [run_backend(b, docs, args) for b in backends]


if __name__ == "__main__":
    main()

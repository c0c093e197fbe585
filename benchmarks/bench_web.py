"""Load on the HTTP service (`isp web`) beside a bare FastAPI endpoint, in the same run.

A 10,000-partnership store (100 missions of 100; director ``dNNN`` directs mission NNN,
leader ``lNNN`` leads 100 partnerships spread over every mission), so each director or
leader sees about 100. 50 concurrent clients (half directors, half leaders) for ``--seconds``
mix list, show and pending; directors also decide requests opened for them (closing
partnerships in review: no gate, so a decision is only the service's own work). The bare
endpoint is a FastAPI route returning a constant JSON object under the same uvicorn settings
and workers, loaded by the same clients. Every client makes one unmeasured call first (the
service reads the portfolio once; connections open), then the clock starts.

Before the load, on the quiet service: a decision's latency with one client, and the SQL
statements one decision costs (counted in this process over the same service code). Then
``isp advance`` through the service against ``isp check`` on the same document, alternated.
127.0.0.1 only, bounded in count and time. On a shared machine absolute times are inflated:
read them against the bare endpoint's, measured in the same run.

    python -m benchmarks.bench_web [--count 10000] [--seconds 60] [--backend sqlite|postgresql|both]
                                   [--clients 50] [--workers 1]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
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
REQUESTS_PER_DIRECTOR = 10  # at least 11 partnerships in review per director: decisions spread over the whole run
QUIET = range(40, 45)  # directors no load client plays (those are d000-d024): the quiet measurements'
BARE_APP = ("from fastapi import FastAPI\napp = FastAPI()\n"
            "@app.get('/bare')\ndef bare():\n    return {'status': 'ok', 'answer': 42}\n")
BARE = ("import sys\nfrom isp_lifecycle.web import server\n"
        "sock = server.bind('127.0.0.1', 0)\nprint(server.ANNOUNCE + server.url_of(sock), file=sys.stderr, flush=True)\n"
        "cfg = server.config(sock, int(sys.argv[1]))\ncfg.app, cfg.factory = 'bench_bare:app', False\n"
        "server.serve(cfg, sock)\n")


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
    return {"requests": per_director, "tokens": secrets, "ids": [d.id for d in docs], "visible": {}}


def start(args: list[str], env: dict[str, str], log: Path, ready: str, workers: int) -> tuple[subprocess.Popen, str]:
    """Start a server; return once each of its ``workers`` started and ``ready`` (a path) answers 200."""
    import httpx

    proc = subprocess.Popen(args, env=env, stdout=open(log, "ab"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        found = re.search(r"listening on (http://\S+)", log.read_text())
        if found and log.read_text().count("Application startup complete") >= workers:
            try:
                if httpx.get(found.group(1) + ready, timeout=5).status_code == 200:
                    return proc, found.group(1)
            except httpx.HTTPError:
                pass
        time.sleep(0.2)
    if proc.poll() is None:
        stop(proc)
    raise SystemExit(f"the server did not start: {log.read_text()[-2000:]}")


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


def _who(n: int) -> str:
    """Client ``n``'s person: even clients are directors (d000-d024), odd ones leaders."""
    return director(n // 2) if n % 2 == 0 else leader(n // 2)


async def _call(http, method: str, url: str, headers: dict, body=None):
    """(status or None, parsed JSON or None, what went wrong): a timeout or a dropped
    connection is an error of the run, counted and named."""
    try:
        async with http.request(method, url, headers=headers, json=body) as response:
            raw = await response.read()
            status = response.status
    except Exception as exc:  # noqa: BLE001 (every failure is a result here)
        return None, None, type(exc).__name__
    if status >= 400:
        return status, None, str(status)
    return status, raw, None


async def _client(http, n: int, plan: dict, url: str, until: float, seen: dict, bare: bool) -> None:
    rng = random.Random(n)
    who = _who(n)
    headers = {"Authorization": f"Bearer {plan['tokens'][who]}"}
    mine = list(plan["requests"].get(who, [])) if n % 2 == 0 else []
    visible: list[str] = plan["visible"].get(who, [])
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
        _, raw, wrong = await _call(http, method, url + path, headers,
                                    {"decision": "approve"} if kind == "decision" else None)
        seen.setdefault(kind, []).append(time.perf_counter() - began)
        if wrong:
            seen.setdefault("errors", []).append(f"{kind} {wrong}")
        elif kind == "list" and not visible:
            visible = [p["id"] for p in json.loads(raw)["partnerships"]]


async def warm(url: str, plan: dict, clients: int, bare: bool) -> None:
    """One unmeasured call per client (the service reads the portfolio once; connections open)."""
    async with _session(clients, timeout=120) as http:
        async def one(n: int) -> None:
            who = _who(n)
            path = "/bare" if bare else "/api/v1/partnerships?limit=100"
            _, raw, wrong = await _call(http, "GET", url + path, {"Authorization": f"Bearer {plan['tokens'][who]}"})
            if wrong:
                raise SystemExit(f"the warm-up call failed: {wrong}")
            if not bare:
                plan["visible"][who] = [p["id"] for p in json.loads(raw)["partnerships"]]

        await asyncio.gather(*(one(n) for n in range(clients)))


def _session(clients: int, timeout: float):
    """The load's HTTP client: aiohttp, one keep-alive connection per client. (httpx's async
    client topped out near 700 requests/s on this machine against a bare route that serves
    4,000, so it measured itself, not the server.)"""
    import aiohttp

    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients),
                                 timeout=aiohttp.ClientTimeout(total=timeout))


async def load(url: str, plan: dict, clients: int, seconds: float, bare: bool) -> dict:
    seen: dict[str, list] = {}
    # The plan's 10,000 documents are long-lived: frozen, the collector does not walk them
    # during the run (its pauses were the load's longest waits, on the client's side).
    gc.collect()
    gc.freeze()
    try:
        async with _session(clients, timeout=30) as http:
            until = time.monotonic() + seconds
            await asyncio.gather(*(_client(http, n, plan, url, until, seen, bare) for n in range(clients)))
    finally:
        gc.unfreeze()
    return seen


def quiet_decisions(url: str, plan: dict, count: int = 10) -> dict:
    """Decisions one after another, one client, nothing else running: the latency a director sees."""
    import httpx

    pairs = [(director(m), r) for m in QUIET for r in plan["requests"].get(director(m), [])][:count]
    times = []
    with httpx.Client(timeout=60) as http:
        for who, request_id in pairs:
            began = time.perf_counter()
            response = http.post(f"{url}/api/v1/approvals/{request_id}/decision", json={"decision": "approve"},
                                 headers={"Authorization": f"Bearer {plan['tokens'][who]}"})
            times.append(time.perf_counter() - began)
            assert response.status_code == 200 and response.json()["applied"], response.text
    out = {"n": len(times), "p50": _pct(times, .5), "max": max(times) * 1000}
    print(f"  one client, quiet service: decision n={out['n']}  p50 {out['p50']:.1f} ms  max {out['max']:.1f} ms")
    return out


def statements_per_decision(store_url: str, plan: dict, count: int = 5) -> float:
    """SQL statements of one decision through the service's code (token, checks, the
    transaction, the answer), counted in this process on requests no client decides."""
    from sqlalchemy import event

    from isp_lifecycle import settings
    from isp_lifecycle.access import Access
    from isp_lifecycle.store import Store

    store = Store.open(store_url)
    try:
        service = Access(store, settings.current())
        counted = [0]

        def count_one(*_args) -> None:
            counted[0] += 1

        reads = service.reads.kw["bind"]  # on PostgreSQL, the store's engine in autocommit: counted with it
        for engine in [store.engine] + ([reads] if reads.pool is not store.engine.pool else []):
            event.listen(engine, "before_cursor_execute", count_one)
        pairs = [(director(m), r) for m in QUIET for r in plan["requests"].get(director(m), [])][-count:]
        service.partnerships(service.identify(plan["tokens"][pairs[0][0]], None), mission=None, stage=None,
                             after=None, limit=100)  # the portfolio read once, as the warm-up does
        counted[0] = 0
        for who, request_id in pairs:
            service.decide(service.identify(plan["tokens"][who], None), request_id, approve=True, note=None)
    finally:
        store.close()
    per = counted[0] / len(pairs)
    print(f"  SQL statements per decision (token, checks, transaction, answer): {per:.1f}")
    return per


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


def serve_and_load(label: str, argv: list[str], env: dict[str, str], home: Path, plan: dict, args,
                   database_url: str) -> dict:
    bare = label == "bare"
    proc, url = start(argv, env, home / f"{label.replace(' ', '-')}.log", "/bare" if bare else "/api/v1/health",
                       args.workers)
    try:
        asyncio.run(warm(url, plan, args.clients, bare))
        quiet = {} if bare else {"quiet_decision": quiet_decisions(url, plan)}
        seen = asyncio.run(load(url, plan, args.clients, args.seconds, bare))
        results = {**report(label, seen, args.seconds), **quiet}
        if not bare:
            results["advance_ratio"] = advance_vs_check(url, env, database_url, home)
        return results
    finally:
        stop(proc)


def run_backend(backend: str, docs, args) -> dict:
    from benchmarks.bench_store import Database

    database = Database(backend, args.pg)
    with tempfile.TemporaryDirectory(prefix="isp-bench-web-") as folder:
        home = Path(folder)
        (home / "bench_bare.py").write_text(BARE_APP)
        env = dict(os.environ, ISP_HOME=str(home), ISP_DATABASE_URL=database.url, ISP_AUDIT_KEY="bench-audit-key",
                   PYTHONPATH=os.pathsep.join(filter(None, [str(home), os.environ.get("PYTHONPATH")])))
        for name in ("ISP_URL", "ISP_TOKEN", "ISP_WEB_URL", "PREFECT_API_URL"):
            env.pop(name, None)
        os.environ["ISP_AUDIT_KEY"], os.environ["ISP_HOME"] = env["ISP_AUDIT_KEY"], str(home)
        try:
            began = time.perf_counter()
            plan = prepare(database.url, docs)
            print(f"{backend}: {len(docs)} partnerships loaded, {sum(map(len, plan['requests'].values()))} requests "
                  f"opened, {len(plan['tokens'])} tokens in {time.perf_counter() - began:.0f} s; "
                  f"{args.clients} clients for {args.seconds:.0f} s each, {args.workers} worker(s)")
            results = {"statements_per_decision": statements_per_decision(database.url, plan)}
            workers = str(args.workers)
            for label, argv in (("bare", [sys.executable, "-c", BARE, workers]),
                                ("isp web", [str(Path(sys.executable).parent / "isp"), "web", "--port", "0",
                                             "--workers", workers])):
                results[label] = serve_and_load(label, argv, env, home, plan, args, database.url)
            summarise(results)
            return results
        finally:
            database.drop()


def summarise(results: dict) -> None:
    bare_p95, web = results["bare"]["bare"]["p95"], results["isp web"]
    print(f"  bare p95 {bare_p95:.0f} ms (the reference of this run)")
    for kind in ("list", "show", "pending", "decision"):
        if kind in web:
            print(f"  {kind} p95 / bare p95 = {web[kind]['p95'] / bare_p95:.1f}x"
                  + (" (target <= 5x)" if kind != "decision" else f"; decision p95 {web[kind]['p95']:.0f} ms "
                     "(target < 1000 ms)"))


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers, the same for both servers")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg", default=os.environ.get("ISP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432"))
    args = parser.parse_args(argv if argv is not None else sys.argv[1:] if __name__ == "__main__" else [])
    args.seconds = min(args.seconds, 120)  # bounded, whatever is asked
    docs = portfolio(args.count)
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    return [run_backend(b, docs, args) for b in backends]


if __name__ == "__main__":
    main()

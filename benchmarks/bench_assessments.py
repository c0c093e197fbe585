"""A review of 10,000 partnerships inviting their ~40,000 partner contacts, against the same
review without invitations, in the same run.

    .venv/bin/python -m benchmarks.bench_assessments [--count 10000] [--backend sqlite|postgresql|both] [--repeat 1]

For each backend and round, two fresh stores are bulk-loaded with the same generated portfolio
(none closed, and four contacts per partnership: the generator's six, less the second contact
of two partners),
then each is reviewed by the bare core (``isp_lifecycle.review.run_review``) in its own process:
``plain`` with ``ISP_ASSESSMENTS`` off, ``invite`` with ``ISP_ASSESSMENTS=1`` and ``ISP_WEB_URL``
set, so that completing the review writes one invitation and one outbox row per contact.
Reported: both wall times, their ratio (target: invite within 1.5x of plain), and how many
invitations and messages were written.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.bench_review import AS_OF, bulk_load

ROOT = Path(__file__).resolve().parent.parent
TARGET = 1.5


def portfolio(count: int):
    """The generated documents, none closed (a review looks at every one), each with four contacts."""
    from benchmarks.bench_store import generate
    from isp_lifecycle.document import validate

    docs = []
    for doc in generate(count):
        data = doc.to_data()
        if data["stage"] == "closed":
            data["stage"] = "review"
        for partner in data["partners"][1:]:
            partner["contacts"] = partner["contacts"][:1]
        docs.append(validate(data))
    return docs


def child(url: str) -> None:
    """One measured review in this process (the environment says whether it invites); one JSON line."""
    from sqlalchemy import func, select

    from isp_lifecycle import health, review
    from isp_lifecycle.store import Store
    from isp_lifecycle.store.assessment_models import Assessment
    from isp_lifecycle.store.models import Notification

    health.default_checker()
    store = Store.open(url)
    start = time.perf_counter()
    summary = review.run_review(store, AS_OF)
    wall = time.perf_counter() - start
    with store.sessions() as session:
        invited = session.scalar(select(func.count()).select_from(Assessment))
        messages = session.scalar(select(func.count()).where(Notification.event == "assessment-invitation"))
    store.close()
    print(json.dumps({"wall_s": wall, "reviewed": summary.reviewed, "status": summary.status,
                      "invited": invited, "messages": messages}))


def measure(url: str, env: dict[str, str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.bench_assessments", "--child", "--url", url],
                         cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"review failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_backend(backend: str, docs, env: dict[str, str], pg_server: str, repeat: int) -> dict:
    from benchmarks.bench_store import Database

    modes = {"plain": dict(env, ISP_ASSESSMENTS="0"),
             "invite": dict(env, ISP_ASSESSMENTS="1", ISP_WEB_URL="https://isp.mission.example.org")}
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    for _ in range(repeat):
        for mode, mode_env in modes.items():
            database = Database(backend, pg_server)
            try:
                bulk_load(database.url, docs)
                runs[mode].append(measure(database.url, mode_env))
            finally:
                database.drop()
    plain, invite = (sorted(runs[m], key=lambda r: r["wall_s"])[len(runs[m]) // 2] for m in modes)
    assert plain["reviewed"] == invite["reviewed"] and plain["invited"] == 0, (plain, invite)
    ratio = invite["wall_s"] / plain["wall_s"]
    print(f"{backend}: {plain['reviewed']} partnerships reviewed; median of {repeat} run(s) each")
    each = {m: ", ".join(f"{r['wall_s']:.1f}" for r in runs[m]) for m in modes}
    print(f"  without invitations  {plain['wall_s']:6.1f} s ({each['plain']})")
    print(f"  with invitations     {invite['wall_s']:6.1f} s ({each['invite']}): "
          f"{invite['invited']} invitations, {invite['messages']} messages")
    print(f"  with / without = {ratio:.2f}x (target <= {TARGET}x)")
    sys.stdout.flush()
    return {"backend": backend, "plain": plain, "invite": invite, "ratio": ratio}


def main(argv: list[str] | None = None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=1, help="rounds per mode; the median is reported")
    parser.add_argument("--pg", default=os.environ.get("ISP_BENCH_PG", "postgresql://postgres@127.0.0.1:5432"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else sys.argv[1:] if __name__ == "__main__" else [])
    if args.child:
        child(args.url)
        return []
    docs = portfolio(args.count)
    with tempfile.TemporaryDirectory(prefix="isp-bench-assess-") as home:
        env = dict(os.environ, ISP_HOME=home, ISP_AUDIT_KEY="bench-audit-key", ISP_CHANNELS="outbox")
        env.pop("ISP_WEB_URL", None)
        backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
        return [run_backend(b, docs, env, args.pg, args.repeat) for b in backends]


if __name__ == "__main__":
    main()

"""Gate benchmarks: `isp check` start-up, evaluations per second on every path, memory.

Run: .venv/bin/python -m benchmarks.bench_gates   (or `make bench`)
Every figure is a ratio against a baseline measured in the same run.
"""

import gc
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def walls(*cmds, runs=21):
    """Median wall time of each command, the commands taking turns so that both see the same machine."""
    times = [[] for _ in cmds]
    for _ in range(runs):
        for cmd, out in zip(cmds, times):
            t = time.perf_counter()
            subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
            out.append(time.perf_counter() - t)
    return [statistics.median(t) for t in times]


def startup():
    doc = str(ROOT / "tests" / "fixtures" / "gh-mnh-north.yaml")
    # measure the command as installed: bytecode current even for sources edited since set-up
    # (PYTHONDONTWRITEBYTECODE may be set, and then a stale .pyc means compiling on every start)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "isp_lifecycle", "rules"],
                   stdout=subprocess.DEVNULL, cwd=ROOT)
    subprocess.run([str(BIN / "isp"), "check", doc], stdout=subprocess.DEVNULL)  # warm the rule-pack cache
    base, check = walls([sys.executable, "-c", "import pydantic"], [str(BIN / "isp"), "check", "--as-of", "2026-11-27", doc])
    print(f"isp check, one document (median of 21 processes, alternating): {check * 1000:.0f} ms; "
          f"python -c 'import pydantic': {base * 1000:.0f} ms; ratio {check / base:.2f}x (target <= 2.5x)")
    return {"check_s": check, "import_pydantic_s": base, "ratio": check / base}


def handwritten_review_gate(f):
    """The same 34 conditions, written by hand: the floor for a Python evaluator."""
    out = []
    if f["sectors_missing_count"] > 0: out.append("ISP101")
    if f["partners_without_capacity_count"] > 0: out.append("ISP102")
    if f["partners_without_capacity_plan_count"] > 0: out.append("ISP103")
    if f["issue_gaps_count"] > 0: out.append("ISP104")
    if f["local_partners_count"] == 0: out.append("ISP105")
    if f["leaders_count"] == 0: out.append("ISP106")
    if not f["has_mission_director"]: out.append("ISP107")
    if f["multi_sector_leaders_count"] == 0: out.append("ISP108")
    if not f["has_local_context"]: out.append("ISP109")
    if f["partners_with_few_contacts_count"] > 0: out.append("ISP110")
    if f["partners_without_goals_count"] > 0: out.append("ISP201")
    if f["partners_without_commitment_count"] > 0: out.append("ISP202")
    if f["partners_without_motives_count"] > 0: out.append("ISP203")
    if not f["has_accountability_agreement"]: out.append("ISP204")
    if not f["has_vision_statement"] or not f["vision_adopted"]: out.append("ISP205")
    if f["partners_holding_government_core_count"] > 0: out.append("ISP206")
    if f["governance_gaps_count"] > 0: out.append("ISP207")
    if f["local_partners_with_authority_count"] == 0: out.append("ISP208")
    if f["financial_pledges_count"] == 0: out.append("ISP209")
    if f["partners_with_short_commitment_count"] > 0: out.append("ISP210")
    if not f["governance_own_rules_adopted"]: out.append("ISP211")
    if f["initiative_gaps_count"] > 0: out.append("ISP301")
    if f["milestones_done_count"] == 0: out.append("ISP302")
    if f["initiatives_led_by_local_count"] == 0: out.append("ISP303")
    if f["largest_lead_share_exceeds_half"]: out.append("ISP304")
    if f["milestones_overdue_count"] > 0: out.append("ISP305")
    if f["disseminations_count"] == 0: out.append("ISP306")
    if f["partners_with_expiring_commitment_count"] > 0: out.append("ISP307")
    if f["review_gaps_count"] > 0: out.append("ISP401")
    if f["disseminations_in_last_year_count"] == 0: out.append("ISP402")
    if f["has_latest_review"] and not f["latest_review_adapted"]: out.append("ISP403")
    if f["has_latest_review"] and f["latest_review_assumptions_challenged_count"] == 0: out.append("ISP404")
    if not f["vision_renewed_in_last_year"]: out.append("ISP405")
    if f["trainings_in_last_year_count"] == 0: out.append("ISP406")
    return out


def rate(fn, facts_list, min_seconds=1.5):
    n, t0 = 0, time.perf_counter()
    while True:
        for f in facts_list:
            fn(f)
        n += len(facts_list)
        elapsed = time.perf_counter() - t0
        if elapsed >= min_seconds:
            return n / elapsed


_LIMIT_SCRIPT = """
import json, sys, time
import durable_rules_engine as engine
definition, facts, seconds = json.load(open(sys.argv[1]))
handle = engine.create_ruleset("bench-engine-limit", json.dumps(definition))
n, sid, t0 = 0, 0, time.perf_counter()
while time.perf_counter() - t0 < seconds:
    for fact in facts:
        sid += 1
        fact["sid"] = str(sid)
        engine.assert_fact(handle, json.dumps(fact))
        engine.delete_state(handle, str(sid))
    n += len(facts)
print(n / (time.perf_counter() - t0))
"""


def engine_limit(pack, facts_list, tmp, seconds=1.5):
    """The engine's own limit: assert_fact + delete_state on the C extension, the sentinel
    present, no action run, the same facts and ruleset as the durable path.

    Run in a fresh process holding nothing but the engine: in a process that has also
    loaded the project, this no-action path crashed (segfault) on this machine, while
    the adapter's path (which runs the actions) did not.
    """
    from isp_lifecycle.engine import GUARD, GUARD_VALUE, DurableEvaluator

    definition = DurableEvaluator(pack).definition("review")
    fields = sorted({f for r in pack.for_gate("review") for f in r.fields})
    facts = [dict({name: f[name] for name in fields}, **{GUARD: GUARD_VALUE}) for f in facts_list]
    path = Path(tmp) / "limit.json"
    path.write_text(json.dumps([definition, facts, seconds]))
    out = subprocess.run([sys.executable, "-c", _LIMIT_SCRIPT, str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        print(f"  engine-limit process failed with status {out.returncode}")
        return float("nan")
    return float(out.stdout.strip())


def throughput():
    from isp_lifecycle.engine import DurableEvaluator, PythonEvaluator
    from isp_lifecycle.facts import project
    from isp_lifecycle.gates import GateChecker
    from isp_lifecycle.rulepack import load_pack

    from .portfolio import AS_OF, SEED, documents

    pack = load_pack()
    durable, python = DurableEvaluator(pack), PythonEvaluator(pack)
    import tempfile

    tmp = tempfile.mkdtemp()
    results = {}
    for kind in ("healthy", "failing"):
        docs = documents(500, kind)
        facts = [project(d, AS_OF, pack.government_core) for d in docs]
        avg = statistics.mean(len(GateChecker("python", pack).evaluate(d, "review", AS_OF).findings) for d in docs)
        r = {
            "engine_limit": engine_limit(pack, facts, tmp),
            "durable": rate(lambda f: durable.fired("review", f), facts),
            "python": rate(lambda f: python.fired("review", f), facts),
            "handwritten": rate(handwritten_review_gate, facts),
        }
        checker = GateChecker("durable", pack)
        r["durable_full_evaluate"] = rate(lambda d: checker.evaluate(d, "review", AS_OF), docs)
        results[kind] = dict(r, avg_findings=avg)
        print(f"\nreview gate, {kind} portfolio (500 generated documents, seed {SEED}, "
              f"{avg:.1f} findings on average): evaluations/s")
        for name in ("engine_limit", "durable", "python", "handwritten", "durable_full_evaluate"):
            print(f"  {name:<24}{r[name]:>10,.0f}")
        print(f"  durable / engine limit: {r['engine_limit'] / r['durable']:.2f}x slower (target <= 2x on healthy)")
        print(f"  python / handwritten:   {r['handwritten'] / r['python']:.2f}x slower (target <= 4x)")
    return results


def memory(n=100_000):
    import psutil

    from isp_lifecycle.gates import GateChecker

    from .portfolio import AS_OF, documents

    docs = documents(200, "healthy")
    checker = GateChecker("durable")
    for d in docs * 5:  # warm up: rulesets, caches, allocator
        checker.evaluate(d, "review", AS_OF)
    gc.collect()
    proc = psutil.Process(os.getpid())
    before = proc.memory_info().rss
    for i in range(n):
        checker.evaluate(docs[i % len(docs)], "review", AS_OF)
    gc.collect()
    growth = (proc.memory_info().rss - before) / 2**20
    print(f"\nmemory: RSS growth over {n:,} durable evaluations: {growth:.2f} MB (target < 5 MB)")
    return {"evaluations": n, "rss_growth_mb": growth}


def main():
    quick = "--quick" in sys.argv
    print("== gate benchmarks ==")
    out = {"startup": startup(), "throughput": throughput(), "memory": memory(10_000 if quick else 100_000)}
    results = ROOT / "benchmarks" / "results"
    results.mkdir(exist_ok=True)
    (results / "gates.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()

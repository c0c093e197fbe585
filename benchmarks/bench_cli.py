"""CLI timings on the embedded default (no `isp serve`, no PREFECT_API_URL, no service).

1. `isp advance` on a blocked gate against `isp list` on the same small store, in alternated
   runs: a blocked gate is settled in the command's own process, so it should cost about what
   opening the store costs, and nothing of Prefect's (target: at most 1.5x `isp list`).
2. `isp approve` after an `isp advance` in the same ISP_HOME against `python -c "import
   prefect"`, in alternated runs: the first command that needs Prefect starts the home's
   local Prefect server, the later ones reuse it, and the decision is applied in the store
   without running any flow (target: at most 3x `import prefect`).

Medians of RUNS alternated runs. The local server the runs start is stopped at the end.

Run: .venv/bin/python -m benchmarks.bench_cli
"""

import statistics
import sys
import tempfile
from pathlib import Path

from .bench_lifecycle import ISP, ROOT, env_for, timed

FIXTURES = ROOT / "tests" / "fixtures"
RUNS = 7
LEADER = "ama@ghs.example.org"
DIRECTOR = "kboateng@mission.example.org"


def timed_any(cmd, env) -> float:
    """Like ``timed``, for a command whose exit 1 is its answer (a blocked gate)."""
    import subprocess
    import time

    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return time.perf_counter() - t


def ratio_line(what: str, mine: list[float], base_name: str, base: list[float], target: float | None) -> str:
    a, b = statistics.median(mine), statistics.median(base)
    return (f"{what} {a:.3f} s vs {base_name} {b:.3f} s (medians of {len(mine)} alternated runs): "
            f"{a / b:.2f}x" + (f" (target <= {target}x)" if target else ""))


def blocked_gate_against_list() -> None:
    env = env_for(Path(tempfile.mkdtemp()), None)
    timed([ISP, "import", *map(str, sorted(FIXTURES.glob("*.yaml")))], env)
    advance = [ISP, "advance", "ke-water-kisumu", "--as", "otieno@kisumuwater.example.org"]
    lists, advances = [], []
    for _ in range(RUNS):
        lists.append(timed([ISP, "list"], env))
        advances.append(timed_any(advance, env))
    print(ratio_line("isp advance on a blocked gate", advances, "isp list", lists, 1.5))


def approve_after_advance_against_import_prefect() -> None:
    home = Path(tempfile.mkdtemp())
    env = env_for(home, None)
    text = (FIXTURES / "healthy-convene.yaml").read_text("utf-8")
    docs = home / "docs"
    docs.mkdir()
    ids = [f"tamale-health-{n}" for n in range(RUNS + 1)]
    for pid in ids:
        (docs / f"{pid}.yaml").write_text(text.replace("id: tamale-health\n", f"id: {pid}\n"), "utf-8")
    timed([ISP, "import", *map(str, sorted(docs.glob("*.yaml")))], env)
    try:
        # the first advance starts the home's local Prefect server (not measured: once per home)
        first = timed([ISP, "advance", ids[0], "--as", LEADER, "--as-of", "2026-11-27"], env)
        print(f"first isp advance in a fresh ISP_HOME (starts the local Prefect server): {first:.1f} s")
        imports, advances, approves = [], [], []
        for pid in ids[1:]:
            imports.append(timed([sys.executable, "-c", "import prefect"], env))
            advances.append(timed([ISP, "advance", pid, "--as", LEADER, "--as-of", "2026-11-27"], env))
            approves.append(timed([ISP, "approve", pid, "--as", DIRECTOR], env))
        print(ratio_line("isp approve after isp advance, same ISP_HOME", approves, "import prefect", imports, 3))
        print(ratio_line("isp advance on a passing gate, local server running", advances, "import prefect",
                         imports, None))
    finally:
        from isp_lifecycle.flows import local_server

        local_server.stop(home / "prefect")


def main():
    print("== cli benchmarks (embedded default) ==")
    blocked_gate_against_list()
    sys.stdout.flush()
    approve_after_advance_against_import_prefect()
    sys.stdout.flush()


if __name__ == "__main__":
    main()

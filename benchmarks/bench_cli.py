"""CLI timings on the embedded default (no `isp serve`, no PREFECT_API_URL, no service).

`isp advance` on a blocked gate against `isp list` on the same small store, in alternated
runs: a blocked gate is settled in the command's own process, so it should cost about what
opening the store costs, and nothing of Prefect's (target: at most 1.5x `isp list`).

Run: .venv/bin/python -m benchmarks.bench_cli
"""

import statistics
import sys
import tempfile
from pathlib import Path

from .bench_lifecycle import ISP, ROOT, env_for, timed

FIXTURES = ROOT / "tests" / "fixtures"
RUNS = 7


def timed_any(cmd, env) -> float:
    """Like ``timed``, for a command whose exit 1 is its answer (a blocked gate)."""
    import subprocess
    import time

    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1) or "Traceback" in done.stderr:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return time.perf_counter() - t


def main():
    print("== cli benchmarks (embedded default) ==")
    env = env_for(Path(tempfile.mkdtemp()), None)
    timed([ISP, "import", *map(str, sorted(FIXTURES.glob("*.yaml")))], env)
    advance = [ISP, "advance", "ke-water-kisumu", "--as", "otieno@kisumuwater.example.org"]
    lists, advances = [], []
    for _ in range(RUNS):
        lists.append(timed([ISP, "list"], env))
        advances.append(timed_any(advance, env))
    a, l = statistics.median(advances), statistics.median(lists)
    print(f"isp advance on a blocked gate {a:.3f} s vs isp list {l:.3f} s (medians of {RUNS} alternated runs): "
          f"{a / l:.2f}x (target <= 1.5x)")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

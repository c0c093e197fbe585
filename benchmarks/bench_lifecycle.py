"""Lifecycle timings: Prefect's start-up as the project runs it, and `isp approve` to moved stage.

`isp approve` applies the move in the store before it touches Prefect, then lets the waiting
run finish: both the time until it prints "moved" and its whole run are reported.

Run: .venv/bin/python -m benchmarks.bench_lifecycle
Baselines in the same run: `python -c "import prefect"` and a Prefect server's start-up.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ISP = str(Path(sys.executable).parent / "isp")
DOC = str(ROOT / "tests" / "fixtures" / "healthy-convene.yaml")
PID = "tamale-health"


def timed(cmd, env):
    t = time.perf_counter()
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr}")
    return time.perf_counter() - t


def env_for(home: Path, api: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ISP_"))}
    env.update(ISP_HOME=str(home), ISP_AUDIT_KEY="bench", DO_NOT_TRACK="1")
    if api:
        env["PREFECT_API_URL"] = api
    return env


def timed_until(cmd, env, marker: str) -> tuple[float, float]:
    """Seconds until a line of standard output holds ``marker``, and until the command ends."""
    t = time.perf_counter()
    seen = None
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        for line in proc.stdout:
            if seen is None and marker in line:
                seen = time.perf_counter() - t
        if proc.wait() != 0 or seen is None:
            raise SystemExit(f"{' '.join(cmd)} failed (exit {proc.returncode})")
    return seen, time.perf_counter() - t


def cycle(env) -> tuple[float, float, float]:
    timed([ISP, "import", DOC], env)
    advance = timed([ISP, "advance", PID, "--as", "ama@ghs.example.org", "--as-of", "2026-11-27"], env)
    moved, approve = timed_until([ISP, "approve", PID, "--as", "kboateng@mission.example.org"], env, ": moved ")
    return advance, moved, approve


def main():
    sys.path.insert(0, str(ROOT))
    from tests.prefect_server import PrefectServer

    print("== lifecycle benchmarks ==")
    base_env = env_for(Path(tempfile.mkdtemp()), None)
    imports = sorted(timed([sys.executable, "-c", "import prefect"], base_env) for _ in range(3))[1]
    print(f"python -c 'import prefect': {imports:.2f} s (median of 3)")

    home = Path(tempfile.mkdtemp())
    t = time.perf_counter()
    server = PrefectServer(home).start()
    startup = time.perf_counter() - t
    print(f"prefect server start-up on a fresh database: {startup:.1f} s")
    try:
        advance, moved, approve = cycle(env_for(Path(tempfile.mkdtemp()), server.url))
    finally:
        server.stop()
    print(f"against that running server: isp advance {advance:.2f} s ({advance / imports:.1f}x import prefect), "
          f"isp approve -> stage moved {moved:.2f} s ({moved / imports:.1f}x import prefect), "
          f"whole command {approve:.2f} s ({approve / imports:.1f}x)")

    embedded_home = Path(tempfile.mkdtemp())
    try:
        first_advance, first_moved, first_approve = cycle(env_for(embedded_home, None))
    finally:  # the home's local Prefect server, started by that cycle, is not left running
        from isp_lifecycle.flows import local_server

        local_server.stop(embedded_home / "prefect")
    print(f"embedded server (no server started by hand), fresh ISP_HOME: isp advance {first_advance:.1f} s, "
          f"isp approve -> stage moved {first_moved:.1f} s, whole command {first_approve:.1f} s "
          f"({first_approve / startup:.1f}x a server's start-up)")


if __name__ == "__main__":
    main()

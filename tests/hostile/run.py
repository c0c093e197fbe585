"""Running ``isp`` over many documents in one process, with its peak memory and a time limit."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

ISP = str(Path(sys.executable).with_name("isp"))
TIME_LIMIT = 300  # seconds for one batch: far beyond what a batch needs, so reaching it is a hang


@dataclass
class Ran:
    status: int
    stdout: str
    stderr: str
    peak_rss_mb: float
    hung: bool


def isp(args: list[str], *, env: dict | None = None, stdin: bytes | None = None) -> Ran:
    """Run ``isp ARGS`` and wait for it with ``wait4``, which reports that process's own peak
    resident memory (``ru_maxrss``), not the largest of every child the test run started."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([ISP, *args], stdout=out, stderr=err, env=env,
                                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
        hung = threading.Event()

        def stop():
            hung.set()
            os.kill(proc.pid, signal.SIGKILL)

        timer = threading.Timer(TIME_LIMIT, stop)
        timer.start()
        try:
            if stdin is not None:
                proc.stdin.write(stdin)
                proc.stdin.close()
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Ran(proc.returncode, out.read().decode("utf-8"), err.read().decode("utf-8"),
                   usage.ru_maxrss / 1024, hung.is_set())


def batches(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]

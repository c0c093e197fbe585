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


# ``ru_maxrss`` of a child counts the memory of the process that forked it (Linux copies the
# parent's high-water mark at fork and keeps it across exec), so a test run that has grown to
# 400 MB would see every ``isp`` at 400 MB. A small launcher forks ``isp`` instead, waits for
# it and writes its peak to a file: the figure is then ``isp``'s own.
_LAUNCHER = (
    "import os, sys\n"
    "pid = os.fork()\n"
    "if pid == 0:\n"
    "    os.execv(sys.argv[2], sys.argv[2:])\n"
    "_, status, usage = os.wait4(pid, 0)\n"
    "with open(sys.argv[1], 'w') as peak:\n"
    "    peak.write(str(usage.ru_maxrss))\n"
    "code = os.waitstatus_to_exitcode(status)\n"
    "os._exit(code if code >= 0 else 128 - code)\n"
)


def isp(args: list[str], *, env: dict | None = None, stdin: bytes | None = None) -> Ran:
    """Run ``isp ARGS`` (through the launcher above) with its own peak resident memory and a
    time limit; a run past the limit is killed, launcher and ``isp`` together, and marked hung."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile("r", suffix=".peak") as peak:
        proc = subprocess.Popen([sys.executable, "-S", "-c", _LAUNCHER, peak.name, ISP, *args],
                                stdout=out, stderr=err, env=env, start_new_session=True,
                                stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL)
        hung = threading.Event()

        def stop():
            hung.set()
            os.killpg(proc.pid, signal.SIGKILL)

        timer = threading.Timer(TIME_LIMIT, stop)
        timer.start()
        try:
            if stdin is not None:
                proc.stdin.write(stdin)
                proc.stdin.close()
            status = proc.wait()
        finally:
            timer.cancel()
        out.seek(0)
        err.seek(0)
        kilobytes = peak.read().strip()
        status = status if status <= 128 or hung.is_set() else 128 - status  # a signal, as Popen says it
        return Ran(status, out.read().decode("utf-8"), err.read().decode("utf-8"),
                   int(kilobytes or 0) / 1024, hung.is_set())


def batches(items: list, size: int) -> list[list]:
    return [items[i:i + size] for i in range(0, len(items), size)]

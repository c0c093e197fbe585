"""The README's tour runs as written: every command of "A five-minute tour", then the
``$`` examples of the sections a newcomer follows next, in the README's order, by bash, in
a folder laid out like a fresh clone, with nothing of ours on PATH and no ISP_ or PREFECT_
setting, each exiting as its comment says (``exit 1``), else 0.

A line whose comment says it "runs until stopped" or "needs a browser" is not run here:
``isp serve`` and ``isp login`` have tests of their own (tests/web, tests/signin)."""

import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..local_prefect import stop_local_servers

ROOT = Path(__file__).resolve().parents[2]
SECTIONS = ("A five-minute tour", "Checking a partnership", "Reviewing the portfolio")
LEFT_TO_THEIR_OWN_TESTS = ("runs until stopped", "needs a browser")
NOT_IN_A_CLONE = {".git", ".venv", ".pytest_cache", ".hypothesis", "isp-demo", "isp-tour", "build", "dist"}
PREFECTS_OWN_OUTPUT = ("Starting temporary server", "Flow run '", "prefect.io", "| INFO", "Beginning flow run")


@dataclass(frozen=True)
class Command:
    section: str
    line: str  # as written, its comment included (bash ignores it)
    exit: int  # the status its comment announces ("exit 1"), else 0
    run: bool  # False: left to its own tests (a marker in its comment)


def sections(text: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", text, flags=re.M)
    return {title.strip(): body for title, body in zip(parts[1::2], parts[2::2])}


def blocks(body: str) -> list[list[str]]:
    """The indented code blocks of a section, each as its lines without the indent."""
    found, current = [], []
    for line in body.splitlines():
        if line.startswith("    "):
            current.append(line[4:])
        elif line.strip() == "" and current:
            current.append("")
        else:
            if any(current):
                found.append(current)
            current = []
    if any(current):
        found.append(current)
    return found


def commands(text: str) -> list[Command]:
    """The README's commands: in a block showing a prompt (``$``), its prompted lines (the
    rest is output); in any other block, every line."""
    out = []
    for title in SECTIONS:
        for block in blocks(sections(text)[title]):
            prompted = any(line.startswith("$ ") for line in block)
            for line in block:
                if not line.strip() or (prompted and not line.startswith("$ ")):
                    continue
                line = line[2:] if prompted else line
                comment = line.split(" # ", 1)[1] if " # " in line else ""
                status = re.search(r"\bexit (\d)\b", comment)
                out.append(Command(title, line.strip(), int(status.group(1)) if status else 0,
                                   not any(mark in comment for mark in LEFT_TO_THEIR_OWN_TESTS)))
    return out


def tour() -> list[Command]:
    return commands((ROOT / "README.md").read_text("utf-8"))


def test_the_tour_is_read_from_the_readme_with_its_marked_lines_and_exit_statuses():
    found = tour()
    first = [c for c in found if c.section == SECTIONS[0]]
    assert first[0].line.startswith("export PATH=") and ".venv/bin" in first[0].line
    assert any(c.line.startswith("export ISP_HOME=") for c in first)
    assert len([c for c in first if c.line.startswith("isp ")]) >= 15
    skipped = [c.line.split()[:2] for c in found if not c.run]
    assert ["isp", "serve"] in skipped and all(c.line.startswith("isp serve") or "login" in c.line
                                              for c in found if not c.run)
    assert {c.exit for c in found} == {0, 1}
    blocked = [c for c in first if c.exit == 1]
    assert blocked and all("ke-water-kisumu" in c.line for c in blocked)


def test_a_block_with_prompts_yields_only_its_prompted_lines_and_markers_are_honoured():
    text = ("## A five-minute tour\n\n    isp list       # fine\n    isp serve      # runs until stopped\n\n"
            "## Checking a partnership\n\n    $ isp check x.yaml   # exit 1: blocked\n    x.yaml: BLOCKED\n\n"
            "## Reviewing the portfolio\n\nNone here.\n")
    assert commands(text) == [Command(SECTIONS[0], "isp list       # fine", 0, True),
                              Command(SECTIONS[0], "isp serve      # runs until stopped", 0, False),
                              Command(SECTIONS[1], "isp check x.yaml   # exit 1: blocked", 1, True)]


def fresh_clone(where: Path) -> Path:
    """The repository's files as a clone has them (linked, not copied), and the ``.venv``
    that ``make demo`` makes: the one running these tests."""
    where.mkdir()
    for entry in ROOT.iterdir():
        if entry.name not in NOT_IN_A_CLONE:
            (where / entry.name).symlink_to(entry)
    (where / ".venv").symlink_to(Path(sys.prefix))
    return where


def clean_environment(home: Path) -> dict[str, str]:
    """No ISP_ or PREFECT_ setting, a HOME of its own, and no folder on PATH holding an ``isp``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ISP_", "PREFECT_"))}
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep)
                                  if p and not (Path(p) / "isp").exists())
    env["HOME"] = str(home)
    home.mkdir()
    return env


def script(steps: list[Command], clone: Path, out: Path) -> str:
    """One bash script running each step as written, its output kept, stopping at the first
    unexpected status (a brace group: ``export`` holds for the next steps)."""
    lines = ["cd " + shlex.quote(str(clone))]
    for n, step in enumerate(steps):
        lines += ["{", step.line, f"}} >{shlex.quote(str(out / f'{n}.out'))} 2>{shlex.quote(str(out / f'{n}.err'))}",
                  f"status=$?; echo $status >{shlex.quote(str(out / f'{n}.status'))}",
                  f"[ $status -eq {step.exit} ] || exit 3"]
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_every_command_of_the_readme_tour_runs_as_written_in_a_fresh_clone(tmp_path):
    steps = [c for c in tour() if c.run]
    clone = fresh_clone(tmp_path / "clone")
    out = tmp_path / "out"
    out.mkdir()
    try:
        done = subprocess.run(["bash", "-c", script(steps, clone, out)], env=clean_environment(tmp_path / "user"),
                              capture_output=True, text=True, timeout=900)
    finally:
        stop_local_servers(tmp_path)
    ran = sorted(int(p.stem) for p in out.glob("*.status"))
    if done.returncode != 0 or len(ran) != len(steps):
        n = ran[-1] if ran else 0
        pytest.fail(f"README step {n + 1} of {len(steps)} ({steps[n].section}): {steps[n].line}\n"
                    f"exit {(out / f'{n}.status').read_text().strip() if ran else '?'}, expected {steps[n].exit}\n"
                    f"stdout: {(out / f'{n}.out').read_text()[-2000:] if ran else ''}\n"
                    f"stderr: {(out / f'{n}.err').read_text()[-2000:] if ran else done.stderr}", pytrace=False)
    for n, step in enumerate(steps):
        said = (out / f"{n}.out").read_text() + (out / f"{n}.err").read_text()
        assert "Traceback" not in said, f"{step.line}\n{said}"
        assert not [s for s in PREFECTS_OWN_OUTPUT if s in said], f"Prefect's own output without -v: {step.line}\n{said}"
    assert (clone / "isp-tour" / "isp.db").exists()  # the tour's own ISP_HOME, as it says

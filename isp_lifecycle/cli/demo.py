"""``isp demo``: the whole story on embedded defaults, one clear line per step."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import click

DIRECTOR = "kboateng@mission.example.org"
LEADER = "ama@ghs.example.org"
AS_OF = "2026-11-27"
MOVER = "tamale-health"
BLOCKED = "ke-water-kisumu"


def _portfolio(folder: Path) -> list[Path]:
    """The example partnerships plus generated ones at every stage, written as YAML files."""
    from ruamel.yaml import YAML

    from ..cases import apply
    from ..document import read_yaml
    from ..rulepack import default_root

    base = read_yaml((default_root() / "cases-base.yaml").read_text("utf-8"))
    base = base["document"]
    generated = {
        MOVER: {"name": "Tamale Maternal Health Partnership", "stage": "convene", "stage_entered": None},
        "bolga-nutrition": {"name": "Bolgatanga Child Nutrition Partnership", "stage": "commit",
                            "started": "2026-03-02", "stage_entered": "2026-05-01",
                            "partners[1].commitment.until": "2028-06-12"},
        "wa-school-water": {"name": "Wa School Water and Sanitation Partnership", "stage": "implement",
                            "started": "2025-01-10", "stage_entered": "2025-06-01",
                            "initiatives[0].milestones[1].due": "2026-08-31"},
        "yendi-midwives": {"name": "Yendi Midwifery Training Partnership", "stage": "review",
                           "started": "2024-05-06", "stage_entered": "2026-10-01", "reviews[0].date": "2025-09-15"},
        "savelugu-roads": {"name": "Savelugu Feeder Roads Partnership", "stage": "closed",
                           "started": "2023-02-01", "stage_entered": "2026-02-01"},
    }
    yaml = YAML()
    yaml.width = 120
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for example in ("gh-mnh-north.yaml", "ke-water-kisumu.yaml"):
        target = folder / example
        shutil.copyfile(Path(__file__).resolve().parent.parent / "demo_data" / example, target)
        paths.append(target)
    for pid, changes in generated.items():
        data = apply(base, dict(changes, id=pid))
        target = folder / f"{pid}.yaml"
        with open(target, "w") as out:
            yaml.dump(data, out)
        paths.append(target)
    return paths


class Steps:
    def __init__(self) -> None:
        self.n = 0
        self.started = time.monotonic()

    def say(self, message: str) -> None:
        self.n += 1
        click.echo(f"[{self.n}] {message}")


def _isp(*args: str) -> int:
    """Run an `isp` command in this process (sharing its embedded Prefect server)."""
    from . import main

    return main(list(args))


@click.command()
@click.option("--workspace", type=click.Path(file_okay=False), default="isp-demo", show_default=True,
              help="Folder for the demo's store, outbox, report and Prefect database (made afresh).")
def demo(workspace):
    """Tell the whole story on embedded defaults: import, check, approve, review, notify, report.

    Needs nothing installed or started: a SQLite store, Prefect's embedded server and the
    outbox channel, all inside WORKSPACE, which is made afresh on every run.
    """
    home = Path(workspace).resolve()
    if home.exists():
        shutil.rmtree(home)
    home.mkdir(parents=True)
    for key in [k for k in os.environ if k.startswith("ISP_") or k == "PREFECT_API_URL" or k == "PREFECT_HOME"]:
        del os.environ[key]
    os.environ.update(ISP_HOME=str(home), ISP_USER=LEADER, ISP_CHANNELS="outbox")
    steps = Steps()
    steps.say(f"workspace {home}: store {home / 'isp.db'}, outbox {home / 'outbox'}")

    files = _portfolio(home / "portfolio")
    with _quiet():
        code = _isp("import", *map(str, files))
    if code:
        raise click.ClickException("importing the demo portfolio failed")
    steps.say(f"imported {len(files)} partnerships at every stage: " + ", ".join(p.stem for p in files))

    click.echo()
    steps.say(f"checking {BLOCKED} against its convene gate (as of {AS_OF}):")
    _isp("check", "--as-of", AS_OF, str(home / "portfolio" / f"{BLOCKED}.yaml"))
    click.echo()

    steps.say(f"advancing {BLOCKED}: its gate is blocked, the leaders are sent the findings")
    with _quiet():
        _isp("advance", BLOCKED, "--as-of", AS_OF)

    steps.say(f"advancing {MOVER} from convene: the gate passes and the workflow waits for the director "
              "(starting the workspace's local Prefect server, ~15 s)")
    with _quiet():
        code = _isp("advance", MOVER, "--as-of", AS_OF, "--as", LEADER)
    if code:
        raise click.ClickException(f"advancing {MOVER} failed (exit {code})")

    steps.say(f"the director approves from the command line: isp approve {MOVER} --as {DIRECTOR}")
    approve = subprocess.run([str(Path(sys.executable).parent / "isp"), "approve", MOVER, "--as", DIRECTOR,
                              "--note", "All three sectors are in; go ahead."],
                             capture_output=True, text=True, env=dict(os.environ))
    if approve.returncode != 0:
        raise click.ClickException(f"the approval failed: {approve.stderr.strip()}")
    steps.say(approve.stdout.strip().splitlines()[-1])

    steps.say(f"running the portfolio review as of {AS_OF}")
    with _quiet():
        _isp("review", "--as-of", AS_OF)

    steps.say("delivering notifications to the outbox")
    with _quiet():
        _isp("notifications", "deliver")
    outbox = sorted((home / "outbox").glob("*.eml"))

    report = home / "report.html"
    with _quiet():
        _isp("report", "--as-of", AS_OF, "--out", str(report))
    steps.say(f"wrote the HTML report {report}")

    _stop_local_prefect(home)
    isp = _shown(Path(sys.executable).parent / "isp")
    click.echo()
    click.echo(f"Done in {time.monotonic() - steps.started:.0f} s. Where to look:")
    click.echo(f"  outbox:  {home / 'outbox'} ({len(outbox)} messages, one .eml file each)")
    click.echo(f"  report:  {report} (open it in a browser)")
    click.echo(f"  store:   ISP_HOME={home} {isp} list")
    click.echo(f"  moved:   ISP_HOME={home} {isp} export {MOVER}")
    click.echo(f"  Prefect: ISP_HOME={home} {isp} serve, for the UI at http://127.0.0.1:4200 (Ctrl-C stops it)")
    click.echo(f"  next:    the tour in README.md; first: export PATH=\"{_shown(Path(sys.executable).parent, '$PWD/')}:$PATH\"")


def _shown(path: Path, prefix: str = "") -> str:
    """A path as a reader types it: relative to the current folder when inside it."""
    try:
        return prefix + str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _stop_local_prefect(home: Path) -> None:
    """Leave nothing running: the local Prefect server the story started stops now, not after
    its idle minutes (a later command in that workspace starts it again)."""
    from isp_lifecycle.flows import local_server, runtime

    runtime.drain_background()  # this process's last run logs, while the server answers
    local_server.stop(home / "prefect")


_DEVNULL = open(os.devnull, "w")  # kept open: Prefect's log handlers may hold on to it


class _quiet:
    """Silence a step's own output (its one line is printed by the demo)."""

    def __enter__(self):
        self._out, self._err = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = _DEVNULL

    def __exit__(self, *exc):
        sys.stdout, sys.stderr = self._out, self._err

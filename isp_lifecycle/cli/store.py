"""Lifecycle commands on the store: import, export, list, show, history, audit, db.

SQLAlchemy and the services are imported inside the commands, so that ``isp check`` (which
shares this CLI) never loads them.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from contextlib import contextmanager

import click

from .options import SuggestingGroup

from ..errors import IspError, RefusedOperation
from ..vocabulary import STAGES

STAGE_CHOICE = click.Choice(list(STAGES))


@contextmanager
def open_store():
    """The configured store, closed when the command is done."""
    from ..store import Store

    store = Store.open()
    try:
        yield store
    finally:
        store.close()




@click.command("import")
@click.argument("files", nargs=-1, required=True, metavar="FILE...",
                type=click.Path(dir_okay=True, allow_dash=False))
def import_(files):
    """Import partnership documents into the store, each file all-or-nothing.

    A new partnership comes in at whatever stage it is in. A known one with different
    content gets a new version (pending approval requests become stale); it may change
    anything but stage and stage_entered, which move only through gates. Many files are
    written several hundred to a transaction; an invalid or refused one is reported on its
    own line (FILE:LINE:COLUMN: when the text says where) and the others still come in.
    A bar shows progress on a terminal for more than a few hundred files.

    \b
    Exit status: 0 every file imported (or unchanged); 1 an import refused (it would move
    the stage); 2 a file invalid or unreadable (2 wins over 1).

    \b
    Examples:
      isp import partnership.yaml
      isp import portfolio/*.yaml
    """
    from .. import services
    from .progress import Progress

    worst, said = 0, Counter()
    with open_store() as store, Progress(len(files), "importing") as progress:
        for start in range(0, len(files), services.IMPORT_BATCH):
            chunk = files[start:start + services.IMPORT_BATCH]
            found = [(path, _document(path, progress)) for path in chunk]
            said["invalid"] += sum(doc is None for _, doc in found)
            worst = max(worst, 2 if said["invalid"] else 0)
            found = [(path, doc) for path, doc in found if doc is not None]
            for (path, _), outcome in zip(found, services.import_documents(store, [doc for _, doc in found])):
                if isinstance(outcome, IspError):
                    progress.err(f"isp: {path}: {outcome}")
                    said["refused"] += 1
                    worst = max(worst, outcome.exit_code)
                else:
                    said[outcome.status] += 1
                    progress.out(_imported(outcome))
            progress.update(len(chunk))
    progress.summary(", ".join(f"{said[status]} {what}" for status, what in _SUMMARY.items() if said[status]))
    if worst:
        raise click.exceptions.Exit(worst)


_SUMMARY = {"created": "imported", "updated": "new versions", "unchanged": "unchanged", "refused": "refused",
            "invalid": "invalid or unreadable"}


def _document(path: str, progress):
    """The valid document in ``path``; else ``None``, each problem said on its own line."""
    from ..document import loads, read_text
    from ..errors import InvalidDocument, UnreadableDocument
    from ..locations import located, problem_line

    text = None
    try:
        text = read_text(path)
        return loads(text, path, json_only=path.endswith(".json"))
    except (InvalidDocument, UnreadableDocument) as exc:
        for problem, place in located(text, exc.problems):
            progress.err(problem_line(path, problem, place))
        return None


def _imported(result) -> str:
    if result.status == "created":
        return f"{result.partnership_id}: imported as version 1"
    if result.status == "updated":
        stale = f"; {len(result.stale_requests)} pending approval request(s) now stale" if result.stale_requests else ""
        return f"{result.partnership_id}: new version {result.version}{stale}"
    return f"{result.partnership_id}: nothing changed (version {result.version})"


def dump_yaml(data, stream) -> None:
    from ruamel.yaml import YAML

    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False
    yaml.width = 4096
    yaml.allow_unicode = True
    yaml.dump(data, stream)


@click.command()
@click.argument("partnership_id", metavar="PARTNERSHIP_ID")
@click.option("--version", "version", type=click.IntRange(min=1), help="A stored version (default: the current one).")
def export(partnership_id, version):
    """Write a stored document as YAML to standard output (every field; re-importing it changes nothing)."""
    from .. import services

    with open_store() as store:
        doc = services.export_document(store, partnership_id, version)
    dump_yaml(doc.to_data(), sys.stdout)


@click.command("list")
@click.option("--stage", type=STAGE_CHOICE, help="Only partnerships in this stage.")
@click.option("--mission", help="Only partnerships of this mission, e.g. USAID/Ghana.")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: for people; json: one object per line, for scripts.")
def list_(stage, mission, fmt):
    """Partnerships in the store: stage, days in stage, pending approvals, last verdict."""
    from .. import services

    with open_store() as store:
        mission = mission and services.mission_named(store, mission)
        rows = services.list_partnerships(store, stage=stage, mission=mission)
        stored = services.missions(store).stored if not rows else len(rows)
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row.to_json(), ensure_ascii=False))
        return
    if not rows:
        click.echo(nothing_found(stored, stage=stage, mission=mission))
        return
    click.echo(f"{'ID':<32} {'STAGE':<10} {'DAYS':>5} {'PENDING':>7}  LAST VERDICT")
    for row in rows:
        click.echo(f"{row.id:<32} {row.stage:<10} {row.days_in_stage:>5} {row.pending_approvals:>7}  "
                   f"{_verdict(row.last_verdict)}")


def nothing_found(stored: int, *, stage: str | None = None, mission: str | None = None, what: str = "partnership",
                  hint: str = "`isp list` shows them all") -> str:
    """Why a filtered listing is empty: an empty store, or filters that leave nothing of ``stored``."""
    if not stored:
        return "no partnerships (import some with `isp import FILE`)"
    scope = "".join([f" in stage {stage}" if stage else "", f" of mission {mission}" if mission else ""])
    return f"no {what}{scope} ({stored} stored; {hint})"


def _verdict(verdict) -> str:
    if verdict is None:
        return "-"
    state = "passed" if verdict.passed else f"blocked ({verdict.blocking} blocking)"
    return f"{verdict.gate} {state} as of {verdict.as_of}"


@click.command()
@click.argument("partnership_id", metavar="PARTNERSHIP_ID")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True,
              help="text: for people; json: one object per line, for scripts.")
def show(partnership_id, fmt):
    """One partnership: stage, open approvals, latest findings."""
    from .. import services

    with open_store() as store:
        info = services.show(store, partnership_id)
    if fmt == "json":
        click.echo(json.dumps(info.to_json(), ensure_ascii=False))
        return
    summary = info.summary
    click.echo(f"{summary.id}: {summary.name} ({summary.mission})")
    click.echo(f"stage: {summary.stage} since {summary.stage_entered} ({summary.days_in_stage} days), "
               f"version {summary.version}")
    click.echo(f"last verdict: {_verdict(summary.last_verdict)}")
    for request in info.open_approvals:
        click.echo(f"open approval #{request.request}: {request.from_stage} → {request.to_stage}, "
                   f"requested by {request.requested_by} at {request.requested_at}")
    for finding in info.findings:
        click.echo(f"  [{finding.get('severity', '?')}] {finding.get('rule', '?')}: {finding.get('message', '')}")


@click.command()
@click.argument("partnership_id", metavar="PARTNERSHIP_ID")
def history(partnership_id):
    """What happened to one partnership, oldest first."""
    from .. import services

    with open_store() as store:
        events = services.history(store, partnership_id)
    for event in events:
        detail = f" — {event.detail}" if event.detail else ""
        click.echo(f"{event.at}  {event.event} by {event.by}{detail}")


@click.group(cls=SuggestingGroup)
def audit():
    """The record: the audit chain of every change and refusal, and the store against it."""


@audit.command()
@click.option("--checkpoint", "checkpoint_file", metavar="FILE", type=click.Path(dir_okay=False),
              help="A checkpoint kept outside the database: the log must still hold what it saw.")
def verify(checkpoint_file):
    """Check the record: exit 0 when intact, 1 naming the first bad place.

    \b
    The audit chain; every document version against its recorded digest; each
    partnership's stage, versions, requests, evaluations, decisions and moves
    against what the audit log says happened; with --checkpoint, that no entry
    the checkpoint saw was removed or changed. Needs the audit key (ISP_AUDIT_KEY
    or $ISP_HOME/audit.key), which it never creates (exit 2 without one).
    """
    from ..store.record import verify_store

    with open_store() as store:
        report = verify_store(store, checkpoint_file)
    if not report.ok:
        raise RefusedOperation(str(report))
    click.echo(str(report))


@audit.command()
@click.option("--out", metavar="FILE", type=click.Path(dir_okay=False),
              help="Where to write it (default: a new file under $ISP_HOME/checkpoints/).")
def checkpoint(out):
    """Write a checkpoint of the audit log (entries, head, time, MAC under the audit key).

    Keep it outside the database: `isp audit verify --checkpoint FILE` then detects
    entries removed since. Refused (exit 1) when the chain does not verify; exit 2
    without an audit key (never created here).
    """
    from ..store.record import write_checkpoint

    with open_store() as store:
        path = write_checkpoint(store, out)
    click.echo(str(path))


@click.group(cls=SuggestingGroup)
def db():
    """The store's database."""


@db.command()
def upgrade():
    """Bring the store's schema up to this version of isp (creating it if empty)."""
    from ..store import engine as store_engine

    engine = store_engine.make_engine()
    try:
        before, after = store_engine.upgrade(engine)
    finally:
        engine.dispose()
    if before == after:
        click.echo(f"schema already at revision {after}")
    else:
        click.echo(f"schema upgraded from {before or 'empty'} to revision {after}")

"""`isp import` of many files against what it cannot avoid, on SQLite and PostgreSQL.

    .venv/bin/python -m benchmarks.bench_import [--count 10000] [--runs 5] [--format json|yaml|both]
                                                [--backend sqlite|postgresql|both]

Writes ``--count`` valid documents (``bench_store.generate``, a fixed seed) as JSON files and as
YAML files, then, in alternated runs, times as processes: ``isp check`` of the same files (one
process: reading, validation and every gate's rules) and ``isp import`` of them into a fresh
database, after which ``isp audit verify`` must pass; and, in this process, the baseline a store
cannot go below: a raw ``executemany`` of the same rows (id, canonical JSON, digest) in one
transaction of the same database. Reported: medians, and ``import / (check + executemany)``
(target: at most 2x). The first run's imports are verified (``--verify-every-run``: all).
``--count 500 --runs 1`` is a quick run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from .bench_store import arguments, generate

ISP = str(Path(sys.executable).parent / "isp")
TARGET = 2.0
NO_GATE = "it has no gate to check"  # a closed document (a fifth of them): exit 2, nothing else wrong


def write_files(docs, folder: Path) -> dict[str, list[str]]:
    """Each document as ``.json`` and as ``.yaml`` (as `isp export` writes it)."""
    from isp_lifecycle.cli.store import dump_yaml

    files: dict[str, list[str]] = {"json": [], "yaml": []}
    for doc in docs:
        data = doc.to_data()
        path = folder / f"{doc.id}.json"
        path.write_text(json.dumps(data, indent=2, ensure_ascii=False), "utf-8")
        files["json"].append(str(path))
        path = folder / f"{doc.id}.yaml"
        with path.open("w", encoding="utf-8") as handle:
            dump_yaml(data, handle)
        files["yaml"].append(str(path))
    return files


class Databases:
    """Fresh databases on one backend, each dropped when the benchmark is done with it."""

    def __init__(self, backend: str, pg_server: str, folder: Path) -> None:
        self.backend, self.pg_server, self.folder = backend, pg_server, folder

    def new(self) -> str:
        if self.backend == "sqlite":
            return f"sqlite:///{self.folder / f'isp-{uuid.uuid4().hex[:8]}.db'}"
        import psycopg

        name = f"isp_bench_import_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(f"{self.pg_server}/postgres", autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return f"postgresql+psycopg://{self.pg_server.split('://', 1)[1]}/{name}"

    def drop(self, url: str) -> None:
        if self.backend == "sqlite":
            Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
            return
        import psycopg

        with psycopg.connect(f"{self.pg_server}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def run_isp(args: list[str], env: dict, ok=(0,), said: str | None = None) -> float:
    """Seconds ``isp ARGS`` took; it must end with a status in ``ok``, every line of its
    standard error holding ``said`` (``None``: none at all)."""
    start = time.perf_counter()
    done = subprocess.run([ISP, *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    elapsed = time.perf_counter() - start
    unexpected = [line for line in done.stderr.splitlines() if said is None or said not in line]
    if done.returncode not in ok or unexpected:
        raise SystemExit(f"isp {args[0]} failed (exit {done.returncode}):\n{done.stderr[-2000:]}")
    return elapsed


def executemany(url: str, rows: list[dict]) -> float:
    """The same rows, raw, in one transaction of a fresh table (the engine made untimed)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_baseline (id VARCHAR(63) PRIMARY KEY, document TEXT, sha256 VARCHAR(64))"))
        start = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO bench_baseline VALUES (:id, :document, :sha256)"), rows)
        return time.perf_counter() - start
    finally:
        engine.dispose()


def import_and_verify(files: list[str], databases: Databases, env: dict, verify: bool) -> float:
    """Seconds of ``isp import`` into a fresh database whose schema is made first (untimed, as
    the baseline's table); then, if ``verify``, ``isp audit verify`` (untimed) must pass."""
    url = databases.new()
    try:
        store_env = {**env, "ISP_DATABASE_URL": url}
        run_isp(["db", "upgrade"], store_env)  # the schema, untimed, as the baseline's table
        elapsed = run_isp(["import", *files], store_env)
        if verify:
            run_isp(["audit", "verify"], store_env)
        return elapsed
    finally:
        databases.drop(url)


def main(argv=None) -> None:
    import argparse

    extra = argparse.ArgumentParser(add_help=False)
    extra.add_argument("--runs", type=int, default=5)
    extra.add_argument("--format", choices=["json", "yaml", "both"], default="both")
    extra.add_argument("--verify-every-run", action="store_true",
                       help="isp audit verify after every import, not only the first run's (slow on 10,000)")
    own, rest = extra.parse_known_args(argv)
    args = arguments(__doc__.splitlines()[0], rest)
    formats = ["json", "yaml"] if own.format == "both" else [own.format]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ISP_"))}
    env.update(ISP_AUDIT_KEY="bench", DO_NOT_TRACK="1")

    from isp_lifecycle import services

    print(f"== import benchmarks: {args.count} documents, {own.runs} alternated run(s), medians ==", flush=True)
    docs = list(generate(args.count))
    rows = [{"id": d.id, "document": services.canonical_document(d)} for d in docs]
    rows = [{**r, "sha256": services.sha256_text(r["document"])} for r in rows]
    with tempfile.TemporaryDirectory(prefix="isp-bench-import-") as folder:
        env["ISP_HOME"] = str(Path(folder) / "home")
        files = write_files(docs, Path(folder))
        databases = {b: Databases(b, args.pg, Path(folder)) for b in args.backends}
        times: dict[tuple, list[float]] = {}
        for run in range(own.runs):
            for fmt in formats:
                checked = run_isp(["check", *files[fmt]], env, ok=(0, 1, 2), said=NO_GATE)
                times.setdefault(("check", fmt), []).append(checked)
                for backend, dbs in databases.items():
                    url = dbs.new()
                    try:
                        times.setdefault(("executemany", backend), []).append(executemany(url, rows))
                    finally:
                        dbs.drop(url)
                    imported = import_and_verify(files[fmt], dbs, env, verify=run == 0 or own.verify_every_run)
                    times.setdefault(("import", fmt, backend), []).append(imported)
                    print(f"  run {run + 1} {backend} {fmt}: import {imported:.2f} s, check {checked:.2f} s, "
                          f"executemany {times[('executemany', backend)][-1]:.2f} s", flush=True)
        report(times, formats, args.backends, args.count)
    sys.stdout.flush()


def report(times: dict[tuple, list[float]], formats: list[str], backends: list[str], count: int) -> None:
    median = {key: statistics.median(values) for key, values in times.items()}
    for backend in backends:
        for fmt in formats:
            check, raw, imported = median[("check", fmt)], median[("executemany", backend)], median[("import", fmt, backend)]
            ratio = imported / (check + raw)
            print(f"{backend:<10} {fmt}: isp import {imported:6.2f} s ({count / imported:,.0f} docs/s); "
                  f"isp check {check:6.2f} s + executemany {raw:5.2f} s = {check + raw:6.2f} s; "
                  f"{ratio:.2f}x (target <= {TARGET:g}x) {'ok' if ratio <= TARGET else 'OVER'}; isp audit verify passed")


if __name__ == "__main__":
    main()

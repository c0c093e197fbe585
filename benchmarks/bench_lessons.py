"""The lessons register on a 10,000-partnership store, beside ``isp list`` in the same run.

    .venv/bin/python -m benchmarks.bench_lessons [--count 10000] [--rounds 5]

Every partnership's document has two reviews of two lessons (40,000 lessons in 100 missions).
Timed, in one process on SQLite: ``isp list``'s read view over every partnership (the baseline:
one row per partnership, no document read); the register (``lessons.register``) the first time
(every document read and parsed) and then again (parsed versions kept by digest); one mission;
a mission director's and an admin's page view (``lessons.for_person``); the brief's rendering.
Target: the register, once warm, within 5x of ``isp list``. Medians of ``--rounds``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from dataclasses import replace
from datetime import date


def _with_lessons(docs):
    from isp_lifecycle.document import validate

    out = []
    for i, doc in enumerate(docs):
        data = doc.to_data()
        data["reviews"] = [{"date": f"202{5 + k}-0{1 + i % 9}-1{k}",
                            "lessons": [f"Lesson {j} of review {k} of {doc.id}: keep the partners talking."
                                        for j in range(2)]} for k in range(2)]
        out.append(validate(data))
    return out


def _median(action, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_lessons")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv or [])
    from benchmarks.bench_pages import director, portfolio
    from benchmarks.bench_review import bulk_load
    from isp_lifecycle import lessons, lessons_brief, services
    from isp_lifecycle.identity import Identity
    from isp_lifecycle.settings import Settings
    from isp_lifecycle.store import Store

    with tempfile.TemporaryDirectory(prefix="isp-bench-lessons-") as home:
        os.environ.update(ISP_HOME=home, ISP_AUDIT_KEY="bench")
        url = f"sqlite:///{home}/isp.db"
        bulk_load(url, _with_lessons(portfolio(args.count)))
        store = Store.open(url)
        admin = "admin@mission.example.org"
        settings = replace(Settings.from_env(), admins=frozenset({admin}))
        try:
            start = time.perf_counter()
            found = lessons.register(store)
            cold = time.perf_counter() - start
            times = {
                "isp list (baseline)": _median(lambda: services.list_partnerships(store), args.rounds),
                "register, warm": _median(lambda: lessons.register(store), args.rounds),
                "register, one mission": _median(lambda: lessons.register(store, mission="USAID/M-007"), args.rounds),
                "page view, a director": _median(lambda: lessons.for_person(
                    store, settings, Identity.asserted(director(0))), args.rounds),
                "page view, an admin": _median(lambda: lessons.for_person(
                    store, settings, Identity.asserted(admin)), args.rounds),
                "brief, every mission": _median(lambda: lessons_brief.render(store, date(2027, 1, 1), {}), args.rounds),
            }
        finally:
            store.close()
    base = times["isp list (baseline)"]
    print(f"\nlessons register: {args.count} partnerships, {len(found)} lessons (SQLite, median of {args.rounds})")
    print(f"  {'register, first read':<24} {cold:8.3f} s  {cold / base:6.1f}x baseline")
    for name, seconds in times.items():
        print(f"  {name:<24} {seconds:8.3f} s  {seconds / base:6.1f}x baseline")
    warm = times["register, warm"] / base
    print(f"  target: the warm register within 5x of isp list: {'met' if warm <= 5 else 'NOT met'} ({warm:.1f}x)")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])

"""Run every benchmark: `python -m benchmarks` (make bench)."""

import importlib
import pkgutil
import sys
from pathlib import Path

for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]), key=lambda m: m.name):
    if info.name.startswith("bench_"):
        module = importlib.import_module(f"benchmarks.{info.name}")
        module.main()
        sys.stdout.flush()

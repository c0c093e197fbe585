"""The layers hold: import-linter's contracts (`.importlinter`) and no `_private` name used across modules.

`make test` and `make test-fast` both run these, so a bad import fails the suite the moment
it is written, not when someone notices the start-up of `isp check` grew.
"""

import ast
import subprocess
import sys
from pathlib import Path

from .conftest import ROOT

SHIPPED = ("isp_lifecycle", "flows", "notifications")

CONFIG = ROOT / ".importlinter"


def _contract_ids() -> list[str]:
    return [line.strip()[len("[importlinter:contract:"):-1] for line in CONFIG.read_text().splitlines()
            if line.startswith("[importlinter:contract:")]


def lint_imports() -> subprocess.CompletedProcess:
    args = [str(Path(sys.executable).parent / "lint-imports"), "--no-cache", "--config", str(CONFIG)]
    return subprocess.run(args, capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_the_import_contracts_hold():
    out = lint_imports()
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert f"{len(_contract_ids())} kept, 0 broken" in out.stdout


def _module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(node: ast.ImportFrom, me: str, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = me.split(".")
    base = base[: len(base) - node.level + (1 if is_package else 0)]
    return ".".join(base + ([node.module] if node.module else []))


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def private_uses(path: Path, root: Path = ROOT) -> list[str]:
    """Every ``from m import _x`` and every ``m._x`` on a module ``m`` of ours, as "file: m._x"."""
    me, is_package = _module_name(path, root), path.name == "__init__.py"
    ours: dict[str, str] = {}  # local name -> our module it is bound to
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom):
            source = _resolve(node, me, is_package)
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"{source}.{alias.name}")
                elif source.split(".")[0] in SHIPPED:
                    ours[alias.asname or alias.name] = f"{source}.{alias.name}"
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in SHIPPED and alias.asname:
                    ours[alias.asname] = alias.name
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and _private(node.attr):
            if node.value.id in ours:
                found.append(f"{ours[node.value.id]}.{node.attr}")
    where = path.relative_to(root).as_posix()
    return sorted({f"{where}: {name}" for name in found})


def _shipped_sources() -> list[Path]:
    return sorted(p for package in SHIPPED for p in (ROOT / package).rglob("*.py"))


def test_no_private_name_is_used_outside_its_module():
    found = {use for path in _shipped_sources() for use in private_uses(path)}
    assert sorted(found) == []


def test_the_private_name_scan_sees_both_kinds_of_use_and_not_a_module_of_others(tmp_path):
    sample = tmp_path / "isp_lifecycle" / "cli" / "probe.py"
    sample.parent.mkdir(parents=True)
    sample.write_text("import os\nfrom .. import services\nfrom ..facts import _has\n"
                      "services._hidden()\nos._exit(0)\nself._mine = 1\n")
    assert private_uses(sample, tmp_path) == [
        "isp_lifecycle/cli/probe.py: isp_lifecycle.facts._has",
        "isp_lifecycle/cli/probe.py: isp_lifecycle.services._hidden",
    ]


def test_flows_and_notifications_are_imported_only_as_parts_of_the_package():
    """The wheel installs them as ``isp_lifecycle.flows`` and ``isp_lifecycle.notifications``
    (claiming no generic top-level names); a top-level import would work only in a checkout."""
    tests_and_benchmarks = sorted((ROOT / "tests").rglob("*.py")) + sorted((ROOT / "benchmarks").rglob("*.py"))
    found = []
    for path in _shipped_sources() + tests_and_benchmarks:
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else \
                [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            found += [f"{path.relative_to(ROOT)}: {name}" for name in names
                      if name.split(".")[0] in ("flows", "notifications")]
    assert found == []

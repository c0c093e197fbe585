"""The web layer imports the services, never the store's tables (design.md: "web imports
services, not tables"); the CLI's client path imports neither Prefect nor the store."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "isp_lifecycle" / "web"


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = "isp_lifecycle." * (node.level > 0) + "." * max(node.level - 2, 0) + (node.module or "")
            found |= {base} | {f"{base}.{alias.name}" for alias in node.names}
    return found


def test_no_module_of_the_web_layer_imports_the_store_tables():
    modules = sorted(WEB.glob("*.py"))
    assert modules
    for path in modules:
        assert not any("store.models" in name for name in _imports(path)), path.name


def test_the_client_path_imports_neither_prefect_nor_sqlalchemy():
    code = ("import sys\nimport isp_lifecycle.cli.remote, isp_lifecycle.client\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'prefect', 'sqlalchemy', 'fastapi'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"

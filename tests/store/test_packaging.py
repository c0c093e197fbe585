import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.parent


@pytest.mark.slow
def test_the_wheel_carries_the_migrations_so_an_installed_isp_can_create_its_store(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = tmp_path.glob("isp_lifecycle-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    migrations = {p.relative_to(ROOT).as_posix() for p in (ROOT / "isp_lifecycle/store/migrations").rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts}
    assert {"isp_lifecycle/store/migrations/env.py", "isp_lifecycle/store/migrations/script.py.mako"} <= migrations
    assert migrations <= names
    assert "isp_lifecycle/cli/store.py" in names

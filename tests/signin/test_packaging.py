import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent.parent


@pytest.mark.slow
def test_the_wheel_carries_the_sign_in_pages_and_message(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(ROOT)],
                   check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("isp_lifecycle-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    pages = {f"isp_lifecycle/web/templates/{p.name}" for p in (ROOT / "isp_lifecycle/web/templates").glob("*.html")}
    assert "isp_lifecycle/web/templates/link.html" in pages and pages <= names
    assert {f"isp_lifecycle/notifications/templates/sign-in-link/{part}" for part in ("subject.txt", "body.txt", "body.html")} <= names
    assert "isp_lifecycle/store/migrations/versions/0006_signin.py" in names

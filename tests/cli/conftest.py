"""CLI tests run `isp` in subprocesses on a fresh ISP_HOME (SQLite), the embedded default:
no `isp serve`, no PREFECT_API_URL, no service or token."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
KE = str(FIXTURES / "ke-water-kisumu.yaml")
GH = str(FIXTURES / "gh-mnh-north.yaml")
TAMALE = str(FIXTURES / "healthy-convene.yaml")

# Runs the CLI in a fresh interpreter and reports, on stderr's last line, whether Prefect was imported.
PROBE = ("import sys\nfrom isp_lifecycle.cli import main\ncode = main(sys.argv[1:])\n"
         "print('prefect imported:', 'prefect' in sys.modules, file=sys.stderr)\nsys.exit(code)\n")


class Home:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ISP_"))}
        self.env.update(ISP_HOME=str(path), ISP_AUDIT_KEY="cli-test-key", ISP_USER="tester@mission.example.org",
                        DO_NOT_TRACK="1")

    def isp(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        done = subprocess.run([sys.executable, "-c", PROBE, *args], env=self.env, capture_output=True, text=True,
                              timeout=timeout)
        assert "Traceback" not in done.stderr, done.stderr
        return done

    def isp_python(self, code: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", code], env=self.env, capture_output=True, text=True, timeout=120)


@pytest.fixture
def home(tmp_path) -> Home:
    return Home(tmp_path / "home")


@pytest.fixture
def stocked(home) -> Home:
    """A home holding the three fixture partnerships."""
    assert home.isp("import", KE, GH, TAMALE).returncode == 0
    return home

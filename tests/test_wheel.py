"""The installed package, not only the checkout, carries the rule files and checks documents."""

import subprocess
import sys
import venv
import zipfile

import pytest

from .conftest import FIXTURES, ROOT


@pytest.mark.slow
def test_a_wheel_installed_in_a_fresh_environment_checks_both_examples(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(ROOT)], check=True, timeout=300)
    (wheel,) = dist.glob("isp_lifecycle-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "isp_lifecycle/rules/convene/ISP101-sector-without-partner.yaml" in names
    assert "isp_lifecycle/rules/vocabularies.yaml" in names

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    pip = env_dir / "bin" / "pip"
    subprocess.run([str(pip), "install", "-q", "--disable-pip-version-check", "-c", str(ROOT / "constraints.txt"),
                    str(wheel)], check=True, timeout=900)
    work = tmp_path / "elsewhere"  # not the checkout: only the installed files can be found
    work.mkdir()
    isp = env_dir / "bin" / "isp"
    gh = subprocess.run([str(isp), "check", "--as-of", "2026-11-27", str(FIXTURES / "gh-mnh-north.yaml")],
                        cwd=work, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(work)})
    ke = subprocess.run([str(isp), "check", "--as-of", "2026-11-27", "--format", "json",
                         str(FIXTURES / "ke-water-kisumu.yaml")],
                        cwd=work, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", "HOME": str(work)})
    assert gh.returncode == 0, gh.stderr
    assert "PASSED" in gh.stdout
    assert ke.returncode == 1, ke.stderr
    assert '"passed": false' in ke.stdout

import socket
from pathlib import Path

import pytest

from .conftest import GH

pytestmark = pytest.mark.slow  # runs `isp` in subprocesses (make test runs it; make test-fast does not)


def test_an_import_that_would_move_the_stage_is_refused_and_names_isp_export(stocked, tmp_path):
    moved = tmp_path / "moved.yaml"
    moved.write_text(Path(GH).read_text().replace("stage: implement", "stage: review"))
    done = stocked.isp("import", str(moved))
    assert done.returncode == 1
    assert "`isp export gh-mnh-north`" in done.stderr.splitlines()[0]


def test_a_blocked_gate_whose_message_could_not_be_delivered_says_queued_not_sent(stocked):
    stocked.env.update(ISP_CHANNELS="smtp", ISP_SMTP_HOST="127.0.0.1", ISP_SMTP_PORT=str(_closed_port()))
    done = stocked.isp("advance", "ke-water-kisumu", "--as", "otieno@kisumuwater.example.org")
    assert done.returncode == 1
    first = done.stdout.splitlines()[0]
    assert "queued for the leaders" in first and "sent" not in first


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _busy(port_holder: socket.socket) -> int:
    port_holder.bind(("127.0.0.1", 0))
    port_holder.listen(1)
    return port_holder.getsockname()[1]


def test_serve_on_a_busy_prefect_port_names_the_port_and_the_option(home):
    with socket.socket() as holder:
        port = _busy(holder)
        done = home.isp("serve", "--prefect-port", str(port), "--web-port", "0", timeout=120)
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is not free for the Prefect server" in done.stderr
    assert "--prefect-port" in done.stderr


def test_serve_on_a_busy_web_port_names_the_port_and_the_option(home):
    home.env["PREFECT_API_URL"] = f"http://127.0.0.1:{_closed_port()}/api"  # no local Prefect server is started
    with socket.socket() as holder:
        port = _busy(holder)
        done = home.isp("serve", "--web-port", str(port), timeout=120)
    assert done.returncode == 1
    assert f"port {port} on 127.0.0.1 is not free for the web application" in done.stderr
    assert "--web-port" in done.stderr

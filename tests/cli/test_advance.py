import pytest

from .conftest import GH, KE, TAMALE, Home

pytestmark = pytest.mark.slow  # runs `isp` in subprocesses (make test runs it; make test-fast does not)

KE_BLOCKED = [
    "ke-water-kisumu: the convene gate is BLOCKED; the findings are recorded; sent to the leaders.",
    "  ISP101 [convene-stakeholders] sectors.private: No business (private) partner has been convened.",
]


def test_a_blocked_gate_on_the_embedded_default_is_recorded_and_told_without_importing_prefect(stocked):
    done = stocked.isp("advance", "ke-water-kisumu", "--as", "otieno@kisumuwater.example.org")
    assert done.returncode == 1, done.stderr
    assert done.stdout.splitlines()[:2] == KE_BLOCKED
    assert done.stderr.splitlines()[-1] == "prefect imported: False"
    history = stocked.isp("history", "ke-water-kisumu").stdout
    assert "convene gate blocked by otieno@kisumuwater.example.org" in history
    messages = stocked.isp("notifications", "list").stdout
    assert "gate-blocked" in messages and "ke-water-kisumu" in messages


def test_a_blocked_gate_does_not_open_an_approval_request(stocked):
    stocked.isp("advance", "ke-water-kisumu", "--as", "otieno@kisumuwater.example.org")
    assert "No approval request is waiting." in stocked.isp("pending").stdout


def _effects(home: Home) -> tuple[list[str], list[str]]:
    history = [line.split("  ", 1)[1] for line in home.isp("history", "ke-water-kisumu").stdout.splitlines()]
    messages = [" ".join(line.split()[1:]) for line in home.isp("notifications", "list").stdout.splitlines()]
    return history, messages


@pytest.mark.slow
def test_a_blocked_gate_leaves_the_same_store_effects_and_output_as_the_workflow_does(tmp_path, prefect_server, stocked):
    through_flow = Home(tmp_path / "flow-home")
    through_flow.env["PREFECT_API_URL"] = prefect_server.url
    through_flow.isp("import", KE, GH, TAMALE)
    here = stocked.isp("advance", "ke-water-kisumu", "--as", "otieno@kisumuwater.example.org", "--as-of", "2026-11-30")
    flow = through_flow.isp("advance", "ke-water-kisumu", "--as", "otieno@kisumuwater.example.org",
                            "--as-of", "2026-11-30", timeout=300)
    assert (here.returncode, here.stdout) == (flow.returncode, flow.stdout) == (1, here.stdout)
    assert flow.stderr.splitlines()[-1] == "prefect imported: True"  # the comparison really ran the workflow
    assert _effects(stocked) == _effects(through_flow)

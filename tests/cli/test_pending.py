import json

import pytest

pytestmark = pytest.mark.slow  # runs `isp` in subprocesses (make test runs it; make test-fast does not)

DIRECTOR = "kboateng@mission.example.org"
DELEGATE = "eowusu@mission.example.org"
OLD_KEYS = ["request", "partnership", "name", "from", "to", "requested_by", "requested_at", "age_days"]


@pytest.fixture
def waiting(stocked):
    """tamale-health (USAID/Ghana) waits for a decision; the request is opened through the
    approvals core, as the workflow's first step does."""
    done = stocked.isp_python(
        "from isp_lifecycle.store import Store\nfrom isp_lifecycle import approvals\n"
        "with Store.open() as s:\n"
        "    assert approvals.open_request(s, 'tamale-health', requested_by='ama@ghs.example.org').request_id\n")
    assert done.returncode == 0, done.stderr
    return stocked


def test_pending_shows_a_header_the_name_the_mission_and_who_may_decide(waiting):
    lines = waiting.isp("pending").stdout.splitlines()
    assert lines[0].split()[:5] == ["REQUEST", "AGE", "PARTNERSHIP", "MISSION", "MOVE"]
    assert "tamale-health" in lines[2] and "USAID/Ghana" in lines[2]
    assert "ama@ghs.example.org" in lines[2]
    assert lines[3].split() == ["Tamale", "Maternal", "Health", "Partnership;", "may", "decide:", f"{DIRECTOR},",
                                DELEGATE]


def test_pending_json_keeps_its_keys_in_order_and_adds_mission_and_approvers(waiting):
    (line,) = waiting.isp("pending", "--format", "json").stdout.splitlines()
    row = json.loads(line)
    assert list(row)[:len(OLD_KEYS)] == OLD_KEYS
    assert (row["mission"], row["approvers"]) == ("USAID/Ghana", [DIRECTOR, DELEGATE])


def test_pending_filters_by_mission_ignoring_case_and_says_when_none_waits_there(waiting):
    assert "tamale-health" in waiting.isp("pending", "--mission", "usaid/GHANA").stdout
    assert waiting.isp("pending", "--mission", "usaid/kenya").stdout == "No approval request is waiting in mission USAID/Kenya.\n"


def test_pending_refuses_an_unknown_mission_with_exit_2(waiting):
    done = waiting.isp("pending", "--mission", "USAID/Nowhere")
    assert done.returncode == 2 and "known missions: USAID/Ghana, USAID/Kenya" in done.stderr

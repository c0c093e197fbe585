"""User templates over their limits (time, output size, or failing any way): that message is
marked failed with the reason, the others are delivered, and check-templates says so first."""

from __future__ import annotations

import pytest

from isp_lifecycle.cli import main
from isp_lifecycle.notifications import limits, render
from isp_lifecycle.notifications.deliver import deliver_pending

from .helpers import T0, moved, rows

OVER_TIME = "{% set l = range(99999)|list %}{% for a in l %}{% for b in l %}{% endfor %}{% endfor %}"
OVER_TIME_CALLS = "{% for i in range(99999) %}{% for j in range(99999) %}{{ j|string|length }}{% endfor %}{% endfor %}"
OVER_SIZE_MULTIPLY = "{{ 'a' * 1000000000 }}"
OVER_SIZE_STREAMED = "{% for i in range(99999) %}{{ partnership.name }}{% endfor %}"
OVER_SIZE_WIDTH = "{{ partnership.name|center(1000000000) }}"
OVER_SIZE_FORMAT = "{{ '%0999999999d' % 1 }}"
OVER_RANGE = "{% for i in range(200000) %}x{% endfor %}"

CASES = {
    "a loop without calls past the time limit": (OVER_TIME, "rendering took longer than the limit of"),
    "a loop of calls past the time limit": (OVER_TIME_CALLS, "rendering took longer than the limit of"),
    "a string repeated past the output limit": (OVER_SIZE_MULTIPLY, "over the output limit"),
    "output streamed past the output limit": (OVER_SIZE_STREAMED, "over the output limit"),
    "a filter width past the output limit": (OVER_SIZE_WIDTH, "over the output limit"),
    "a format width past the output limit": (OVER_SIZE_FORMAT, "over the output limit"),
    "a range the sandbox refuses": (OVER_RANGE, "Range too big"),
}


def user_templates(tmp_path, body: str):
    folder = tmp_path / "templates"
    (folder / "stage-moved").mkdir(parents=True)
    (folder / "stage-moved" / "body.txt").write_text(body)
    render.environment.cache_clear()
    return folder


@pytest.mark.parametrize("case", [pytest.param(c, marks=pytest.mark.slow) if "time" in c else c for c in CASES])
def test_a_template_over_a_limit_fails_its_own_messages_and_the_others_are_delivered(
        store, smtp, tmp_path, monkeypatch, case):
    body, reason = CASES[case]
    monkeypatch.setattr(limits, "MAX_SECONDS", 1.0)  # six messages over time: seconds, not minutes
    monkeypatch.setenv("ISP_CHANNELS", "smtp")
    monkeypatch.setenv("ISP_TEMPLATES_DIR", str(user_templates(tmp_path, body)))
    moved(store)  # 5 approval messages, then 6 stage-moved ones
    report = deliver_pending(store, now=T0, respect_backoff=False)
    assert (report.sent, report.failed, report.pending) == (5, 6, 0)
    assert {m["X-ISP-Event"] for m in smtp.messages} == {"approval-requested", "approval-approved"}
    failed = [r for r in rows(store) if r.status == "failed"]
    assert {r.event for r in failed} == {"stage-moved"}
    assert all(reason in r.failure_reason and r.failure_reason.startswith("cannot render") for r in failed)


@pytest.mark.parametrize("case", list(CASES))
def test_check_templates_reports_a_template_over_a_limit_before_anything_is_sent(tmp_path, capsys, case):
    body, reason = CASES[case]
    if "time" in case:
        reason = f"longer than the limit of {limits.MAX_SECONDS:g} s"
    folder = user_templates(tmp_path, body)
    assert main(["notifications", "check-templates", str(folder)]) == 1
    err = capsys.readouterr().err
    assert "stage-moved" in err and reason in err


def test_a_limit_breach_in_one_message_leaves_the_next_render_unlimited_by_it():
    """The watchdog of a message over time is disarmed: nothing fires into what follows."""
    env = limits.LimitedSandbox()
    limits.harden(env)
    template = env.from_string(OVER_TIME)
    with pytest.raises(limits.LimitExceeded):
        with limits.budget(0.2, 1000, watchdog=True):
            template.render()
    import time

    time.sleep(0.4)
    assert env.from_string("{{ 1 + 1 }}").render() == "2"

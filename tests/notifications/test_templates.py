"""Every event's templates, compared with committed golden files.

To regenerate the goldens after changing a template on purpose (then read the diff):

    ISP_REGEN_GOLDEN=1 .venv/bin/python -m pytest tests/notifications/test_templates.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from isp_lifecycle.cli import main
from isp_lifecycle.outbox import EVENTS
from isp_lifecycle.notifications import render
from isp_lifecycle.notifications.samples import PAYLOADS, READERS, samples

GOLDEN = Path(__file__).with_name("golden")
REGENERATE = os.environ.get("ISP_REGEN_GOLDEN") == "1"


def rendered_email(event: str) -> render.Rendered:
    (name, ctx), _webhook = samples(event)
    return render.render(event, ctx)


@pytest.mark.parametrize("event", EVENTS)
@pytest.mark.parametrize("part", ["txt", "html"])
def test_each_event_renders_as_its_golden_file(event, part):
    r = rendered_email(event)
    actual = f"Subject: {r.subject}\n\n{r.text}" if part == "txt" else r.html
    golden = GOLDEN / f"{event}.{part}"
    if REGENERATE:
        golden.write_text(actual, encoding="utf-8")
    assert actual == golden.read_text(encoding="utf-8"), f"regenerate with ISP_REGEN_GOLDEN=1 if {golden.name} changed on purpose"


@pytest.mark.parametrize("event", EVENTS)
def test_a_webhook_post_with_no_single_reader_renders_for_every_event(event):
    _email, (_name, ctx) = samples(event)
    r = render.render(event, ctx)
    assert r.subject and "Dear" not in r.text and "Hello," in r.text


def test_the_goldens_hold_one_text_and_one_html_file_per_event_and_nothing_else():
    assert sorted(p.name for p in GOLDEN.iterdir()) == sorted(f"{e}.{x}" for e in EVENTS for x in ("txt", "html"))


def test_blocked_gate_findings_are_grouped_by_principle_with_the_handbook_quote_and_the_remedy():
    text = rendered_email("gate-blocked").text
    small_steps = text.index("Long-term commitment, small steps")
    # both small-steps findings sit under one heading, before the next principle
    assert text.count("Long-term commitment, small steps") == 1
    assert small_steps < text.index("has no milestone") < text.index("No milestone is done") < text.index("Local ownership")
    assert 'The handbook: "Proceed in small steps."' in text
    assert "What to do: Break every initiative into milestones" in text
    assert "27 November 2026" in text and "2026-11-27" not in text
    assert "Northern Ghana Maternal and Newborn Health Partnership" in text


def test_an_approval_request_links_the_director_to_the_decision_page_and_gives_no_command():
    r = rendered_email("approval-requested")
    link = "https://isp.mission.example.org/approvals/7"
    assert link in r.text.splitlines()  # on a line of its own, nothing secret in it
    assert f'href="{link}"' in r.html
    for body in (r.text, r.html):
        assert "isp approve" not in body and "--as" not in body


def test_reminders_escalations_and_the_gate_blocked_message_lead_to_their_pages():
    assert "https://isp.mission.example.org/approvals/7" in rendered_email("approval-reminder").text.splitlines()
    assert "https://isp.mission.example.org/approvals/7" in rendered_email("approval-escalated").text.splitlines()
    assert "https://isp.mission.example.org/partnerships/gh-mnh-north" in rendered_email("gate-blocked").text.splitlines()
    assert "https://isp.mission.example.org/portfolio" in rendered_email("review-digest").text.splitlines()


def test_links_follow_isp_web_url_and_a_partnership_id_is_quoted():
    links = render.links("approval-requested", {"request": 3}, "a b/c", "https://x.example")
    assert links["decide"] == "https://x.example/approvals/3"
    assert links["partnership"] == "https://x.example/partnerships/a%20b%2Fc"
    assert "decide" not in render.links("approval-requested", {"request": "3; drop"}, "p", "https://x.example")


def test_a_leader_told_of_an_escalation_is_not_shown_a_command_with_their_own_address():
    r = rendered_email("approval-escalated")
    assert READERS["approval-escalated"]["role"] == "leader"
    assert "--as ama.mensah" not in r.text and "The mission director or a delegate decides" in r.text


def test_an_html_injection_in_a_partners_name_comes_out_escaped_in_html_and_verbatim_in_text():
    evil = '<script>alert("x")</script> & <b>Co</b>'
    payload = {**PAYLOADS["review-digest"]}
    payload["partnerships"] = [{**payload["partnerships"][0], "partnership_name": evil}]
    reader = READERS["review-digest"]
    ctx = render.context("review-digest", {**payload, "recipient": reader}, recipient=reader, partnership_id=None)
    r = render.render("review-digest", ctx)
    assert "<script>" not in r.html and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;Co&lt;/b&gt;" in r.html
    assert evil in r.text


def test_a_value_missing_from_the_payload_is_an_error_not_an_empty_gap():
    payload = {k: v for k, v in PAYLOADS["stage-moved"].items() if k != "stage_entered"}
    ctx = render.context("stage-moved", payload, recipient=None, partnership_id="gh-mnh-north")
    with pytest.raises(render.TemplateProblem, match="stage_entered"):
        render.render("stage-moved", ctx)


def test_a_user_template_replaces_the_shipped_one_of_that_name_and_the_rest_stay(tmp_path):
    (tmp_path / "stage-moved").mkdir()
    (tmp_path / "stage-moved" / "subject.txt").write_text("Now in {{ payload.to | stage_name }}: {{ partnership.name }}")
    _email, _ = samples("stage-moved")
    r = render.render("stage-moved", _email[1], user_dir=str(tmp_path))
    assert r.subject == "Now in Review: Northern Ghana Maternal and Newborn Health Partnership"
    assert r.text == rendered_email("stage-moved").text


@pytest.mark.parametrize("attack", [
    "{{ ''.__class__.__mro__ }}",
    "{{ payload.__class__.__init__.__globals__ }}",
    "{{ payload.clear() }}",
])
def test_a_user_template_reaching_for_python_internals_is_refused_and_check_templates_exits_non_zero(
    tmp_path, attack, capsys
):
    (tmp_path / "gate-blocked").mkdir()
    (tmp_path / "gate-blocked" / "subject.txt").write_text(f"Blocked {attack}")
    _email, _ = samples("gate-blocked")
    with pytest.raises(render.TemplateProblem):
        render.render("gate-blocked", _email[1], user_dir=str(tmp_path))
    assert main(["notifications", "check-templates", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "gate-blocked" in err and ("unsafe" in err or "sandbox" in err)


def test_check_templates_accepts_good_user_templates_and_names_a_file_isp_would_never_use(tmp_path, capsys):
    (tmp_path / "gate-blocked").mkdir()
    (tmp_path / "gate-blocked" / "subject.txt").write_text("{{ partnership.name }} is blocked")
    assert main(["notifications", "check-templates", str(tmp_path)]) == 0
    (tmp_path / "gate-blocked" / "subjcet.txt").write_text("typo")
    assert main(["notifications", "check-templates", str(tmp_path)]) == 1
    assert "gate-blocked/subjcet.txt: not a template isp uses" in capsys.readouterr().err


def test_check_templates_reads_isp_templates_dir_and_reports_a_syntax_error_with_its_line(tmp_path, monkeypatch, capsys):
    (tmp_path / "health-alert").mkdir()
    (tmp_path / "health-alert" / "body.txt").write_text("line one\n{% if %}\n")
    monkeypatch.setenv("ISP_TEMPLATES_DIR", str(tmp_path))
    assert main(["notifications", "check-templates"]) == 1
    assert "health-alert/body.txt:2" in capsys.readouterr().err
    assert main(["notifications", "check-templates", str(tmp_path / "missing")]) == 2


def test_dates_in_words_read_as_people_write_them():
    assert render.date_words("2026-11-27") == "27 November 2026"
    assert render.date_words("2026-12-02T10:15:00") == "2 December 2026 at 10:15 UTC"

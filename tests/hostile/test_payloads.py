"""Message shapes for each destination, built from one outbox row: email headers by the
header registry, Slack Block Kit, Teams Adaptive Cards."""

from __future__ import annotations

from datetime import datetime
from email import message_from_bytes
from email.policy import default as default_policy

import pytest

from isp_lifecycle.notifications.channels import DeliveryFailed, Outgoing, webhook_body
from isp_lifecycle.notifications.render import Rendered

SUBJECT = "Partenariat de santé maternelle du Nord du Ghana: votre décision est demandée, de Convene à Commit"


def row(subject=SUBJECT, text="Body.\n", recipient="ama@ghs.example.org", name="Ama Ménsah, Jr.", **payload):
    return Outgoing(key="k1", event="approval-requested", recipient=recipient, partnership_id="gh-mnh-north",
                    created_at=datetime(2026, 12, 2, 9, 30), rendered=Rendered(subject, text, "<p>Body.</p>\n"),
                    payload={"recipient": {"email": recipient, "name": name}, "from": "convene", "to": "commit",
                             **payload})


def test_a_long_non_ascii_subject_and_display_name_read_back_exactly_as_written():
    message = message_from_bytes(row().as_bytes(), policy=default_policy)
    assert str(message["Subject"]) == SUBJECT  # folded and encoded by the policy, unfolded without artefacts
    (to,) = message["To"].addresses
    assert (to.display_name, to.addr_spec) == ("Ama Ménsah, Jr.", "ama@ghs.example.org")
    assert message["From"].addresses[0].display_name == "isp-lifecycle"
    head = row().as_bytes().split(b"\r\n\r\n")[0].split(b"\r\n")
    assert all(len(line) <= 78 for line in head if not line.startswith(b"Message-ID:"))  # folded, not cut


@pytest.mark.parametrize("recipient", ["x,victim@evil.example.org", "a<b>;c@evil.example.org", "a@b.example.org\n"])
def test_a_recipient_that_is_not_one_address_is_refused_for_good(recipient):
    with pytest.raises(DeliveryFailed) as refused:
        row(recipient=recipient).as_bytes()
    assert refused.value.permanent


def test_a_subject_with_line_breaks_stays_one_header():
    raw = row(subject="Hello\r\nBcc: victim@evil.example.org").as_bytes()
    message = message_from_bytes(raw, policy=default_policy)
    assert message["Bcc"] is None and str(message["Subject"]) == "Hello Bcc: victim@evil.example.org"


def test_teams_gets_an_open_url_action_only_for_a_web_link():
    card = webhook_body(row(link="https://isp.example.org/approvals/7"), "teams")["attachments"][0]["content"]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open", "url": "https://isp.example.org/approvals/7"}]
    assert card["body"][0]["text"] == SUBJECT
    assert {"title": "From", "value": "convene"} in card["body"][1]["facts"]
    hostile = webhook_body(row(link="javascript:alert(1)"), "teams")["attachments"][0]["content"]
    assert "actions" not in hostile


def test_slack_text_longer_than_a_section_is_split_into_sections():
    body = webhook_body(row(text="word " * 2000 + "<!here>", link="https://isp.example.org/p/1"), "slack")
    sections = [b for b in body["blocks"] if b["type"] == "section"]
    assert len(sections) == 5 and all(len(s["text"]["text"]) <= 3000 for s in sections)
    assert sections[-1]["text"]["text"].endswith("&lt;!here&gt;")
    assert body["blocks"][-1]["elements"][0]["url"] == "https://isp.example.org/p/1"


@pytest.mark.parametrize("pages, expected", [
    ({"inbox": "https://isp.example.org/inbox", "partnership": "https://isp.example.org/partnerships/gh-mnh-north",
      "decide": "https://isp.example.org/approvals/7"}, "https://isp.example.org/approvals/7"),
    ({"inbox": "https://isp.example.org/inbox", "portfolio": "https://isp.example.org/portfolio"},
     "https://isp.example.org/portfolio"),
    ({"inbox": "https://isp.example.org/inbox", "partnership": "https://isp.example.org/partnerships/gh-mnh-north"},
     "https://isp.example.org/partnerships/gh-mnh-north"),
])
def test_teams_and_slack_open_the_page_the_message_is_about(pages, expected):
    card = webhook_body(row(links=pages), "teams")["attachments"][0]["content"]
    assert card["actions"] == [{"type": "Action.OpenUrl", "title": "Open", "url": expected}]
    (actions,) = [b for b in webhook_body(row(links=pages), "slack")["blocks"] if b["type"] == "actions"]
    assert actions["elements"][0]["url"] == expected


def test_a_message_with_only_the_inbox_link_gets_no_button():
    body = webhook_body(row(links={"inbox": "https://isp.example.org/inbox"}), "slack")
    assert [b for b in body["blocks"] if b["type"] == "actions"] == []

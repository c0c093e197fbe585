"""What partner contacts are sent: in plain words, what their stage asks of them and whom to
contact, never a command to run (they have no command line; the leaders and the mission do)."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest
from sqlalchemy import select

from isp_lifecycle import approvals, outbox, services
from isp_lifecycle.notifications import render
from isp_lifecycle.notifications.samples import CONTACT, LEADER, PAYLOADS, WEB_URL, samples
from isp_lifecycle.store.models import Notification

from .conftest import doc

# A command to run: `isp check`, `isp advance ID`, an option such as --as, anything in backticks.
CLI = re.compile(r"\bisp\s+[a-z]|(?<![\w-])--[a-z]|`")
TO = ("commit", "implement", "review", "closed")  # where a partnership can move to


def partner_events() -> list[str]:
    """Every event whose recipients include the partners' contacts (``outbox.RULES``), and the
    sign-in link, which anyone with a page to read asks for, partner contacts too."""
    return sorted({event for event, groups in outbox.RULES.items() if outbox.CONTACTS in groups} | {"sign-in-link"})


def rendered_for_partners(event: str):
    """(what, rendered) for the event's samples, to a contact and as a webhook post, and for
    stage-moved to every stage a partnership can move to, with and without leaders."""
    payloads = [PAYLOADS[event]]
    if event == "stage-moved":
        payloads = [{**PAYLOADS[event], "to": to, **extra} for to in TO for extra in ({}, {"leaders": []})]
    for name, ctx in samples(event):
        yield f"{event} (sample {name})", render.render(event, ctx)
    reader = {**CONTACT} if event != "sign-in-link" else {**CONTACT, "role": "sign-in"}
    for payload in payloads:
        for who in (reader, None):  # an email to a contact; the webhook post
            ctx = render.context(event, {**payload, "recipient": who} if who else payload, recipient=who,
                                 partnership_id=payload.get("partnership"), web_url=WEB_URL)
            yield f"{event} ({'to a contact' if who else 'webhook'}, {payload.get('to', '')})", render.render(event, ctx)


def _words(html: str) -> str:
    return re.sub(r"<[^>]+>", " ", html)


def test_the_check_finds_the_command_line_instructions_partners_used_to_be_sent():
    assert CLI.search("`isp check` on the partnership document shows where it stands")
    assert CLI.search("ask again with isp advance gh-mnh-north") and CLI.search("isp approve X --reject")
    assert not CLI.search("isp-lifecycle, for the partnership -- \nhttps://isp.mission.example.org/partnerships/x")


def test_the_partner_facing_events_are_found_from_the_recipient_rules():
    assert "stage-moved" in partner_events() and "gate-blocked" not in partner_events()


@pytest.mark.parametrize("event", partner_events())
def test_no_message_a_partner_contact_can_receive_tells_them_to_run_a_command(event):
    for what, r in rendered_for_partners(event):
        for part, text in (("subject", r.subject), ("text", r.text), ("html", _words(r.html))):
            found = CLI.search(text)
            assert not found, f"{what} {part}: {text[max(0, found.start() - 60):found.end() + 60]!r}"


@pytest.mark.parametrize("to", TO[:-1])
def test_a_move_tells_the_partners_what_the_new_stage_asks_and_names_the_leader_to_contact(to):
    ctx = render.context("stage-moved", {**PAYLOADS["stage-moved"], "to": to}, recipient=CONTACT,
                         partnership_id="gh-mnh-north", web_url=WEB_URL)
    r = render.render("stage-moved", ctx)
    asks = re.search(r"What this asks of your organization: (.+)", r.text).group(1)
    assert asks.startswith(f"The {to.capitalize()} stage ") and len(asks) > 150
    assert f"contact the partnership's leader: {LEADER['name']} ({LEADER['email']})" in r.text
    assert f'<a href="mailto:{LEADER["email"]}">' in r.html
    assert f"{WEB_URL}/partnerships/gh-mnh-north" in r.text


def test_a_move_queued_before_leaders_were_in_its_payload_still_renders_and_points_to_the_leaders():
    payload = {k: v for k, v in PAYLOADS["stage-moved"].items() if k != "leaders"}
    ctx = render.context("stage-moved", payload, recipient=CONTACT, partnership_id="gh-mnh-north", web_url=WEB_URL)
    assert "contact the partnership's leaders." in render.render("stage-moved", ctx).text


def test_a_real_move_queues_the_partnership_name_and_its_leaders_for_the_partners_message(store):
    document = doc()
    services.import_document(store, document)
    moment = datetime(2026, 11, 27, 9, 0)
    request_id = approvals.open_request(store, "gh-mnh-north", requested_by=document.leaders[0].email,
                                        as_of=moment.date(), clock=lambda: moment).request_id
    approvals.take_decision(store, request_id, approver=document.mission_director.email, approve=True)
    approvals.apply_decision(store, request_id)
    with store.sessions() as session:
        rows = session.scalars(select(Notification).where(Notification.event == "stage-moved")).all()
    assert {row.recipient for row in rows} == {c.email for p in document.partners for c in p.contacts}
    payload = rows[0].payload if isinstance(rows[0].payload, dict) else json.loads(rows[0].payload)
    assert payload["partnership_name"] == document.name
    assert payload["leaders"] == [{"name": p.name, "email": p.email} for p in document.leaders]
    r = render.render("stage-moved", render.context("stage-moved", payload, recipient=CONTACT,
                                                    partnership_id="gh-mnh-north", web_url=WEB_URL))
    assert document.name in r.subject and document.leaders[0].email in r.text and not CLI.search(r.text)

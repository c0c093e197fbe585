"""Sample messages of every event: the payload each event's producer queues, made concrete.

They are what ``check-templates`` renders user templates against, what the golden tests
compare, and the documentation of each payload's shape (``docs/notifications.md``).
"""

from __future__ import annotations

from typing import Any

from .render import context

PARTNERSHIP = {"partnership": "gh-mnh-north", "partnership_name": "Northern Ghana Maternal and Newborn Health Partnership"}
DIRECTOR = {"email": "kboateng@mission.example.org", "name": "Kwame Boateng", "role": "director"}
DELEGATE = {"email": "eowusu@mission.example.org", "name": "Efua Owusu", "role": "delegate"}
LEADER = {"email": "ama.mensah@ghs.example.org", "name": "Ama Mensah", "role": "leader"}
CONTACT = {"email": "hawa.issah@nmwa.example.org", "name": "Hawa Issah", "role": "contact"}

FINDINGS = [
    {"rule": "ISP301", "principle": "long-term-small-steps", "severity": "blocking", "subject": "initiatives",
     "message": "Initiative 'referral-hotline' has no milestone.",
     "remediation": "Break every initiative into milestones with due dates (`initiatives[].milestones`).",
     "quote": "Proceed in small steps."},
    {"rule": "ISP303", "principle": "local-ownership", "severity": "blocking", "subject": "initiatives",
     "message": "No initiative is led by a local partner.",
     "remediation": "Let a local partner lead at least one initiative (`initiatives[].lead`).",
     "quote": "The more local ownership, the greater the chance of success."},
    {"rule": "ISP302", "principle": "long-term-small-steps", "severity": "blocking", "subject": "initiatives",
     "message": "No milestone is done yet.",
     "remediation": "Record the date each finished milestone was done (`milestones[].done`).",
     "quote": "Proceed in small steps."},
    {"rule": "ISP306", "principle": "share-information", "severity": "advisory", "subject": "dissemination",
     "message": "Nothing has been disseminated.",
     "remediation": "Share what the partnership learns with local and international audiences (`dissemination`).",
     "quote": "Disseminate best practices and information to local and international development communities."},
]
REQUEST = {**PARTNERSHIP, "request": 7, "from": "implement", "to": "review", "gate": "implement",
           "as_of": "2026-11-27", "requested_by": "ama.mensah@ghs.example.org",
           "requested_at": "2026-11-27T09:30:00", "findings": [FINDINGS[3]],
           "rules_digest": "sha256:16d846a7cf902cb2189ac6c617fe1431939e0b0f37c32e8be657f730e6cc3b44"}
ALERTS = [
    {"alert": "milestone-overdue", "subject": "initiatives.referral-hotline.milestones[0]",
     "message": "Milestone 'Hotline live in two districts' was due on 2027-03-01 and is not done."},
    {"alert": "commitment-expiring", "subject": "partners.nmwa",
     "message": "The commitment of partner 'nmwa' runs until 2027-06-15."},
]

PAYLOADS: dict[str, dict[str, Any]] = {
    "gate-blocked": {**PARTNERSHIP, "gate": "implement", "as_of": "2026-11-27", "passed": False,
                     "rules": {"version": "2026.11.0", "digest": REQUEST["rules_digest"]}, "findings": FINDINGS},
    "approval-requested": REQUEST,
    "approval-reminder": {**REQUEST, "days_waiting": 8},
    "approval-escalated": {**REQUEST, "days_waiting": 15},
    "approval-approved": {**PARTNERSHIP, "request": 7, "decision": "approved", "by": "kboateng@mission.example.org",
                          "note": None, "from": "implement", "to": "review",
                          "requested_by": "ama.mensah@ghs.example.org", "decided_at": "2026-12-02T10:15:00"},
    "approval-rejected": {**PARTNERSHIP, "request": 7, "decision": "rejected", "by": "kboateng@mission.example.org",
                          "note": "Agree the hotline milestones with the district health teams first.",
                          "from": "implement", "to": "review",
                          "requested_by": "ama.mensah@ghs.example.org", "decided_at": "2026-12-02T10:15:00"},
    "approval-comment": {**PARTNERSHIP, "request": 7, "from": "implement", "to": "review",
                         "by": "kboateng@mission.example.org", "requested_by": "ama.mensah@ghs.example.org",
                         "text": "Have the district health teams agreed the hotline milestones?",
                         "at": "2026-12-01T09:30:00"},
    "stage-moved": {**PARTNERSHIP, "from": "implement", "to": "review", "version": 4, "stage_entered": "2026-12-02",
                    "leaders": [{"name": LEADER["name"], "email": LEADER["email"]}]},
    "health-alert": {**PARTNERSHIP, "as_of": "2027-09-01", "stage": "implement", "alerts": ALERTS},
    "review-digest": {"mission": "USAID/Ghana", "as_of": "2027-09-01", "partnerships": [
        {**PARTNERSHIP, "stage": "implement", "gate": "implement", "passed": False, "alerts": ALERTS},
        {"partnership": "gh-wash-tamale", "partnership_name": "Tamale Water and Sanitation Partnership",
         "stage": "commit", "gate": "commit", "passed": True, "alerts": []},
    ]},
    "sign-in-link": {"link": "https://isp.mission.example.org/auth/link?t=SAMPLE-NOT-A-SECRET",
                     "expires": "2026-12-02T10:30:00"},
    "assessment-invitation": {**PARTNERSHIP, "as_of": "2027-09-01", "closes": "2027-09-15",
                              "partner_name": "Northern Midwives Association",
                              "link": "https://isp.mission.example.org/partnerships/gh-mnh-north/assessments/12"},
    "assessment-reminder": {**PARTNERSHIP, "as_of": "2027-09-01", "closes": "2027-09-15",
                            "partner_name": "Northern Midwives Association",
                            "link": "https://isp.mission.example.org/partnerships/gh-mnh-north/assessments/12"},
}
WEB_URL = "https://isp.mission.example.org"
READERS = {
    "gate-blocked": LEADER, "approval-requested": DIRECTOR, "approval-reminder": DELEGATE,
    "approval-escalated": LEADER, "approval-approved": LEADER, "approval-comment": LEADER, "approval-rejected": LEADER,
    "stage-moved": CONTACT, "health-alert": LEADER, "review-digest": DIRECTOR,
    "sign-in-link": {"email": DIRECTOR["email"], "name": None, "role": "sign-in"},
    "assessment-invitation": CONTACT, "assessment-reminder": CONTACT,
}


def samples(event: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, template context) pairs: an email to a typical reader, and the webhook post."""
    payload = PAYLOADS[event]
    pid = payload.get("partnership")
    reader = READERS[event]
    webhook = {**payload, "recipients": [reader]}
    return [
        ("email", context(event, {**payload, "recipient": reader}, recipient=reader, partnership_id=pid,
                          web_url=WEB_URL)),
        ("webhook", context(event, webhook, recipient=None, partnership_id=pid, web_url=WEB_URL)),
    ]

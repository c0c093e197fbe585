from isp_lifecycle.outbox import EVENTS, for_event
from tests.store.conftest import doc

DIRECTOR, DELEGATE = "kboateng@mission.example.org", "eowusu@mission.example.org"
LEADERS = ["ama.mensah@ghs.example.org", "daniel.osei@tamalemobile.example.com"]
CONTACTS = [
    "ama.mensah@ghs.example.org", "yaw.darko@ghs.example.org", "daniel.osei@tamalemobile.example.com",
    "abena.quaye@tamalemobile.example.com", "hawa.issah@nmwa.example.org", "salifu.abdulai@nmwa.example.org",
]


def emails(event, document=None, **kw):
    return [r.email for r in for_event(event, document or doc(), **kw)]


def test_each_event_reaches_the_people_the_handbook_roles_say():
    expected = {
        "gate-blocked": LEADERS,
        "approval-requested": [DIRECTOR, DELEGATE],
        "approval-reminder": [DIRECTOR, DELEGATE],
        "approval-escalated": [DIRECTOR, DELEGATE, *LEADERS],
        "approval-approved": ["someone@partner.example.org", *LEADERS, DIRECTOR],
        "approval-rejected": ["someone@partner.example.org", *LEADERS, DIRECTOR],
        "approval-comment": ["someone@partner.example.org", *LEADERS, DIRECTOR, DELEGATE],
        "stage-moved": CONTACTS,
        "health-alert": LEADERS,
        "review-digest": [DIRECTOR],
        "sign-in-link": [],  # addressed to whoever asked, never read from a document
        "assessment-invitation": CONTACTS,  # each message is addressed to one of them (docs/assessments.md)
        "assessment-reminder": CONTACTS,
    }
    assert set(expected) == set(EVENTS)
    for event, people in expected.items():
        assert emails(event, requester="someone@partner.example.org") == people, event


def test_a_partnership_without_leaders_sends_the_leaders_messages_to_its_director():
    leaderless = doc(leaders=[])
    assert emails("gate-blocked", leaderless) == [DIRECTOR]
    assert emails("health-alert", leaderless) == [DIRECTOR]
    assert emails("approval-escalated", leaderless) == [DIRECTOR, DELEGATE]


def test_an_address_named_twice_in_any_case_gets_one_message_in_its_first_role():
    shouting = doc(delegates=[{"name": "Kwame again", "email": DIRECTOR.upper()}])
    people = for_event("approval-requested", shouting)
    assert [(p.email, p.role) for p in people] == [(DIRECTOR, "director")]
    # the requester is a leader too: one message, addressed to them as the requester
    decided = for_event("approval-approved", doc(), requester=LEADERS[0].upper())
    assert [p.email.lower() for p in decided] == [*LEADERS, DIRECTOR] and decided[0].role == "requester"




def test_a_requester_identity_that_is_not_an_address_is_left_out():
    assert "ops" not in " ".join(emails("approval-rejected", requester="ops"))
    assert emails("approval-rejected", requester="ops") == [*LEADERS, DIRECTOR]

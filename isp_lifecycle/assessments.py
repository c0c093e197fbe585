"""The partners' self-assessment: invitations after each review, and one reminder.

When ``ISP_ASSESSMENTS=1`` and the web service is reachable for partners (``ISP_WEB_URL`` set,
or an ``isp serve`` running, which names its address in ``$ISP_HOME/serve.json``), a complete
review invites every contact of every partner of each partnership it reviewed: one
``assessments`` row and one ``assessment-invitation`` message per contact, written in bulk in
the transaction that completes the review, with one audit entry for them all. The review
completes once, and a review that already has invitations gets none again, so running it
again invites nobody twice. The link leads to the form (``/partnerships/ID/assessments/N``);
it grants nothing by itself: the page asks the reader to sign in, as every page does.

An assessment closes ``ISP_ASSESSMENT_DAYS`` (default 14) after its invitation was sent.
Once half of that has passed, a contact who has neither answered nor declined is reminded,
once (``assessment-reminder``); every review sends the reminders then due (``remind``), and
``remind_due`` does the same on its own, for a schedule.

    principles_at(stage)        -> the principle slugs the form asks about at that stage
    reachable_url(settings)     -> the web service's address partners can reach, or None
    invite(tx, review)          -> invitations queued for one complete review (0 when off)
    remind(tx)                  -> reminders queued now
    remind_due(store, clock)    -> the same, in its own transaction
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
from datetime import timedelta
from urllib.parse import quote

from sqlalchemy import and_, insert, select, update

from . import outbox
from .lifecycle import gate_of
from .rulepack import load_pack
from .settings import Settings, current
from .store import Store, audit
from .store.assessment_models import Assessment
from .store.models import DocumentVersion, PortfolioReview, PortfolioReviewResult
from .uow import Clock, UnitOfWork, utcnow

log = logging.getLogger("isp_lifecycle.assessments")

RATINGS = ("green", "amber", "red")
SECTORS = ("public", "private", "civil_society")
BATCH = 2000  # invitations written per insert

# What each principle asks, in the handbook's words (docs/spec/principles.md), shown on the form.
SENTENCES = {
    "flexibility": "A network, not a hierarchy: partners may opt in and out of initiatives, and each sector "
                   "takes part where its strengths lie.",
    "resilience": "Leaders who have worked in more than one sector, long-term commitment of leadership and "
                  "finances; the partnership makes its own rules, adapts its goals and engages new partners.",
    "creativity": "The differences between sectors are used to bring unrecognised assumptions to light and to "
                  "challenge traditional approaches.",
    "productive-outcomes": "Each sector's goals are known, partners build a mutual commitment to them, and "
                           "each sector sees outcomes.",
    "shared-stake": "The issue is one that no sector can manage alone and in which every sector has a stake.",
    "long-term-small-steps": "A long-term commitment, made in small steps, open to new partners, knowing the "
                             "issue may change.",
    "sector-distinctiveness": "Each sector keeps its own role: business and civil society do not take over "
                              "what government must do.",
    "sincere-commitment": "Time and resources committed before take-off, motives made clear, partners "
                          "holding each other to account.",
    "shared-vision": "A vision the partners adopted and keep coming back to.",
    "convene-stakeholders": "The key people of each sector are at the table, and partners who need support "
                            "to take part get it.",
    "share-information": "What works, and what the partnership learns, is shared with local and "
                         "international communities.",
    "organizations-not-individuals": "Partnerships are between organisations, not individuals: each partner "
                                     "takes part through more than one person.",
    "local-context": "The partnership fits the local needs and resources of each sector.",
    "local-ownership": "Local partners have a stake, take part in every phase, and have the authority to "
                       "decide and act.",
    "mission-champion": "The mission director champions the partnership in the country, and mission staff "
                        "are trained.",
    "dedicated-leaders": "Named, active leaders carry the vision.",
}


@functools.lru_cache(maxsize=8)
def principles_at(stage: str) -> tuple[str, ...]:
    """The principles of the rules checked when leaving ``stage`` (its gate and every earlier
    one), in the order of ``SENTENCES``; every principle for a stage without a gate."""
    gate = gate_of(stage)
    if gate is None:
        return tuple(SENTENCES)
    used = {rule.principle for rule in load_pack().for_gate(gate)}
    return tuple(p for p in SENTENCES if p in used)


def reachable_url(settings: Settings) -> str | None:
    """``ISP_WEB_URL`` when set, else the address of a running ``isp serve``, else ``None``."""
    if settings.web_url_value:
        return settings.web_url_value
    from .client import service_url

    return service_url(dataclasses.replace(settings, url=None))


def form_path(partnership_id: str, review_id: int) -> str:
    return f"/partnerships/{quote(partnership_id, safe='')}/assessments/{review_id}"


def _contacts(pid: str, text: str):
    """(partner, contact) of a stored document, each address once (the first partner naming it)."""
    seen = set()
    for partner in json.loads(text).get("partners") or []:
        for contact in partner.get("contacts") or []:
            email = contact["email"].lower()
            if email not in seen:
                seen.add(email)
                yield partner, contact, email


def _message(event: str, row: dict, url: str, name: str | None) -> outbox.Message:
    pid = row["partnership_id"]
    payload = {"partnership": pid, "as_of": row["as_of"].isoformat(), "closes": row["closes_at"].date().isoformat(),
               "partner_name": row["partner_name"], "link": url + form_path(pid, row["review_id"])}
    if name is not None:
        payload["partnership_name"] = name
    return outbox.Message(event, f"review-{row['review_id']}-{pid}", pid,
                          [outbox.Recipient(row["email"], row["name"], "contact")], payload)


def _send(tx: UnitOfWork, messages: list[outbox.Message], settings: Settings) -> None:
    """Queue on the email channels only: an invitation is for one person, never a shared room."""
    channels = [c for c in settings.channels if c in outbox.EMAIL_CHANNELS]
    if channels:
        outbox.queue_many(tx.session, messages, now=tx.now, channels=channels)


def _write(tx: UnitOfWork, rows: list[dict], names: dict[str, str], url: str, settings: Settings) -> None:
    tx.session.execute(insert(Assessment), rows)
    _send(tx, [_message("assessment-invitation", r, url, names.get(r["partnership_id"])) for r in rows], settings)
    rows.clear()
    names.clear()


def invite(tx: UnitOfWork, review: PortfolioReview, settings: Settings | None = None) -> int:
    """Invite the contacts of every partnership ``review`` looked at, once; then send the
    reminders due. Returns how many were invited (0 when assessments are off or unreachable)."""
    settings = settings or current()
    url = reachable_url(settings) if settings.assessments else None
    if url is None:
        return 0
    session = tx.session
    invited = 0
    if session.scalar(select(Assessment.id).where(Assessment.review_id == review.id).limit(1)) is None:
        closes = tx.now + timedelta(days=settings.assessment_days)
        r, d = PortfolioReviewResult, DocumentVersion
        found = session.execute(
            select(r.partnership_id, r.name, r.stage, d.document)
            .join(d, and_(d.partnership_id == r.partnership_id, d.version == r.document_version))
            .where(r.review_id == review.id).order_by(r.partnership_id).execution_options(yield_per=500))
        rows: list[dict] = []
        names: dict[str, str] = {}
        for pid, name, stage, text in found:
            names[pid] = name
            for partner, contact, email in _contacts(pid, text):
                rows.append({"review_id": review.id, "partnership_id": pid, "as_of": review.as_of, "stage": stage,
                             "partner_id": partner["id"], "partner_name": partner["name"],
                             "sector": partner["sector"], "email": email, "name": contact["name"],
                             "sent_at": tx.now, "closes_at": closes})
            if len(rows) >= BATCH:
                invited += len(rows)
                _write(tx, rows, names, url, settings)
        if rows:
            invited += len(rows)
            _write(tx, rows, names, url, settings)
        tx.audit("assessments-invited", None, {"review": review.id, "as_of": review.as_of.isoformat(),
                                               "invited": invited, "closes": closes.isoformat() + "Z"})
        log.info("review %s: %d partner contacts invited to assess their partnerships", review.id, invited)
    remind(tx, settings)
    return invited


def remind(tx: UnitOfWork, settings: Settings | None = None) -> int:
    """Remind, once, every contact of an open assessment past half its time who has neither
    answered nor declined. Returns how many were reminded."""
    settings = settings or current()
    url = reachable_url(settings)
    if url is None:
        return 0
    a = Assessment
    half = timedelta(days=settings.assessment_days / 2)
    due = tx.session.execute(
        select(a.id, a.review_id, a.partnership_id, a.as_of, a.closes_at, a.partner_name, a.email, a.name)
        .where(a.reminded_at.is_(None), a.declined_at.is_(None), a.answered_at.is_(None),
               a.closes_at > tx.now, a.sent_at <= tx.now - half).order_by(a.id)).mappings().all()
    if not due:
        return 0
    for start in range(0, len(due), BATCH):
        part = due[start:start + BATCH]
        tx.session.execute(update(Assessment), [{"id": row["id"], "reminded_at": tx.now} for row in part])
        _send(tx, [_message("assessment-reminder", dict(row), url, None) for row in part], settings)
    tx.audit("assessments-reminded", None, {"reminded": len(due)})
    return len(due)


def remind_due(store: Store, clock: Clock = utcnow) -> int:
    """``remind`` in its own transaction (for a schedule between reviews)."""
    with store.sessions.begin() as session:
        return remind(UnitOfWork(session, audit.load_key(), "isp-assessments", clock()))

"""The portfolio review on the store (SQLite and PostgreSQL): what it records and what it queues."""

from datetime import date, datetime

import pytest
from sqlalchemy import insert

from isp_lifecycle import review, review_results, services
from isp_lifecycle.document import load
from isp_lifecycle.store.models import ApprovalRequest, PortfolioReview, PortfolioReviewResult, StandingAlert

from ..conftest import FIXTURES
from .conftest import AS_OF, dump, fail_on, fixture_data, outbox, variant


def milestone_done(doc_id="gh-mnh-north", done="2027-08-01", **changes):
    data = fixture_data()
    data["initiatives"][0]["milestones"][1]["done"] = done
    return variant(id=doc_id, initiatives=data["initiatives"], **changes)


def portfolio():
    """Documents with the alerts each must raise as of AS_OF (2027-09-01)."""
    hotline = "initiatives.referral-hotline.milestones[1]"
    return [
        # implement since 2026-07-01 (427 days), never reviewed, one milestone late
        (load(FIXTURES / "gh-mnh-north.yaml"),
         {("milestone-overdue", hotline), ("review-overdue", "reviews"), ("stage-overdue", "stage")}),
        # convening since 2026-09-01: exactly 365 days, past the 180-day limit
        (load(FIXTURES / "ke-water-kisumu.yaml"), {("stage-overdue", "stage")}),
        # convening for exactly 180 days: not overdue
        (variant("ke-water-kisumu", id="ke-fresh", started="2027-03-05"), set()),
        # healthy: entered implement recently, milestone done, reviewed within the year
        (milestone_done("gh-healthy", stage_entered="2027-06-01"), set()),
        # a commitment ending within 180 days, in the review stage, reviewed 366 days ago
        (variant(id="gh-expiring", stage="review", stage_entered="2026-08-31",
                 initiatives=milestone_done().to_data()["initiatives"],
                 reviews=[{"date": "2026-08-31"}],
                 partners=[dict(p, commitment=dict(p["commitment"], until="2028-02-28")) if i == 2 else p
                           for i, p in enumerate(fixture_data()["partners"])]),
         {("commitment-expiring", "partners.nmwa"), ("review-overdue", "reviews")}),
        # closed partnerships are not reviewed at all
        (variant(id="gh-closed", stage="closed"), None),
        # an approval requested 8 days before as_of and still undecided
        (milestone_done("gh-waiting", stage_entered="2027-06-01"), {("approval-pending", "approval_requests.")}),
    ]


def load_portfolio(store, docs=None):
    docs = docs or portfolio()
    for doc, _ in docs:
        services.import_document(store, doc)
    with store.sessions.begin() as session:
        session.execute(insert(ApprovalRequest).values(
            partnership_id="gh-waiting", document_version=1, from_stage="implement", to_stage="review",
            requested_by="eowusu@mission.example.org", requested_at=datetime(2027, 8, 24, 23, 59), status="pending"))
    return docs


def found(store, review_id):
    return {r.partnership_id: {(a["alert"], a["subject"].rstrip("0123456789")) for a in r.alerts}
            for r in review_results.results(store, review_id)}


def test_each_partnership_raises_exactly_the_alerts_gates_md_defines(store):
    docs = load_portfolio(store)
    summary = review.run_review(store, AS_OF)
    assert summary.complete
    expected = {doc.id: alerts for doc, alerts in docs if alerts is not None}
    assert found(store, summary.review_id) == expected
    assert summary.reviewed == len(expected)


def test_results_are_the_verdict_of_the_current_stage_gate_in_the_cli_shape(store):
    load_portfolio(store)
    summary = review.run_review(store, AS_OF)
    lines = [review_results.output_line(r, AS_OF) for r in review_results.results(store, summary.review_id)]
    assert [line["partnership"] for line in lines] == sorted(line["partnership"] for line in lines)
    by_id = {line["partnership"]: line for line in lines}
    assert list(by_id["gh-mnh-north"]) == ["partnership", "stage", "gate", "as_of", "passed", "findings", "alerts"]
    assert by_id["ke-water-kisumu"]["gate"] == "convene" and by_id["ke-water-kisumu"]["passed"] is False
    assert by_id["gh-expiring"]["gate"] == "review" and by_id["gh-mnh-north"]["gate"] == "implement"
    assert all(line["as_of"] == "2027-09-01" for line in lines)


def test_leaders_get_one_message_per_partnership_and_each_director_one_digest(store):
    load_portfolio(store)
    review.run_review(store, AS_OF)
    alerts = outbox(store, "health-alert")
    told = sorted((key.split(":")[1].split("-", 2)[2], recipient) for _, recipient, key in alerts)
    gh_leaders = ["ama.mensah@ghs.example.org", "daniel.osei@tamalemobile.example.com"]
    assert told == sorted(
        [(pid, leader) for pid in ("gh-expiring", "gh-mnh-north", "gh-waiting") for leader in gh_leaders]
        + [("ke-water-kisumu", "otieno@kisumuwater.example.org")]
    )  # ke-fresh and gh-healthy have nothing to report
    digests = outbox(store, "review-digest")
    assert sorted(r for _, r, _ in digests) == ["gwanjiru@mission.example.org", "kboateng@mission.example.org"]


def test_the_digest_lists_every_current_alert_of_the_directors_partnerships(store):
    load_portfolio(store)
    review.run_review(store, AS_OF)
    review.run_review(store, date(2027, 9, 2))  # nothing new, but the digest still lists everything
    from sqlalchemy import select

    from isp_lifecycle.store.models import Notification

    with store.sessions.begin() as session:
        payloads = session.scalars(select(Notification.payload).where(
            Notification.event == "review-digest", Notification.recipient == "kboateng@mission.example.org")
            .order_by(Notification.id)).all()
    assert len(payloads) == 2
    listed = {p["partnership"]: p for p in payloads[1]["partnerships"]}
    assert set(listed) == {"gh-mnh-north", "gh-expiring", "gh-waiting", "gh-healthy"}
    assert {pid for pid, p in listed.items() if p["alerts"]} == {"gh-mnh-north", "gh-expiring", "gh-waiting"}
    assert listed["gh-expiring"]["gate"] == "review" and payloads[1]["mission"] == "USAID/Ghana"


def test_running_the_same_review_again_records_nothing_and_queues_nothing(store):
    load_portfolio(store)
    first = review.run_review(store, AS_OF)
    before = dump(store)
    again = review.run_review(store, AS_OF)
    assert dump(store) == before
    assert again.review_id == first.review_id and again.complete


def test_a_standing_alert_is_sent_once_and_again_only_after_it_cleared(store):
    services.import_document(store, variant(stage_entered="2027-06-01"))  # milestone late from 2027-04-01

    def sent_subjects():
        return [key for _, _, key in outbox(store, "health-alert")]

    review.run_review(store, date(2027, 9, 1))
    assert len(sent_subjects()) == 2  # two leaders
    review.run_review(store, date(2027, 9, 8))
    assert len(sent_subjects()) == 2  # still overdue: not sent again
    services.import_document(store, milestone_done(stage_entered="2027-06-01", done="2027-09-10"))
    review.run_review(store, date(2027, 9, 15))  # done: the alert clears
    assert len(sent_subjects()) == 2
    services.import_document(store, variant(stage_entered="2027-06-01"))  # the done date was a mistake
    review.run_review(store, date(2027, 9, 22))
    assert len(sent_subjects()) == 4  # it came back: sent again
    with store.sessions.begin() as session:
        rows = session.query(StandingAlert).order_by(StandingAlert.id).all()
        assert [(r.first_seen, r.cleared_at) for r in rows] == [
            (date(2027, 9, 1), date(2027, 9, 15)), (date(2027, 9, 22), None)]


def test_a_mission_review_looks_only_at_that_mission(store):
    load_portfolio(store)
    summary = review.run_review(store, AS_OF, mission="USAID/Kenya")
    assert set(found(store, summary.review_id)) == {"ke-water-kisumu", "ke-fresh"}
    other = review.run_review(store, AS_OF)
    assert other.review_id != summary.review_id and other.reviewed == 6


def test_an_interrupted_review_is_incomplete_and_running_it_again_completes_it_without_duplicates(
    store, monkeypatch, count_rows
):
    docs = load_portfolio(store)
    repair = fail_on(monkeypatch, "gh-mnh-north", ConnectionError("the database went away"))
    broken = review.run_review(store, AS_OF, chunk_size=2)
    assert broken.status == "incomplete" and broken.chunks_done == broken.chunks - 1
    assert "ConnectionError" in broken.error
    kept = broken.reviewed
    assert 0 < kept < 6 and not outbox(store, "review-digest")

    repair()
    fixed = review.run_review(store, AS_OF, chunk_size=2)
    assert fixed.complete and fixed.review_id == broken.review_id and fixed.reviewed == 6
    assert count_rows(store, PortfolioReviewResult) == 6 and count_rows(store, PortfolioReview) == 1
    interrupted_outbox = sorted(outbox(store))

    # the same portfolio reviewed in one go queues the very same messages
    with store.engine.begin() as conn:
        from isp_lifecycle.store.models import Base
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(table.delete())
    load_portfolio(store, docs)
    review.run_review(store, AS_OF, chunk_size=2)
    assert [row[:2] for row in sorted(outbox(store))] == [row[:2] for row in interrupted_outbox]


def test_chunks_hold_at_most_the_chunk_size_and_500_is_the_ceiling(store):
    load_portfolio(store)
    plan = review.start_review(store, AS_OF, chunk_size=2)
    assert plan.chunks == 3  # 6 partnerships not closed
    with pytest.raises(Exception, match="1 to 500"):
        review.start_review(store, date(2027, 1, 1), chunk_size=501)


def test_a_partnership_without_leaders_has_its_alerts_sent_to_its_director(store):
    services.import_document(store, variant("ke-water-kisumu", leaders=[]))
    review.run_review(store, AS_OF)
    assert [recipient for _, recipient, _ in outbox(store, "health-alert")] == ["gwanjiru@mission.example.org"]


def test_a_review_records_which_process_did_each_chunk(store):
    load_portfolio(store)
    summary = review.run_review(store, AS_OF, chunk_size=4)
    from sqlalchemy import select

    from isp_lifecycle.store.models import PortfolioReviewChunk as ReviewChunk

    with store.sessions.begin() as session:
        done_by = session.scalars(select(ReviewChunk.done_by).where(ReviewChunk.review_id == summary.review_id)).all()
    assert done_by == [review.worker_identity()] * 2

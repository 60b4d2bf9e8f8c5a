"""The demo shows deployment, self-assessment and recusals with realistic data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from sqlmodel import select

from evaluation.audit import verify_chain
from evaluation.demo import load_demo
from evaluation.demo_data import CITY_CAMPAIGN
from evaluation.models import (
    Campaign,
    CampaignAgency,
    CampaignNotice,
    NoticeReceipt,
    ReviewComment,
    StoredFile,
    Submission,
    SubmissionStatus,
    SubmissionVersion,
)
from evaluation.services.conflicts import recusals
from evaluation.services.self_assessment_overview import compare_versions, completeness


def test_demo_has_every_self_assessment_state(app, db):
    with app.app_context():
        assert load_demo(db) is True
    campaign = db.exec(select(Campaign).where(Campaign.title == CITY_CAMPAIGN)).one()
    notice = db.exec(select(CampaignNotice).where(CampaignNotice.campaign_id == campaign.id)).one()
    assert notice.published_at is not None
    assert 5 < len(db.exec(select(NoticeReceipt)).all()) < 50

    enrolled = len(
        db.exec(select(CampaignAgency).where(CampaignAgency.campaign_id == campaign.id)).all()
    )
    statuses = Counter(
        s.status for s in db.exec(select(Submission).where(Submission.campaign_id == campaign.id))
    )
    assert statuses[SubmissionStatus.ACCEPTED] > enrolled / 2  # most submitted and accepted
    assert statuses[SubmissionStatus.RETURNED] >= 2
    rows = completeness(db, campaign.id)
    assert 1 <= sum(not r.has_submitted for r in rows) <= 6  # a few missing
    assert db.exec(select(ReviewComment)).all()

    resubmitted = db.exec(select(SubmissionVersion).where(SubmissionVersion.number == 2)).one()
    first = db.exec(
        select(SubmissionVersion).where(
            SubmissionVersion.submission_id == resubmitted.submission_id,
            SubmissionVersion.number == 1,
        )
    ).one()
    comparison = compare_versions(first, resubmitted)
    assert any(tag == "+" for tag, _line in comparison.report_lines)
    assert any(change.changed for change in comparison.scores)

    stored = db.exec(select(StoredFile)).all()
    assert stored and all(
        Path(app.config["FILES_FOLDER"]).joinpath(f.sha256[:2], f.sha256).exists() for f in stored
    )
    bases = Counter(r.basis for r in recusals(db, campaign))
    assert bases["affiliation"] >= 1 and bases["declared"] >= 2
    assert verify_chain(db).ok


def test_demo_contact_can_revise_the_returned_report(app, db):
    with app.app_context():
        load_demo(db)
    from webclient import Browserless

    from evaluation.demo import demo_password

    web = Browserless(app.test_client())
    assert web.login("sifaju", demo_password()).status_code == 302
    campaign = db.exec(select(Campaign).where(Campaign.title == CITY_CAMPAIGN)).one()
    page = web.client.get(f"/agency/campaigns/{campaign.id}/self-assessment")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "已退回修改" in text and "评议办意见" in text and "disabled" not in text

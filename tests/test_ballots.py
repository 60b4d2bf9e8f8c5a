"""社会评议: casting ballots through the public pages, and every way a ballot is refused.

Each refusal is a clear message with a 4xx answer and nothing stored.
"""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import factories as f
import pytest
from sqlmodel import Session, func, select
from test_db_writes import _queued

from evaluation.models import (
    Ballot,
    BallotStatus,
    CampaignAgency,
    Role,
    Satisfaction,
    StageKind,
    StageStatus,
)
from evaluation.models.base import utcnow
from evaluation.services import ballot_results, ballot_setup, vote_codes
from evaluation.services.ballot_results import counts_by_agency


@pytest.fixture
def review(app, db):
    return open_review(app, db)


def open_review(app, db) -> dict:
    """An open public review of two agencies, five vote codes (in clear, as printed)."""
    org = f.org(db, "甲市普法办")
    campaign = f.campaign(db, org)
    agencies = [f.agency(db, org, "市司法局"), f.agency(db, org, "市公安局")]
    db.add_all(
        CampaignAgency(campaign_id=campaign.id, agency_id=a.id, group_name="市直组", position=i)
        for i, a in enumerate(agencies)
    )
    db.commit()
    stage = f.stage(db, campaign, StageKind.PUBLIC_REVIEW)
    with app.test_request_context():
        ballot_setup.open_voting(db, stage)
        codes = vote_codes.issue_batch(db, stage, 5, "organizer")
    organizer = f.user(db, Role.ORGANIZER, org)
    return {
        "campaign": campaign,
        "stage": stage,
        "agencies": agencies,
        "codes": [c.code for c in codes],
        "organizer": organizer,
    }


def ballot_url(review, agency=None) -> str:
    agency = agency or review["agencies"][0]
    return f"/review/{review['campaign'].id}/agencies/{agency.id}"


def shown_token(client, url) -> str:
    """The form's signed time of showing ("" when no form is shown: voting closed)."""
    html = client.get(url).get_data(as_text=True)
    found = re.search(r'name="shown" value="([^"]+)"', html)
    return found.group(1) if found else ""


def cast(web, review, code, level="satisfied", agency=None, wait=True, **extra):
    url = ballot_url(review, agency)
    data = {"code": code, "level": level, "shown": shown_token(web.client, url), **extra}
    if (
        wait and data["shown"]
    ):  # a person reads the page before voting: the form's time of showing is older
        data["shown"] = _backdate(web, data["shown"])
    return web.post(url, data)


def _backdate(web, token):
    from itsdangerous import URLSafeSerializer

    serializer = URLSafeSerializer(
        web.client.application.config["SECRET_KEY"], salt="ballot-form-shown"
    )
    shown = serializer.loads(token)
    shown["t"] -= 30_000
    return serializer.dumps(shown)


def stored(db) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(Ballot)).one()


def test_a_ballot_with_a_vote_code_is_stored_and_counted(web, db, review):
    response = cast(web, review, review["codes"][0])
    assert response.status_code == 303
    assert "voted=" in response.location
    page = web.client.get(response.location).get_data(as_text=True)
    assert "已收到您对“市司法局”的评议" in page
    assert counts_by_agency(db, review["stage"]) == {review["agencies"][0].id: {"满意": 1}}


def test_one_code_may_rate_each_agency_once(web, db, review):
    code = review["codes"][0]
    assert cast(web, review, code).status_code == 303
    assert cast(web, review, code, "basic", agency=review["agencies"][1]).status_code == 303
    assert stored(db) == 2


def test_a_code_typed_loosely_is_recognised(web, db, review):
    lower_spaced = " " + review["codes"][1].replace("-", " ").lower() + " "
    full_width = review["codes"][2].translate(
        {c: c + 0xFEE0 for c in range(0x21, 0x7F)}  # what a Chinese IME types
    )
    assert cast(web, review, lower_spaced).status_code == 303
    assert cast(web, review, full_width).status_code == 303
    assert stored(db) == 2


def test_duplicate_ballot_is_refused_and_not_stored(web, db, review):
    code = review["codes"][0]
    assert cast(web, review, code).status_code == 303
    again = cast(web, review, code, "dissatisfied")
    assert again.status_code == 409
    assert "已经对该单位投过票" in again.get_data(as_text=True)
    assert stored(db) == 1
    assert counts_by_agency(db, review["stage"]) == {review["agencies"][0].id: {"满意": 1}}


def test_a_duplicate_refused_in_another_voters_group_commit_speaks_its_own_voters_language(
    app, db, review
):
    """On SQLite one request commits the ballots queued behind it (evaluation/db_writes.py),
    so a duplicate is refused while another voter's request runs the batch: the refusal is
    still worded in the language of the voter who sent it, not in the committing one's."""
    from evaluation import db_writes
    from evaluation.services import ballots

    stage, agency = review["stage"], review["agencies"][0]
    engine = app.extensions["pingyi_db"]
    english_code, chinese_code = review["codes"][:2]
    with app.test_request_context():
        ballots.store_ballot(db, stage, agency.id, ballots.voter_by_code(db, stage, english_code),
                             Satisfaction.SATISFIED)
    refusals: dict[str, str] = {}

    def voter(query: str, code: str) -> None:
        with app.test_request_context(query), Session(engine, expire_on_commit=False) as own:
            try:
                ballots.store_ballot(own, stage, agency.id,
                                     ballots.voter_by_code(own, stage, code), Satisfaction.BASIC)
            except ballots.BallotRefused as refused:
                refusals[query] = str(refused.message)  # as the page shows it, in this request

    chinese = threading.Thread(target=voter, args=("/", chinese_code))
    english = threading.Thread(target=voter, args=("/?lang=en", english_code))
    if engine.dialect.name == "sqlite":
        # The Chinese voter's request commits first, and the English duplicate is queued
        # behind it: both in one batch, run by the Chinese voter's request.
        with db_writes.sqlite_writer:
            chinese.start()
            _queued(1)
            english.start()
            _queued(2)
    else:  # each request commits its own
        chinese.start()
        english.start()
    for thread in (chinese, english):
        thread.join(10)
    assert list(refusals) == ["/?lang=en"]
    assert refusals["/?lang=en"].startswith("This identity has already voted on this agency")
    assert stored(db) == 2


def test_replayed_code_with_other_spelling_is_still_a_duplicate(web, db, review):
    code = review["codes"][0]
    assert cast(web, review, code).status_code == 303
    assert cast(web, review, code.replace("-", " ").lower()).status_code == 409
    assert stored(db) == 1


def test_guessed_code_never_counts(web, db, review):
    guess = vote_codes.printed(vote_codes.new_code())
    response = cast(web, review, guess)
    assert response.status_code == 400
    assert "投票码无效" in response.get_data(as_text=True)
    assert stored(db) == 0


@pytest.mark.parametrize(
    "typed", ["", "12345", "ABCD-EFGH-!!!!", "投票码投票码投票码投票码", "A" * 40]
)
def test_malformed_code_is_refused_with_the_rule(web, db, review, typed):
    response = cast(web, review, typed)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert ("投票码格式不对" in page) or ("请输入投票码" in page)
    assert 'aria-invalid="true"' in page
    assert stored(db) == 0


def test_code_of_another_campaign_is_invalid(web, db, review, app):
    other_org = f.org(db, "乙市普法办")
    other = f.campaign(db, other_org)
    other_stage = f.stage(db, other, StageKind.PUBLIC_REVIEW)
    with app.test_request_context():
        foreign = vote_codes.issue_batch(db, other_stage, 1, "x")[0].code
    assert cast(web, review, foreign).status_code == 400
    assert stored(db) == 0


def test_revoked_batch_codes_no_longer_vote(web, db, review, app):
    with app.test_request_context():
        vote_codes.revoke_batch(db, review["stage"], 1, "organizer")
    assert cast(web, review, review["codes"][0]).status_code == 400
    assert stored(db) == 0


def test_ballot_for_an_agency_not_in_the_review_is_refused(web, db, review):
    stranger = f.agency(db, f.org(db, "乙市普法办"), "乙市税务局")
    url = f"/review/{review['campaign'].id}/agencies/{stranger.id}"
    response = web.post(url, {"code": review["codes"][0], "level": "satisfied"})
    assert response.status_code == 404
    assert "不在本次社会评议之列" in response.get_data(as_text=True)
    assert stored(db) == 0


def test_missing_or_unknown_level_is_refused(web, db, review):
    for level in ("", "excellent"):
        response = cast(web, review, review["codes"][0], level)
        assert response.status_code == 400
        assert "请选择 满意、基本满意 或 不满意" in response.get_data(as_text=True)
    assert stored(db) == 0


def test_ballot_after_closing_is_refused(web, db, review, app):
    with app.test_request_context():
        ballot_setup.close_voting(db, review["stage"])
    response = cast(web, review, review["codes"][0])
    assert response.status_code == 409
    assert "投票已经结束" in response.get_data(as_text=True)
    assert stored(db) == 0


def test_ballot_after_the_planned_closing_time_is_refused(web, db, review):
    stage = review["stage"]
    stage.opens_at, stage.closes_at = utcnow() - timedelta(days=3), utcnow() - timedelta(hours=1)
    db.add(stage)
    db.commit()
    assert cast(web, review, review["codes"][0]).status_code == 409
    assert stored(db) == 0


def test_ballot_before_opening_is_refused(web, db, review):
    review["stage"].status = StageStatus.PENDING
    db.add(review["stage"])
    db.commit()
    response = cast(web, review, review["codes"][0])
    assert response.status_code == 409
    assert "尚未开始" in response.get_data(as_text=True)


def test_votes_are_cast_by_post_only_never_by_a_link(web, db, review):
    url = ballot_url(review) + f"?code={review['codes'][0]}&level=satisfied"
    assert web.client.get(url).status_code == 200
    assert stored(db) == 0


def test_a_post_without_the_csrf_token_is_refused(client, db, review):
    response = client.post(
        ballot_url(review), data={"code": review["codes"][0], "level": "satisfied"}
    )
    assert response.status_code == 400
    assert stored(db) == 0


def test_no_running_tally_on_public_pages_while_open(web, db, review):
    for code in review["codes"][:3]:
        assert cast(web, review, code).status_code == 303
    for url in (
        f"/review/{review['campaign'].id}",
        ballot_url(review),
        f"/campaigns/{review['campaign'].id}",
    ):
        page = web.client.get(url).get_data(as_text=True)
        assert "满意度指数" not in page and "票数：" not in page
        assert not re.search(r">\s*3\s*<", page)


def test_a_ballot_filled_in_a_blink_goes_to_quarantine(web, db, review):
    response = cast(web, review, review["codes"][0], wait=False)
    assert response.status_code == 303  # the voter is not told: quarantine is for people
    ballot = db.exec(select(Ballot)).one()
    assert ballot.status == BallotStatus.QUARANTINED
    assert "快于正常阅读" in ballot.quarantine_reason
    assert counts_by_agency(db, review["stage"]) == {}


def test_a_tampered_shown_token_goes_to_quarantine(web, db, review):
    url = ballot_url(review)
    web.post(url, {"code": review["codes"][0], "level": "satisfied", "shown": "forged"})
    assert db.exec(select(Ballot)).one().status == BallotStatus.QUARANTINED


def test_organizer_decides_quarantined_ballots_with_a_reason(web, db, review, app):
    for code in review["codes"][:2]:
        cast(web, review, code, wait=False)
    first, second = db.exec(select(Ballot).order_by(Ballot.id)).all()
    base = f"/admin/campaigns/{review['campaign'].id}/public-review/quarantine"
    web.login(review["organizer"].username)
    queue = web.client.get(base).get_data(as_text=True)
    assert f"选票 #{first.id}" in queue and "快于正常阅读" in queue
    refused = web.post(f"{base}/{first.id}", {"decision": "reject", "reason": ""})
    assert refused.status_code == 400
    assert (
        web.post(
            f"{base}/{first.id}", {"decision": "reject", "reason": "同一设备连续提交"}
        ).status_code
        == 303
    )
    assert (
        web.post(
            f"{base}/{second.id}", {"decision": "accept", "reason": "现场核实为本人"}
        ).status_code
        == 303
    )
    assert (
        web.post(f"{base}/{second.id}", {"decision": "reject", "reason": "再改"}).status_code == 400
    )
    db.expire_all()
    assert db.get(Ballot, first.id).status == BallotStatus.REJECTED
    assert db.get(Ballot, second.id).status == BallotStatus.VALID
    assert counts_by_agency(db, review["stage"]) == {review["agencies"][0].id: {"满意": 1}}
    from evaluation.models import AuditEvent

    events = db.exec(select(AuditEvent).where(AuditEvent.object_type == "public_ballot")).all()
    decided = [e for e in events if e.action == "update"]
    assert len(decided) == 2
    assert "同一设备连续提交" in str(decided[0].payload) + str(decided[1].payload)


def test_organizer_sees_turnout_and_the_index_from_scoring(web, db, review):
    for code, level in zip(
        review["codes"][:3], ["satisfied", "basic", "dissatisfied"], strict=True
    ):
        cast(web, review, code, level)
    web.login(review["organizer"].username)
    page = web.client.get(f"/admin/campaigns/{review['campaign'].id}/public-review")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # (100 + 80 + 0) / 3 = 60.00; satisfied or basic: 2 of 3 = 66.67%
    assert "60.00" in html and "66.67%" in html
    index = ballot_results.satisfaction_by_agency(db, review["stage"])[review["agencies"][0].id]
    assert str(index.value) == "60.00"


def test_public_ballot_pages_answer_404_for_draft_campaigns(web, db):
    org = f.org(db, "丙市普法办")
    campaign = f.campaign(db, org)
    campaign.status = campaign.status.DRAFT
    db.add(campaign)
    db.commit()
    assert web.client.get(f"/review/{campaign.id}").status_code == 404

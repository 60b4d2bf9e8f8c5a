"""互评: the draw, the contact's sheets (drafts, submit, deadline, refusals), the organizer's
completion / matrix / flags page, and the results collectors (peer and self-assessment)."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from peer_world import build
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from evaluation.clock import LOCAL_TZ
from evaluation.models import (
    AuditEvent,
    PeerAssignment,
    PeerMarking,
    PeerMode,
    PeerSheetStatus,
    Score,
    StageKind,
)
from evaluation.models.base import utcnow
from evaluation.services.errors import ValidationFailed
from evaluation.services.peer_draw import draw_assignments
from evaluation.services.peer_review import setup_of, sheet_for, sheet_lines, submit
from evaluation.services.results import compose
from evaluation.services.results_marks import PEER, SELF, gather_marks
from evaluation.services.results_policy import build_policy, default_settings


@pytest.fixture
def world(db):
    return build(db)


def _scores(db, world) -> list[Score]:
    db.expire_all()
    return list(db.exec(select(Score).where(Score.stage_id == world.stage.id)).all())


def _events(db, action: str) -> list[dict]:
    rows = db.exec(select(AuditEvent).where(AuditEvent.action == action)).all()
    return [json.loads(row.payload) for row in rows]


def _marks(world, a1="9.5", a2="8"):
    return {f"mark-{world.a1.id}": a1, f"mark-{world.a2.id}": a2}


def test_random_draw_is_balanced_never_self_and_reproducible():
    groups = {"市直组": list(range(1, 12)), "县区组": list(range(20, 27))}
    pairs = draw_assignments(groups, 3, "2024-peer")
    assert all(reviewer != target for reviewer, target in pairs)
    assert len(set(pairs)) == len(pairs)
    given = Counter(reviewer for reviewer, _target in pairs)
    received = Counter(target for _reviewer, target in pairs)
    assert set(given.values()) == {3} and set(received.values()) == {3}
    group_of = {a: g for g, members in groups.items() for a in members}
    assert all(group_of[r] == group_of[t] for r, t in pairs)  # only within the group
    assert draw_assignments(groups, 3, "2024-peer") == pairs
    assert draw_assignments(groups, 3, "another seed") != pairs
    everyone = draw_assignments({"g": [1, 2, 3]}, None, "x")
    assert everyone == [(1, 2), (1, 3), (2, 1), (2, 3), (3, 1), (3, 2)]


def test_the_draw_is_audited_with_its_seed_and_can_be_replayed(db):
    world = build(db, size=7)
    world.draw(db, mode=PeerMode.SAMPLE, k=2, seed="")
    [event] = _events(db, "peer_review_drawn")
    stored = sorted((a.reviewer_agency_id, a.target_agency_id)
                    for a in db.exec(select(PeerAssignment)).all())
    assert event["seed"] and [tuple(p) for p in event["pairs"]] == stored
    assert draw_assignments(event["groups"], event["sample_size"], event["seed"]) == stored
    assert set(Counter(t for _r, t in stored).values()) == {2}


def test_contact_saves_a_draft_then_submits_and_the_marks_become_scores(app, db, world):
    world.draw(db)
    reviewer, target = world.contacts[0], world.agencies[1]
    web = world.web(app, reviewer)
    listing = web.client.get(f"/agency/campaigns/{world.campaign.id}/peer-review")
    page = listing.get_data(as_text=True)
    assert listing.status_code == 200
    assert all(a.name in page for a in world.agencies[1:])
    assert world.agencies[0].name not in page.split('id="peer-list"')[1]  # never itself
    # Every column has a header a screen reader can read (the links' column had none).
    header = page.split('id="peer-list"')[1].split("</thead>")[0]
    assert "<th></th>" not in header and '<span class="visually-hidden">操作</span>' in header

    assert web.post(world.sheet_url(target), {**_marks(world, a2=""), "action": "save"}
                    ).status_code == 302
    assert _scores(db, world) == []  # a draft is not a mark
    assert "9.5" in web.client.get(world.sheet_url(target)).get_data(as_text=True)

    bad = web.post(world.sheet_url(target), {**_marks(world, a1="9.3"), "action": "submit"})
    assert bad.status_code == 400
    assert "A1" in bad.get_data(as_text=True) and "步长" in bad.get_data(as_text=True)
    over = web.post(world.sheet_url(target), {**_marks(world, a2="11"), "action": "submit"})
    assert over.status_code == 400 and "A2" in over.get_data(as_text=True)
    missing = web.post(world.sheet_url(target), {**_marks(world, a2=""), "action": "submit"})
    assert missing.status_code == 400 and "尚未打分" in missing.get_data(as_text=True)
    assert _scores(db, world) == []

    assert web.post(world.sheet_url(target), {**_marks(world), "action": "submit"}
                    ).status_code == 302
    scores = _scores(db, world)
    assert sorted((s.indicator_id, s.value) for s in scores) == [
        (world.a1.id, Decimal("9.5")), (world.a2.id, Decimal("8"))]
    assert {(s.agency_id, s.reviewer_id) for s in scores} == {(target.id, reviewer.id)}
    [event] = _events(db, "peer_review_submitted")
    assert event["target_agency_id"] == target.id and event["marks"] == 2

    # The same form again (a double click, a resent page): accepted, nothing new stored.
    again = web.post(world.sheet_url(target), {**_marks(world), "action": "submit"})
    assert again.status_code == 302 and len(_scores(db, world)) == 2
    assert len(_events(db, "peer_review_submitted")) == 1
    changed = web.post(world.sheet_url(target), {**_marks(world, a2="3"), "action": "submit"})
    assert changed.status_code == 409 and "已提交" in changed.get_data(as_text=True)
    assert sorted(s.value for s in _scores(db, world)) == [Decimal("8"), Decimal("9.5")]


def test_a_forged_post_for_ones_own_agency_is_refused_and_stores_nothing(app, db, world):
    world.draw(db)
    own = world.agencies[0]
    web = world.web(app, world.contacts[0])
    for action in ("save", "submit"):
        response = web.post(world.sheet_url(own), {**_marks(world), "action": action})
        assert response.status_code == 403
        assert "不能对本单位进行互评" in response.get_data(as_text=True)
    assert web.client.get(world.sheet_url(own)).status_code == 403
    assert _scores(db, world) == []
    db.add(PeerAssignment(stage_id=world.stage.id, reviewer_agency_id=own.id,
                          target_agency_id=own.id))
    with pytest.raises(IntegrityError):  # and the database would not hold one either
        db.commit()
    db.rollback()


def test_an_agency_not_assigned_to_the_reviewer_is_refused(app, db):
    world = build(db, size=5)
    world.draw(db, mode=PeerMode.SAMPLE, k=1)
    reviewer = world.agencies[0]
    assigned = {a.target_agency_id for a in db.exec(select(PeerAssignment)).all()
                if a.reviewer_agency_id == reviewer.id}
    other = next(a for a in world.agencies[1:] if a.id not in assigned)
    web = world.web(app, world.contacts[0])
    response = web.post(world.sheet_url(other), {**_marks(world), "action": "submit"})
    assert response.status_code == 403 and "没有安排" in response.get_data(as_text=True)
    assert _scores(db, world) == []
    stranger = world.web(app, world.organizer)  # not a contact at all
    assert stranger.client.get(world.sheet_url(other)).status_code == 403


def test_after_the_deadline_nothing_changes_until_the_organizer_reopens(app, db, world):
    world.draw(db)
    reviewer, target = world.contacts[2], world.agencies[0]
    web = world.web(app, reviewer)
    assert web.post(world.sheet_url(target), {**_marks(world), "action": "save"}
                    ).status_code == 302
    world.stage.opens_at = utcnow() - timedelta(days=9)
    world.stage.closes_at = utcnow() - timedelta(hours=1)
    db.add(world.stage)
    db.commit()
    for action in ("save", "submit"):
        late = web.post(world.sheet_url(target), {**_marks(world, a1="2"), "action": action})
        assert late.status_code == 409 and "已截止" in late.get_data(as_text=True)
    assert _scores(db, world) == []
    page = world.web(app, world.organizer).client.get(
        f"/admin/campaigns/{world.campaign.id}/peer-review").get_data(as_text=True)
    assert "逾期" in page and world.agencies[2].name in page.split('class="late"')[1]

    organizer = world.web(app, world.organizer)
    until = (utcnow() + timedelta(days=2)).astimezone(LOCAL_TZ)
    reopened = organizer.post(f"/admin/campaigns/{world.campaign.id}/peer-review/reopen",
                              {"agency": world.agencies[2].id,
                               "until": until.strftime("%Y-%m-%dT%H:%M")})
    assert reopened.status_code == 302
    [event] = _events(db, "peer_review_reopened")
    assert event["reviewer_agency_id"] == world.agencies[2].id
    assert web.post(world.sheet_url(target), {**_marks(world), "action": "submit"}
                    ).status_code == 302
    assert len(_scores(db, world)) == 2


def test_agency_a_cannot_see_agency_bs_draft(app, db, world):
    world.draw(db)
    target = world.agencies[3]
    b = world.web(app, world.contacts[1])
    assert b.post(world.sheet_url(target), {**_marks(world, a1="6.5", a2="1.25"),
                                            "action": "save"}).status_code == 302
    a_page = world.web(app, world.contacts[0]).client.get(world.sheet_url(target))
    assert a_page.status_code == 200
    assert "1.25" not in a_page.get_data(as_text=True)
    assert "1.25" in b.client.get(world.sheet_url(target)).get_data(as_text=True)


def test_an_empty_total_names_the_total_plainly(app, db):
    # It said "指标 总分「互评总分」尚未打分": the total is no indicator.
    world = build(db, size=3)
    world.draw(db, marking=PeerMarking.TOTAL)
    lines = sheet_lines(db, setup_of(db, world.stage), world.campaign.id)
    sheet = sheet_for(db, world.stage, world.agencies[0].id, world.agencies[1].id)
    with pytest.raises(ValidationFailed) as refused:
        submit(db, world.stage, sheet, lines, {"total": ""}, world.contacts[0])
    assert refused.value.errors == {"mark-total": "「互评总分」尚未打分。"}


def test_the_organizer_sees_completion_the_matrix_and_a_constructed_bloc(app, db):
    world = build(db, size=6)
    world.draw(db, marking=PeerMarking.TOTAL)
    bloc = world.agencies[:3]
    lines = sheet_lines(db, setup_of(db, world.stage), world.campaign.id)
    for rater, contact in zip(world.agencies, world.contacts, strict=True):
        for target in world.agencies:
            if target.id == rater.id or (rater == world.agencies[5] and target != bloc[0]):
                continue  # the last agency is late: one sheet in, the rest not started
            mark = "95" if rater in bloc and target in bloc else "70"
            sheet = sheet_for(db, world.stage, rater.id, target.id)
            submit(db, world.stage, sheet, lines, {"total": mark}, contact)
    response = world.web(app, world.organizer).client.get(
        f"/admin/campaigns/{world.campaign.id}/peer-review")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    blocs = page.split('id="blocs"')[1].split("</ul>")[0]
    assert all(a.name in blocs for a in bloc)
    assert world.agencies[3].name not in blocs
    reciprocity = page.split('id="reciprocity"')[1].split("</table>")[0]
    assert reciprocity.count("<tr>") == 1 + 3  # header + the three pairs of the bloc
    assert "5 / 6" in page  # five reviewers complete, one not
    assert page.count('class="flagged"') == 6  # both directions of each flagged pair


def _only(db, campaign, kind: StageKind):
    """A policy scoring one stage; agencies without its marks are left out, not an error."""
    settings = default_settings(db, campaign)
    settings.weights.update({code: Decimal(0) for code in settings.weights})
    settings.weights[kind.value] = Decimal(100)
    return build_policy(dataclasses.replace(settings, missing="renormalize"))


def test_composing_results_uses_the_submitted_peer_marks(db, world):
    world.draw(db)
    lines = sheet_lines(db, setup_of(db, world.stage), world.campaign.id)
    target, drafting = world.agencies[0], world.agencies[1]
    for n, (rater, contact) in enumerate(zip(world.agencies, world.contacts, strict=True)):
        for other in world.agencies:
            if other == rater or (rater == target and other == drafting):
                continue
            a1 = str(5 + n) if other == target else "5"
            submit(db, world.stage, sheet_for(db, world.stage, rater.id, other.id), lines,
                   {str(world.a1.id): a1, str(world.a2.id): "5"}, contact)
    draft = sheet_for(db, world.stage, target.id, drafting.id)
    draft.draft_json = json.dumps({str(world.a1.id): "10", str(world.a2.id): "10"})
    db.add(draft)
    db.commit()
    rows = gather_marks(db, world.campaign, [StageKind.PEER_REVIEW.value])
    assert {r.source for r in rows} == {PEER}
    raters = {r.scorer_id for r in rows if r.agency_id == drafting.id}  # rater agencies
    assert raters == {a.id for a in world.agencies[2:]}  # the draft is not a mark
    policy = _only(db, world.campaign, StageKind.PEER_REVIEW)
    result = compose(db, world.campaign, policy).result.by_agency
    # Sheets of 11, 12, 13 points; the highest and lowest dropped: 12.
    assert result[target.id].stages[StageKind.PEER_REVIEW.value].value == Decimal("12.00")
    # Two sheets only (the draft of 20 does not count): too few to trim, their mean.
    assert result[drafting.id].stages[StageKind.PEER_REVIEW.value].value == Decimal("10.00")
    assert draft.status == PeerSheetStatus.DRAFT


def test_self_assessment_counts_the_accepted_self_scores_only(db):
    from selfassess_world import build as build_selfassess

    from evaluation.models import ReviewDecision
    from evaluation.services import self_assessment as sa

    world = build_selfassess(db)
    accepted = sa.submission_for(db, world.campaign.id, world.agency_a.id)
    sa.save_draft(db, accepted, "报告", {world.a1.id: sa.ScoreInput("9.5"),
                                         world.a2.id: sa.ScoreInput("8")})
    sa.submit(db, accepted, world.contact_a)
    sa.review(db, accepted, world.organizer, ReviewDecision.ACCEPTED, "", {})
    waiting = sa.submission_for(db, world.campaign.id, world.agency_b.id)
    sa.save_draft(db, waiting, "报告", {world.a1.id: sa.ScoreInput("10"),
                                        world.a2.id: sa.ScoreInput("10")})
    sa.submit(db, waiting, world.contact_b)  # not reviewed yet: not a mark
    rows = gather_marks(db, world.campaign, [StageKind.SELF_ASSESSMENT.value])
    assert {(r.agency_id, r.source, r.indicator, r.value) for r in rows} == {
        (world.agency_a.id, SELF, "A1", Decimal("9.5")),
        (world.agency_a.id, SELF, "A2", Decimal("8")),
    }
    sa.review(db, waiting, world.organizer, ReviewDecision.ACCEPTED, "", {})
    composed = compose(db, world.campaign, _only(db, world.campaign, StageKind.SELF_ASSESSMENT))
    stages = {a: r.stages["self_assessment"].value for a, r in composed.result.by_agency.items()}
    assert stages == {world.agency_a.id: Decimal("17.50"), world.agency_b.id: Decimal("20.00")}
    assert composed.reviewers[f"U{world.contact_a.id}"] == world.contact_a.display_name

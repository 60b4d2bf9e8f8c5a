"""Composing results from the stored marks: every figure equals scoring's, nothing is written."""

from __future__ import annotations

from decimal import Decimal

import factories as f
import pytest
import results_world
from sqlmodel import func, select

from evaluation.models import (
    AuditEvent,
    CampaignPolicy,
    ConflictDeclaration,
    ResultsVersion,
    StageKind,
)
from evaluation.services.errors import ValidationFailed
from evaluation.services.results import ResultsUnavailable, compose
from evaluation.services.results_policy import (
    build_policy,
    default_settings,
    load_policy,
    parse_group_weights,
    save_policy,
    settings_from_form,
    settings_from_policy,
    settings_to_form,
)
from scoring import THREE_LEVEL, PanelRule, evaluate

D = Decimal


def test_compose_matches_scoring_on_the_raw_marks(db):
    world = results_world.build(db)
    composed = compose(db, world.campaign)
    a, b, c = (world.agencies[n].id for n in ("甲局", "乙局", "丙局"))
    judges = [j.id for j in world.judges]
    # The same marks, typed by hand, straight into scoring.
    trimmed = PanelRule(drop_high=1, drop_low=1, places=2, fallback="use_all")
    mean = PanelRule(places=2, fallback="use_all")
    expected = evaluate(composed.policy, {
        a: {"self_assessment": {"U": D("91.5")}, "field_inspection": {1: 90, 2: 86},
            "onsite_review": dict(zip(judges, [90, 92, 88, 95, None], strict=True)),
            "public_review": {"满意": 8, "基本满意": 2}},
        b: {"self_assessment": {"U": 81}, "field_inspection": {1: 80, 2: 84},
            "onsite_review": dict(zip(judges, [85, 86, 84, 99, 60], strict=True)),
            "public_review": {"满意": 5, "基本满意": 4, "不满意": 1}},
        c: {"self_assessment": {"U": 58}, "field_inspection": {1: 60, 2: 62},
            "onsite_review": dict(zip(judges, [70, 72, 75, 74, 71], strict=True)),
            "public_review": {"满意": 2, "基本满意": 5, "不满意": 3}},
    }, groups={a: "市直组", b: "市直组", c: "县区组"})
    for agency in (a, b, c):
        got, want = composed.result.by_agency[agency], expected.by_agency[agency]
        assert got.total == want.total
        assert got.ranked.rank == want.ranked.rank and got.graded.grade == want.graded.grade
    # 甲局: the affiliated judge is recused, not a mark; trimmed mean of the other four.
    onsite = composed.result.by_agency[a].stages["onsite_review"]
    assert onsite.recused == (judges[4],)
    assert onsite.value == trimmed.apply([90, 92, 88, 95]).value == D("91.00")
    assert composed.result.by_agency[a].stages["self_assessment"].value == D("91.50")
    assert composed.result.by_agency[b].stages["field_inspection"].value == \
        mean.apply([80, 84]).value
    assert composed.result.by_agency[b].stages["public_review"].value == \
        THREE_LEVEL.apply({"满意": 5, "基本满意": 4, "不满意": 1}).value
    assert [r.judge_id for r in composed.recusals] == [judges[4]]
    # 91.50 × 20% + 96.00 × 20% + 88.00 × 20% + 91.00 × 40%, by hand.
    assert composed.result.by_agency[a].total == D("91.50")
    assert composed.agencies[a].group == "市直组"
    assert composed.status == "preview"


def _counts(db):
    return [db.exec(select(func.count()).select_from(model)).one()
            for model in (AuditEvent, CampaignPolicy, ResultsVersion)]


def test_what_if_with_other_weights_writes_nothing(db):
    world = results_world.build(db)
    before = _counts(db)
    settings = settings_from_policy(load_policy(db, world.campaign))
    settings.weights.update({"onsite_review": D(70), "field_inspection": D(0),
                             "self_assessment": D(10), "public_review": D(20)})
    other = compose(db, world.campaign, build_policy(settings))
    stored = compose(db, world.campaign)
    assert other.result.fingerprint != stored.result.fingerprint
    assert _counts(db) == before


def test_missing_stage_names_the_agency(db):
    world = results_world.build(db)
    settings = default_settings(db, world.campaign)
    settings.weights.update({"peer_review": D(10), "onsite_review": D(30)})
    with pytest.raises(ResultsUnavailable, match="单位 [甲乙丙]局.*：缺少阶段得分：互评"):
        compose(db, world.campaign, build_policy(settings))
    settings = settings.__class__(**{**settings.__dict__, "missing": "renormalize"})
    renormalized = compose(db, world.campaign, build_policy(settings))
    assert all(a.composition.renormalized for a in renormalized.result.agencies)


def test_policy_round_trips_through_the_form_and_the_database(db):
    world = results_world.build(db)
    settings = default_settings(db, world.campaign)
    form = settings_to_form(settings)
    form.update({"onsite_groups": "专家：60，人大代表 40", "quota-excellent": "30"})
    policy = build_policy(settings_from_form(form))
    save_policy(db, world.campaign, policy, world.composer.id)
    again = load_policy(db, world.campaign)
    assert again.fingerprint == policy.fingerprint
    assert settings_to_form(settings_from_policy(again))["onsite_groups"] == "专家:60 人大代表:40"
    assert dict(again.grading.quotas) == {"优秀": D(30)}


@pytest.mark.parametrize("changes, field", [
    ({"weight-onsite_review": "45"}, "weights"),
    ({"weight-onsite_review": "abc"}, "weight-onsite_review"),
    ({"threshold-good": "95"}, "threshold-good"),
    ({"threshold-pass": "120"}, "threshold-pass"),
    ({"drop_high-onsite_review": "-1"}, "drop_high-onsite_review"),
    ({"onsite_groups": "专家:60 人大代表:30"}, "onsite_groups"),
    ({"quota-excellent": "0"}, "quota-excellent"),
])
def test_bad_policy_settings_name_the_field(db, changes, field):
    world = results_world.build(db)
    form = {**settings_to_form(default_settings(db, world.campaign)), **changes}
    with pytest.raises(ValidationFailed) as caught:
        build_policy(settings_from_form(form))
    assert field in caught.value.errors


def test_policy_numbers_typed_with_a_chinese_input_method_are_read(db):
    # Full-width digits were read but the full-width point (．) gave 请输入数字.
    world = results_world.build(db)
    form = settings_to_form(default_settings(db, world.campaign))
    wide = str.maketrans("0123456789.", "０１２３４５６７８９．")
    typed = {"weight-onsite_review": f"{D(form['weight-onsite_review']):.1f}".translate(wide),
             "threshold-good": "７５．５"}
    settings = settings_from_form({**form, **typed})
    assert settings.weights["onsite_review"] == D(form["weight-onsite_review"])
    assert settings.thresholds["good"] == D("75.5")


def test_group_weights_accept_full_width_marks():
    assert parse_group_weights("专家：40、人大代表:30，群众代表 30") == {
        "专家": D(40), "人大代表": D(30), "群众代表": D(30)}


def test_default_policy_follows_the_stage_weights(db):
    world = results_world.build(db)
    policy = load_policy(db, world.campaign)
    weights = {spec.code: spec.weight for spec in policy.composition.stages}
    assert weights == {"self_assessment": D(20), "public_review": D(20),
                       "field_inspection": D(20), "onsite_review": D(40)}
    assert dict(policy.stage_rules)["onsite_review"].drop_high == 1
    assert policy.tie_breakers == (StageKind.ONSITE_REVIEW.value,)
    assert dict(policy.grading.thresholds) == {"优秀": 90, "良好": 80, "合格": 60}


def test_public_ballots_add_to_the_audience_panel(db, monkeypatch):
    """The ballots module (built alongside) is one more collector of the public-review stage."""
    import sys
    import types

    world = results_world.build(db)
    a = world.agencies["甲局"].id
    fake = types.ModuleType("evaluation.services.ballot_results")
    fake.counts_by_agency = lambda _db, stage: {a: {"不满意": 10}}
    monkeypatch.setitem(sys.modules, "evaluation.services.ballot_results", fake)
    composed = compose(db, world.campaign)
    assert composed.inputs[a]["public_review"] == {"满意": 8, "基本满意": 2, "不满意": 10}
    assert composed.result.by_agency[a].stages["public_review"].value == \
        THREE_LEVEL.apply({"满意": 8, "基本满意": 2, "不满意": 10}).value


def test_a_sheet_adds_bonus_and_subtracts_deduction_lines_like_scoring(db):
    from evaluation.models import Indicator, IndicatorKind, Score
    from scoring import Indicator as Node
    from scoring import score_sheet

    world = results_world.build(db)
    extra = {}
    for code, kind in (("X", IndicatorKind.DEDUCTION), ("Y", IndicatorKind.BONUS)):
        extra[code] = Indicator(campaign_id=world.campaign.id, code=code, name=code,
                                max_points=D(5), kind=kind)
        db.add(extra[code])
    db.flush()
    a = world.agencies["甲局"]
    stage = f.stage(db, world.campaign, StageKind.SELF_ASSESSMENT)
    for code, value in (("X", D(2)), ("Y", D("1.5"))):
        db.add(Score(stage_id=stage.id, agency_id=a.id, reviewer_id=world.composer.id,
                     indicator_id=extra[code].id, value=value, client_request_id=f"x-{code}"))
    db.commit()
    tree = Node("R", "表", D(100), children=(
        Node("A1", "责任", D(50)), Node("A2", "制度", D(50)),
        Node("X", "扣分", D(5), kind="deduction"), Node("Y", "加分", D(5), kind="bonus")))
    expected = score_sheet(tree, {"A1": D(45), "A2": D("46.5"), "X": D(2), "Y": D("1.5")})
    composed = compose(db, world.campaign)
    assert expected == D("91.0")
    assert composed.result.by_agency[a.id].stages["self_assessment"].value == expected


def test_a_declared_conflict_sets_the_judges_mark_aside(db):
    world = results_world.build(db)
    b = world.agencies["乙局"].id
    judges = [j.id for j in world.judges]
    # Judge 1 gave 乙局 85 before declaring a conflict with it: the mark no longer counts.
    db.add(ConflictDeclaration(campaign_id=world.campaign.id, agency_id=b, judge_id=judges[0],
                               reason="近亲属在该局任职", recorded_by=world.composer.id))
    db.commit()
    onsite = compose(db, world.campaign).result.by_agency[b].stages["onsite_review"]
    assert onsite.recused == (judges[0],)
    trimmed = PanelRule(drop_high=1, drop_low=1, places=2, fallback="use_all")
    assert onsite.value == trimmed.apply([86, 84, 99, 60]).value == D("85.00")


def test_the_recusal_register_of_the_results_gives_each_recusals_own_basis(db):
    """The workbook's 回避 sheet said 所属单位回避 of a judge who had declared a conflict with
    an agency that is not theirs: a false statement on the record of the results."""
    world = results_world.build(db)
    a, b = world.agencies["甲局"].id, world.agencies["乙局"].id
    judges = [j.id for j in world.judges]
    db.add(ConflictDeclaration(campaign_id=world.campaign.id, agency_id=b, judge_id=judges[0],
                               reason="近亲属在该局任职", recorded_by=world.composer.id))
    db.commit()
    reasons = {(r.agency_id, r.judge_id): r.reason
               for r in compose(db, world.campaign).recusals}
    assert reasons == {(a, judges[4]): "所属单位回避",            # 评委4 works at 甲局
                       (b, judges[0]): "本人申报回避"}

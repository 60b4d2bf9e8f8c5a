"""Composition: normalize, weight, round at declared points, bonus / deduction caps."""

from decimal import Decimal as D

import pytest

from scoring import (
    AdjustmentRule,
    Composition,
    MissingStageError,
    ScoringError,
    StageSpec,
    WeightError,
)

STAGES = (
    StageSpec("self_assessment", 10),
    StageSpec("public_review", 30),
    StageSpec("field_inspection", 20, max_points=50),
    StageSpec("onsite_review", 40),
)
ADJUSTMENTS = (
    AdjustmentRule("media_bonus", "bonus", cap=2),
    AdjustmentRule("innovation", "bonus"),
    AdjustmentRule("complaint", "deduction", cap=5),
)
COMPOSITION = Composition(STAGES, ADJUSTMENTS, bonus_cap=D("2.5"))
SCORES = {
    "self_assessment": "92.5",
    "public_review": "88.75",
    "field_inspection": "43.5",
    "onsite_review": "88.25",
}


def test_weighted_sum_rounds_each_product():
    result = COMPOSITION.compose(SCORES)
    # self 92.50 x 10% = 9.25; public 88.75 x 30% = 26.625 -> 26.63;
    # field 43.5 / 50 x 100 = 87.00 x 20% = 17.40; onsite 88.25 x 40% = 35.30
    assert [p.product for p in result.parts] == [D("9.25"), D("26.63"), D("17.40"), D("35.30")]
    assert result.parts[2].normalized == D("87.00")
    # 9.25 + 26.63 + 17.40 + 35.30 = 88.58
    assert result.value == D("88.58")


def test_bonus_and_deduction_with_caps():
    result = COMPOSITION.compose(SCORES, {"media_bonus": "3", "innovation": 1, "complaint": "0.5"})
    # media 3 capped at 2; + innovation 1 = 3, capped overall at 2.5; deduction 0.5
    # 88.58 + 2.5 - 0.5 = 90.58
    assert [a.applied for a in result.adjustments] == [D("2"), D("1"), D("0.5")]
    assert (result.bonus, result.deduction, result.value) == (D("2.5"), D("0.5"), D("90.58"))


def test_missing_stage_is_an_error_naming_it():
    scores = {k: v for k, v in SCORES.items() if k != "public_review"}
    with pytest.raises(MissingStageError, match="社会评议.*public_review"):
        COMPOSITION.compose(scores)


def test_renormalize_over_present_stages_is_explicit_and_marked():
    composition = Composition(STAGES, missing="renormalize")
    scores = dict(SCORES, public_review=None)
    result = composition.compose(scores)
    # divisor 10 + 20 + 40 = 70: 92.50 x 10/70 = 13.214 -> 13.21;
    # 87.00 x 20/70 = 24.857 -> 24.86; 88.25 x 40/70 = 50.428 -> 50.43; total 88.50
    assert [p.product for p in result.parts] == [D("13.21"), D("24.86"), D("50.43")]
    assert result.value == D("88.50")
    assert result.renormalized and result.missing == ("public_review",)


def test_rounding_each_product_is_a_declared_point():
    # 88.01 x 50 / 100 = 44.005 -> 44.01, twice: total 88.02 (rounding only the sum: 88.01)
    halves = (StageSpec("onsite_review", 50), StageSpec("public_review", 50))
    scores = {"onsite_review": "88.01", "public_review": "88.01"}
    assert Composition(halves).compose(scores).value == D("88.02")
    assert Composition(halves, product_places=None).compose(scores).value == D("88.01")


def test_stage_normalized_from_its_own_scale_then_weighted():
    # components on a 0-10 scale: 9.32 -> 93.2, 8.68 -> 86.8 (exact, stage_places=None);
    # 93.2 x 60% = 55.92; 86.8 x 40% = 34.72; total 90.64
    composition = Composition(
        (StageSpec("a", 60, max_points=10), StageSpec("b", 40, 10)), stage_places=None
    )
    result = composition.compose({"a": "9.32", "b": "8.68"})
    assert [p.normalized for p in result.parts] == [D("93.2"), D("86.8")]
    assert [p.product for p in result.parts] == [D("55.92"), D("34.72")]
    assert result.value == D("90.64")


@pytest.mark.parametrize(
    "scores, fragment",
    [
        (dict(SCORES, onsite_review="101"), "超出"),
        (dict(SCORES, field_inspection="51"), "超出"),
        (dict(SCORES, unknown_stage="1"), "未定义"),
        (dict(SCORES, onsite_review=88.25), "浮点"),
    ],
)
def test_bad_stage_scores_are_refused(scores, fragment):
    with pytest.raises(ScoringError, match=fragment):
        COMPOSITION.compose(scores)


def test_weights_must_total_100():
    with pytest.raises(WeightError, match="合计应为 100"):
        Composition((StageSpec("a", 60), StageSpec("b", 30)))


def test_stage_scores_may_be_results_with_a_value():
    class Result:
        value = D("90")

    composition = Composition((StageSpec("onsite_review", 100),))
    assert composition.compose({"onsite_review": Result()}).value == D("90.00")


def test_deduction_item_cap_and_overall_deduction_cap():
    composition = Composition(
        STAGES,
        (
            AdjustmentRule("complaint", "deduction", cap=5),
            AdjustmentRule("late_report", "deduction", cap=1),
            AdjustmentRule("media_bonus", "bonus", cap=2),
        ),
        deduction_cap=D("4.5"),
    )
    result = composition.compose(SCORES, {"complaint": "7", "late_report": "0.5"})
    # complaint 7 capped at 5; late_report 0.5 -> 5.5, capped overall at 4.5
    # 88.58 (as in test_weighted_sum_rounds_each_product) - 4.5 = 84.08
    assert [(a.code, a.claimed, a.applied) for a in result.adjustments] == [
        ("complaint", D("7"), D("5")),
        ("late_report", D("0.5"), D("0.5")),
    ]
    assert (result.bonus, result.deduction, result.value) == (D("0"), D("4.5"), D("84.08"))


def test_negative_adjustment_is_refused():
    with pytest.raises(ScoringError, match="complaint.*不能为负"):
        COMPOSITION.compose(SCORES, {"complaint": "-1"})


def test_a_survey_without_answers_is_a_missing_stage():
    from scoring import THREE_LEVEL

    empty = THREE_LEVEL.apply({})  # no answers: value None, not a score of 0
    with pytest.raises(MissingStageError, match="社会评议"):
        COMPOSITION.compose(dict(SCORES, public_review=empty))
    result = Composition(STAGES, missing="renormalize").compose(dict(SCORES, public_review=empty))
    # as in test_renormalize_over_present_stages_is_explicit_and_marked: 88.50
    assert result.value == D("88.50") and result.missing == ("public_review",)

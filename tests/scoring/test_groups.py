"""Weighted judge groups: 专家 40% / 人大代表 30% / 群众代表 30%."""

from decimal import Decimal as D

import pytest

from scoring import (
    GroupWeighting,
    MissingStageError,
    PanelRule,
    PolicyError,
    WeightError,
    split_by_group,
)

THREE_GROUPS = GroupWeighting(
    weights={"专家": 40, "人大代表": 30, "群众代表": 30},
    rule=PanelRule(drop_high=1, drop_low=1),
)
MARKS = {
    # drop 95, 85 -> (90 + 92 + 88) / 3 = 90.00 -> x 40 / 100 = 36.00
    "专家": {"E1": "90", "E2": "92", "E3": "88", "E4": "95", "E5": "85"},
    # drop 88, 84 -> 86.00 -> x 30 / 100 = 25.80
    "人大代表": {"R1": "86", "R2": "88", "R3": "84"},
    # drop 82, 79 -> (80 + 81) / 2 = 80.50 -> x 30 / 100 = 24.15
    "群众代表": {"P1": "80", "P2": "81", "P3": "79", "P4": "82"},
}


def test_weighted_groups_golden():
    result = THREE_GROUPS.apply(MARKS)
    # 36.00 + 25.80 + 24.15 = 85.95
    assert [(p.group, p.result.value, p.product) for p in result.parts] == [
        ("专家", D("90.00"), D("36.00")),
        ("人大代表", D("86.00"), D("25.80")),
        ("群众代表", D("80.50"), D("24.15")),
    ]
    assert result.value == D("85.95") and not result.renormalized


def test_missing_group_is_an_error_by_default():
    marks = {k: v for k, v in MARKS.items() if k != "群众代表"}
    with pytest.raises(MissingStageError, match="群众代表"):
        THREE_GROUPS.apply(marks)


def test_missing_group_renormalizes_when_declared():
    weighting = GroupWeighting(
        weights=THREE_GROUPS.weights, rule=THREE_GROUPS.rule, missing="renormalize"
    )
    # all 群众代表 recused (None): divisor 40 + 30 = 70
    marks = dict(MARKS, 群众代表={"P1": None, "P2": None})
    result = weighting.apply(marks)
    # 90.00 x 40 / 70 = 51.428.. -> 51.43; 86.00 x 30 / 70 = 36.857.. -> 36.86; sum 88.29
    assert [p.product for p in result.parts] == [D("51.43"), D("36.86")]
    assert result.value == D("88.29")
    assert result.renormalized and result.missing == ("群众代表",)


def test_per_group_rule_override():
    weighting = GroupWeighting(
        weights={"专家": 50, "群众代表": 50}, group_rules={"群众代表": PanelRule(combine="median")}
    )
    # 专家 mean (80 + 90) / 2 = 85.00 -> 42.50; 群众 median of 70, 71, 99 = 71.00 -> 35.50
    result = weighting.apply({"专家": ["80", "90"], "群众代表": ["70", "99", "71"]})
    assert result.value == D("78.00")


@pytest.mark.parametrize(
    "weights, error",
    [
        ({"专家": 40, "群众代表": 50}, WeightError),
        ({"专家": 110, "群众代表": -10}, WeightError),
        ({"专家": 40.0, "群众代表": 60}, Exception),
    ],
)
def test_weights_must_total_100(weights, error):
    with pytest.raises(error):
        GroupWeighting(weights=weights)


def test_unknown_group_in_marks_is_refused():
    with pytest.raises(PolicyError, match="媒体"):
        THREE_GROUPS.apply(dict(MARKS, 媒体={"M1": "90"}))


def test_split_by_group():
    grouped = split_by_group({"E1": "90", "P1": "80"}, {"E1": "专家", "P1": "群众代表"})
    assert grouped == {"专家": {"E1": "90"}, "群众代表": {"P1": "80"}}
    with pytest.raises(PolicyError, match="E9"):
        split_by_group({"E9": "90"}, {})


def test_recusal_shrinks_a_group_below_its_minimum_and_the_result_says_so():
    weighting = GroupWeighting(
        weights={"专家": 60, "群众代表": 40},
        rule=PanelRule(drop_high=1, drop_low=1, min_marks=4, fallback="use_all"),
    )
    marks = {
        # E2 declared recused (e.g. affiliated with the agency): 3 marks < 4 -> use all:
        # (90 + 86 + 88) / 3 = 88.00 -> x 60 / 100 = 52.80
        "专家": {"E1": "90", "E2": "99", "E3": "86", "E4": "88"},
        # drop 85 and 75: (80 + 82) / 2 = 81.00 -> x 40 / 100 = 32.40
        "群众代表": {"P1": "80", "P2": "85", "P3": "75", "P4": "82"},
    }
    result = weighting.apply(marks, recused=["E2"])
    experts, public = (part.result for part in result.parts)
    assert experts.recused == ("E2",) and experts.fallback == "use_all"
    assert experts.dropped == () and experts.value == D("88.00")
    assert public.fallback is None and public.value == D("81.00")
    # 52.80 + 32.40 = 85.20
    assert result.value == D("85.20")

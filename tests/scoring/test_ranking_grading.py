"""Competition ranking with a tie-break chain; grades by thresholds and quotas."""

from decimal import Decimal as D

import pytest

from scoring import GradeScale, PolicyError, ScoringError, grade, rank

TOTALS = {"a": "90", "b": "95", "c": "90", "d": "80", "e": "90"}
ONSITE = {"a": "88", "b": "70", "c": "88", "d": "70", "e": "90"}
PUBLIC = {"a": "85", "b": "70", "c": "80", "d": "70", "e": "70"}


def ranks(ranked):
    return {r.agency: r.rank for r in ranked}


@pytest.mark.parametrize(
    "tie_breakers, expected",
    [
        ((), {"b": 1, "a": 2, "c": 2, "e": 2, "d": 5}),  # 1, 2, 2, 2, 5
        ((("现场评议", ONSITE),), {"b": 1, "e": 2, "a": 3, "c": 3, "d": 5}),
        ((("现场评议", ONSITE), ("社会评议", PUBLIC)), {"b": 1, "e": 2, "a": 3, "c": 4, "d": 5}),
    ],
)
def test_competition_ranking_with_tie_break_chain(tie_breakers, expected):
    assert ranks(rank(TOTALS, tie_breakers=tie_breakers)) == expected


def test_ranked_says_which_tie_breaker_decided():
    ranked = {r.agency: r for r in rank(TOTALS, tie_breakers=[("现场评议", ONSITE)])}
    assert ranked["e"].decided_by == "现场评议" and not ranked["e"].shared
    assert ranked["a"].shared and ranked["c"].shared
    assert ranked["b"].decided_by is None


def test_output_is_in_rank_order_then_input_order():
    assert [r.agency for r in rank(TOTALS)] == ["b", "a", "c", "e", "d"]


def test_ranking_within_groups():
    groups = {"a": "市直组", "b": "县区组", "c": "市直组", "d": "县区组", "e": "市直组"}
    ranked = rank({"a": "90", "b": "80", "c": "91", "d": "85", "e": "70"}, groups=groups)
    assert [(r.group, r.agency, r.rank) for r in ranked] == [
        ("市直组", "c", 1),
        ("市直组", "a", 2),
        ("市直组", "e", 3),
        ("县区组", "d", 1),
        ("县区组", "b", 2),
    ]


def test_missing_tie_breaker_value_is_an_error():
    with pytest.raises(ScoringError, match="e.*现场评议"):
        rank(TOTALS, tie_breakers=[("现场评议", {k: v for k, v in ONSITE.items() if k != "e"})])


SCALE = GradeScale(thresholds={"优秀": 90, "良好": 80, "合格": 60}, quotas={"优秀": 30})


@pytest.mark.parametrize(
    "total, expected",
    [
        ("90", "优秀"),
        ("89.99", "良好"),
        ("80", "良好"),
        ("60", "合格"),
        ("59.99", "不合格"),
    ],
)
def test_thresholds(total, expected):
    assert SCALE.grade_of(D(total)) == expected


def test_quota_moves_overflow_down_by_rank():
    scores = ["98", "96", "95", "94", "91", "85", "82", "70", "65", "50"]
    ranked = rank({f"u{i}": s for i, s in enumerate(scores)})
    # 10 agencies x 30% = 3 优秀; u3 (94) and u4 (91) exceed the quota -> 良好
    grades = [g.grade for g in grade(ranked, SCALE)]
    assert grades == ["优秀"] * 3 + ["良好"] * 4 + ["合格"] * 2 + ["不合格"]
    moved = [g.agency for g in SCALE.grade(ranked) if g.quota_moved]
    assert moved == ["u3", "u4"]


def test_quota_never_splits_a_tie():
    # 7 agencies x 30% = 2.1 -> 2 优秀; 95 fits, the two 92s together would be 3 -> both 良好
    ranked = rank({"a": "95", "b": "92", "c": "92", "d": "85", "e": "84", "f": "83", "g": "82"})
    assert {g.agency: g.grade for g in SCALE.grade(ranked)} == {
        "a": "优秀",
        "b": "良好",
        "c": "良好",
        "d": "良好",
        "e": "良好",
        "f": "良好",
        "g": "良好",
    }


def test_cascading_quotas():
    scale = GradeScale(thresholds={"优秀": 90, "良好": 80}, quotas={"优秀": 20, "良好": 40})
    # 5 agencies: 优秀 quota 1, 良好 quota 2; all score >= 90
    ranked = rank({"a": "99", "b": "98", "c": "97", "d": "96", "e": "95"})
    assert [g.grade for g in scale.grade(ranked)] == ["优秀", "良好", "良好", "不合格", "不合格"]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"thresholds": {"优秀": 80, "良好": 90}},
        {"thresholds": {"优秀": 90}, "quotas": {"良好": 30}},
        {"thresholds": {"优秀": 90}, "quotas": {"优秀": 130}},
    ],
)
def test_invalid_scales(kwargs):
    with pytest.raises(PolicyError):
        GradeScale(**kwargs)


def test_a_tie_breaker_value_is_needed_only_to_break_a_tie():
    # d (80) ties nobody: its missing 现场评议 does not matter; b and e tie on 90 and are
    # split by 现场评议 (90 > 70), so nobody needs 社会评议
    totals = {"a": "95", "b": "90", "e": "90", "d": "80"}
    onsite = {"a": None, "b": "70", "e": "90", "d": None}
    ranked = rank(totals, tie_breakers=[("现场评议", onsite), ("社会评议", {})])
    assert [(r.agency, r.rank, r.decided_by) for r in ranked] == [
        ("a", 1, None),
        ("e", 2, "现场评议"),
        ("b", 3, "现场评议"),
        ("d", 4, None),
    ]
    # equal on 现场评议 too: now 社会评议 is needed, and its absence is named
    with pytest.raises(ScoringError, match="单位 b 缺少并列决胜项 社会评议"):
        rank(totals, tie_breakers=[("现场评议", dict(onsite, e="70")), ("社会评议", {})])
    # ties only count within a group: d and x both 80 but in different groups
    groups = {"a": "甲", "b": "甲", "e": "甲", "d": "甲", "x": "乙"}
    ranked = rank(dict(totals, x="80"), tie_breakers=[("现场评议", dict(onsite, x=None))],
                  groups=groups)
    assert {r.agency: r.rank for r in ranked}["x"] == 1

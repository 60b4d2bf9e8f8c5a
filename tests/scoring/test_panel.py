"""PanelRule golden tables; the arithmetic is in the comments."""

from decimal import Decimal as D

import pytest

from scoring import (
    InsufficientMarksError,
    InvalidMarkError,
    OutlierReplacement,
    PanelRule,
    PolicyError,
)

TRIM_1_1 = PanelRule(drop_high=1, drop_low=1, combine="mean", places=2)


def marks(*texts):
    return [D(t) for t in texts]


GOLDEN = [
    # 10 judges, the explanation example: drop 95.00 and 78.00;
    # kept 88+87+90+86+89+88+91+87 = 706 -> 706 / 8 = 88.25
    (TRIM_1_1, marks("88", "95", "87", "90", "78", "86", "89", "88", "91", "87"), "88.25"),
    # ISU program component, 9 judges: drop 9.75 and one 9.00;
    # kept 9.25+9.50+9.00+9.25+9.50+9.25+9.50 = 65.25 -> /7 = 9.3214... -> 9.32
    (
        TRIM_1_1,
        marks("9.25", "9.50", "9.00", "9.75", "9.25", "9.50", "9.25", "9.50", "9.00"),
        "9.32",
    ),
    # ISU component with factor 1.67: 9.32 (rounded first) x 1.67 = 15.5644 -> 15.56
    # (the unrounded 9.32142857 x 1.67 = 15.5668 would publish 15.57: wrong)
    (
        PanelRule(1, 1, "mean", 2, factor=D("1.67")),
        marks("9.25", "9.50", "9.00", "9.75", "9.25", "9.50", "9.25", "9.50", "9.00"),
        "15.56",
    ),
    # ISU GOE of a 3Lz (base value 5.90), 9 judges: drop +4 and +1; kept 2+3+2+2+3+2+2 = 16
    # -> 16/7 = 2.2857 -> 2.29; GOE points 2.29 x 10% x 5.90 = 1.3511 -> 1.35
    (
        PanelRule(1, 1, "mean", 2, factor=D("0.590")),
        marks("2", "3", "2", "2", "1", "3", "2", "4", "2"),
        "1.35",
    ),
    # ISU GOE, 9 judges (-5..+5): drop +4 and -1; kept 3+2+3+2+3+1+2 = 16 -> 16/7 = 2.2857 -> 2.29
    (TRIM_1_1, marks("3", "2", "4", "3", "-1", "2", "3", "1", "2"), "2.29"),
    # exact half: kept 9.24 + 9.25 = 18.49 -> /2 = 9.245 -> half up 9.25 (half-even: 9.24)
    (TRIM_1_1, marks("9.00", "9.24", "9.25", "9.50"), "9.25"),
    # diving, 7 judges, drop 2 high and 2 low, sum the middle 3:
    # sorted 9.0 8.5 8.5 8.5 8.0 8.0 7.5 -> kept 8.5 + 8.5 + 8.0 = 25.0; x DD 3.2 = 80.00
    (
        PanelRule(2, 2, "sum", 2, factor=D("3.2")),
        marks("8.0", "8.5", "8.5", "9.0", "8.0", "7.5", "8.5"),
        "80.00",
    ),
    # ski jumping style, 5 judges, drop 1+1, sum 3: 18.5 + 18.0 + 18.5 = 55.0
    (PanelRule(1, 1, "sum", 1), marks("18.5", "18.0", "19.0", "18.5", "17.5"), "55.0"),
    # median of an even count: (8.5 + 9.0) / 2 = 8.75
    (PanelRule(combine="median"), marks("9.0", "7.0", "8.5", "9.5"), "8.75"),
    # median of an odd count, rounded to 1 place: 8.25 -> 8.3
    (PanelRule(combine="median", places=1), marks("9.0", "7.0", "8.25"), "8.3"),
    # plain mean, 3 marks: 265 / 3 = 88.333 -> 88.33
    (PanelRule(), marks("88", "88", "89"), "88.33"),
    # exact (places=None): 88 + 89 = 177 / 2 = 88.5
    (PanelRule(places=None), marks("88", "89"), "88.5"),
]


@pytest.mark.parametrize("rule, given, expected", GOLDEN)
def test_golden_panels(rule, given, expected):
    assert str(rule.apply(given).value) == expected


def test_result_fields_for_the_worked_example():
    result = TRIM_1_1.apply(GOLDEN[0][1])
    assert result.kept == tuple(marks("88", "87", "90", "86", "89", "88", "91", "87"))
    assert result.dropped == (D("95"), D("78"))
    assert [m.judge for m in result.dropped] == [2, 5]
    assert result.total == D("706") and result.count == 8
    assert result.fallback is None and result.recused == ()


def test_mixed_input_types_are_accepted():
    result = TRIM_1_1.apply([D("9.25"), "9.75", 9, "8.5", "9.0"])
    # drop 9.75 and 8.5; (9.25 + 9 + 9.0) / 3 = 27.25 / 3 = 9.0833 -> 9.08
    assert result.value == D("9.08")


@pytest.mark.parametrize(
    "given",
    [
        {"J1": "9", "J2": "9", "J3": "8", "J4": "8"},
        [("J1", "9"), ("J2", "9"), ("J3", "8"), ("J4", "8")],
    ],
)
def test_ties_drop_first_highest_and_last_lowest(given):
    result = TRIM_1_1.apply(given)
    assert [m.judge for m in result.dropped_high] == ["J1"]
    assert [m.judge for m in result.dropped_low] == ["J4"]
    assert [m.judge for m in result.kept] == ["J2", "J3"]


def test_all_equal_marks_never_drop_the_same_judge_twice():
    result = PanelRule(drop_high=2, drop_low=2).apply(["7"] * 5)
    assert [m.judge for m in result.dropped] == [1, 2, 4, 5]
    assert [m.judge for m in result.kept] == [3]


def test_floats_are_refused_with_the_judge_named():
    with pytest.raises(InvalidMarkError, match="J2.*浮点"):
        TRIM_1_1.apply({"J1": "9", "J2": 52.2, "J3": "8"})
    with pytest.raises(TypeError):  # a float is also a type error
        TRIM_1_1.apply([9.25, 9.5, 9.0])


def test_kept_and_dropped_compare_with_tuples_and_lists():
    result = TRIM_1_1.apply(["9.25", "9.75", "9", "8.5"])
    assert result.kept == [D("9.25"), D("9")] == result.kept
    assert result.kept == (D("9.25"), D("9"))
    assert result.dropped == [D("9.75"), D("8.5")]
    assert sum(result.kept) == D("18.25")


def test_duplicate_judges_are_refused():
    with pytest.raises(InvalidMarkError, match="重复"):
        TRIM_1_1.apply([("J1", "9"), ("J1", "8"), ("J2", "7")])


@pytest.mark.parametrize("given", [[], ["9", "8"]])
def test_too_few_marks_is_an_error(given):
    with pytest.raises(InsufficientMarksError, match="少于"):
        TRIM_1_1.apply(given)


def test_fallback_use_all_below_minimum_says_so():
    isu_like = PanelRule(drop_high=1, drop_low=1, min_marks=5, fallback="use_all")
    # only 4 marks: use all -> (8 + 9 + 7 + 8) / 4 = 8.00
    result = isu_like.apply(marks("8", "9", "7", "8"))
    assert result.value == D("8.00") and result.fallback == "use_all" and result.dropped == ()
    assert isu_like.apply(marks("8", "9", "7", "8", "6")).fallback is None


def test_recused_judges_are_not_marks():
    rule = PanelRule(drop_high=1, drop_low=1, min_marks=5, fallback="use_all")
    given = {"J1": "90", "J2": None, "J3": "80", "J4": "85", "J5": "70", "J6": "95"}
    # J2 has no mark and J6 is declared recused: 4 marks left < 5 -> use all:
    # (90 + 80 + 85 + 70) / 4 = 325 / 4 = 81.25
    result = rule.apply(given, recused=["J6", "J9"])
    assert result.recused == ("J2", "J6", "J9")
    assert result.value == D("81.25") and result.fallback == "use_all"


def test_recusal_below_minimum_without_fallback_fails_clearly():
    with pytest.raises(InsufficientMarksError, match="回避 1"):
        TRIM_1_1.apply({"J1": "9", "J2": "8", "J3": None})


def test_outlier_replacement_bid_evaluation_rule():
    rule = PanelRule(outliers=OutlierReplacement(tolerance=D("10")))
    # J4 = 60: others' mean (80 + 82 + 84) / 3 = 82; |60 - 82| = 22 > 10 -> replaced by 82.00
    # J1..J3 stay: e.g. J1 others' mean (82 + 84 + 60) / 3 = 75.33; |80 - 75.33| < 10
    # result (80 + 82 + 84 + 82) / 4 = 328 / 4 = 82.00
    result = rule.apply({"J1": "80", "J2": "82", "J3": "84", "J4": "60"})
    assert [(r.judge, r.original, r.replacement) for r in result.replaced] == [
        ("J4", D("60"), D("82.00"))
    ]
    assert result.value == D("82.00")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"combine": "average"},
        {"drop_high": -1},
        {"fallback": "ignore"},
        {"drop_high": 2, "drop_low": 2, "min_marks": 4},
        {"places": -1},
    ],
)
def test_invalid_rules_are_refused(kwargs):
    with pytest.raises(PolicyError):
        PanelRule(**kwargs)


def test_rule_is_frozen_and_result_carries_fingerprint():
    with pytest.raises(AttributeError):
        TRIM_1_1.drop_high = 3
    result = TRIM_1_1.apply(["1", "2", "3"])
    assert len(result.fingerprint) == 64


def test_factor_applied_to_the_exact_value_when_declared():
    # ISU GOE: grades 3 2 2 3 3, drop one 3 and one 2: exact mean 8/3; x 0.95 = 2.5333 -> 2.53
    # (the default rounds first: 2.67 x 0.95 = 2.5365 -> 2.54)
    grades = ["3", "2", "2", "3", "3"]
    exact = PanelRule(1, 1, factor="0.95", round_before_factor=False).apply(grades)
    assert (exact.base, exact.value) == (D("2.67"), D("2.53"))
    assert PanelRule(1, 1, factor="0.95").apply(grades).value == D("2.54")
    # median of an even count: (8 + 9) / 2 = 8.5 exactly; x 1.5 = 12.75 (rounded first: same)
    median = PanelRule(combine="median", factor="1.5", round_before_factor=False)
    assert median.apply(["7", "8", "9", "10"]).value == D("12.75")
    # sum: 8.25 + 8.5 = 16.75; x 0.3 = 5.025 -> 5.03 with places=2
    assert PanelRule(combine="sum", factor="0.3", round_before_factor=False).apply(
        ["8.25", "8.5"]).value == D("5.03")
    with pytest.raises(PolicyError, match="round_before_factor"):
        PanelRule(round_before_factor="no")


def test_outlier_replacement_needs_three_marks():
    # of two judges, 80 and 100, each is 20 from the other: neither is the outlier, nothing
    # is replaced (replacing both would swap them); (80 + 100) / 2 = 90.00
    rule = PanelRule(outliers=OutlierReplacement(tolerance="10"))
    result = rule.apply({"J1": "80", "J2": "100"})
    assert result.replaced == () and result.value == D("90.00")
    # a recused third judge does not count: still two present marks
    assert rule.apply({"J1": "80", "J2": "100", "J3": None}).replaced == ()


def test_outlier_replacement_judges_every_mark_against_the_original_others():
    # J1 60: others (80 + 100) / 2 = 90, |60 - 90| = 30 > 15 -> 90.00
    # J2 80: others (60 + 100) / 2 = 80, 0 -> kept
    # J3 100: others (60 + 80) / 2 = 70, 30 > 15 -> 70.00
    # (replacing J1 first and then judging J3 against 90 and 80 would give 85.00)
    rule = PanelRule(outliers=OutlierReplacement(tolerance="15"))
    result = rule.apply({"J1": "60", "J2": "80", "J3": "100"})
    assert [(r.judge, r.replacement) for r in result.replaced] == [
        ("J1", D("90.00")),
        ("J3", D("70.00")),
    ]
    # (90 + 80 + 70) / 3 = 80.00
    assert result.value == D("80.00")

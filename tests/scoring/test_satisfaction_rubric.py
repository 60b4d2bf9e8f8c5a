"""Satisfaction index / rate, and the indicator tree."""

from decimal import Decimal as D

import pytest

from scoring import (
    FIVE_LEVEL,
    THREE_LEVEL,
    Indicator,
    PolicyError,
    RubricError,
    RubricSheet,
    SatisfactionScale,
    ScoringError,
    check_mark,
    rubric_problems,
    score_sheet,
    validate_rubric,
)


@pytest.mark.parametrize(
    "scale, counts, index, rate",
    [
        # (120 x 100 + 30 x 80 + 10 x 0) / 160 = 14400 / 160 = 90.00; (120 + 30) / 160 = 93.75%
        (THREE_LEVEL, {"满意": 120, "基本满意": 30, "不满意": 10}, "90.00", "93.75"),
        # (100 + 80 + 0) / 3 = 60.00; 2 / 3 = 66.666..% -> 66.67
        (THREE_LEVEL, {"满意": 1, "基本满意": 1, "不满意": 1}, "60.00", "66.67"),
        # (10x100 + 5x80 + 3x60 + 1x40 + 1x0) / 20 = 1620 / 20 = 81.00; 18 / 20 = 90.00%
        (
            FIVE_LEVEL,
            {"非常满意": 10, "满意": 5, "基本满意": 3, "不太满意": 1, "不满意": 1},
            "81.00",
            "90.00",
        ),
    ],
)
def test_satisfaction_golden(scale, counts, index, rate):
    result = scale.apply(counts)
    assert (str(result.index), str(result.rate)) == (index, rate)


def test_minimum_sample_flag():
    scale = SatisfactionScale(THREE_LEVEL.levels, THREE_LEVEL.satisfied, min_sample=200)
    result = scale.apply({"满意": 120, "基本满意": 30, "不满意": 10})
    assert result.below_minimum and result.sample == 160 and result.index == D("90.00")
    empty = scale.apply({})
    assert empty.index is None and empty.below_minimum


@pytest.mark.parametrize(
    "counts, fragment",
    [
        ({"很满意": 3}, "未定义"),
        ({"满意": -1}, "非负"),
        ({"满意": 1.5}, "非负"),
    ],
)
def test_bad_counts(counts, fragment):
    with pytest.raises(ScoringError, match=fragment):
        THREE_LEVEL.apply(counts)


def test_custom_mapping_validated():
    with pytest.raises(PolicyError):
        SatisfactionScale({"满意": 120}, ("满意",))
    with pytest.raises(PolicyError, match="一般"):
        SatisfactionScale({"满意": 100, "不满意": 0}, ("一般",))


def tree(a2_children_max=("30", "30"), step="0.5"):
    return Indicator(
        "A",
        "履职情况",
        100,
        children=(
            Indicator("A1", "制度建设", 40, step=step),
            Indicator(
                "A2",
                "普法宣传",
                60,
                children=(
                    Indicator("A2.1", "媒体宣传", a2_children_max[0], step=step),
                    Indicator("A2.2", "以案释法", a2_children_max[1], step=step),
                ),
            ),
            Indicator("B", "创新加分", 5, kind="bonus", step="1"),
            Indicator("C", "负面扣分", 10, kind="deduction", step="1"),
        ),
    )


def test_valid_rubric():
    assert rubric_problems(tree()) == []
    assert validate_rubric(tree()).code == "A"


def test_children_must_add_up_naming_the_node():
    with pytest.raises(RubricError, match="A2「普法宣传」.*55.*60"):
        validate_rubric(tree(a2_children_max=("30", "25")))


@pytest.mark.parametrize(
    "node, fragment",
    [
        (Indicator("X", "步长", "2.25", step="0.5"), "步长"),
        (Indicator("X", "满分", "0"), "必须为正"),
        (Indicator("X", "类型", "5", kind="extra"), "类型"),
        (Indicator("X", "重复", 10, children=(Indicator("X", "子", 10),)), "重复"),
    ],
)
def test_node_problems(node, fragment):
    problems = rubric_problems(node)
    assert problems and fragment in problems[0] and "X" in problems[0]


def test_marks_checked_against_max_and_step():
    leaf = Indicator("A1", "制度建设", 40, step="0.5")
    assert check_mark(leaf, "39.5") == D("39.5")
    with pytest.raises(ScoringError, match="A1.*步长"):
        check_mark(leaf, "39.3")
    with pytest.raises(ScoringError, match="A1.*超出"):
        check_mark(leaf, "41")


def test_score_sheet_adds_bonus_and_subtracts_deduction():
    # 38.5 + 28 + 26.5 + bonus 2 - deduction 3 = 92.0
    sheet = {"A1": "38.5", "A2.1": "28", "A2.2": "26.5", "B": "2", "C": "3"}
    assert score_sheet(tree(), sheet) == D("92.0")
    with pytest.raises(ScoringError, match="A2.2"):
        score_sheet(tree(), {"A1": "38.5", "A2.1": "28"})


def test_compiled_sheet_names_the_bad_mark():
    sheet = RubricSheet(tree())
    marks = {"A1": D("38.5"), "A2.1": D("28"), "A2.2": D("26.5")}
    assert sheet.total(marks) == D("93.0")
    with pytest.raises(ScoringError, match="A2.1.*步长"):
        sheet.total(dict(marks, **{"A2.1": D("28.2")}))
    with pytest.raises(ScoringError, match="A1.*浮点"):
        sheet.total(dict(marks, A1=38.5))
    with pytest.raises(ScoringError, match="A1.*有限"):
        sheet.total(dict(marks, A1=D("NaN")))
    assert sheet.total(dict(marks, A1="38.5", B="2")) == D("95.0")  # str coerced, bonus added
    with pytest.raises(ScoringError, match="B「创新加分」.*超出"):
        sheet.total(dict(marks, B=D("6")))
    with pytest.raises(RubricError, match="A2"):
        RubricSheet(tree(a2_children_max=("30", "25")))


def test_configurable_mapping_and_satisfied_levels():
    # a survey that counts only 满意 as satisfied and gives 基本满意 60 points:
    # (120 x 100 + 30 x 60 + 10 x 0) / 160 = 13800 / 160 = 86.25; rate 120 / 160 = 75.00%
    strict = SatisfactionScale(
        {"满意": 100, "基本满意": 60, "不满意": 0}, ("满意",), min_sample=100
    )
    result = strict.apply({"满意": 120, "基本满意": 30, "不满意": 10})
    assert (result.index, result.rate, result.below_minimum) == (D("86.25"), D("75.00"), False)
    # one place: 2 x 100 + 1 x 60 = 260 / 3 = 86.666.. -> 86.7; rate 2 / 3 = 66.7%
    one_place = SatisfactionScale(strict.levels, strict.satisfied, places=1)
    result = one_place.apply({"满意": 2, "基本满意": 1})
    assert (str(result.index), str(result.rate)) == ("86.7", "66.7")
    # the sample flag is strict: exactly min_sample answers is enough
    assert not SatisfactionScale(strict.levels, strict.satisfied, min_sample=3).apply(
        {"满意": 2, "基本满意": 1}).below_minimum

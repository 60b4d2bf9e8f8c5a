from decimal import Decimal
from decimal import Decimal as D

import pytest

from scoring import InexactResultError, InvalidMarkError, divide, round_half_up, to_decimal


@pytest.mark.parametrize(
    "value, expected",
    [
        (Decimal("9.25"), D("9.25")),
        ("9.75", D("9.75")),
        (" 88 ", D("88")),
        (9, D("9")),
        ("52.2", D("52.2")),  # the string keeps the decimal value; a float would not
    ],
)
def test_to_decimal_accepts(value, expected):
    assert to_decimal(value) == expected


@pytest.mark.parametrize(
    "value, fragment",
    [
        (52.2, "浮点"),
        (True, "布尔"),
        ("abc", "不是数字"),
        ("NaN", "有限"),
        (Decimal("Infinity"), "有限"),
        (None, "类型"),
    ],
)
def test_to_decimal_refuses(value, fragment):
    with pytest.raises(InvalidMarkError, match=fragment):
        to_decimal(value)


@pytest.mark.parametrize(
    "value, places, expected",
    [
        ("9.245", 2, "9.25"),  # half up, where half-even would give 9.24
        ("9.235", 2, "9.24"),
        ("-9.245", 2, "-9.25"),  # half away from zero
        ("88.024999", 2, "88.02"),
        ("88.025", 2, "88.03"),
        ("7", 2, "7.00"),
        ("7.123", None, "7.123"),
    ],
)
def test_round_half_up(value, places, expected):
    assert str(round_half_up(D(value), places)) == expected


@pytest.mark.parametrize(
    "num, den, places, expected",
    [
        ("706", 8, 2, "88.25"),
        ("65.25", 7, 2, "9.32"),  # 9.32142857...
        ("18.49", 2, 2, "9.25"),  # 9.245 exactly -> half up
        ("-18.49", 2, 2, "-9.25"),
        ("265", 3, 2, "88.33"),
        ("2", 3, 0, "1"),
        ("1", 8, None, "0.125"),
        ("88.25", "0.4", 2, "220.63"),  # 220.625
    ],
)
def test_divide_rounds_the_exact_quotient(num, den, places, expected):
    assert str(divide(D(num), D(den), places)) == expected


def test_divide_refuses_inexact_without_places():
    with pytest.raises(InexactResultError, match="places"):
        divide(D(265), 3, None)


def test_divide_by_zero_is_a_scoring_error():
    with pytest.raises(InexactResultError):
        divide(D(1), 0, 2)


def test_results_do_not_depend_on_the_callers_decimal_context():
    from decimal import ROUND_DOWN, localcontext

    from scoring import Composition, PanelRule, StageSpec, rank

    marks = ["1234.75", "1000.25", "999.50", "1100.25", "1001.75"]
    composition = Composition((StageSpec("a", 40, max_points=2000), StageSpec("b", 60)))

    def figures():
        # drop 1234.75 and 999.50: (1000.25 + 1100.25 + 1001.75) / 3 = 3102.25 / 3 = 1034.08
        panel = PanelRule(1, 1).apply(marks)
        # a: 1034.08 / 2000 x 100 = 51.704 -> 51.70 x 40% = 20.68; b: 91.37 x 60% = 54.822
        # -> 54.82; total 75.50
        total = composition.compose({"a": panel.value, "b": "91.37"})
        return panel.value, panel.total, total.value, rank({"x": total.value, "y": "75.49"})

    expected = figures()
    assert expected[:3] == (D("1034.08"), D("3102.25"), D("75.50"))
    with localcontext() as caller:
        caller.prec, caller.rounding = 5, ROUND_DOWN   # 3102.25 would be summed as 3102.2
        assert figures() == expected

"""First-level indicator scores: sums per sheet, mean over sheets, one rounding point."""

from decimal import Decimal

from scoring import Indicator, first_level_scores

D = Decimal
TREE = (
    Indicator("A", "组织", 60, children=(Indicator("A1", "一", 30), Indicator("A2", "二", 30))),
    Indicator("B", "宣传", 40, children=(
        Indicator("B1", "一", 40),
        Indicator("BX", "扣分", 5, kind="deduction", children=(Indicator("BX1", "通报", 5),)))),
    Indicator("Z", "创新加分", 5, kind="bonus", children=(Indicator("Z1", "创新", 5),)),
)


def test_mean_of_each_sheets_sum_rounded_half_up_once():
    sheets = [{"A1": "10", "A2": "10.5", "B1": 30, "BX1": 1, "Z1": 2},
              {"A1": 10, "A2": 10, "B1": 31, "BX1": 0},
              {"A1": 10, "A2": 10, "B1": 31, "BX1": D("0.5"), "unknown": 9}]
    a, b = first_level_scores(TREE, sheets)        # the bonus branch has no share: left out
    assert (a.code, a.score, a.max_points, a.sheets) == ("A", D("20.17"), D(60), 3)  # 60.5/3
    assert (b.code, b.score, b.sheets) == ("B", D("30.17"), 3)    # (29 + 31 + 30.5) / 3
    assert first_level_scores(TREE, sheets, places=4)[0].score == D("20.1667")


def test_an_indicator_nobody_marked_and_an_agency_without_sheets():
    only_a = first_level_scores(TREE, [{"A1": 5, "A2": 5}])
    assert [(s.code, s.score, s.sheets) for s in only_a] == [("A", D("10.00"), 1), ("B", 0, 0)]
    assert first_level_scores(TREE, []) == ()
    assert first_level_scores(TREE, [{"Z1": 3}]) == ()

"""Published real-world panels, reproduced to the cent by PanelRule.

Each case is one row of an ISU "Judges Details per Skater" protocol: the judges' marks as
printed, and the panel's figure printed at the end of the same row. Sources:

  WC2016   ISU World Figure Skating Championships 2016 (Boston), protocols at
           http://www.isuresults.com/results/season1516/wc2016/ — Men Short Program,
           Yuzuru HANYU (JPN, rank 1, 110.56) and Ice Dance Short Dance,
           Gabriella PAPADAKIS / Guillaume CIZERON (FRA, rank 1, 76.29).
  DSC2024  Denkova-Staviski Cup 2024 (Sofia), Men Short Program, Lev VINOKUR (ISR, rank 1,
           82.97; TES 45.24), a five-judge panel.
  IPT2026  Ice Peak Trophy 04.2026, Recreational A-Mini Girls Free Skating,
           Mariya OBRETENOVA (BUL, 17.40), a three-judge panel.
  FSU      an ISU short dance protocol (2017-18) of Papadakis / Cizeron quoted with its
           official component values and factored total in
           https://www.fsuniverse.net/forum/threads/papadakis-cizeron-5-were-in-love-with-the-shape-of-you.103024/post-5321120
The WC2016, DSC2024 and IPT2026 rows are as transcribed from the protocol PDFs in the test
data of public ISU-protocol parsers (found with the code search); the FSU row is from the page.

What they pin down: the ISU trims one highest and one lowest mark and rounds the mean half up
to 2 places; a program component is rounded *before* its factor is applied and each factored
component is rounded again; a GOE is the *exact* trimmed mean of the grades × 10% of the base
value, rounded once (round_before_factor=False); a three-judge panel is not trimmed.
"""

from decimal import Decimal as D

import pytest

from scoring import PanelRule

# ISU: trim 1 + 1; a panel of fewer than 5 judges uses every mark (the declared fallback)
ISU = PanelRule(drop_high=1, drop_low=1, places=2, min_marks=5, fallback="use_all")


def isu_goe(base_value: str) -> PanelRule:
    """GOE points: exact trimmed mean of the grades × 10% of the base value, rounded once."""
    return PanelRule(drop_high=1, drop_low=1, places=2, min_marks=5, fallback="use_all",
                     factor=D(base_value) / 10, round_before_factor=False)


def row(text: str) -> list[str]:
    return text.split()


COMPONENT_ROWS = [
    # WC2016 Men SP, HANYU, Skating Skills (factor 1.00), 9 judges:
    # drop one 10.00 and the 9.50; kept 9.75+9.75+10+10+10+9.75+10 = 69.25 / 7 = 9.8928 -> 9.89
    ("9.75 10.00 9.75 9.50 10.00 10.00 10.00 9.75 10.00", "9.89", False),
    # WC2016 Ice Dance SD, PAPADAKIS / CIZERON, Skating Skills (factor 0.80), 9 judges:
    # drop one 9.75 and the 8.75; kept 9.25+9.50+9.75+9.25+9.00+9.50+9.75 = 66.00 / 7
    # = 9.4285 -> 9.43
    ("8.75 9.75 9.25 9.50 9.75 9.25 9.00 9.50 9.75", "9.43", False),
    # FSU, Skating Skills, 9 judges: drop 10.00 and 9.50; kept 9.75+9.75+9.50+9.75+10.00
    # +9.50+9.75 = 68.00 / 7 = 9.7142 -> 9.71
    ("9.50 10.00 9.75 9.75 9.50 9.75 10.00 9.50 9.75", "9.71", False),
    # DSC2024 Men SP, VINOKUR, Composition (factor 1.67), 5 judges:
    # drop 8.00 and 7.00; kept 7.75 + 7.50 + 7.75 = 23.00 / 3 = 7.6666 -> 7.67
    ("8.00 7.75 7.50 7.75 7.00", "7.67", False),
    # DSC2024, VINOKUR, Skating Skills: drop 8.00, 6.75; 7.50 + 7.25 + 7.75 = 22.50 / 3 = 7.50
    ("8.00 7.50 7.25 7.75 6.75", "7.50", False),
    # IPT2026, OBRETENOVA, Composition, 3 judges -> not trimmed: 3.00+2.75+1.75 = 7.50 / 3 = 2.50
    ("3.00 2.75 1.75", "2.50", True),
    # IPT2026, OBRETENOVA, Presentation: 2.75 + 2.75 + 1.50 = 7.00 / 3 = 2.3333 -> 2.33
    ("2.75 2.75 1.50", "2.33", True),
]


@pytest.mark.parametrize("marks, published, untrimmed", COMPONENT_ROWS)
def test_program_component_panels(marks, published, untrimmed):
    result = ISU.apply(row(marks))
    assert str(result.value) == published
    assert (result.fallback == "use_all") is untrimmed
    assert len(result.dropped) == (0 if untrimmed else 2)


GOE_ROWS = [
    # DSC2024, VINOKUR, element 1: 4T, base value 9.50, GOE grades 3 2 2 3 3 -> published 2.53
    # drop 3 and 2; 2 + 3 + 3 = 8 -> exact mean 8/3; 8/3 x 0.950 = 2.5333 -> 2.53
    # (rounding the mean first, 2.67 x 0.950 = 2.5365 -> 2.54, would not match the protocol)
    ("9.50", "3 2 2 3 3", "2.53"),
    # DSC2024, VINOKUR, element 4: 3F+3T (GOE on the 3F, base value 5.30), all -2 -> -1.06
    ("5.30", "-2 -2 -2 -2 -2", "-1.06"),
    # IPT2026, OBRETENOVA, element 2: 1S, base value 0.40, grades 0 0 1 (3 judges, untrimmed)
    # 1/3 x 0.040 = 0.01333 -> 0.01
    ("0.40", "0 0 1", "0.01"),
    # IPT2026, OBRETENOVA, element 1: SSpB, base value 1.10, grades -5 -5 -5 -> -5 x 0.110 = -0.55
    ("1.10", "-5 -5 -5", "-0.55"),
]


@pytest.mark.parametrize("base_value, grades, published", GOE_ROWS)
def test_goe_panels(base_value, grades, published):
    assert str(isu_goe(base_value).apply(row(grades)).value) == published


def test_element_score_is_base_value_plus_goe():
    # DSC2024, VINOKUR, 4T: scores of panel 9.50 + 2.53 = 12.03 (as published)
    goe = isu_goe("9.50").apply(row("3 2 2 3 3")).value
    assert D("9.50") + goe == D("12.03")


def test_goe_rounded_before_the_factor_would_miss_the_published_figure():
    rounded_first = PanelRule(1, 1, min_marks=5, fallback="use_all", factor=D("0.950"))
    assert rounded_first.apply(row("3 2 2 3 3")).value == D("2.54")  # published: 2.53


def test_factored_components_round_each_then_sum():
    # FSU short dance: the component values as published, each x 0.80 and rounded, then summed:
    # SS 9.71 -> 7.768 -> 7.77; TR 9.71 -> 7.77; PE 9.82 -> 7.856 -> 7.86; CO 9.89 -> 7.912
    # -> 7.91; IN 9.89 -> 7.91; 7.77 + 7.77 + 7.86 + 7.91 + 7.91 = 39.22 (published PCS)
    factored = PanelRule(1, 1, min_marks=5, fallback="use_all", factor=D("0.80"))
    skating_skills = factored.apply(row("9.50 10.00 9.75 9.75 9.50 9.75 10.00 9.50 9.75"))
    assert (skating_skills.base, skating_skills.value) == (D("9.71"), D("7.77"))
    # the other components' marks are not quoted: apply the same rule to their published value
    others = [factored.apply([value]).value for value in ("9.71", "9.82", "9.89", "9.89")]
    assert others == [D("7.77"), D("7.86"), D("7.91"), D("7.91")]
    assert skating_skills.value + sum(others) == D("39.22")

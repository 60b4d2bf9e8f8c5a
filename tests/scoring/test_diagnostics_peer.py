"""Judge diagnostics, Kendall's W, and peer-review flags."""

from decimal import Decimal as D

import pytest

from scoring import PanelRule, PeerReview, judge_diagnostics, kendalls_w, panel_concordance

TRIM = PanelRule(drop_high=1, drop_low=1)


def test_judge_leniency_drops_and_far_marks():
    results = {
        # consensus (90 + 90) / 2 = 90.00: J1 +2, J4 -2
        "A": TRIM.apply({"J1": "92", "J2": "90", "J3": "90", "J4": "88"}),
        # consensus 80.00: J1 +2, J4 -2; J5 recused
        "B": TRIM.apply({"J1": "82", "J2": "80", "J3": "80", "J4": "78", "J5": None}),
    }
    # J1 vs others' mean (90 + 90 + 88) / 3 = 89.33: |92 - 89.33| = 2.67 > 1.5 (same for J4)
    diagnostics = {d.judge: d for d in judge_diagnostics(results, tolerance="1.5")}
    assert diagnostics["J1"].mean_deviation == D("2.00")
    assert diagnostics["J4"].mean_deviation == D("-2.00")
    assert diagnostics["J2"].mean_deviation == D("0.00")
    assert (diagnostics["J1"].dropped_high, diagnostics["J4"].dropped_low) == (2, 2)
    assert [diagnostics[j].beyond_tolerance for j in ("J1", "J2", "J3", "J4")] == [2, 0, 0, 2]
    assert diagnostics["J5"].marks == 0 and diagnostics["J5"].mean_deviation is None


@pytest.mark.parametrize(
    "table, expected",
    [
        # identical orders -> 1
        ({"J1": {"A": 90, "B": 80, "C": 70}, "J2": {"A": 9, "B": 8, "C": 7}}, "1.0000"),
        # reversed orders -> rank sums all equal -> 0
        ({"J1": {"A": 90, "B": 80}, "J2": {"A": 80, "B": 90}}, "0.0000"),
        # rank sums 4, 6, 8, 12; mean 7.5; S = 12.25 + 2.25 + 0.25 + 20.25 = 35
        # W = 12 x 35 / (3^2 x (4^3 - 4)) = 420 / 540 = 0.7778
        (
            {
                "J1": {"A": 90, "B": 80, "C": 70, "D": 60},
                "J2": {"A": 80, "B": 90, "C": 70, "D": 60},
                "J3": {"A": 90, "B": 70, "C": 80, "D": 60},
            },
            "0.7778",
        ),
        # ties: J2 ties A and B (ranks 1.5, 1.5, 3): rank sums 2.5, 3.5, 6; mean 4; S = 6.5
        # T = 2^3 - 2 = 6; W = 12 x 6.5 / (4 x 24 - 2 x 6) = 78 / 84 = 0.9286
        ({"J1": {"A": 3, "B": 2, "C": 1}, "J2": {"A": 2, "B": 2, "C": 1}}, "0.9286"),
    ],
)
def test_kendalls_w(table, expected):
    assert str(kendalls_w(table).w) == expected


def test_kendalls_w_uses_only_complete_judges():
    table = {"J1": {"A": 3, "B": 2}, "J2": {"A": 3, "B": 2}, "J3": {"A": 1}}
    result = kendalls_w(table)
    assert result.judges == ("J1", "J2") and result.excluded_judges == ("J3",)
    assert result.w == D("1.0000")


def test_panel_concordance_reads_panel_results():
    rule = PanelRule()
    results = {
        "A": rule.apply({"J1": "90", "J2": "80", "J3": "90"}),
        "B": rule.apply({"J1": "80", "J2": "90", "J3": "70"}),
        "C": rule.apply({"J1": "70", "J2": "70", "J3": None}),
    }
    # J3 recused on C: only J1 and J2 are complete. J1 ranks A, B, C = 1, 2, 3; J2 ranks
    # 2, 1, 3 -> sums 3, 3, 6; mean 4; S = 1 + 1 + 4 = 6; W = 12 x 6 / (4 x 24) = 0.75
    concordance = panel_concordance(results)
    assert concordance.w == D("0.7500") and concordance.excluded_judges == ("J3",)


def test_peer_review_excludes_self_and_flags_reciprocity():
    marks = {
        "A": {"A": "100", "B": "95", "C": "80", "D": "80"},
        "B": {"A": "95", "C": "80", "D": "80"},
        "C": {"A": "80", "B": "80", "D": "80"},
        "D": {"A": "80", "B": "80", "C": "80"},
    }
    result = PeerReview(rule=PanelRule(), tolerance=10).apply(marks)
    assert result.self_marks == ("A",)
    # A receives B 95, C 80, D 80 (its own 100 ignored): 255 / 3 = 85.00
    assert result.results["A"].value == D("85.00")
    # B's 95 for A exceeds the others' mean 80 by 15 > 10, and vice versa
    assert [(f.first, f.second, f.first_excess, f.second_excess) for f in result.reciprocity] == [
        ("A", "B", D("15.00"), D("15.00"))
    ]
    assert result.blocs == ()


def test_peer_review_flags_blocs():
    agencies = "ABCDE"
    bloc = set("ABC")
    marks = {
        r: {t: ("98" if r in bloc and t in bloc else "80") for t in agencies if t != r}
        for r in agencies
    }
    # for target A: B gives 98, others' mean (98 + 80 + 80) / 3 = 86 -> excess 12 > 10
    result = PeerReview(tolerance=10).apply(marks)
    assert [(f.first, f.second) for f in result.reciprocity] == [("A", "B"), ("A", "C"), ("B", "C")]
    assert result.blocs == (("A", "B", "C"),)
    # (98 + 98 + 80 + 80) / 4 = 89.00
    assert result.results["A"].value == D("89.00")


def test_peer_review_in_a_campaign_ignores_self_marks_and_keeps_the_flags():
    from scoring import Composition, ScoringPolicy, StageSpec, evaluate, policy_fingerprint

    review = PeerReview(rule=PanelRule(), tolerance=10)
    policy = ScoringPolicy(
        stage_rules={"peer_review": review},
        composition=Composition((StageSpec("self_assessment", 50), StageSpec("peer_review", 50))),
    )
    # inputs[target]["peer_review"][rater]: A and B mark each other 95, everyone else gives 80
    received = {
        "A": {"A": "100", "B": "95", "C": "80", "D": "80"},
        "B": {"A": "95", "C": "80", "D": "80"},
        "C": {"A": "80", "B": "80", "D": "80"},
        "D": {"A": "80", "B": "80", "C": "80"},
    }
    own = {"A": "90", "B": "80", "C": "70", "D": "60"}
    inputs = {a: {"self_assessment": own[a], "peer_review": received[a]} for a in received}
    campaign = evaluate(policy, inputs)
    # A's own 100 is ignored: (95 + 80 + 80) / 3 = 85.00; total 90 x 50% + 85 x 50% = 87.50
    a = campaign.by_agency["A"]
    assert a.stages["peer_review"].value == D("85.00") and a.total == D("87.50")
    assert "A" not in a.stages["peer_review"].judges
    assert campaign.peer.self_marks == ("A",)
    assert [(f.first, f.second) for f in campaign.peer.reciprocity] == [("A", "B")]
    assert campaign.peer.fingerprint == policy_fingerprint(review)

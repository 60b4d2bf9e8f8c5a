"""A small campaign end to end, and its explanations (JSON and Chinese text)."""

import json
from decimal import Decimal as D

import pytest

from scoring import (
    THREE_LEVEL,
    AdjustmentRule,
    Composition,
    GradeScale,
    GroupWeighting,
    MissingStageError,
    PanelRule,
    ScoringPolicy,
    StageSpec,
    evaluate,
    explain,
    explain_panel,
)

POLICY = ScoringPolicy(
    stage_rules={
        "onsite_review": GroupWeighting(
            {"专家": 60, "群众代表": 40},
            rule=PanelRule(drop_high=1, drop_low=1, min_marks=3, fallback="use_all"),
        ),
        "public_review": THREE_LEVEL,
    },
    composition=Composition(
        (
            StageSpec("self_assessment", 20),
            StageSpec("public_review", 30),
            StageSpec("onsite_review", 50),
        )
    ),
    tie_breakers=("onsite_review",),
    grading=GradeScale({"优秀": 90, "良好": 80, "合格": 60}),
)
INPUTS = {
    # onsite: 专家 drop 94, 90 -> 92.00 x 60% = 55.20; 群众 2 < 3 marks -> use all:
    #   (85 + 87) / 2 = 86.00 x 40% = 34.40; onsite 89.60
    # public (90 x 100 + 10 x 80) / 100 = 98.00
    # total 95 x 20% = 19.00 + 98.00 x 30% = 29.40 + 89.60 x 50% = 44.80 -> 93.20
    "X": {
        "self_assessment": "95",
        "public_review": {"满意": 90, "基本满意": 10},
        "onsite_review": {
            "专家": {"E1": "90", "E2": "92", "E3": "94"},
            "群众代表": {"P1": "85", "P2": "87"},
        },
    },
    # onsite 88.00 x 60% = 52.80 + 91.00 x 40% = 36.40 -> 89.20; public (5000 + 4000) / 100
    # = 90.00; total 18.00 + 27.00 + 44.60 = 89.60
    "Y": {
        "self_assessment": "90",
        "public_review": {"满意": 50, "基本满意": 50},
        "onsite_review": {
            "专家": {"E1": "88", "E2": "90", "E3": "86"},
            "群众代表": {"P1": "90", "P2": "92"},
        },
    },
    # onsite 86.00 x 60% = 51.60 + 87.00 x 40% = 34.80 -> 86.40; public (4000 + 4800) / 100
    # = 88.00; total 20.00 + 26.40 + 43.20 = 89.60: ties Y, loses on 现场评议 86.40 < 89.20
    "Z": {
        "self_assessment": "100",
        "public_review": {"满意": 40, "基本满意": 60},
        "onsite_review": {
            "专家": {"E1": "86", "E2": "86", "E3": "86"},
            "群众代表": {"P1": "87", "P2": "87"},
        },
    },
}


def test_campaign_totals_ranks_grades_and_fingerprint():
    result = evaluate(POLICY, INPUTS)
    rows = [(a.agency, a.total, a.ranked.rank, a.graded.grade) for a in result.agencies]
    assert rows == [
        ("X", D("93.20"), 1, "优秀"),
        ("Y", D("89.60"), 2, "良好"),
        ("Z", D("89.60"), 3, "良好"),
    ]
    assert result.by_agency["Y"].ranked.decided_by == "现场评议"
    assert {a.fingerprint for a in result.agencies} == {POLICY.fingerprint}
    assert result.by_agency["X"].stages["onsite_review"].parts[1].result.fallback == "use_all"


def test_campaign_error_names_agency_and_stage():
    inputs = dict(INPUTS, W={"self_assessment": "90", "public_review": {"满意": 1}})
    with pytest.raises(MissingStageError, match="单位 W.*现场评议"):
        evaluate(POLICY, inputs)
    bad = dict(INPUTS, W=dict(INPUTS["X"], onsite_review={"专家": {"E1": 90.5}}))
    with pytest.raises(Exception, match="单位 W 的现场评议"):
        evaluate(POLICY, bad)


def test_panel_explanation_text_matches_the_published_example():
    marks = {
        f"J{i:02d}": m
        for i, m in enumerate(["88", "95", "87", "90", "78", "86", "89", "88", "91", "87"], 1)
    }
    explanation = explain_panel(PanelRule(drop_high=1, drop_low=1).apply(marks))
    expected = "去掉一个最高分 95.00、一个最低分 78.00，其余 8 位评委平均 88.25"
    assert explanation.to_text() == expected
    data = json.loads(explanation.to_json())
    assert data["value"] == "88.25" and data["kept_total"] == "706"
    assert data["dropped_high"] == [{"judge": "J02", "value": "95"}]
    assert data["dropped_low"] == [{"judge": "J05", "value": "78"}]
    assert data["steps"][0] == {
        "step": "mean",
        "of": 8,
        "total": "706",
        "places": 2,
        "rounding": "ROUND_HALF_UP",
        "result": "88.25",
    }


def test_panel_explanation_mentions_recusal_fallback_and_factor():
    rule = PanelRule(drop_high=1, drop_low=1, min_marks=4, fallback="use_all", factor="1.67")
    text = explain(rule.apply({"J1": "9.25", "J2": None, "J3": "9.50", "J4": "9.00"})).to_text()
    # use all: (9.25 + 9.50 + 9.00) / 3 = 9.25; x 1.67 = 15.4475 -> 15.45
    assert text == (
        "评委 J2 回避，不计分；有效评分 3 个，少于规则要求的 4 个，按规则全部计入；"
        "3 位评委平均 9.25，乘以系数 1.67 得 15.45"
    )


def test_agency_explanation_reads_the_same_results():
    result = evaluate(POLICY, INPUTS).by_agency["Y"]
    explanation = explain(result)
    data = json.loads(explanation.to_json())
    assert data["total"] == "89.60" and data["fingerprint"] == POLICY.fingerprint
    assert data["composition"]["stages"][2] == {
        "stage": "onsite_review",
        "raw": "89.20",
        "normalized": "89.20",
        "weight": "50",
        "product": "44.60",
    }
    onsite = data["stages"]["onsite_review"]
    assert [p["product"] for p in onsite["parts"]] == ["52.80", "36.40"]
    text = explanation.to_text()
    assert (
        "现场评议：专家（权重 60%）：去掉一个最高分 90.00、一个最低分 86.00，"
        "其余 1 位评委平均 88.00"
    ) in text
    assert "合成：现场评议 89.20 × 50 / 100 = 44.60" in text
    assert "排名：第 2 名（同分时按现场评议决出）" in text
    assert "等次：良好" in text and POLICY.fingerprint in text


def test_group_explanation_says_when_it_renormalized():
    weighting = GroupWeighting({"专家": 60, "群众代表": 40}, missing="renormalize")
    result = weighting.apply({"专家": {"E1": "90", "E2": "91"}, "群众代表": {"P1": None}})
    # 专家 (90 + 91) / 2 = 90.50; divisor 60: 90.50 x 60 / 60 = 90.50
    assert explain(result).lines == (
        "专家（权重 60%）：2 位评委平均 90.50；90.50 × 60 / 60 = 90.50",
        "群众代表 无有效评分，按在场评委组权重合计 60 重新归一",
        "加权合计 90.50",
    )


def test_composition_explanation_lists_each_rounding_step_and_cap():
    composition = Composition(
        (StageSpec("field_inspection", 50, max_points=30), StageSpec("onsite_review", 50)),
        adjustments=(AdjustmentRule("innovation", "bonus", cap=1),),
    )
    result = composition.compose(
        {"field_inspection": "26.5", "onsite_review": "88.25"}, {"innovation": "2"}
    )
    # 26.5 x 100 / 30 = 88.333 -> 88.33; x 50 / 100 = 44.165 -> 44.17
    # 88.25 x 50 / 100 = 44.125 -> 44.13; sum 88.30; bonus 2 capped at 1 -> 89.30
    assert explain(result).lines == (
        "实地考察 26.5（满分 30，折合百分制 88.33） × 50 / 100 = 44.17",
        "现场评议 88.25 × 50 / 100 = 44.13",
        "加权合计 88.30",
        "加分项 innovation 1（上限封顶，申报 2）",
        "加分合计 1，扣分合计 0（已计总上限）",
        "总分 89.30",
    )
    data = json.loads(explain(result).to_json())
    assert data["rounding"] == {"stage": 2, "product": 2, "total": 2, "mode": "ROUND_HALF_UP"}
    assert data["stages"][0]["normalized"] == "88.33"


def test_satisfaction_explanation_flags_small_samples():
    assert explain(THREE_LEVEL.apply({"满意": 8, "基本满意": 2})).to_text() == (
        "满意 8、基本满意 2、不满意 0，共 10 份：满意度指数 96.00，满意率 100.00%"
        "（样本量 10 少于最低要求 30，结果仅供参考）"
    )


def test_panel_explanation_says_when_the_factor_applies_to_the_exact_mean():
    rule = PanelRule(drop_high=1, drop_low=1, factor="0.95", round_before_factor=False)
    explanation = explain(rule.apply(["3", "2", "2", "3", "3"]))
    # 8 / 3 = 2.67 shown; the factor multiplies the exact 8/3: 2.5333 -> 2.53
    assert explanation.to_text() == (
        "去掉一个最高分 3.00、一个最低分 2.00，其余 3 位评委平均 2.67，"
        "按未取整的平均值乘以系数 0.95 得 2.53"
    )
    factor_step = explanation.data["steps"][1]
    assert factor_step["of"] == "8/3" and factor_step["rounded_before_factor"] is False
    assert factor_step["result"] == "2.53"


def test_renormalized_agency_without_the_tie_break_stage_is_still_ranked():
    policy = ScoringPolicy(
        stage_rules={"onsite_review": PanelRule()},
        composition=Composition(
            (StageSpec("self_assessment", 50), StageSpec("onsite_review", 50)),
            missing="renormalize",
        ),
        tie_breakers=("onsite_review",),
    )
    inputs = {
        "X": {"self_assessment": "90", "onsite_review": {"E1": "80", "E2": "90"}},
        # no on-site review: renormalized over self-assessment alone, 70 x 50 / 50 = 70.00
        "W": {"self_assessment": "70"},
    }
    # X: 90 x 50% = 45.00 + 85.00 x 50% = 42.50 -> 87.50; W ties nobody, so no tie-breaker
    campaign = evaluate(policy, inputs)
    assert [(a.agency, a.total, a.ranked.rank) for a in campaign.agencies] == [
        ("X", D("87.50"), 1),
        ("W", D("70.00"), 2),
    ]
    assert campaign.by_agency["W"].composition.renormalized

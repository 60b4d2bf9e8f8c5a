"""A synthetic campaign's ComposedResults, scored by `scoring.evaluate`.

Used by the report tests, the reports benchmark and layout previews: groups (市直组 / 县区组),
three weighted judge groups with trimmed panels, a field-inspection panel, a satisfaction
survey, a self-assessment score, a bonus and a deduction, recusals (judges affiliated with the
agency they would mark), first-level indicator scores and earlier years' results.
Every figure comes from `scoring`; nothing here rounds or sums a score itself, except the
synthetic marks it invents.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal

from evaluation.services.results_data import (
    AgencyInfo,
    ComposedResults,
    JudgeInfo,
    PastResult,
    Recusal,
)
from scoring import (
    THREE_LEVEL,
    AdjustmentRule,
    Composition,
    GradeScale,
    GroupWeighting,
    Indicator,
    PanelRule,
    RubricSheet,
    ScoringPolicy,
    StageSpec,
    evaluate,
    first_level_scores,
)

DEPARTMENTS = [
    "市公安局", "市司法局", "市市场监督管理局", "市教育局", "市民政局", "市财政局",
    "市人力资源和社会保障局", "市自然资源局", "市生态环境局", "市住房和城乡建设局",
    "市交通运输局", "市水务局", "市农业农村局", "市商务局", "市文化广电旅游体育局",
    "市卫生健康局", "市退役军人事务局", "市应急管理局", "市审计局", "市林业局",
    "市城市管理和综合执法局", "市医疗保障局", "市税务局", "市中级人民法院", "市人民检察院",
]
COUNTIES = ["武江区", "浈江区", "曲江区", "始兴县", "仁化县", "翁源县", "乳源瑶族自治县",
            "新丰县", "乐昌市", "南雄市"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红晓东海燕玲文斌"
FIRST_LEVEL = ["组织领导", "普法责任清单", "普法阵地建设", "以案释法", "宣传实效"]
JUDGE_GROUP_WEIGHTS = {"专家": 40, "人大代表": 30, "群众代表": 30}
BONUS, DEDUCTION = "创新加分", "负面扣分"


def sample_policy(indicators: int) -> ScoringPolicy:
    return ScoringPolicy(
        stage_rules={
            "onsite_review": GroupWeighting(
                JUDGE_GROUP_WEIGHTS,
                rule=PanelRule(drop_high=1, drop_low=1, min_marks=3, fallback="use_all")),
            "field_inspection": PanelRule(drop_high=1, drop_low=1),
            "public_review": THREE_LEVEL,
        },
        composition=Composition(
            (StageSpec("self_assessment", 10), StageSpec("field_inspection", 20, max_points=50),
             StageSpec("public_review", 30), StageSpec("onsite_review", 40)),
            adjustments=(AdjustmentRule(BONUS, "bonus", cap=2),
                         AdjustmentRule(DEDUCTION, "deduction", cap=5))),
        tie_breakers=("onsite_review", "public_review"),
        grading=GradeScale({"优秀": 90, "良好": 80, "合格": 60}, quotas={"优秀": 30}),
        name=f"履职评议评分办法（{indicators} 项指标）",
    )


def sample_rubric(indicators: int) -> Indicator:
    """First-level indicators sharing 100 points; `indicators` leaves of 100/indicators each."""
    if 100 % indicators:
        raise ValueError("the sample rubric needs a number of indicators that divides 100")
    leaf = 100 // indicators
    firsts = min(len(FIRST_LEVEL), max(1, indicators // 2))
    leaves_each = [indicators // firsts + (i < indicators % firsts) for i in range(firsts)]
    return Indicator("R", "履职评议", 100, children=tuple(
        Indicator(f"R{p + 1}", FIRST_LEVEL[p], leaf * count, children=tuple(
            Indicator(f"R{p + 1}.{c + 1}", f"{FIRST_LEVEL[p]}{c + 1}", leaf, step="0.5")
            for c in range(count)))
        for p, count in enumerate(leaves_each)))


def _names(rng: random.Random, count: int) -> list[str]:
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < count:
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        if name in seen:
            name += str(len(names) + 1)
        seen.add(name)
        names.append(name)
    return names


def _agencies(count: int) -> dict[int, AgencyInfo]:
    agencies = {}
    city = max(1, count * 5 // 8)
    for index in range(count):
        if index < city:
            base = DEPARTMENTS[index % len(DEPARTMENTS)]
            branch = index // len(DEPARTMENTS)
            name = f"{base}（第{branch + 1}分局）" if branch else base
            group = "市直组"
        else:
            county = index - city
            base = COUNTIES[county % len(COUNTIES)]
            name = f"{base}人民政府" if county < len(COUNTIES) else \
                f"{base}{county // len(COUNTIES)}号街道办事处"
            group = "县区组"
        agencies[index + 1] = AgencyInfo(index + 1, name, group)
    return agencies


def _judges(rng: random.Random, per_group: dict[str, int], agencies: dict) -> dict[int, JudgeInfo]:
    names = iter(_names(rng, sum(per_group.values())))
    judges: dict[int, JudgeInfo] = {}
    judge_id = 1000
    agency_ids = list(agencies)
    for group, count in per_group.items():
        for _ in range(count):
            judge_id += 1
            # some deputies work for an agency they would mark: they recuse themselves there
            affiliated = None
            if group == "人大代表" and (judge_id % 3 == 0 or rng.random() < 0.2):
                affiliated = agency_ids[(judge_id * 7) % len(agency_ids)]
            judges[judge_id] = JudgeInfo(judge_id, next(names), group, affiliated)
    return judges


def sample_composed(agencies: int = 12, judges: int = 9, indicators: int = 10, *,
                    seed: int = 2024, campaign_id: int = 1, revision: int = 3,
                    history_years: int = 3) -> ComposedResults:
    """A campaign of `agencies` × `judges` on-site judges × `indicators` leaf indicators."""
    rng = random.Random(seed)
    agency_info = _agencies(agencies)
    split = [judges * 2 // 5, judges * 3 // 10]
    per_group = dict(zip(JUDGE_GROUP_WEIGHTS, split + [judges - sum(split)], strict=True))
    judge_info = _judges(rng, per_group, agency_info)
    inspectors = {9000 + i: JudgeInfo(9000 + i, name, "实地考察组")
                  for i, name in enumerate(_names(rng, 5), start=1)}
    rubric = sample_rubric(indicators)
    sheet = RubricSheet(rubric)
    leaves = [[leaf.code for leaf in first.leaves()] for first in rubric.children]
    leaf = Decimal(100 // indicators)
    steps = [leaf * i / 10 for i in range(11)]   # 0 .. leaf by tenths (multiples of 0.5)
    bias = {j: rng.choice((-1, 0, 0, 0, 1)) for j in judge_info}

    inputs, adjustments, recusals, indicator_scores = {}, {}, [], {}
    for agency in agency_info:
        quality = rng.randint(5, 10)
        onsite: dict[str, dict[int, Decimal | None]] = {g: {} for g in per_group}
        sheets = []
        for judge, info in judge_info.items():
            if info.affiliation_agency_id == agency:
                onsite[info.group][judge] = None
                recusals.append(Recusal("onsite_review", agency, judge, "本单位人员，依规回避"))
                continue
            marks = {code: steps[min(10, max(0, quality + bias[judge] + rng.randint(-1, 1)))]
                     for codes in leaves for code in codes}
            onsite[info.group][judge] = sheet.total(marks)
            sheets.append(marks)
        indicator_scores[agency] = first_level_scores(rubric.children, sheets)
        inputs[agency] = {
            "self_assessment": Decimal(rng.randint(160, 200)) / 2,
            "field_inspection": {i: Decimal(rng.randint(66, 100)) / 2 for i in inspectors},
            "public_review": {"满意": rng.randint(40, 200), "基本满意": rng.randint(0, 40),
                              "不满意": rng.randint(0, 12)},
            "onsite_review": onsite,
        }
        if rng.random() < 0.15:
            adjustments[agency] = {BONUS: Decimal(rng.choice(["0.5", "1", "1.5", "3"]))}
        elif rng.random() < 0.08:
            adjustments[agency] = {DEDUCTION: Decimal(rng.choice(["1", "2"]))}
    policy = sample_policy(indicators)
    groups = {a: info.group for a, info in agency_info.items()}
    result = evaluate(policy, inputs, groups=groups, adjustments=adjustments)
    history = {
        agency: tuple(
            PastResult(2024 - back, Decimal(rng.randint(7000, 9600)) / 100,
                       rng.randint(1, max(1, agencies // 2)), rng.choice(["优秀", "良好", "合格"]))
            for back in range(history_years, 0, -1))
        for agency in agency_info
    }
    return ComposedResults(
        campaign_id=campaign_id, title="2024年度国家机关“谁执法谁普法”履职评议", year=2024,
        organization="韶关市普法办", policy=policy, inputs=inputs, result=result,
        agencies=agency_info, judges={**judge_info, **inspectors}, recusals=tuple(recusals),
        generated_at=datetime(2024, 12, 20, 6, 30, tzinfo=UTC),
        audit_head="9f2c" + "0" * 56 + "beef", revision=revision, status="certified",
        history=history, indicator_scores=indicator_scores, first_level=rubric.children,
    )

"""First-level indicator scores: composed from the per-indicator marks, frozen with a version.

The expected figures are worked out here by hand from the marks typed below (sum each
sheet's leaves under a first-level indicator, deductions subtracted; mean over the sheets;
ROUND_HALF_UP to 2 places), not by calling the code under test.
"""

from __future__ import annotations

import json
from decimal import ROUND_HALF_UP, Decimal

import pytest
import results_world
from sqlmodel import select

from evaluation.models import Indicator, IndicatorKind, Score, StageKind
from evaluation.services.results import compose, composed_for_version
from evaluation.services.results_freeze import FrozenView
from evaluation.services.results_versions import certify, compose_version
from scoring import Indicator as Node
from scoring import first_level_scores

D = Decimal


def mean(values) -> Decimal:
    values = [D(v) for v in values]
    return (sum(values) / len(values)).quantize(D("0.01"), rounding=ROUND_HALF_UP)


# 乙局's on-site judges 0-2 mark per indicator instead of a total:
# (A1, A2, B1, B2, C1, CX deduction, Z1 bonus)
SHEETS = [
    (D(15), D(16), D(15), D(15), D(35), D(2), D(1)),
    (D(15), D("16.5"), D(16), D(15), D(36), D(0), D(0)),
    (D(15), D(15), D(15), D(16), D(34), D("1.5"), D(0)),
]
CODES = ("A1", "A2", "B1", "B2", "C1", "CX", "Z1")


@pytest.fixture
def world(db):
    world = results_world.build(db)
    campaign = world.campaign.id
    top = {i.code: i for i in db.exec(select(Indicator).where(Indicator.campaign_id == campaign))}

    def add(code, name, points, parent=None, kind=IndicatorKind.NORMAL, position=0):
        node = Indicator(campaign_id=campaign, code=code, name=name, max_points=D(points),
                         kind=kind, parent_id=parent.id if parent else None, position=position)
        db.add(node)
        db.flush()
        top[code] = node
        return node

    b = add("B", "普法阵地", 40, position=1)
    add("B1", "阵地一", 20, b)
    add("B2", "阵地二", 20, b)
    c = add("C", "以案释法", 40, position=2)
    add("C1", "释法", 40, c)
    cx = add("CXG", "负面情形", 5, c, IndicatorKind.DEDUCTION)
    add("CX", "通报批评", 5, cx)
    z = add("Z", "创新加分", 5, kind=IndicatorKind.BONUS, position=3)
    add("Z1", "创新", 5, z)
    onsite = world.stages[StageKind.ONSITE_REVIEW]
    b_agency = world.agencies["乙局"]
    for judge in world.judges[:3]:
        total = db.exec(select(Score).where(Score.stage_id == onsite.id,
                                            Score.agency_id == b_agency.id,
                                            Score.judge_id == judge.id)).one()
        db.delete(total)
    db.flush()
    for number, (judge, sheet) in enumerate(zip(world.judges[:3], SHEETS, strict=True)):
        for code, value in zip(CODES, sheet, strict=True):
            db.add(Score(stage_id=onsite.id, agency_id=b_agency.id, judge_id=judge.id,
                         indicator_id=top[code].id, value=value,
                         client_request_id=f"ind-{number}-{code}"))
    # judge 3 gave a total (99) and also a line: the total wins, so no sheet of theirs counts
    db.add(Score(stage_id=onsite.id, agency_id=b_agency.id, judge_id=world.judges[3].id,
                 indicator_id=top["B1"].id, value=D(1), client_request_id="ind-total-wins"))
    db.commit()
    return world


def expected_b():
    """乙局 by hand: the self-assessment sheet (A1 40, A2 41) and judges 0-2's sheets."""
    a = mean([40 + 41] + [s[0] + s[1] for s in SHEETS])           # (81+31+31.5+30)/4
    b = mean([s[2] + s[3] for s in SHEETS])                       # (30+31+31)/3
    c = mean([s[4] - s[5] for s in SHEETS])                       # (33+36+32.5)/3
    return {"A": (a, 4), "B": (b, 3), "C": (c, 3)}


def test_compose_fills_first_level_scores_from_the_marks(db, world):
    composed = compose(db, world.campaign)
    by_code = {s.code: s for s in composed.indicator_scores[world.agencies["乙局"].id]}
    assert list(by_code) == ["A", "B", "C"]       # the bonus branch Z has no share to show
    expected = expected_b()
    assert {code: (s.score, s.sheets) for code, s in by_code.items()} == expected
    assert expected["A"][0] == D("43.38") and expected["B"][0] == D("30.67")
    assert expected["C"][0] == D("33.83")
    assert by_code["B"].name == "普法阵地" and by_code["B"].max_points == D(40)
    # 甲局 has only the self-assessment sheet: 45 + 46.5 on A, nothing marked under B or C
    a_scores = composed.indicator_scores[world.agencies["甲局"].id]
    assert [(s.code, s.score, s.sheets) for s in a_scores] == [
        ("A", D("91.50"), 1), ("B", D(0), 0), ("C", D(0), 0)]
    # the same sheets straight into scoring give the same figures
    tree = (Node("A", "组织领导", 100, children=(Node("A1", "责任", 50), Node("A2", "制度", 50))),
            Node("B", "普法阵地", 40, children=(Node("B1", "一", 20), Node("B2", "二", 20))),
            Node("C", "以案释法", 40, children=(
                Node("C1", "释法", 40),
                Node("CXG", "负面", 5, kind="deduction", children=(Node("CX", "批评", 5),)))))
    sheets = [{"A1": 40, "A2": 41}] + [dict(zip(CODES[:6], s[:6], strict=True)) for s in SHEETS]
    assert first_level_scores(tree, sheets) == composed.indicator_scores[
        world.agencies["乙局"].id]


def test_a_version_keeps_its_scores_and_the_tree_they_were_cut_by(db, world):
    version = compose_version(db, world.campaign, world.composer)
    frozen = FrozenView.load(version.results_json).agency(world.agencies["乙局"].id)
    expected = expected_b()
    assert {e["code"]: (D(e["score"]), e["sheets"]) for e in frozen["indicators"]} == expected
    # the tree is edited afterwards: B's leaves move elsewhere; the version does not change
    b2 = db.exec(select(Indicator).where(Indicator.campaign_id == world.campaign.id,
                                         Indicator.code == "B2")).one()
    a = db.exec(select(Indicator).where(Indicator.campaign_id == world.campaign.id,
                                        Indicator.code == "A")).one()
    b2.parent_id = a.id
    db.add(b2)
    db.commit()
    composed = composed_for_version(db, version)
    scores = {s.code: (s.score, s.sheets)
              for s in composed.indicator_scores[world.agencies["乙局"].id]}
    assert scores == expected
    assert compose(db, world.campaign).indicator_scores[world.agencies["乙局"].id][1].score \
        == mean([s[2] for s in SHEETS])                        # the live preview follows the edit


def test_the_radar_and_the_result_sheet_show_them(app, db, world):
    from evaluation.reports import charts
    from evaluation.reports.sheets import render_result_sheets

    composed = compose(db, world.campaign)
    agency = world.agencies["乙局"].id
    figure = charts.draw(composed, f"radar-{agency}")
    axes = figure.axes[0]
    assert axes.name == "polar"
    labels = [label.get_text() for label in charts.radar_labels(figure)]   # one a spoke
    assert labels == ["组织领导\n43.38/100", "普法阵地\n30.67/40", "以案释法\n33.83/40"]
    with app.test_request_context():
        html = render_result_sheets(composed, [agency])
    assert "一级指标得分" in html
    assert '<td>B 普法阵地</td><td class="num">30.67</td><td class="num">40.00</td>' \
           '<td class="num">3</td>' in html


def test_the_bundle_check_names_a_changed_indicator_score(app, db, world, tmp_path):
    from evaluation.services.results_bundle import verify_bundle
    from evaluation.services.results_versions import publish

    version = compose_version(db, world.campaign, world.composer)
    certify(db, version, world.certifier)
    publish(db, version, world.certifier)
    out = tmp_path / "bundle"
    runner = app.test_cli_runner()
    result = runner.invoke(args=["results", "export-bundle", str(world.campaign.id),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert verify_bundle(out) == []
    published = json.loads((out / "results.json").read_text(encoding="utf-8"))
    entry = next(a for a in published["agencies"] if a["id"] == world.agencies["乙局"].id)
    entry["indicators"][1]["score"] = "39.00"
    (out / "results.json").write_text(json.dumps(published, ensure_ascii=False), "utf-8")
    assert verify_bundle(out) == [
        f"agency {entry['id']} {entry['name']}: indicator B published 39.00, recomputed 30.67"]

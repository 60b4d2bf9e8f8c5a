"""An indicator system from a workbook: into a campaign that has none yet."""

from __future__ import annotations

from sqlmodel import Session

from evaluation.imports.model import N_, ImportProblem, ParsedImport
from evaluation.models import (
    Campaign,
    Indicator,
    IndicatorKind,
)
from evaluation.services.import_actions import CREATE
from evaluation.services.indicators import campaign_indicators


def review_indicators(session: Session, campaign: Campaign, parsed: ParsedImport, review) -> None:
    stored = campaign_indicators(session, campaign.id)
    codes = {indicator.code for indicator in stored}
    if stored:
        review.problems.append(
            ImportProblem(
                parsed.sheet,
                None,
                "",
                "",
                N_(
                    "本次评议已有 %(count)s 项指标。导入的是完整的指标体系，"
                    "请先删除已有指标再导入。"
                ),
                {"count": str(len(stored))},
            )
        )
    for row in parsed.rows:
        if row.code in codes:
            review.problems.append(
                parsed.cell(
                    "code", row.row, N_("指标编号 %(code)s 在本次评议中已存在。"), code=row.code
                )
            )
        review.actions[row.row] = CREATE


def write_indicators(session: Session, campaign: Campaign, parsed: ParsedImport, review) -> None:
    ids: dict[str, int] = {}
    positions: dict[str, int] = {}
    for row in parsed.rows:  # depth-first: a parent is always written before its children
        position = positions.get(row.parent_code, 0)
        positions[row.parent_code] = position + 1
        node = Indicator(
            campaign_id=campaign.id,
            parent_id=ids.get(row.parent_code),
            code=row.code,
            name=row.name,
            max_points=row.max_points,
            step=row.step,
            kind=IndicatorKind(row.kind),
            position=position,
        )
        session.add(node)
        session.flush()
        ids[row.code] = node.id

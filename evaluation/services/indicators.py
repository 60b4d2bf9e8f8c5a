"""The indicator tree editor's operations and its consistency check."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.models import Campaign, Indicator, IndicatorKind, Score
from evaluation.services.errors import ValidationFailed
from evaluation.services.persistence import commit_or_fail, is_taken, save_fields

FULL_MARKS = Decimal("100.00")


@dataclass(frozen=True)
class IndicatorFields:
    code: str
    name: str
    max_points: Decimal
    kind: IndicatorKind = IndicatorKind.NORMAL
    step: Decimal | None = None


def campaign_indicators(session: Session, campaign_id: int) -> list[Indicator]:
    return list(
        session.exec(
            select(Indicator)
            .where(Indicator.campaign_id == campaign_id)
            .order_by(Indicator.position, Indicator.id)
        ).all()
    )


def children_by_parent(indicators: list[Indicator]) -> dict[int | None, list[Indicator]]:
    tree: dict[int | None, list[Indicator]] = defaultdict(list)
    for node in sorted(indicators, key=lambda i: (i.position, i.id)):
        tree[node.parent_id].append(node)
    return tree


def walk(indicators: list[Indicator]) -> list[tuple[Indicator, int]]:
    """Depth-first (node, depth) pairs in display order."""
    tree, out = children_by_parent(indicators), []

    def visit(parent_id: int | None, depth: int) -> None:
        for node in tree.get(parent_id, []):
            out.append((node, depth))
            visit(node.id, depth + 1)

    visit(None, 0)
    return out


def tree_problems(indicators: list[Indicator]) -> dict[int | None, str]:
    """Messages keyed by the node that is off (None: the tree as a whole)."""
    tree, problems = children_by_parent(indicators), {}
    top = _normal_total(tree.get(None, []))
    if indicators and top != FULL_MARKS:
        problems[None] = _("一级常规指标合计 %(total)s 分，应为 100.00 分。", total=f"{top:.2f}")
    for node in indicators:
        children = tree.get(node.id, [])
        if children and node.kind == IndicatorKind.NORMAL:
            total = _normal_total(children)
            if total != node.max_points:
                problems[node.id] = _(
                    "%(code)s %(name)s：下级指标合计 %(total)s 分，应为 %(max)s 分。",
                    code=node.code,
                    name=node.name,
                    total=f"{total:.2f}",
                    max=f"{node.max_points:.2f}",
                )
    return problems


def _normal_total(nodes: list[Indicator]) -> Decimal:
    return sum((n.max_points for n in nodes if n.kind == IndicatorKind.NORMAL), Decimal("0"))


def _validate(
    session: Session,
    campaign: Campaign,
    fields: IndicatorFields,
    parent: Indicator | None,
    exclude_id: int | None = None,
) -> None:
    problems = {}
    if is_taken(session, Indicator, exclude_id, campaign_id=campaign.id, code=fields.code):
        problems["code"] = _("指标编号 %(code)s 已存在。", code=fields.code)
    if fields.max_points <= 0 or fields.max_points > FULL_MARKS:
        problems["max_points"] = _("分值须大于 0 且不超过 100。")
    elif fields.max_points != fields.max_points.quantize(Decimal("0.01")):
        problems["max_points"] = _("分值最多保留两位小数。")
    elif parent is not None and fields.max_points > parent.max_points:
        problems["max_points"] = _(
            "分值不能超过上级指标 %(code)s 的 %(max)s 分。",
            code=parent.code,
            max=f"{parent.max_points:.2f}",
        )
    step_problem = _step_problem(fields)
    if step_problem:
        problems["step"] = step_problem
    if problems:
        raise ValidationFailed(problems)


def step_is_usable(step: Decimal) -> bool:
    """Above 0, at most full marks, two decimals: the form's and the import's rule. The
    bounds come first: quantizing a 30-digit step would overflow the decimal context."""
    return 0 < step <= FULL_MARKS and step == step.quantize(Decimal("0.01"))


def _step_problem(fields: IndicatorFields) -> str | None:
    step = fields.step
    if step is None:
        return None
    if not step_is_usable(step):
        return _("评分步长须大于 0 且不超过分值，最多两位小数，例如 0.5。")
    if fields.max_points % step:
        return _("分值 %(max)s 须是评分步长 %(step)s 的整数倍。", max=fields.max_points, step=step)
    return None


def create_indicator(
    session: Session, campaign: Campaign, fields: IndicatorFields, parent: Indicator | None = None
) -> Indicator:
    if parent is not None and parent.campaign_id != campaign.id:
        raise ValidationFailed({"parent_id": _("上级指标不属于本次评议。")})
    _validate(session, campaign, fields, parent)
    siblings = children_by_parent(campaign_indicators(session, campaign.id)).get(
        parent.id if parent else None, []
    )
    node = Indicator(
        campaign_id=campaign.id,
        parent_id=parent.id if parent else None,
        position=len(siblings),
        **fields.__dict__,
    )
    session.add(node)
    commit_or_fail(session)
    return node


def update_indicator(
    session: Session, campaign: Campaign, node: Indicator, fields: IndicatorFields
) -> Indicator:
    parent = session.get(Indicator, node.parent_id) if node.parent_id else None
    _validate(session, campaign, fields, parent, exclude_id=node.id)
    return save_fields(session, node, fields)


def move_indicator(session: Session, node: Indicator, offset: int) -> None:
    """Swap with the sibling before (-1) or after (+1); renumber so positions stay dense."""
    siblings = children_by_parent(campaign_indicators(session, node.campaign_id))[node.parent_id]
    index = next(i for i, s in enumerate(siblings) if s.id == node.id)
    target = index + offset
    if 0 <= target < len(siblings):
        siblings[index], siblings[target] = siblings[target], siblings[index]
    for position, sibling in enumerate(siblings):
        if sibling.position != position:
            sibling.position = position
            session.add(sibling)
    commit_or_fail(session)


def delete_indicator(session: Session, node: Indicator) -> None:
    if session.exec(select(Indicator).where(Indicator.parent_id == node.id)).first():
        raise ValidationFailed({"form": _("请先删除 %(code)s 的下级指标。", code=node.code)})
    if session.exec(select(Score).where(Score.indicator_id == node.id)).first():
        raise ValidationFailed({"form": _("指标 %(code)s 已有评分，不能删除。", code=node.code)})
    session.delete(node)
    commit_or_fail(session)

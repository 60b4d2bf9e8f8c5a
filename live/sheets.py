"""Per-indicator sheets: when a session's sheet is an indicator of the campaign's rubric, each
judge marks every leaf under it (with its own max and step) and the sheet's total is what
`scoring/` makes of those marks (normal + bonus − deduction). Otherwise a sheet is one total.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.models import Indicator, LiveSession
from evaluation.services.indicators import children_by_parent
from live.errors import LiveRefusal
from scoring import Indicator as RubricNode
from scoring import RubricSheet, ScoringError, check_mark


@dataclass(frozen=True)
class SheetItem:
    """One line of the tablet's sheet: a leaf indicator."""

    id: int
    code: str
    name: str  # with its parents' names below the sheet's own, e.g. "普法宣传 · 覆盖面"
    max_points: Decimal
    step: Decimal | None
    kind: str

    def as_dict(self) -> dict:
        return {"id": self.id, "code": self.code, "name": self.name,
                "max": f"{self.max_points:.2f}", "step": None if self.step is None
                else f"{self.step:.2f}", "kind": self.kind}


@dataclass(frozen=True)
class Sheet:
    items: tuple[SheetItem, ...]
    rubric: RubricSheet

    def total(self, marks: dict[int, Decimal]) -> Decimal:
        codes = {item.id: item.code for item in self.items}
        return self.rubric.total({codes[item_id]: value for item_id, value in marks.items()})


def load_sheet(db: Session, live: LiveSession) -> Sheet | None:
    """The session's per-indicator sheet, or None when judges give one total."""
    if live.sheet_indicator_id is None:
        return None
    root = db.get(Indicator, live.sheet_indicator_id)
    rows = db.exec(select(Indicator).where(Indicator.campaign_id == root.campaign_id)).all()
    children = children_by_parent(list(rows))
    items: list[SheetItem] = []

    def node(indicator: Indicator, path: tuple[str, ...]) -> RubricNode:
        below = children.get(indicator.id, [])
        if not below and indicator.id != root.id:
            items.append(SheetItem(indicator.id, indicator.code, " · ".join(path),
                                   indicator.max_points, indicator.step, indicator.kind.value))
        return RubricNode(
            code=indicator.code, name=indicator.name, max_points=indicator.max_points,
            kind=indicator.kind.value, step=indicator.step,
            children=tuple(node(child, (*path, child.name)) for child in below),
        )

    tree = node(root, ())
    return Sheet(tuple(items), RubricSheet(tree))


def sheet_problem(db: Session, live: LiveSession) -> str | None:
    """Why this session's sheet cannot be used (an inconsistent rubric), or None."""
    try:
        sheet = load_sheet(db, live)
    except ScoringError as error:
        return str(error)
    if sheet is not None and not sheet.items:
        return _("所选指标没有下级指标，无法按指标评分。")
    return None


def checked_marks(sheet: Sheet, marks: dict[int, str]) -> dict[int, Decimal]:
    """Every line marked, each within its max and on its step; refusals name the line."""
    wanted = {item.id for item in sheet.items}
    unknown = sorted(set(marks) - wanted)
    if unknown:
        raise LiveRefusal("unknown_indicator", _("评分表中没有这项指标。"), f"marks.{unknown[0]}")
    checked = {}
    for item in sheet.items:
        if item.id not in marks:
            raise LiveRefusal("missing_mark", _("请为「%(name)s」打分。", name=item.name),
                              f"marks.{item.id}")
        node = RubricNode(code=item.code, name=item.name, max_points=item.max_points,
                          step=item.step)
        try:
            checked[item.id] = check_mark(node, marks[item.id])
        except ScoringError:
            raise LiveRefusal(
                "invalid_mark",
                _("「%(name)s」须在 0 到 %(max)s 之间，且为 %(step)s 的整数倍。",
                  name=item.name, max=item.max_points, step=item.step or Decimal("0.01")),
                f"marks.{item.id}",
            ) from None
    return checked

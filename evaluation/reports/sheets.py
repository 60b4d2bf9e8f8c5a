"""Per-agency result sheets (成绩单): one printable A4 page per agency, all in one document.

Each sheet lists the agency's stage scores, adjustments, total, rank and grade, every mark of
every panel with what became of it (kept, dropped highest/lowest, recused), the recusals
with their reasons, scoring's own explanation text and the policy fingerprint.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from flask import current_app

from evaluation.clock import local
from evaluation.reports.panels import agency_panels
from evaluation.reports.texts import FATES, STATUS, judge_name
from evaluation.services.results_data import ComposedResults
from scoring import AgencyResult, SatisfactionResult, explain_agency, explain_panel, stage_name

ChartUrl = Callable[[str], str | None]   # chart name -> URL of its PNG, None if not rendered


@dataclass(frozen=True)
class MarkRow:
    judge: str
    judge_group: str
    mark: object
    fate: str          # kept / dropped_high / dropped_low / recused
    treatment: str


@dataclass(frozen=True)
class PanelSheet:
    label: str
    rows: tuple[MarkRow, ...]
    value: object
    sentence: str


@dataclass(frozen=True)
class AgencySheet:
    agency_id: int
    name: str
    group: str
    result: AgencyResult
    stages: tuple          # (stage name, StagePart)
    indicators: tuple      # scoring's IndicatorScore per first-level indicator (may be empty)
    panels: tuple[PanelSheet, ...]
    surveys: tuple         # (stage name, SatisfactionResult)
    recusals: tuple        # (stage name, judge name, reason)
    explanation: tuple[str, ...]
    charts: tuple          # (title, url)


def agency_sheet(composed: ComposedResults, agency: AgencyResult,
                 chart_url: ChartUrl | None = None) -> AgencySheet:
    info = composed.agencies[agency.agency]
    panels = []
    for panel in agency_panels(agency):
        fate = panel.result.fate()
        replaced = {r.judge: r.replacement for r in panel.result.replaced}
        rows = []
        for judge, mark in panel.result.given():
            treatment = FATES[fate[judge]]
            if judge in replaced:
                treatment += f"（偏离过大，按 {replaced[judge]:f} 计）"
            judge_info = composed.judges.get(judge)
            rows.append(MarkRow(judge_name(composed, panel.stage, judge),
                                judge_info.group if judge_info else "", mark, fate[judge],
                                treatment))
        panels.append(PanelSheet(panel.label, tuple(rows), panel.result.value,
                                 explain_panel(panel.result).lines[0]))
    surveys = tuple((stage_name(code), stage) for code, stage in agency.stages.items()
                    if isinstance(stage, SatisfactionResult))
    recusals = tuple(
        (stage_name(r.stage_code), judge_name(composed, r.stage_code, r.judge_id), r.reason)
        for r in composed.recusals if r.agency_id == agency.agency)
    charts = ()
    if chart_url is not None:
        titles = {"radar": "一级指标得分率", "marks": "评委打分", "trend": "历年得分"}
        charts = tuple((title, url) for kind, title in titles.items()
                       if (url := chart_url(f"{kind}-{agency.agency}")))
    return AgencySheet(
        agency.agency, info.name, info.group, agency,
        tuple((stage_name(part.code), part) for part in agency.composition.parts),
        tuple(composed.indicator_scores.get(agency.agency, ())),
        tuple(panels), surveys, recusals, explain_agency(agency).lines, charts)


def stream_result_sheets(composed: ComposedResults, agency_ids: Iterable[int] | None = None,
                         chart_url: ChartUrl | None = None, back_url: str = "") -> Iterator[str]:
    """The printable HTML of the agencies' result sheets (all of them by default), in pieces.

    400 sheets take seconds to render: in the gevent serving process that would stall every
    socket. The sheets are made one at a time as the page is sent, and between two sheets
    the greenlet yields (`time.sleep(0)` is gevent's sleep there), so a tablet waits for at
    most one sheet, never for the whole document.
    """
    wanted = None if agency_ids is None else set(agency_ids)
    agencies = [agency for agency in composed.result.agencies
                if wanted is None or agency.agency in wanted]

    def sheets() -> Iterator[AgencySheet]:
        for agency in agencies:
            yield agency_sheet(composed, agency, chart_url)
            time.sleep(0)

    context = {
        "composed": composed, "sheets": sheets(), "count": len(agencies), "back_url": back_url,
        "status": STATUS.get(composed.status, composed.status),
        "generated": local(composed.generated_at, "%Y-%m-%d %H:%M"),
    }
    current_app.update_template_context(context)
    stream = current_app.jinja_env.get_template("results/sheets.html").stream(context)
    stream.enable_buffering(64)
    yield from stream


def render_result_sheets(composed: ComposedResults, agency_ids: Iterable[int] | None = None,
                         chart_url: ChartUrl | None = None, back_url: str = "") -> str:
    """The whole document at once (tests, small campaigns)."""
    return "".join(stream_result_sheets(composed, agency_ids, chart_url, back_url))

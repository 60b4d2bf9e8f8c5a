"""Where the panel results of a campaign are: per stage, per judge group, per agency.

Every report walks the same panels (the workbook's 评委打分 and 诊断 sheets, the judges'
marks chart, the result sheets); this reads them off the scoring results in one place.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from evaluation.services.results_data import ComposedResults
from scoring import AgencyResult, GroupResult, PanelResult, stage_name


@dataclass(frozen=True)
class AgencyPanel:
    """One panel's marks for one agency: a stage, and the judge group within it (if any)."""

    stage: str
    group: str | None          # judge group of a weighted stage, else None
    result: PanelResult

    @property
    def label(self) -> str:
        return stage_name(self.stage) + (f"·{self.group}" if self.group else "")


def agency_panels(agency: AgencyResult) -> Iterator[AgencyPanel]:
    """The agency's panels in stage order, then judge-group order."""
    for code, stage in agency.stages.items():
        if isinstance(stage, GroupResult):
            for part in stage.parts:
                yield AgencyPanel(code, part.group, part.result)
        elif isinstance(stage, PanelResult):
            yield AgencyPanel(code, None, stage)


def panels_by_key(composed: ComposedResults) -> dict[tuple[str, str | None], dict]:
    """(stage, judge group) -> {agency id: PanelResult}, agencies in ranking order."""
    panels: dict[tuple[str, str | None], dict] = {}
    for agency in composed.result.agencies:
        for panel in agency_panels(agency):
            panels.setdefault((panel.stage, panel.group), {})[agency.agency] = panel.result
    return panels


def stage_order(composed: ComposedResults) -> list[str]:
    """Stage codes in the composition's order."""
    return [spec.code for spec in composed.policy.composition.stages]

"""Composed results → the frozen JSON a results version keeps, and back for the pages.

Every figure is copied from scoring's result objects (and every explanation from scoring's
`explain_agency`), formatted as strings: the published page, the announcement, the history
and the re-tally bundle read this, never a recomputation.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from evaluation.services.results_data import AgencyInfo, ComposedResults
from evaluation.services.results_indicators import scores_to_plain, tree_from_plain, tree_to_plain
from scoring import GroupWeighting, PanelRule, PeerReview, explain_agency, stage_name

FORMAT = 1


def _text(value) -> str | None:
    return None if value is None else f"{value:f}"


def _stage_rule_summary(rule: Any) -> str:
    panel = rule.rule if isinstance(rule, PeerReview | GroupWeighting) else rule
    words = []
    if isinstance(rule, GroupWeighting):
        words.append("、".join(f"{name} {weight:f}%" for name, weight in rule.weights))
    if isinstance(panel, PanelRule) and (panel.drop_high or panel.drop_low):
        words.append(f"去掉 {panel.drop_high} 个最高分、{panel.drop_low} 个最低分后平均")
    elif isinstance(panel, PanelRule):
        words.append("取平均")
    if rule is not None and not isinstance(rule, PanelRule | PeerReview | GroupWeighting):
        words.append("满意度指数（满意 100、基本满意 80、不满意 0）")
    return "；".join(words)


def explanation_lines(result, name: str) -> list[str]:
    """The 计分说明 of one agency as published: scoring names the agency by id, the public
    reads its name."""
    lines = explain_agency(result).lines
    return [lines[0].replace(f"【{result.agency}】", f"【{name}】", 1), *lines[1:]]


def freeze(composed: ComposedResults) -> dict:
    policy = composed.policy
    rules = dict(policy.stage_rules)
    agencies = []
    for result in composed.result.agencies:
        info = composed.agencies[result.agency]
        parts = {part.code: part for part in result.composition.parts}
        agencies.append({
            "id": result.agency,
            "name": info.name,
            "group": info.group,
            "rank": result.ranked.rank if result.ranked else None,
            "shared": bool(result.ranked and result.ranked.shared),
            "grade": result.graded.grade if result.graded else None,
            "total": _text(result.total),
            "stages": {
                code: {"raw": _text(part.raw), "normalized": _text(part.normalized),
                       "product": _text(part.product)}
                for code, part in parts.items()
            },
            "missing": list(result.composition.missing),
            "indicators": scores_to_plain(composed.indicator_scores.get(result.agency, ())),
            "explanation": explanation_lines(result, info.name),
        })
    return {
        "format": FORMAT,
        "campaign": {"id": composed.campaign_id, "title": composed.title, "year": composed.year,
                     "organization": composed.organization},
        "fingerprint": composed.result.fingerprint,
        "generated_at": composed.generated_at.isoformat(),
        "audit_head": composed.audit_head,
        "stages": [
            {"code": spec.code, "name": stage_name(spec.code), "weight": _text(spec.weight),
             "rule": _stage_rule_summary(rules.get(spec.code))}
            for spec in policy.composition.stages
        ],
        "grades": policy.grading.levels if policy.grading else [],
        "groups": list(dict.fromkeys(a["group"] for a in agencies)),
        "agencies": agencies,
        # the tree the indicator scores were cut by, so a version recomputes them alike
        "indicator_tree": tree_to_plain(composed.first_level),
    }


def frozen_agencies(results_json: str) -> dict[int, AgencyInfo]:
    """The agencies a version ranked, with the names and groups it published, in its order.
    An agency enrolled after composing has no marks in the version (its recomputation would
    fail), and one renamed or regrouped since was published under the old name and group."""
    return {entry["id"]: AgencyInfo(entry["id"], entry["name"], entry["group"])
            for entry in json.loads(results_json)["agencies"]}


def frozen_tree(results_json: str):
    """The first-level indicator tree a version froze; None for a version frozen before
    versions kept it (its scores are then cut by the campaign's tree as it is now)."""
    plain = json.loads(results_json).get("indicator_tree")
    return None if plain is None else tree_from_plain(plain)


def dumps(frozen: dict) -> str:
    return json.dumps(frozen, ensure_ascii=False, sort_keys=True, indent=1)


@dataclass(frozen=True)
class FrozenView:
    """Template helpers over frozen results."""

    data: dict

    @classmethod
    def load(cls, text: str) -> FrozenView:
        return cls(json.loads(text))

    @property
    def stages(self) -> list[dict]:
        return self.data["stages"]

    @property
    def fingerprint(self) -> str:
        return self.data["fingerprint"]

    def by_group(self) -> list[tuple[str, list[dict]]]:
        return [(group, [a for a in self.data["agencies"] if a["group"] == group])
                for group in self.data["groups"]]

    def agency(self, agency_id: int) -> dict | None:
        return next((a for a in self.data["agencies"] if a["id"] == agency_id), None)

    def group_size(self, group: str) -> int:
        return sum(1 for a in self.data["agencies"] if a["group"] == group)

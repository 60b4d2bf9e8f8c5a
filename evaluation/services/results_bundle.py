"""The re-tally bundle: what an auditor needs to recompute a published result without us.

    raw_marks.csv   the marks the published version was computed from (services/results_marks)
    agencies.csv    id, name, ranking group
    policy.json     the scoring policy, scoring's plain JSON (its SHA-256 is the fingerprint)
    results.json    the published results, exactly as frozen
    audit_head.txt  the audit chain's head hash when exported (and when composed)

`verify_bundle` reads only these files, recomputes with scoring (through the same
`build_inputs` as composing) and lists every difference, by agency and figure.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session

from evaluation.models import Campaign
from evaluation.services.results import ResultsUnavailable, audit_head, evaluate_marks
from evaluation.services.results_data import AgencyInfo
from evaluation.services.results_freeze import FrozenView, explanation_lines
from evaluation.services.results_indicators import (
    indicator_scores,
    plain_differences,
    tree_from_plain,
)
from evaluation.services.results_marks import MarksFileError, gather_marks, marks_from_csv
from evaluation.services.results_policy import policy_from_json
from evaluation.services.results_versions import published_version
from evaluation.spreadsheet_text import csv_cell, csv_value
from scoring import ScoringError, policy_fingerprint

FILES = ("raw_marks.csv", "agencies.csv", "policy.json", "results.json", "audit_head.txt")


class BundleError(ValueError):
    pass


@dataclass(frozen=True)
class Exported:
    directory: Path
    version_number: int
    marks: int
    changed_since: bool  # the database's marks differ from the published ones now


def export_bundle(db: Session, campaign: Campaign, out: Path) -> Exported:
    version = published_version(db, campaign.id)
    if version is None:
        raise BundleError(f"campaign {campaign.id} has no published results")
    view = FrozenView.load(version.results_json)
    out.mkdir(parents=True, exist_ok=True)
    (out / "raw_marks.csv").write_text(version.raw_marks_csv, encoding="utf-8")
    (out / "agencies.csv").write_text(_agencies_csv(view), encoding="utf-8")
    (out / "policy.json").write_text(version.policy_json + "\n", encoding="utf-8")
    (out / "results.json").write_text(version.results_json + "\n", encoding="utf-8")
    (out / "audit_head.txt").write_text(
        f"exported {audit_head(db)}\ncomposed {version.audit_head}\n", encoding="utf-8")
    policy = policy_from_json(version.policy_json)
    now = gather_marks(db, campaign, [spec.code for spec in policy.composition.stages])
    frozen = marks_from_csv(version.raw_marks_csv)
    return Exported(out, version.number, len(frozen), sorted(now, key=_key) != sorted(
        frozen, key=_key))


def _key(row):
    return (*row.sort_key(), str(row.value))


def _agencies_csv(view: FrozenView) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("agency_id", "name", "group"))
    for entry in view.data["agencies"]:
        # names as text for whoever opens the file in Excel; `_agencies` reads them back
        writer.writerow((entry["id"], csv_cell(entry["name"]), csv_cell(entry["group"])))
    return out.getvalue()


def _read(bundle: Path, name: str) -> str:
    try:
        return (bundle / name).read_text(encoding="utf-8")
    except OSError as error:
        raise BundleError(f"{name}: cannot read ({error.strerror})") from error


def _agencies(text: str) -> dict[int, AgencyInfo]:
    rows = list(csv.DictReader(io.StringIO(text)))
    try:
        return {int(r["agency_id"]): AgencyInfo(int(r["agency_id"]), csv_value(r["name"]),
                                                csv_value(r["group"]))
                for r in rows}
    except (KeyError, ValueError) as error:
        raise BundleError(f"agencies.csv: {error}") from error


def verify_bundle(bundle: Path) -> list[str]:
    """Every difference between the published results and a recomputation; [] when none."""
    try:
        plain = json.loads(_read(bundle, "policy.json"))
        published = json.loads(_read(bundle, "results.json"))
    except json.JSONDecodeError as error:
        raise BundleError(f"JSON: {error}") from error
    policy = policy_from_json(json.dumps(plain))
    agencies = _agencies(_read(bundle, "agencies.csv"))
    try:
        marks = marks_from_csv(_read(bundle, "raw_marks.csv"))
        _inputs, result = evaluate_marks(policy, marks, agencies)
    except (MarksFileError, ResultsUnavailable, ScoringError) as error:
        raise BundleError(str(error)) from error
    differences = []
    if policy_fingerprint(policy) != published.get("fingerprint"):
        differences.append(
            f"policy fingerprint: published {published.get('fingerprint')}, "
            f"policy.json gives {policy_fingerprint(policy)}")
    listed = {entry["id"]: entry for entry in published.get("agencies", [])}
    for agency_id in sorted(set(listed) | set(result.by_agency)):
        differences.extend(_agency_differences(agency_id, listed.get(agency_id),
                                               result.by_agency.get(agency_id), agencies))
    if "indicator_tree" in published:   # versions frozen before it was kept have no tree
        recomputed = indicator_scores(tree_from_plain(published["indicator_tree"]), marks,
                                      agencies)
        for agency_id, entry in sorted(listed.items()):
            differences.extend(plain_differences(f"agency {agency_id} {entry.get('name')}",
                                                 entry.get("indicators"),
                                                 recomputed.get(agency_id, ())))
    return differences


def _agency_differences(agency_id, entry, recomputed, agencies) -> list[str]:
    name = agencies[agency_id].name if agency_id in agencies else (entry or {}).get("name")
    label = f"agency {agency_id} {name}"
    if entry is None:
        return [f"{label}: recomputed but not in the published results"]
    if recomputed is None:
        return [f"{label}: published but has no marks in the bundle"]
    found = {
        "total": f"{recomputed.total:f}",
        "rank": recomputed.ranked.rank if recomputed.ranked else None,
        "grade": recomputed.graded.grade if recomputed.graded else None,
        "group": recomputed.group,
    }
    for part in recomputed.composition.parts:
        found[f"{part.code} score"] = f"{part.normalized:f}"
    claimed = {"total": entry.get("total"), "rank": entry.get("rank"),
               "grade": entry.get("grade"), "group": entry.get("group")}
    for code, stage in (entry.get("stages") or {}).items():
        claimed[f"{code} score"] = stage.get("normalized")
    # What the public page shows beside the figures: the tie mark and the 计分说明.
    found["shared"] = bool(recomputed.ranked and recomputed.ranked.shared)
    claimed["shared"] = entry.get("shared")
    differences = [
        f"{label}: {figure} published {claimed.get(figure)}, recomputed {found.get(figure)}"
        for figure in sorted(set(found) | set(claimed))
        if claimed.get(figure) != found.get(figure)
    ]
    published = list(entry.get("explanation") or [])
    explained = explanation_lines(recomputed, name)
    for number in range(max(len(published), len(explained))):
        said = published[number] if number < len(published) else None
        says = explained[number] if number < len(explained) else None
        if said != says:
            differences.append(f"{label}: explanation line {number + 1} published {said!r}, "
                               f"recomputed {says!r}")
    return differences

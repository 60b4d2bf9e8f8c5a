"""The raw marks of a campaign, gathered stage by stage into one flat list.

Every source of marks is a *collector*: a function `(db, stage) -> list[RawMark]`. The
`COLLECTORS` registry says which collectors feed which stage kind, so adding a source (public
ballots, a new survey) is one line there. The flat list is also the re-tally bundle's CSV:
`results_inputs.build_inputs` turns it into scoring's input shapes, both when composing from
the database and when verifying a bundle, so the two can never read the marks differently.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from sqlmodel import Session, select

from evaluation.models import (
    AudienceVote,
    Campaign,
    Indicator,
    IndicatorKind,
    Judge,
    LiveSession,
    LiveSlot,
    Satisfaction,
    Score,
    ScoreStatus,
    Stage,
    StageKind,
    Submission,
    SubmissionVersion,
    User,
)
from evaluation.models.self_assessment import ReviewDecision
from evaluation.services.conflicts import declared_judge_conflicts, judge_recused, recusals

# Sources of a mark. A satisfaction row carries a level and a count instead of a scorer.
JUDGE, REVIEWER, PEER, SATISFACTION = "judge", "reviewer", "peer", "satisfaction"
SELF = "self"  # an agency's self-score, as the organizer accepted it (自查自评)
# scoring/'s satisfaction scales name their levels in Chinese; the database stores codes.
LEVEL_NAMES = {
    Satisfaction.SATISFIED.value: "满意",
    Satisfaction.BASIC.value: "基本满意",
    Satisfaction.DISSATISFIED.value: "不满意",
}
CSV_FIELDS = ("stage", "agency_id", "source", "scorer_id", "scorer_group", "indicator",
              "indicator_kind", "value")


@dataclass(frozen=True)
class RawMark:
    """One stored mark (or, for satisfaction, one level's count), as plain data.

    `value` None on a judge row means the judge is recused from that agency.
    `indicator` is the indicator code of a per-indicator mark, "" for a total mark, and
    `indicator_kind` whether it adds ("normal", "bonus") or subtracts ("deduction") in the
    scorer's total, as scoring's RubricSheet counts it.
    For satisfaction rows `scorer_group` holds the level name and `value` the count.
    """

    stage: str
    agency_id: int
    source: str
    scorer_id: int | None
    scorer_group: str = ""
    indicator: str = ""
    value: Decimal | None = None
    indicator_kind: str = ""

    def sort_key(self):
        return (self.stage, self.agency_id, self.source, self.scorer_id or 0,
                self.scorer_group, self.indicator)


Collector = Callable[[Session, Stage], list[RawMark]]


def _valid_scores(db: Session, stage: Stage):
    return db.exec(
        select(Score).where(Score.stage_id == stage.id, Score.status == ScoreStatus.VALID)
    ).all()


def _leaf_indicators(db: Session, campaign_id: int) -> dict[int, tuple[str, str]]:
    """Leaf indicators: id -> (code, kind), the kind inherited from the nearest bonus or
    deduction ancestor, as scoring's RubricSheet reads a tree. A parent's points are its
    children's, so a mark on a parent is not a sheet line."""
    indicators = {
        i.id: i for i in db.exec(select(Indicator).where(Indicator.campaign_id == campaign_id))
    }
    parents = {i.parent_id for i in indicators.values() if i.parent_id is not None}

    def kind_of(indicator: Indicator) -> str:
        while indicator is not None:
            if indicator.kind != IndicatorKind.NORMAL:
                return indicator.kind.value
            indicator = indicators.get(indicator.parent_id)
        return IndicatorKind.NORMAL.value

    return {i.id: (i.code, kind_of(i)) for i in indicators.values() if i.id not in parents}


def _line(score: Score, leaves: dict[int, tuple[str, str]]) -> tuple[str, str] | None:
    """(code, kind) of a per-indicator mark, ("", "") for a total; None: not a sheet line."""
    if score.indicator_id is None:
        return "", ""
    return leaves.get(score.indicator_id)


def judge_and_reviewer_marks(db: Session, stage: Stage) -> list[RawMark]:
    """Judges' and reviewers' marks (total or per indicator) for every agency.

    A judge whose affiliation is the agency, or who declared a conflict with it, is recused:
    any mark from them for it is set aside, and every judge of the stage's panel is listed as
    recused at each such agency, so the published explanation names the recusal.
    """
    leaves = _leaf_indicators(db, stage.campaign_id)
    judges = {
        j.id: j for j in db.exec(select(Judge).where(Judge.campaign_id == stage.campaign_id))
    }
    declared = declared_judge_conflicts(db, stage.campaign_id)
    rows: list[RawMark] = []
    panel: set[int] = set()
    agencies: set[int] = set()
    for score in _valid_scores(db, stage):
        agencies.add(score.agency_id)
        line = _line(score, leaves)
        if line is None:
            continue
        if score.judge_id is not None:
            judge = judges[score.judge_id]
            panel.add(judge.id)
            if judge_recused(judge, score.agency_id, declared):
                continue
            rows.append(RawMark(stage.kind.value, score.agency_id, JUDGE, judge.id,
                                judge.group_name, line[0], score.value, line[1]))
        else:
            rows.append(RawMark(stage.kind.value, score.agency_id, REVIEWER, score.reviewer_id,
                                "", line[0], score.value, line[1]))
    for judge_id in sorted(panel):
        judge = judges[judge_id]
        for agency_id in sorted(agencies):
            if judge_recused(judge, agency_id, declared):
                rows.append(RawMark(stage.kind.value, agency_id, JUDGE, judge.id,
                                    judge.group_name, "", None))
    return rows


def peer_marks(db: Session, stage: Stage) -> list[RawMark]:
    """互评: an agency contact's mark counts as their agency's mark for the other agency."""
    leaves = _leaf_indicators(db, stage.campaign_id)
    contacts = {
        u.id: u.agency_id for u in db.exec(select(User).where(User.agency_id.is_not(None)))
    }
    rows = []
    for score in _valid_scores(db, stage):
        rater, line = contacts.get(score.reviewer_id), _line(score, leaves)
        if rater is None or line is None:
            continue
        rows.append(RawMark(stage.kind.value, score.agency_id, PEER, rater, "", line[0],
                            score.value, line[1]))
    return rows


def accepted_self_scores(db: Session, stage: Stage) -> list[RawMark]:
    """自查自评: per indicator, the self-scores of the version the organizer *accepted*.

    The accepted version, not the agency's latest draft or latest submission: a self-score
    is the agency's own claim, and only acceptance says the organizer checked it against
    the evidence (a returned version's points are exactly the ones in dispute, and a version
    awaiting review has not been checked yet). The organizer's review does not type in a
    score of its own, so the accepted self-score is the figure that counts; an agency with
    no accepted version has no self-assessment mark (the policy decides what a missing
    stage means). Scores the organizers entered themselves (`Score` rows of this stage,
    e.g. earlier years keyed in from paper) still come from `judge_and_reviewer_marks`.
    """
    leaves = _leaf_indicators(db, stage.campaign_id)
    versions = db.exec(
        select(Submission.agency_id, SubmissionVersion)
        .join(SubmissionVersion, SubmissionVersion.submission_id == Submission.id)
        .where(Submission.campaign_id == stage.campaign_id,
               SubmissionVersion.decision == ReviewDecision.ACCEPTED)
        .order_by(SubmissionVersion.number)
    ).all()
    accepted = {agency_id: version for agency_id, version in versions}  # the latest wins
    rows = []
    for agency_id, version in accepted.items():
        for line in json.loads(version.scores_json):
            leaf = leaves.get(line.get("indicator_id"))
            if leaf is None or line.get("points") in (None, ""):
                continue
            rows.append(RawMark(stage.kind.value, agency_id, SELF, version.submitted_by, "",
                                leaf[0], Decimal(line["points"]), leaf[1]))
    return rows


def inspection_marks(db: Session, stage: Stage) -> list[RawMark]:
    """实地考察: each inspector's marks, the author of a sheet being its scorer.

    A sheet's `score` rows are written only when a second member of the team confirms it
    (services/inspection_sheets.py), so drafts, submitted and returned sheets give none; a
    total entered by the organizers (an earlier year's paper sheet) counts as it is. Marks of
    an inspector for an agency they must be recused from (their 所属单位, or a declared
    conflict, perhaps declared after the visit) are set aside.
    """
    campaign = db.get(Campaign, stage.campaign_id)
    recused = {(r.person_id, r.agency_id) for r in recusals(db, campaign)
               if r.person_kind == "inspector"}
    leaves = _leaf_indicators(db, stage.campaign_id)
    rows = []
    for score in _valid_scores(db, stage):
        line = _line(score, leaves)
        if score.reviewer_id is None or line is None \
                or (score.reviewer_id, score.agency_id) in recused:
            continue
        rows.append(RawMark(stage.kind.value, score.agency_id, REVIEWER, score.reviewer_id,
                            "", line[0], score.value, line[1]))
    return rows


def audience_panel_counts(db: Session, stage: Stage) -> list[RawMark]:
    """大众评审团 votes cast during the live on-site review, per agency and level."""
    votes = db.exec(
        select(LiveSlot.agency_id, AudienceVote.level)
        .join(LiveSlot, LiveSlot.id == AudienceVote.slot_id)
        .join(LiveSession, LiveSession.id == LiveSlot.session_id)
        .join(Stage, Stage.id == LiveSession.stage_id)
        .where(Stage.campaign_id == stage.campaign_id)
    ).all()
    return _count_rows(stage, ((agency, level.value) for agency, level in votes))


def public_ballot_counts(db: Session, stage: Stage) -> list[RawMark]:
    """社会评议 ballots (services/ballot_results.py, built alongside; absent until it lands)."""
    try:
        from evaluation.services.ballot_results import counts_by_agency
    except ImportError:
        return []
    return [
        RawMark(stage.kind.value, agency_id, SATISFACTION, None, LEVEL_NAMES.get(level, level),
                "", Decimal(count))
        for agency_id, counts in counts_by_agency(db, stage).items()
        for level, count in counts.items()
    ]


def _count_rows(stage: Stage, pairs: Iterable[tuple[int, str]]) -> list[RawMark]:
    counts: dict[tuple[int, str], int] = {}
    for agency_id, level in pairs:
        name = LEVEL_NAMES.get(level, level)
        counts[(agency_id, name)] = counts.get((agency_id, name), 0) + 1
    return [
        RawMark(stage.kind.value, agency_id, SATISFACTION, None, level, "", Decimal(count))
        for (agency_id, level), count in counts.items()
    ]


def _merge_counts(rows: list[RawMark]) -> list[RawMark]:
    merged: dict[tuple, Decimal] = {}
    for row in rows:
        key = (row.stage, row.agency_id, row.scorer_group)
        merged[key] = merged.get(key, Decimal(0)) + row.value
    return [RawMark(s, a, SATISFACTION, None, level, "", n) for (s, a, level), n in merged.items()]


# Which sources feed which stage. Deployment is not scored.
COLLECTORS: dict[StageKind, tuple[Collector, ...]] = {
    StageKind.SELF_ASSESSMENT: (accepted_self_scores, judge_and_reviewer_marks),
    StageKind.MEDIA_PUBLICITY: (judge_and_reviewer_marks,),
    StageKind.PUBLIC_REVIEW: (audience_panel_counts, public_ballot_counts),
    StageKind.FIELD_INSPECTION: (inspection_marks,),
    StageKind.ONSITE_REVIEW: (judge_and_reviewer_marks,),
    StageKind.PEER_REVIEW: (peer_marks,),
}


def gather_marks(db: Session, campaign: Campaign, stage_codes: Iterable[str]) -> list[RawMark]:
    """Every raw mark of the stages named (those the policy scores), in a stable order."""
    wanted = set(stage_codes)
    stages = db.exec(select(Stage).where(Stage.campaign_id == campaign.id)).all()
    rows: list[RawMark] = []
    for stage in stages:
        if stage.kind.value in wanted:
            for collect in COLLECTORS.get(stage.kind, ()):
                rows.extend(collect(db, stage))
    return sorted(_merge_satisfaction(rows), key=RawMark.sort_key)


def _merge_satisfaction(rows: list[RawMark]) -> list[RawMark]:
    """Several satisfaction sources (panel, ballots) add up to one count per level."""
    others = [row for row in rows if row.source != SATISFACTION]
    return others + _merge_counts([row for row in rows if row.source == SATISFACTION])


def marks_to_csv(rows: Iterable[RawMark]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for row in rows:
        writer.writerow([
            row.stage, row.agency_id, row.source,
            "" if row.scorer_id is None else row.scorer_id, row.scorer_group, row.indicator,
            row.indicator_kind, "" if row.value is None else f"{row.value}",
        ])
    return out.getvalue()


class MarksFileError(ValueError):
    """A row of a raw-marks CSV that cannot be read; the message names the line and column."""


def marks_from_csv(text: str) -> list[RawMark]:
    reader = csv.DictReader(io.StringIO(text))
    if tuple(reader.fieldnames or ()) != CSV_FIELDS:
        raise MarksFileError(f"raw_marks.csv: header should be {','.join(CSV_FIELDS)}")
    rows = []
    for line, record in enumerate(reader, start=2):
        try:
            rows.append(RawMark(
                stage=record["stage"],
                agency_id=int(record["agency_id"]),
                source=record["source"],
                scorer_id=int(record["scorer_id"]) if record["scorer_id"] else None,
                scorer_group=record["scorer_group"],
                indicator=record["indicator"],
                value=Decimal(record["value"]) if record["value"] else None,
                indicator_kind=record["indicator_kind"],
            ))
        except (ValueError, ArithmeticError) as error:
            raise MarksFileError(f"raw_marks.csv line {line}: {error}") from error
    return rows

"""A slot's result, computed by scoring/ from the stored marks (never stored itself)."""

from __future__ import annotations

from collections import namedtuple
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func
from sqlmodel import Session, select

from evaluation.models import (
    Judge,
    LiveSeat,
    LiveSession,
    LiveSheetLine,
    LiveSlot,
    LiveSubmission,
    Score,
    ScoreStatus,
)
from evaluation.services.conflicts import declared_judge_conflicts, judge_recused
from scoring import PanelResult, PanelRule

_UNREAD = object()  # "the caller has not read the sheet": None means "one total"
# A seat row of `read_panel`: `id` and `affiliation_agency_id` are the judge's.
_SeatRow = namedtuple("_SeatRow", "seat_id seat_no id name group_name affiliation_agency_id "
                                  "campaign_id")


@dataclass(frozen=True)
class SeatState:
    seat_id: int
    seat_no: int
    judge_name: str
    judge_group: str
    recused: bool
    mark: Decimal | None  # the valid mark submitted for this slot, if any
    submission_id: int | None


def seat_states(db: Session, slot: LiveSlot) -> list[SeatState]:
    return seat_states_by_slot(db, slot.session_id, [slot])[slot.id]


@dataclass(frozen=True)
class Panel:
    """The session's seats with their judges' columns, and the conflicts they declared for
    the agencies asked about: what decides who is recused."""

    seats: tuple
    declared: frozenset


def read_panel(db: Session, session_id: int, agency_ids: list[int]) -> Panel:
    seats = tuple(_SeatRow(*row) for row in db.exec(
        select(LiveSeat.id.label("seat_id"), LiveSeat.seat_no, Judge.id, Judge.name,
               Judge.group_name, Judge.affiliation_agency_id, Judge.campaign_id)
        .join(Judge, Judge.id == LiveSeat.judge_id)
        .where(LiveSeat.session_id == session_id)
        .order_by(LiveSeat.seat_no)
    ).all())
    # The panel's judges belong to the session's campaign: no need to load session and stage.
    declared = frozenset(declared_judge_conflicts(
        db, seats[0].campaign_id, agency_ids)) if seats and agency_ids else frozenset()
    return Panel(seats, declared)


def voided_submissions(db: Session, session_id: int) -> frozenset[int]:
    """Ids of the session's voided sheets: few, and the one way a revealed result changes."""
    return frozenset(db.exec(select(LiveSubmission.id).where(
        LiveSubmission.session_id == session_id,
        LiveSubmission.status == ScoreStatus.VOIDED)).all())


def seat_states_by_slot(
    db: Session, session_id: int, slots: list[LiveSlot], sheet=_UNREAD, panel: Panel | None = None
) -> dict[int, list[SeatState]]:
    """Every seat's state for each of `slots`, in two queries whatever their number.

    `sheet`: the session's per-indicator sheet (or None) when the caller has it already;
    `panel`: its seats and declared conflicts (covering `slots`' agencies), likewise.
    Plain columns, not ORM objects: this runs on every publish, and loading 50 seats, their
    judges and their sheets as tracked instances was most of a publish's database time.
    """
    if panel is None:
        panel = read_panel(db, session_id, [slot.agency_id for slot in slots])
    seats = panel.seats
    rows = db.exec(
        # A rehearsal's marks have no `Score`: their value sits on the submission (or line).
        select(LiveSubmission.id, LiveSubmission.slot_id, LiveSubmission.seat_id,
               func.coalesce(Score.value, LiveSubmission.rehearsal_value))
        .outerjoin(Score, Score.id == LiveSubmission.score_id)
        .where(
            LiveSubmission.slot_id.in_([slot.id for slot in slots]),
            LiveSubmission.status == ScoreStatus.VALID,
        )
    ).all()
    sheets = [submission_id for submission_id, _slot, _seat, value in rows if value is None]
    totals = _sheet_totals(db, session_id, sheets, sheet) if sheets else {}
    marks: dict[tuple[int, int], tuple[int, Decimal]] = {
        (slot_id, seat_id): (submission_id, totals[submission_id] if value is None else value)
        for submission_id, slot_id, seat_id, value in rows
    }
    return {
        slot.id: [_state(slot, seat, marks.get((slot.id, seat.seat_id)), panel.declared)
                  for seat in seats]
        for slot in slots
    }


def _sheet_totals(db: Session, session_id: int, submission_ids: list[int], sheet) -> dict:
    """Per-indicator sheets: each sheet's total, as scoring/ adds its lines up."""
    from live.sheets import load_sheet

    if sheet is _UNREAD:
        sheet = load_sheet(db, db.get(LiveSession, session_id))
    lines: dict[int, dict[int, Decimal]] = {}
    for submission_id, indicator_id, value in db.exec(
        select(LiveSheetLine.submission_id, LiveSheetLine.indicator_id,
               func.coalesce(Score.value, LiveSheetLine.rehearsal_value))
        .outerjoin(Score, Score.id == LiveSheetLine.score_id)
        .where(LiveSheetLine.submission_id.in_(submission_ids))
    ).all():
        lines.setdefault(submission_id, {})[indicator_id] = value
    return {submission_id: sheet.total(lines[submission_id]) for submission_id in submission_ids}


def _state(slot: LiveSlot, seat, mark, declared: set) -> SeatState:
    """`seat`: a row of seat and judge columns; its `id` and `affiliation_agency_id` are the
    judge's, all that `judge_recused` reads."""
    submission_id, value = mark if mark else (None, None)
    return SeatState(seat.seat_id, seat.seat_no, seat.name, seat.group_name,
                     judge_recused(seat, slot.agency_id, declared), value, submission_id)


def panel_rule(live: LiveSession) -> PanelRule:
    # With too few marks to trim (a small panel, many recusals) every mark counts, and the
    # result says so: the ISU reading, declared rather than silent.
    return PanelRule(
        drop_high=live.drop_high,
        drop_low=live.drop_low,
        combine="mean",
        places=2,
        fallback="use_all",
    )


def slot_result(live: LiveSession, states: list[SeatState]) -> PanelResult | None:
    marks = [
        (state.seat_no, state.mark)
        for state in states
        if state.mark is not None and not state.recused
    ]
    if not marks:
        return None
    return panel_rule(live).apply(marks)


def expected_seats(states: list[SeatState]) -> list[SeatState]:
    return [state for state in states if not state.recused]


def waiting_seats(states: list[SeatState]) -> list[int]:
    return [s.seat_no for s in expected_seats(states) if s.mark is None]

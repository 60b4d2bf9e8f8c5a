"""The director's commands: which agency is on stage, its segment, its timer, the reveal."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.models import Graphic, LiveSeat, LiveSession, LiveSlot, Segment
from evaluation.models.base import utcnow
from live import runofshow
from live.errors import LiveRefusal
from live.operations import audit_note, bump_revision, current_slot
from live.payloads import DirectorCommand
from live.results import seat_states, waiting_seats
from live.runofshow import MARKS_PUBLIC_FROM
from live.writes import writer_lock

BETWEEN_SLOTS = {Segment.WAITING, Segment.DONE}


def run_command(db: Session, session_id: int, command: DirectorCommand) -> dict:
    with writer_lock(db):
        live = db.get(LiveSession, session_id)
        HANDLERS[command.action](db, live, command)
        revision = bump_revision(db, live.id)
        db.commit()
    return {"ok": True, "revision": revision}


def _on_stage(db: Session, live: LiveSession) -> LiveSlot:
    slot = current_slot(db, live)
    if slot is None:
        raise LiveRefusal("no_slot", _("请先选择上场单位。"))
    return slot


def _select(db: Session, live: LiveSession, command: DirectorCommand) -> None:
    slot = current_slot(db, live)
    if slot is not None and slot.segment not in BETWEEN_SLOTS:
        raise LiveRefusal("slot_in_progress", _("当前单位尚未完成，不能切换。"))
    target = db.exec(
        select(LiveSlot).where(
            LiveSlot.session_id == live.id, LiveSlot.position == command.position
        )
    ).first()
    if target is None:
        raise LiveRefusal("unknown_slot", _("没有这个出场顺序。"), "position")
    live.current_position = target.position
    db.add(live)


def _next(db: Session, live: LiveSession, _command: DirectorCommand) -> None:
    slot = _on_stage(db, live)
    target = runofshow.following(slot.segment)
    if target is None:
        raise LiveRefusal("last_segment", _("本单位已完成，请选择下一个单位。"))
    if target == Segment.REVEALED:
        _require_all_marks(db, slot)
    runofshow.enter(slot, target)
    db.add(slot)


def _prev(db: Session, live: LiveSession, _command: DirectorCommand) -> None:
    slot = _on_stage(db, live)
    target = runofshow.preceding(slot.segment)
    if target is None:
        raise LiveRefusal("no_way_back", _("已亮分，不能退回。"))
    runofshow.enter(slot, target)
    db.add(slot)


def _no_pending_voids(db: Session, slot: LiveSlot) -> None:
    from live.voiding import pending_requests

    if any(r["slot_id"] == slot.id for r in pending_requests(db, slot.session_id)):
        raise LiveRefusal("void_pending", _("有待评委会主任审批的作废申请，暂不能亮分。"))


def _require_all_marks(db: Session, slot: LiveSlot) -> None:
    _no_pending_voids(db, slot)
    waiting = waiting_seats(seat_states(db, slot))
    if waiting:
        raise LiveRefusal(
            "waiting_for_seats",
            _("还在等待 %(seats)s 号席位提交。", seats="、".join(map(str, waiting))),
            waiting_seats=waiting,
        )


def _reveal(db: Session, live: LiveSession, command: DirectorCommand) -> None:
    slot = _on_stage(db, live)
    if slot.segment != Segment.CLOSED:
        raise LiveRefusal("not_closed", _("请先结束评分，再亮分。"))
    _no_pending_voids(db, slot)
    waiting = waiting_seats(seat_states(db, slot))
    if waiting and not (command.reason or "").strip():
        raise LiveRefusal(
            "reason_required",
            _("尚有席位未提交；强制亮分须填写原因。"),
            "reason",
            waiting_seats=waiting,
        )
    if waiting:
        audit_note(
            db,
            "forced_reveal",
            live,
            {"slot_id": slot.id, "waiting_seats": waiting, "reason": command.reason.strip()},
        )
    runofshow.enter(slot, Segment.REVEALED)
    db.add(slot)


def _timer(db: Session, live: LiveSession, command: DirectorCommand) -> None:
    slot = _on_stage(db, live)
    if command.action == "timer_start":
        runofshow.start_timer(slot, utcnow())
    elif command.action == "timer_pause":
        runofshow.pause_timer(slot, utcnow())
    else:
        if command.seconds is None:
            raise LiveRefusal("seconds_required", _("请填写延长的秒数。"), "seconds")
        runofshow.extend_timer(slot, command.seconds)
    db.add(slot)


def _release_seat(db: Session, live: LiveSession, command: DirectorCommand) -> None:
    seat = db.exec(
        select(LiveSeat).where(LiveSeat.session_id == live.id, LiveSeat.seat_no == command.seat_no)
    ).first()
    if seat is None:
        raise LiveRefusal("unknown_seat", _("没有这个席位。"), "seat_no")
    seat.device_id = None
    db.add(seat)


def _take_to_air(db: Session, live: LiveSession, command: DirectorCommand) -> None:
    """One full-screen graphic at a time; taking another replaces it."""
    if command.graphic is None:
        raise LiveRefusal("graphic_required", _("请选择要上屏的图文。"), "graphic")
    graphic = Graphic(command.graphic)
    if graphic == Graphic.AUDIENCE:
        slot = _on_stage(db, live)
        if slot.segment not in MARKS_PUBLIC_FROM:
            raise LiveRefusal("not_revealed", _("亮分之后才能展示大众评审团结果。"))
    live.on_air = graphic
    db.add(live)


def _take_off_air(db: Session, live: LiveSession, _command: DirectorCommand) -> None:
    live.on_air = None
    db.add(live)


def _void_request(db: Session, live: LiveSession, command: DirectorCommand) -> None:
    from live.voiding import request_void

    request_void(db, live, command)


HANDLERS = {
    "select": _select,
    "next": _next,
    "prev": _prev,
    "reveal": _reveal,
    "timer_start": _timer,
    "timer_pause": _timer,
    "timer_extend": _timer,
    "release_seat": _release_seat,
    "void_request": _void_request,
    "take_to_air": _take_to_air,
    "take_off_air": _take_off_air,
}

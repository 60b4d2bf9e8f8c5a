"""Per-indicator sheets: when the session's rubric says so, each judge marks every indicator
(with its max and step) and the sheet's total is what scoring/ adds up; every line is a
`Score` (a rehearsal's: none), voided together, resent once."""

from __future__ import annotations

from decimal import Decimal

import factories as f
import pytest
from conftest import NS, command, snapshots, to_scoring
from sqlmodel import select

from evaluation.models import (
    Indicator,
    LiveSeat,
    LiveSession,
    LiveSheetLine,
    LiveSlot,
    LiveSubmission,
    Score,
    ScoreStatus,
    StageKind,
    TokenKind,
)
from evaluation.services.errors import ValidationFailed
from evaluation.services.live_sessions import (
    create_session,
    issue_device_token,
    issue_seat_tokens,
    rehearsal_for,
)
from scoring import PanelRule


def _indicator(db, campaign, code, name, points, parent=None, step=None, position=0):
    node = Indicator(campaign_id=campaign.id, code=code, name=name, max_points=Decimal(points),
                     step=None if step is None else Decimal(step), position=position,
                     parent_id=parent.id if parent else None)
    db.add(node)
    db.commit()
    return node


@pytest.fixture
def sheet_show(app, db):
    organization = f.org(db)
    campaign = f.campaign(db, organization)
    agencies = [f.agency(db, organization) for _ in range(2)]
    judges = [f.judge(db, campaign) for _ in range(4)]
    root = _indicator(db, campaign, "X", "现场评议", "100")
    lines = [
        _indicator(db, campaign, "X1", "履职汇报", "40", root, "0.5", 0),
        _indicator(db, campaign, "X2", "现场展示", "30", root, "1", 1),
        _indicator(db, campaign, "X3", "工作实效", "30", root, "0.5", 2),
    ]
    stage = f.stage(db, campaign, StageKind.ONSITE_REVIEW)
    live = create_session(db, stage, "按指标评分场", [a.id for a in agencies],
                          [j.id for j in judges], sheet_indicator_id=root.id)
    chief = db.exec(select(LiveSeat).where(LiveSeat.session_id == live.id,
                                           LiveSeat.seat_no == 1)).one()
    chief.is_chief = True
    db.add(chief)
    db.commit()
    slots = db.exec(select(LiveSlot).where(LiveSlot.session_id == live.id)
                    .order_by(LiveSlot.position)).all()
    return {"live": live, "stage": stage, "campaign": campaign, "root": root, "lines": lines,
            "slots": [s.id for s in slots], "tokens": issue_seat_tokens(db, live),
            "control": issue_device_token(db, live, TokenKind.CONTROL).token}


def _connect(app, live_id, token, device=None):
    from evaluation.extensions import socketio

    auth = {"session": live_id, "token": token}
    if device:
        auth["device"] = device
    return socketio.test_client(app, namespace=NS, auth=auth)


def _sheet(lines, *values):
    return {str(line.id): value for line, value in zip(lines, values, strict=True)}


def _submit(judge, slot_id, client_id, **sheet):
    return judge.emit("submit_mark", {"client_id": client_id, "slot_id": slot_id, **sheet},
                      namespace=NS, callback=True)


def _judge(app, s, seat):
    return _connect(app, s["live"].id, s["tokens"][seat].token, f"tablet-{seat}")


def test_the_tablet_gets_the_sheet_with_each_lines_max_and_step(app, sheet_show):
    judge = _judge(app, sheet_show, 2)
    sheet = snapshots(judge)[-1]["session"]["sheet"]
    assert [(line["name"], line["max"], line["step"]) for line in sheet] == [
        ("履职汇报", "40.00", "0.50"), ("现场展示", "30.00", "1.00"), ("工作实效", "30.00", "0.50")]


def test_each_line_is_a_score_and_the_panel_ranks_the_sums(app, db, sheet_show):
    s = sheet_show
    director = _connect(app, s["live"].id, s["control"])
    to_scoring(director)
    sheets = {1: ("38", "27", "28.5"), 2: ("35.5", "25", "26"), 3: ("39.5", "29", "29.5"),
              4: ("30", "20", "22")}
    for seat, values in sheets.items():
        ack = _submit(_judge(app, s, seat), s["slots"][0], f"sheet-seat-{seat}",
                      marks=_sheet(s["lines"], *values))
        assert ack["ok"], ack
    scores = db.exec(select(Score).where(Score.status == ScoreStatus.VALID)).all()
    assert len(scores) == 12 and {sc.indicator_id for sc in scores} == {
        line.id for line in s["lines"]}
    command(director, "next")
    command(director, "next")  # revealed
    result = snapshots(director)[-1]["current"]["result"]
    totals = [(seat, sum(map(Decimal, values))) for seat, values in sheets.items()]
    want = PanelRule(drop_high=1, drop_low=1, combine="mean", places=2,
                     fallback="use_all").apply(totals)
    assert result["value"] == f"{want.value:.2f}"
    assert result["dropped_high"] == [3] and result["dropped_low"] == [4]


@pytest.mark.parametrize("values, code, line_index", [
    (("41", "20", "20"), "invalid_mark", 0),     # above the line's max
    (("30", "20.5", "20"), "invalid_mark", 1),   # off the line's step of 1
])
def test_a_bad_line_is_refused_naming_it_and_nothing_is_stored(app, db, sheet_show, values,
                                                                code, line_index):
    s = sheet_show
    to_scoring(_connect(app, s["live"].id, s["control"]))
    ack = _submit(_judge(app, s, 2), s["slots"][0], "bad-sheet-01",
                  marks=_sheet(s["lines"], *values))
    line = s["lines"][line_index]
    assert ack["error"]["code"] == code and ack["error"]["field"] == f"marks.{line.id}"
    assert line.name in ack["error"]["message"]
    assert db.exec(select(LiveSubmission)).all() == [] and db.exec(select(Score)).all() == []


def test_missing_unknown_and_wrong_kind_of_sheet_are_refused(app, db, sheet_show):
    s = sheet_show
    to_scoring(_connect(app, s["live"].id, s["control"]))
    judge, slot = _judge(app, s, 2), s["slots"][0]
    first, second, third = s["lines"]
    missing = _submit(judge, slot, "sheet-missing", marks={str(first.id): "30",
                                                           str(second.id): "20"})
    assert missing["error"]["code"] == "missing_mark"
    assert missing["error"]["field"] == f"marks.{third.id}"
    unknown = _submit(judge, slot, "sheet-unknown", marks={**_sheet(s["lines"], "1", "1", "1"),
                                                           "999999": "1"})
    assert unknown["error"]["code"] == "unknown_indicator"
    total = _submit(judge, slot, "sheet-total", total="88")
    assert total["error"]["code"] == "marks_expected" and total["error"]["field"] == "marks"
    both = _submit(judge, slot, "sheet-both", total="88", marks=_sheet(s["lines"], "1", "1", "1"))
    assert both["error"]["code"] == "invalid_payload"
    floats = _submit(judge, slot, "sheet-float", marks={str(first.id): 30.5, str(second.id): "1",
                                                        str(third.id): "1"})
    assert floats["error"]["code"] == "invalid_payload"
    assert db.exec(select(LiveSubmission)).all() == []


def test_a_total_session_refuses_indicator_marks(show, db):
    to_scoring(show.director())
    judge = show.judge(1)
    ack = judge.emit("submit_mark", {"client_id": "marks-on-total", "slot_id": show.slot_ids[0],
                                     "marks": {"1": "30"}}, namespace=NS, callback=True)
    assert ack["error"]["code"] == "total_expected" and ack["error"]["field"] == "total"


def test_a_resent_sheet_is_stored_once_and_voided_whole(app, db, sheet_show):
    s = sheet_show
    director = _connect(app, s["live"].id, s["control"])
    to_scoring(director)
    judge = _judge(app, s, 2)
    marks = _sheet(s["lines"], "30", "20", "20")
    first = _submit(judge, s["slots"][0], "sheet-resent", marks=marks)
    again = _submit(judge, s["slots"][0], "sheet-resent", marks=marks)
    assert again["duplicate"] and again["submission_id"] == first["submission_id"]
    assert len(db.exec(select(Score)).all()) == 3
    assert command(director, "void_request", seat_no=2, reason="录入错误")["ok"]
    chief = _judge(app, s, 1)
    request_id = snapshots(chief)[-1]["void_requests"][0]["id"]
    assert chief.emit("void_decision", {"request_id": request_id, "approve": True},
                      namespace=NS, callback=True)["ok"]
    db.expire_all()
    assert {sc.status for sc in db.exec(select(Score)).all()} == {ScoreStatus.VOIDED}
    # The judge may send a new sheet now.
    assert _submit(judge, s["slots"][0], "sheet-after-void",
                   marks=_sheet(s["lines"], "31", "21", "21"))["ok"]


def test_a_rehearsal_sheet_stores_lines_but_no_scores(app, db, sheet_show):
    s = sheet_show
    rehearsal = rehearsal_for(db, db.get(LiveSession, s["live"].id))
    tokens = issue_seat_tokens(db, rehearsal)
    director = _connect(app, rehearsal.id, issue_device_token(db, rehearsal,
                                                               TokenKind.CONTROL).token)
    to_scoring(director)
    slot = db.exec(select(LiveSlot).where(LiveSlot.session_id == rehearsal.id,
                                          LiveSlot.position == 0)).one()
    judge = _connect(app, rehearsal.id, tokens[2].token, "tablet-2")
    assert _submit(judge, slot.id, "rehearsal-sheet", marks=_sheet(s["lines"], "30", "20",
                                                                   "20"))["ok"]
    lines = db.exec(select(LiveSheetLine)).all()
    assert len(lines) == 3 and all(line.score_id is None for line in lines)
    assert db.exec(select(Score)).all() == []
    progress = snapshots(director)[-1]["current"]
    assert progress["seats"][1]["mark"] == "70.00"  # the director sees the sheet's total


def test_a_sheet_must_be_a_consistent_indicator_of_the_campaign(db, sheet_show):
    s = sheet_show
    lopsided = _indicator(db, s["campaign"], "Y", "不平衡", "100")
    _indicator(db, s["campaign"], "Y1", "只有一项", "60", lopsided)
    with pytest.raises(ValidationFailed) as refused:
        create_session(db, s["stage"], "第二场", [], [], sheet_indicator_id=lopsided.id)
    assert "sheet_indicator_id" in refused.value.errors
    other = f.campaign(db, f.org(db))
    foreign = _indicator(db, other, "Z", "别家指标", "10")
    with pytest.raises(ValidationFailed) as refused:
        create_session(db, s["stage"], "第三场", [], [], sheet_indicator_id=foreign.id)
    assert "sheet_indicator_id" in refused.value.errors

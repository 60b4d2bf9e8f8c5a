"""A stateful hypothesis test over a judge's marks through the socket test client: submit,
resend (same client id), another sheet, void request with the chief's approval or rejection,
reveal. After every step the database must equal the test's own model of what was
acknowledged, one valid sheet per seat at most, and the audit chain and rows must verify.

Deterministic on purpose (it once was flaky: FlakyStrategyDefinition, and timeouts): every
rule draws the same values whatever the server answered (no `data.draw` behind a condition;
what a rule may do depends on `precondition`s over the model only, never the database), the
examples are derandomized (the same ones every run, no example database), the run is
bounded (examples x steps, no shrinking) to seconds, and commits skip the fsync. (The
timeouts were hypothesis shrinking a real failure, a mark of 99.99 that the session's 0.50
step refuses, through the socket server for minutes.)
"""

from __future__ import annotations

from decimal import Decimal

import factories as f
import pytest
from conftest import NS
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import event
from sqlmodel import Session, select

from evaluation.audit import verify_chain
from evaluation.audit_rows import row_problems
from evaluation.extensions import socketio
from evaluation.models import (
    LiveSeat,
    LiveSlot,
    LiveSubmission,
    Score,
    ScoreStatus,
    StageKind,
    TokenKind,
    VoidDecision,
    VoidRequest,
)
from evaluation.services.live_sessions import create_session, issue_device_token, issue_seat_tokens

SEATS = (1, 2, 3, 4)
CHIEF = 4
# Marks the session accepts (0 to 100 in steps of 0.50); the step rule has tests of its own.
totals = st.sampled_from(["60", "75.5", "88", "99.5", "100"])


class MarkLifecycle(RuleBasedStateMachine):
    def __init__(self, app):
        super().__init__()
        self.app, self.engine = app, app.extensions["pingyi_db"]
        # A session of its own, closed once the show is set up: one held open across the
        # steps would keep an old SQLite snapshot and then be refused a write.
        with Session(self.engine, expire_on_commit=False) as db:
            self._set_up(db)

    def _set_up(self, db):
        organization = f.org(db)
        campaign = f.campaign(db, organization)
        agency = f.agency(db, organization)
        judges = [f.judge(db, campaign) for _ in SEATS]
        stage = f.stage(db, campaign, StageKind.ONSITE_REVIEW)
        live = create_session(db, stage, "状态机", [agency.id], [j.id for j in judges])
        chief = db.exec(select(LiveSeat).where(LiveSeat.session_id == live.id,
                                               LiveSeat.seat_no == CHIEF)).one()
        chief.is_chief = True
        db.add(chief)
        db.commit()
        self.live_id = live.id
        self.slot_id = db.exec(select(LiveSlot.id).where(LiveSlot.session_id == live.id)).one()
        tokens = issue_seat_tokens(db, live)
        self.seat_ids = {no: db.exec(select(LiveSeat.id).where(
            LiveSeat.session_id == live.id, LiveSeat.seat_no == no)).one() for no in SEATS}
        self.judges = {no: self._connect(tokens[no].token) for no in SEATS}
        self.director = self._connect(issue_device_token(db, live, TokenKind.CONTROL).token)
        assert self._direct("select", position=0)["ok"]
        for _ in range(3):
            assert self._direct("next")["ok"]
        # The model: client_id -> [seat, submission_id, total, status]; pending voids by seat.
        self.sheets: dict[str, list] = {}
        self.pending: dict[int, int] = {}  # seat -> void request id
        self.closed = False  # scoring over: no more sheets
        self.revealed = False  # the result shown: no more voids

    def _connect(self, token):
        return socketio.test_client(self.app, namespace=NS,
                                    auth={"session": self.live_id, "token": token})

    def _direct(self, action, **fields):
        return self.director.emit("director", {"action": action, **fields}, namespace=NS,
                                  callback=True)

    def _valid_sheet(self, seat):
        return next((s for s in self.sheets.values()
                     if s[0] == seat and s[3] == ScoreStatus.VALID), None)

    @rule(seat=st.sampled_from(SEATS), owner=st.sampled_from(SEATS), sheet=st.integers(0, 2),
          total=totals)
    def submit(self, seat, owner, sheet, total):
        """A sheet (new, a resend of an earlier one, or another seat's client id)."""
        client_id = f"lifecycle-{self.live_id}-{owner}-{sheet}"
        ack = self.judges[seat].emit("submit_mark", {"client_id": client_id,
                                                     "slot_id": self.slot_id, "total": total},
                                     namespace=NS, callback=True)
        known = self.sheets.get(client_id)
        if known is not None and known[0] != seat:
            assert ack["error"]["code"] == "client_id_taken", ack
        elif known is not None:  # a resend: the first acknowledgement again
            assert ack["ok"] and ack["duplicate"] and ack["submission_id"] == known[1], ack
        elif self.closed or self._valid_sheet(seat) is not None:
            assert not ack["ok"], ack
        else:  # a new sheet (an id named after another seat is just a name until used)
            assert ack["ok"] and not ack["duplicate"], ack
            self.sheets[client_id] = [seat, ack["submission_id"], Decimal(total),
                                      ScoreStatus.VALID]

    @rule(seat=st.sampled_from(SEATS))
    def request_void(self, seat):
        ack = self._direct("void_request", seat_no=seat, reason="录入错误")
        if self.revealed or self._valid_sheet(seat) is None or seat in self.pending:
            assert not ack["ok"], ack
            return
        assert ack["ok"], ack
        with Session(self.engine) as db:
            self.pending[seat] = db.exec(
                select(VoidRequest.id).where(VoidRequest.session_id == self.live_id)
                .order_by(VoidRequest.id.desc())).first()

    @precondition(lambda self: self.pending)
    @rule(pick=st.integers(0, len(SEATS) - 1), approve=st.booleans())
    def decide_void(self, pick, approve):
        waiting = sorted(self.pending)
        seat = waiting[pick % len(waiting)]
        request_id = self.pending.pop(seat)
        ack = self.judges[CHIEF].emit("void_decision", {"request_id": request_id,
                                                        "approve": approve},
                                      namespace=NS, callback=True)
        assert ack["ok"], ack
        if approve:
            self._valid_sheet(seat)[3] = ScoreStatus.VOIDED

    @precondition(lambda self: not self.revealed)
    @rule()
    def reveal(self):
        if not self.closed:
            assert self._direct("next")["ok"]  # scoring -> closed
            self.closed = True
        ack = self._direct("reveal", reason="测试：未提交席位强制亮分")
        # A pending void request holds the reveal; otherwise the result is shown.
        assert ack["ok"] == (not self.pending), ack
        self.revealed = ack["ok"]

    @invariant()
    def database_equals_the_model(self):
        with Session(self.engine) as db:
            rows = db.exec(select(LiveSubmission).where(
                LiveSubmission.session_id == self.live_id)).all()
            stored = {row.client_id: row for row in rows}
            assert set(stored) == set(self.sheets)  # each acknowledged sheet exactly once
            for client_id, (seat, submission_id, total, status) in self.sheets.items():
                row = stored[client_id]
                assert (row.id, row.seat_id, row.status) == (
                    submission_id, self.seat_ids[seat], status)
                score = db.get(Score, row.score_id)
                assert score.value == total and score.status == status
            valid = [row.seat_id for row in rows if row.status == ScoreStatus.VALID]
            assert len(valid) == len(set(valid))
            pending = db.exec(select(VoidRequest.id).where(
                VoidRequest.session_id == self.live_id,
                VoidRequest.decision == VoidDecision.PENDING)).all()
            assert sorted(pending) == sorted(self.pending.values())
            assert verify_chain(db).ok
            assert row_problems(db) == []

    def teardown(self):
        for client in [*self.judges.values(), self.director]:
            if client.is_connected(NS):
                client.disconnect(namespace=NS)


def _no_fsync(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")


# SQLite only for now: on PostgreSQL the run stalled past pytest's 180 s timeout on the shared
# machine (cause not yet found; see the branch report). The lifecycle rules are the same.
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_mark_lifecycle_keeps_marks_and_audit_consistent(app, monkeypatch):
    monkeypatch.setattr("live.ratelimit.CAPACITY", 10**9)
    # What is checked is consistency, not durability: without an fsync per commit (a disk
    # shared with other test runs made one cost tens of ms) the run takes seconds, not minutes.
    engine = app.extensions["pingyi_db"]
    engine.dispose()
    event.listen(engine, "connect", _no_fsync)
    run_state_machine_as_test(
        lambda: MarkLifecycle(app),
        # No shrinking: on this slow a machine (every step goes through the socket server)
        # it ran past the timeout; a failing example of at most 10 steps reads well as it is.
        settings=settings(max_examples=8, stateful_step_count=10, deadline=None,
                          derandomize=True, database=None, print_blob=True,
                          phases=[Phase.explicit, Phase.generate],
                          suppress_health_check=list(HealthCheck)))

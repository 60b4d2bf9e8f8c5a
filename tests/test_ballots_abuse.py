"""Public vote abuse (issue 7 item 3): concurrent duplicates, layered rate limits, bursts.

The figures the issue asks for are printed (run with -s to see them).
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select
from test_ballots import cast, review  # noqa: F401  (the fixture)

from evaluation.models import Ballot, BallotStatus, Satisfaction
from evaluation.models.base import utcnow
from evaluation.services import ballots, vote_codes
from evaluation.services.ballot_results import counts_by_agency
from evaluation.services.ballot_screening import network_of

SIMULTANEOUS = 1000


def test_a_thousand_simultaneous_ballots_with_one_code_store_exactly_one(app, db, review):  # noqa: F811
    engine = app.extensions["pingyi_db"]
    stage, agency = review["stage"], review["agencies"][0]
    code = review["codes"][0]
    start = threading.Barrier(SIMULTANEOUS)
    outcomes: list[str] = []
    guard = threading.Lock()

    def voter():
        with app.test_request_context(), Session(engine, expire_on_commit=False) as session:
            start.wait()
            try:
                who = ballots.voter_by_code(session, stage, code)
                ballots.cast_ballot(
                    session,
                    stage,
                    agency.id,
                    who,
                    Satisfaction.SATISFIED,
                    ballots.Circumstances(fill_seconds=30),
                )
                outcome = "stored"
            except ballots.BallotRefused as refused:
                outcome = f"{refused.status}"
        with guard:
            outcomes.append(outcome)

    threads = [threading.Thread(target=voter) for _ in range(SIMULTANEOUS)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    elapsed = time.perf_counter() - began
    db.expire_all()
    rows = db.exec(select(func.count()).select_from(Ballot)).one()
    print(
        f"\n{SIMULTANEOUS} simultaneous ballots, one code, {engine.dialect.name}: "
        f"stored {rows}, refused {outcomes.count('409')} as duplicates, {elapsed:.1f} s"
    )
    assert len(outcomes) == SIMULTANEOUS
    assert outcomes.count("stored") == 1
    assert outcomes.count("409") == SIMULTANEOUS - 1
    assert rows == 1
    assert counts_by_agency(db, stage) == {agency.id: {"满意": 1}}


def test_the_database_itself_refuses_a_second_ballot(db, review):  # noqa: F811
    """Even code that skipped the service's check could not store a second ballot."""
    from sqlalchemy.exc import IntegrityError

    stage, agency = review["stage"], review["agencies"][0]
    for _ in range(2):
        db.add(
            Ballot(
                stage_id=stage.id,
                agency_id=agency.id,
                voter_key="code:1",
                level=Satisfaction.SATISFIED,
            )
        )
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def _guess() -> str:
    return vote_codes.printed(vote_codes.new_code())


@pytest.mark.parametrize(
    ("setting", "message", "same_code", "fresh_device"),
    [
        ("BALLOT_LIMIT_PER_IDENTITY", "这个投票码（或手机号）尝试次数过多", True, True),
        ("BALLOT_LIMIT_PER_DEVICE", "这台设备提交过于频繁", False, False),
        ("BALLOT_LIMIT_PER_IP", "来自您所在网络的提交过于频繁", False, True),
    ],
)
def test_each_rate_limit_layer_answers_429_with_its_message(
    app,
    web,
    db,
    review,  # noqa: F811
    setting,
    message,
    same_code,
    fresh_device,
):
    app.config[setting] = "3 per minute"
    code = review["codes"][0]
    answers = []
    for _ in range(4):
        if fresh_device:
            web.client.delete_cookie("pingyi_device")
        answers.append(cast(web, review, code if same_code else _guess()))
    assert [r.status_code for r in answers[:3]] != [429] * 3
    assert answers[3].status_code == 429
    assert message in answers[3].get_data(as_text=True)
    assert 1 <= int(answers[3].headers["Retry-After"]) <= 60
    assert db.exec(select(func.count()).select_from(Ballot)).one() <= 1
    print(f"\n{setting}=3/min: answers {[r.status_code for r in answers]}")


def test_a_burst_from_one_network_goes_to_quarantine(app, db, review):  # noqa: F811
    """Twenty ballots a minute from one /24 are allowed; the rest wait for an organizer."""
    stage, agency = review["stage"], review["agencies"][0]
    with app.test_request_context():
        codes = vote_codes.issue_batch(db, stage, 30, "organizer")
    now = utcnow()
    with app.test_request_context():
        for number, issued in enumerate(codes):
            who = ballots.voter_by_code(db, stage, issued.code)
            # People, not a metronome: uneven gaps, all within one minute, one office network.
            at = now + timedelta(seconds=number * 1.7 + (number % 3) * 0.4)
            ballots.cast_ballot(
                db,
                stage,
                agency.id,
                who,
                Satisfaction.SATISFIED,
                ballots.Circumstances(
                    network=network_of(f"203.0.113.{number}"), fill_seconds=20, now=at
                ),
            )
    statuses = db.exec(select(Ballot.status).order_by(Ballot.cast_at)).all()
    network = network_of("203.0.113.77")
    assert network == "203.0.113.0/24"
    print(
        f"\n30 ballots from {network} in 60 s: "
        f"{statuses.count(BallotStatus.VALID)} valid, "
        f"{statuses.count(BallotStatus.QUARANTINED)} quarantined"
    )
    assert statuses.count(BallotStatus.VALID) == 20
    assert statuses.count(BallotStatus.QUARANTINED) == 10


def test_machine_regular_timing_goes_to_quarantine(app, db, review):  # noqa: F811
    stage, agency = review["stage"], review["agencies"][1]
    with app.test_request_context():
        codes = vote_codes.issue_batch(db, stage, 6, "organizer")
        now = utcnow()
        for number, issued in enumerate(codes):
            who = ballots.voter_by_code(db, stage, issued.code)
            ballots.cast_ballot(
                db,
                stage,
                agency.id,
                who,
                Satisfaction.BASIC,
                ballots.Circumstances(
                    network="198.51.100.0/24",
                    fill_seconds=9,
                    now=now + timedelta(seconds=5 * number),
                ),
            )
    statuses = db.exec(select(Ballot.status).order_by(Ballot.cast_at)).all()
    assert statuses[:4] == [BallotStatus.VALID] * 4
    assert statuses[4:] == [BallotStatus.QUARANTINED] * 2
    reason = db.exec(select(Ballot.quarantine_reason).order_by(Ballot.cast_at.desc())).first()
    assert "间隔完全相同" in reason


def test_vote_code_entropy_makes_guessing_hopeless():
    assert vote_codes.ENTROPY_BITS > 59
    codes = {vote_codes.new_code() for _ in range(10_000)}
    assert len(codes) == 10_000
    assert all(len(code) == vote_codes.CODE_LENGTH for code in codes)
    assert not set("01ILO") & set("".join(codes))

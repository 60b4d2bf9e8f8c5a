"""1,000 random tamperings of audit rows and of mark rows, each detected by `audit verify`
(the chain for the log, the replay of score events for the marks)."""

from __future__ import annotations

import random
import sqlite3
from decimal import Decimal
from pathlib import Path

import factories as f
import pytest
from sqlalchemy import create_engine
from sqlalchemy.pool import StaticPool
from sqlmodel import Session, select

from evaluation.audit import acting_as, event_hash, install, verify_chain
from evaluation.audit_rows import row_problems
from evaluation.db import make_engine
from evaluation.migrate import upgrade
from evaluation.models import AuditEvent, Score, ScoreStatus, StageKind

TAMPERINGS = 1000


@pytest.fixture(scope="module")
def pristine(tmp_path_factory) -> Path:
    """A small campaign with judges' marks, one of them voided, all through the ORM."""
    path = tmp_path_factory.mktemp("tamper") / "pristine.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    install()
    with Session(engine) as db, acting_as("test:tamper"):
        organization = f.org(db)
        campaign = f.campaign(db, organization)
        agencies = [f.agency(db, organization) for _ in range(4)]
        judges = [f.judge(db, campaign) for _ in range(5)]
        stage = f.stage(db, campaign, StageKind.ONSITE_REVIEW)
        rng = random.Random(3)
        for agency in agencies:
            for judge in judges:
                db.add(Score(stage_id=stage.id, agency_id=agency.id, judge_id=judge.id,
                             value=Decimal(rng.randint(120, 198)) / 2,
                             client_request_id=f"seed-{agency.id}-{judge.id}"))
        db.commit()
        voided = db.exec(select(Score)).first()
        voided.status, voided.void_reason = ScoreStatus.VOIDED, "录入错误"
        voided.voided_by = "judge:1:seat1"
        db.add(voided)
        db.commit()
    engine.dispose()
    return path


def _verify(connection) -> bool:
    """True when the tampering was detected."""
    engine = create_engine("sqlite://", creator=lambda: connection, poolclass=StaticPool)
    with Session(engine) as db:
        report = verify_chain(db)
        return not report.ok or bool(row_problems(db))


def test_the_pristine_database_verifies(pristine):
    connection = sqlite3.connect(pristine)
    assert not _verify(connection)
    assert connection.execute("SELECT count(*) FROM score").fetchone()[0] == 20


# ---- the tamperings: each changes something, in SQL, behind the application's back ----

def _score_ids(db):
    return [row[0] for row in db.execute("SELECT id FROM score")]


def _change_score_value(db, rng):
    score_id = rng.choice(_score_ids(db))
    db.execute("UPDATE score SET value = value + ? WHERE id = ?",
               (rng.choice(["0.5", "1", "-2", "10"]), score_id))


def _change_score_column(db, rng):
    score_id = rng.choice(_score_ids(db))
    column, value = rng.choice([("status", "voided"), ("judge_id", None), ("agency_id", None),
                                ("void_reason", "改分"), ("client_request_id", "forged-id")])
    if value is None:  # another existing judge / agency
        table = column.removesuffix("_id")
        current = db.execute(f"SELECT {column} FROM score WHERE id = ?", (score_id,)).fetchone()
        value = db.execute(f"SELECT id FROM {table} WHERE id != ? LIMIT 1",
                           (current[0],)).fetchone()[0]
    if column == "status":
        db.execute("UPDATE score SET status = CASE status WHEN 'valid' THEN 'voided' ELSE "
                   "'valid' END, void_reason = 'x', voided_by = 'x' WHERE id = ?", (score_id,))
    else:
        db.execute(f"UPDATE score SET {column} = ? WHERE id = ?", (value, score_id))


def _delete_score(db, rng):
    db.execute("DELETE FROM score WHERE id = ?", (rng.choice(_score_ids(db)),))


def _insert_score(db, rng):
    db.execute("INSERT INTO score (stage_id, agency_id, judge_id, value, client_request_id, "
               "status, void_reason, voided_by, created_at) SELECT stage_id, agency_id, "
               "judge_id, ?, ?, 'voided', 'x', 'x', created_at FROM score WHERE id = ?",
               (str(rng.randint(0, 100)), f"forged-{rng.random()}", rng.choice(_score_ids(db))))


def _audit_seqs(db):
    return [row[0] for row in db.execute("SELECT seq FROM audit_event")]


def _change_audit_row(db, rng):
    seq = rng.choice(_audit_seqs(db))
    column = rng.choice(["payload", "actor", "action", "object_id", "at"])
    new = {"payload": "{}", "actor": "someone-else", "action": "forged", "object_id": 999999,
           "at": "2020-01-01T00:00:00+00:00"}[column]
    db.execute(f"UPDATE audit_event SET {column} = ? WHERE seq = ?", (new, seq))


def _delete_audit_row(db, rng):
    db.execute("DELETE FROM audit_event WHERE seq = ?", (rng.choice(_audit_seqs(db)),))


def _reorder_audit_rows(db, rng):
    first = rng.choice(_audit_seqs(db)[:-1])
    for old, new in ((first, -1), (first + 1, first), (-1, first + 1)):
        db.execute("UPDATE audit_event SET seq = ? WHERE seq = ?", (new, old))


def _insert_audit_row(db, rng):
    """A forged event slipped into the middle, later events renumbered, its own hash right."""
    at = rng.choice(_audit_seqs(db)[1:])
    db.execute("UPDATE audit_event SET seq = -seq WHERE seq >= ?", (at,))
    db.execute("UPDATE audit_event SET seq = -seq + 1 WHERE seq < 0")
    prev = db.execute("SELECT hash FROM audit_event WHERE seq = ?", (at - 1,)).fetchone()[0]
    fields = {"seq": at, "at": "2026-01-01T00:00:00+00:00", "actor": "forger",
              "action": "update", "object_type": "score", "object_id": 1, "payload": "{}",
              "prev_hash": prev}
    db.execute("INSERT INTO audit_event (seq, at, actor, action, object_type, object_id, "
               "payload, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?)",
               (*fields.values(), event_hash(fields)))


def _cover_up(db, rng):
    """Change a mark AND its create event's payload to match (and re-hash that event)."""
    score_id = rng.choice(_score_ids(db))
    row = db.execute("SELECT seq, at, actor, action, object_type, object_id, payload, "
                     "prev_hash FROM audit_event WHERE object_type = 'score' AND "
                     "action = 'create' AND object_id = ?", (score_id,)).fetchone()
    keys = ("seq", "at", "actor", "action", "object_type", "object_id", "payload", "prev_hash")
    fields = dict(zip(keys, row, strict=True))
    fields["payload"] = fields["payload"].replace('"value":"', '"value":"1', 1)
    db.execute("UPDATE score SET value = 100 WHERE id = ?", (score_id,))
    db.execute("UPDATE audit_event SET payload = ?, hash = ? WHERE seq = ?",
               (fields["payload"], event_hash(fields), fields["seq"]))


TAMPERS = [_change_score_value, _change_score_column, _delete_score, _insert_score,
           _change_audit_row, _delete_audit_row, _reorder_audit_rows, _insert_audit_row,
           _cover_up]


def test_a_thousand_random_tamperings_are_all_detected(pristine):
    rng = random.Random(20261128)
    source = sqlite3.connect(pristine)
    missed, counts, blocked = [], dict.fromkeys((t.__name__ for t in TAMPERS), 0), 0
    for attempt in range(TAMPERINGS):
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        source.backup(copy)
        while True:
            tamper = rng.choice(TAMPERS)
            before = copy.total_changes
            try:
                tamper(copy, rng)
                break
            except sqlite3.IntegrityError:  # the database itself refused it: try another
                copy.rollback()
                blocked += 1
        copy.commit()
        assert copy.total_changes > before, tamper.__name__  # it really changed something
        counts[tamper.__name__] += 1
        if not _verify(copy):
            missed.append((attempt, tamper.__name__))
        copy.close()
    assert all(counts.values()), counts  # every kind of tampering was tried
    assert missed == [], f"undetected: {missed[:10]} of {TAMPERINGS}"
    print(f"{TAMPERINGS} tamperings, all detected: {counts}; {blocked} more refused by the "
          "database's own constraints")


def test_the_cli_names_a_tampered_mark(app, db):
    organization = f.org(db)
    campaign = f.campaign(db, organization)
    stage = f.stage(db, campaign, StageKind.ONSITE_REVIEW)
    score = Score(stage_id=stage.id, agency_id=f.agency(db, organization).id,
                  judge_id=f.judge(db, campaign).id, value=Decimal("88.5"),
                  client_request_id="cli-tamper-1")
    db.add(score)
    db.commit()
    assert app.test_cli_runner().invoke(args=["audit", "verify"]).exit_code == 0
    from sqlalchemy import text

    db.execute(text("UPDATE score SET value = 98.5 WHERE id = :id"), {"id": score.id})
    db.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"TAMPERED score {score.id}: value is '98.50', the audit log says '88.5'" in (
        result.output)
    assert db.exec(select(AuditEvent)).first() is not None

"""The audit chain: written in the same transaction as the change it records.

A SQLAlchemy `after_flush` hook turns every insert, update and delete of an audited
table into an `audit_event` row, so no service can forget to log. Each event's hash is
SHA-256 over a canonical JSON form of the event including the previous event's hash;
changing, deleting or reordering rows breaks the chain at the first tampered event.
"""

from __future__ import annotations

import enum
import hashlib
import json
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import event, insert, inspect, select, text
from sqlalchemy.orm import Session
from sqlmodel import SQLModel

from evaluation.models import (
    AccessToken,
    Agency,
    Appeal,
    AudienceVote,
    AuditEvent,
    Campaign,
    CampaignAgency,
    CampaignNotice,
    CampaignPolicy,
    ConflictDeclaration,
    EvidenceFile,
    Indicator,
    InspectionAssignment,
    InspectionLine,
    InspectionPhoto,
    InspectionSheet,
    Invitation,
    Judge,
    LiveSeat,
    LiveSession,
    LiveSlot,
    LiveSubmission,
    NoticeAttachment,
    NoticeReceipt,
    Organization,
    PanelMember,
    PeerAssignment,
    PeerReviewSetup,
    ResultsVersion,
    ReviewComment,
    Score,
    SelfScore,
    Stage,
    StoredFile,
    Submission,
    SubmissionVersion,
    User,
    VoidRequest,
)
from evaluation.models.ballots import Ballot, BallotPoint, BallotSettings
from evaluation.models.base import utcnow
from evaluation.models.publicity import PublicityComment, PublicityOutlet, PublicityReply
from evaluation.raw_sql import Prepared

GENESIS_HASH = "0" * 64
AUDITED = (
    Organization,
    User,
    Agency,
    Campaign,
    CampaignAgency,
    Stage,
    Indicator,
    Judge,
    InspectionAssignment,
    Score,
    LiveSession,
    LiveSlot,
    LiveSeat,
    LiveSubmission,
    AccessToken,
    VoidRequest,
    PanelMember,
    AudienceVote,
    CampaignNotice,
    NoticeAttachment,
    NoticeReceipt,
    Invitation,
    StoredFile,
    Submission,
    SelfScore,
    EvidenceFile,
    SubmissionVersion,
    ReviewComment,
    ConflictDeclaration,
    # 社会评议: each ballot, its points and every quarantine decision; vote codes are
    # recorded per batch (one event, see services/vote_codes.py), not per code.
    BallotSettings,
    Ballot,
    BallotPoint,
    # 媒体公示: comments (and each moderation), replies, outlets.
    PublicityComment,
    PublicityReply,
    PublicityOutlet,
    CampaignPolicy,
    ResultsVersion,
    Appeal,
    # 互评: the setup, each assignment and every draft save / submission of a sheet.
    PeerReviewSetup,
    PeerAssignment,
    # 实地考察: each sheet (status changes, confirmations, returns), its lines and photos.
    InspectionSheet,
    InspectionLine,
    InspectionPhoto,
)
# Bookkeeping that changes with every event; an update of these alone is not worth a record.
QUIET = {"revision"}
# Never copied into the log: a hash of a password hash is still a secret's fingerprint.
REDACTED = {
    "password_hash",
    "token_digest",
    "short_code_digest",
    "code_digest",
    "totp_secret",
}
# Any constant: serializes appends on PostgreSQL so two writers cannot share a head.
_PG_AUDIT_LOCK = 0x70696E6779

_actor: ContextVar[str] = ContextVar("pingyi_audit_actor", default="system")


def current_actor() -> str:
    return _actor.get()


@contextmanager
def acting_as(actor: str):
    token = _actor.set(actor)
    try:
        yield
    finally:
        _actor.reset(token)


def set_actor(actor: str) -> None:
    """For request scope: the request's context is discarded afterwards."""
    _actor.set(actor)


def _plain(value):
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):  # a date: e.g. when an outlet published
        return value.isoformat()
    return value


# One encoder for every event: json.dumps with these options makes a new one per call (a
# tenth of the event's encoding, two encodings per public ballot). The same output: encode()
# keeps no state between calls.
_CANONICAL = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain
)


def canonical_json(data) -> str:
    return _CANONICAL.encode(data)


def event_hash(fields: dict) -> str:
    body = {
        key: _plain(fields[key])
        for key in (
            "seq",
            "at",
            "actor",
            "action",
            "object_type",
            "object_id",
            "payload",
            "prev_hash",
        )
    }
    return hashlib.sha256(canonical_json(body).encode("utf-8")).hexdigest()


def _columns(obj) -> dict:
    mapper = inspect(obj).mapper
    return {
        attr.key: ("<redacted>" if attr.key in REDACTED else _plain(getattr(obj, attr.key)))
        for attr in mapper.column_attrs
    }


def _changes(obj) -> dict:
    changed = {}
    for attr in inspect(obj).attrs:
        history = attr.history
        if not history.has_changes() or attr.key in QUIET:
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if attr.key in REDACTED:
            changed[attr.key] = "<changed>"
        else:
            changed[attr.key] = [_plain(old), _plain(new)]
    return changed


def _pending_events(session: Session) -> list[tuple[str, SQLModel, dict]]:
    found = []
    for obj in session.new:
        if isinstance(obj, AUDITED):
            found.append(("create", obj, _columns(obj)))
    for obj in session.dirty:
        if isinstance(obj, AUDITED) and session.is_modified(obj, include_collections=False):
            changes = _changes(obj)
            if changes:
                found.append(("update", obj, changes))
    for obj in session.deleted:
        if isinstance(obj, AUDITED):
            found.append(("delete", obj, _columns(obj)))
    return found


# Built once: constructing these per event cost more CPU than running them (a public ballot
# appends one event; bench/ballots_bench.py).
_HEAD = select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
_PG_LOCK = text("SELECT pg_advisory_xact_lock(:key)")
_INSERT = insert(AuditEvent.__table__)
# A group commit's events, on the driver on SQLite (evaluation/raw_sql.py): SQLAlchemy's
# executemany around them cost more than the INSERTs (bench/ballots_cpu.py, 2026-11-28).
_EVENT_COLUMNS = (
    "seq", "at", "actor", "action", "object_type", "object_id", "payload", "prev_hash", "hash"
)
_INSERT_BATCH = Prepared(insert(AuditEvent.__table__), _EVENT_COLUMNS)
# The head, read once per group commit (once per public ballot at 1,000 ballots/s: batches of
# one or two): on the driver on SQLite, 1 us instead of 9 through Connection.execute.
_HEAD_READ = Prepared(_HEAD)


def _lock_and_read_head(connection) -> tuple[int, str]:
    if connection.dialect.name == "postgresql":
        connection.execute(_PG_LOCK, {"key": _PG_AUDIT_LOCK})
    row = _HEAD_READ.first(connection, {})
    return (row.seq, row.hash) if row else (0, GENESIS_HASH)


# ---- a group commit's events: the head read once, the rows inserted once -----------------
# The group commit (evaluation/db_writes.py) writes many requests' changes in one transaction
# under SQLite's write lock (BEGIN IMMEDIATE): no other writer can move the head meanwhile, so
# it is read once for the whole batch and kept here, and the events are inserted together
# just before the COMMIT. A write undone by its savepoint takes its events back with it
# (`batch_undo`), so the chain holds exactly the committed writes' events, in order.
_BATCH_KEY = "pingyi_audit_batch"


class _AuditBatch:
    __slots__ = ("head", "rows")

    def __init__(self) -> None:
        self.head: tuple[int, str] | None = None  # read at the batch's first event
        self.rows: list[dict] = []


def begin_batch(connection) -> None:
    """From now until `end_batch`, events appended through `connection` are held back; the
    caller must hold the database's write lock for the whole transaction."""
    connection.info[_BATCH_KEY] = _AuditBatch()


def batch_mark(connection) -> tuple:
    batch = connection.info[_BATCH_KEY]
    return batch.head, len(batch.rows)


def batch_undo(connection, mark: tuple) -> None:
    """The write since `mark` was rolled back (its savepoint): so are its events."""
    batch = connection.info[_BATCH_KEY]
    batch.head = mark[0]
    del batch.rows[mark[1]:]


def flush_batch(connection) -> None:
    """Insert the held events, before the COMMIT (the same transaction as the changes)."""
    batch = connection.info[_BATCH_KEY]
    if batch.rows:
        _INSERT_BATCH.execute_many(connection, batch.rows)
        batch.rows = []


def end_batch(connection) -> None:
    # connection.info outlives the checkout (it is the pooled connection's): always cleared.
    connection.info.pop(_BATCH_KEY, None)


def append_events(connection, events: list[tuple[str, str, int | None, dict]]) -> list[dict]:
    """Append (action, object_type, object_id, payload) events through `connection`, inside
    the caller's transaction: the head is read (and locked) once, the rows inserted at once
    (in a group commit: the head read once per batch, the rows inserted at its end)."""
    batch = connection.info.get(_BATCH_KEY)
    if batch is not None and batch.head is not None:
        seq, prev_hash = batch.head
    else:
        seq, prev_hash = _lock_and_read_head(connection)
    rows = []
    for action, object_type, object_id, payload in events:
        seq += 1
        fields = {
            "seq": seq,
            "at": utcnow(),
            "actor": current_actor(),
            "action": action,
            "object_type": object_type,
            "object_id": object_id,
            "payload": canonical_json(payload),
            "prev_hash": prev_hash,
        }
        fields["hash"] = prev_hash = event_hash(fields)
        rows.append(fields)
    if batch is not None:
        batch.head = (seq, prev_hash)
        batch.rows.extend(rows)
    else:
        connection.execute(_INSERT, rows)
    return rows


def append_event(
    connection, *, action: str, object_type: str, object_id: int | None, payload: dict
) -> dict:
    """Append one event through `connection` (inside the caller's transaction)."""
    return append_events(connection, [(action, object_type, object_id, payload)])[0]


def record(
    session: Session, action: str, object_type: str, object_id: int | None, payload: dict
) -> dict:
    """An event that is not a row change (a login, a publication, a draw)."""
    row = append_event(
        session.connection(),
        action=action,
        object_type=object_type,
        object_id=object_id,
        payload=payload,
    )
    _note_milestones(session, [(action, object_type, object_id, payload)], [row])
    return row


def _after_flush(session: Session, _context) -> None:
    events = [
        (action, obj.__tablename__, getattr(obj, "id", None), payload)
        for action, obj, payload in _pending_events(session)
    ]
    if events:
        rows = append_events(session.connection(), events)
        _note_milestones(session, events, rows)


# ---- the chain head, kept outside the database (ASVS V16.4.3) --------------------------------
# Whoever can write the database can delete the newest events together with the rows they
# record, and the shortened chain still verifies. So at each milestone (a stage opens or
# closes, an agency's turn on the live show ends, results are certified or published) the
# head (seq:hash) is published where the database cannot reach it: the `pingyi.security` log
# (shipped off the box by the deployment's log forwarding) and, when set, AUDIT_HEAD_SINK.
# `pingyi audit verify --head SEQ:HASH` then proves the chain still holds that event.
_HEAD_KEY = "pingyi_audit_head_to_publish"
_MILESTONE_ACTIONS = {"results.certify", "results.publish"}


def _milestone(action: str, object_type: str, payload: dict) -> str | None:
    if action in _MILESTONE_ACTIONS:
        return action
    if action == "update" and object_type == "stage" and "status" in payload:
        return f"stage_{payload['status'][1]}"
    if action == "update" and object_type == "live_slot":
        segment = payload.get("segment")
        if isinstance(segment, list) and segment[1] == "done":
            return "live_slot_done"
    return None


def _note_milestones(session: Session, events: list, rows: list[dict]) -> None:
    reasons = [_milestone(action, kind, payload) for action, kind, _id, payload in events]
    reasons = [reason for reason in reasons if reason]
    if reasons:
        # The last event appended so far in this transaction: the head once it commits.
        session.info[_HEAD_KEY] = (rows[-1]["seq"], rows[-1]["hash"], reasons[-1])
    elif _HEAD_KEY in session.info:  # later events of the same transaction move the head on
        seq, hash_, reason = session.info[_HEAD_KEY]
        session.info[_HEAD_KEY] = (rows[-1]["seq"], rows[-1]["hash"], reason)


def _after_commit(session: Session) -> None:
    noted = session.info.pop(_HEAD_KEY, None)
    if noted is not None:
        publish_head(*noted)


def _after_rollback(session: Session) -> None:
    session.info.pop(_HEAD_KEY, None)


def publish_head(seq: int, hash_: str, reason: str) -> None:
    """Send the head out: the security log always, and AUDIT_HEAD_SINK when configured (a
    file path, appended to, e.g. on another machine's mount; or "module:function")."""
    import importlib

    from flask import current_app, has_app_context

    from evaluation.security_log import security_event

    security_event("audit_head", seq=seq, hash=hash_, reason=reason)
    sink = current_app.config.get("AUDIT_HEAD_SINK") if has_app_context() else None
    if not sink:
        return
    line = f"{utcnow().isoformat()} {seq}:{hash_} {reason}\n"
    try:
        if ":" in sink and not sink.startswith("/"):
            module_name, _colon, name = sink.partition(":")
            getattr(importlib.import_module(module_name), name)(seq, hash_, reason)
        else:
            with open(sink, "a", encoding="utf-8") as out:
                out.write(line)
    except Exception:  # noqa: BLE001 - the change is committed; a sink failure must be seen
        import logging

        logging.getLogger("pingyi.security").exception("audit head sink %s failed", sink)


def install() -> None:
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "after_commit", _after_commit)
        event.listen(Session, "after_rollback", _after_rollback)


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    count: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""


def parse_head(text_: str) -> tuple[int, str]:
    """"SEQ:HASH" as published (ValueError otherwise)."""
    seq, colon, hash_ = text_.strip().partition(":")
    if not colon or not seq.isdigit() or len(hash_) != 64 or not all(
        ch in "0123456789abcdef" for ch in hash_
    ):
        raise ValueError("the head must be SEQ:HASH, e.g. 1234:" + "0" * 64)
    return int(seq), hash_


def verify_chain(session: Session, head: tuple[int, str] | None = None) -> ChainReport:
    """Walk the stored rows (not ORM objects, which a session may hold stale) in order.

    With `head` (a published seq and hash), the chain must also still hold that event:
    the newest events deleted together with their rows leave a chain that verifies alone."""
    expected_seq, prev_hash, count = 1, GENESIS_HASH, 0
    table = AuditEvent.__table__
    rows = session.execute(select(table).order_by(table.c.seq).execution_options(yield_per=1000))
    for row in rows.mappings():
        problem = _row_problem(row, expected_seq, prev_hash)
        if problem:
            return ChainReport(False, count, prev_hash, broken_seq=expected_seq, reason=problem)
        if head is not None and row["seq"] == head[0] and row["hash"] != head[1]:
            return ChainReport(False, count, prev_hash, broken_seq=head[0],
                               reason="event differs from the published head (chain rewritten)")
        expected_seq, prev_hash, count = row["seq"] + 1, row["hash"], count + 1
    if head is not None and count < head[0]:
        return ChainReport(False, count, prev_hash, broken_seq=count + 1,
                           reason=f"the chain ends at {count}, before the published head "
                                  f"{head[0]} (the newest events were removed)")
    return ChainReport(True, count, prev_hash)


def _row_problem(row, expected_seq: int, prev_hash: str) -> str:
    if row["seq"] != expected_seq:
        return f"sequence jumps from {expected_seq - 1} to {row['seq']} (a row was removed)"
    if row["prev_hash"] != prev_hash:
        return "previous-hash link does not match the event before (rows removed or reordered)"
    if event_hash(row) != row["hash"]:
        return "content does not match its hash (the row was changed)"
    return ""

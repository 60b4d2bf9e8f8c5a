"""Rows against their audit trail: every mark (`score`) and every campaign, stage, agency,
indicator and judge must be exactly what the audit events say it is. The chain
(`audit.verify_chain`) proves the log was not altered; this proves the rows were not altered
behind the log's back (an UPDATE, DELETE or INSERT in SQL). It also catches what the chain
alone cannot: the newest events cut off the end of the log (their rows no longer match).

Each row's expected state is replayed from its events (create: every column; update: the
new values); the table is then compared row by row.
"""

from __future__ import annotations

import json
import re
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlmodel import Session

from evaluation.audit import QUIET, REDACTED, _plain
from evaluation.models import Agency, AuditEvent, Campaign, Indicator, Judge, Score, Stage
from evaluation.models.ballots import Ballot, BallotPoint

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
# The raw marks and the campaign records issue 2 audits, and the public's ballots (社会评议:
# cast through Core with their events written beside them, decided through the ORM). None
# of them is ever written otherwise, nor removed by a cascade (campaigns are never deleted).
CHECKED = (Score, Campaign, Stage, Agency, Indicator, Judge, Ballot, BallotPoint)


@dataclass(frozen=True)
class RowProblem:
    table: str
    row_id: int
    problem: str

    def __str__(self) -> str:
        return f"{self.table} {self.row_id}: {self.problem}"


def expected_rows(session: Session, table: str) -> dict[int, dict]:
    """Each row's columns as the audit events of `table` leave them."""
    rows: dict[int, dict] = {}
    events = session.execute(
        select(AuditEvent.action, AuditEvent.object_id, AuditEvent.payload)
        .where(AuditEvent.object_type == table)
        .order_by(AuditEvent.seq)
    )
    for action, object_id, payload in events:
        data = json.loads(payload)
        if action == "create":
            rows[object_id] = data
        elif action == "update" and object_id in rows:
            rows[object_id].update({key: change[1] for key, change in data.items()
                                    if isinstance(change, list)})
        elif action == "delete":
            rows.pop(object_id, None)
    return rows


def row_problems(session: Session) -> list[RowProblem]:
    problems = []
    for model in CHECKED:
        table = model.__tablename__
        expected = expected_rows(session, table)
        actual = {
            row["id"]: {key: _plain(value) for key, value in row.items()}
            for row in session.execute(select(model.__table__)).mappings()
        }
        for row_id in sorted(actual.keys() - expected.keys()):
            problems.append(
                RowProblem(table, row_id, "in the table, but no audit event created it"))
        for row_id in sorted(expected.keys() - actual.keys()):
            problems.append(RowProblem(table, row_id, "created in the audit log, but missing"))
        for row_id in sorted(actual.keys() & expected.keys()):
            for column, value in sorted(actual[row_id].items()):
                if column in QUIET or column in REDACTED:
                    continue
                logged = expected[row_id].get(column)
                if _same(value, logged):
                    continue
                problems.append(RowProblem(
                    table, row_id, f"{column} is {value!r}, the audit log says {logged!r}"))
    return problems


def _same(stored, logged) -> bool:
    if stored == logged:
        return True
    # Times: the log keeps the offset the change was made in (+08:00), the database UTC.
    if _TIMESTAMP.match(str(stored)) and _TIMESTAMP.match(str(logged)):
        with suppress(ValueError):
            return datetime.fromisoformat(stored) == datetime.fromisoformat(logged)
    # Decimals: "90.00" stored vs "90.0" logged are the same number.
    try:
        return stored is not None and logged is not None and Decimal(stored) == Decimal(logged)
    except (ArithmeticError, TypeError, ValueError):
        return False

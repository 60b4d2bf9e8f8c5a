"""The ballot's statements run on the driver (evaluation/raw_sql.py): stored and read back
exactly as SQLAlchemy stores and reads them, and a duplicate still meets the constraint."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import insert, text
from sqlmodel import SQLModel

from evaluation.db import make_engine
from evaluation.models import Ballot, BallotStatus, Satisfaction
from evaluation.models.base import utcnow
from evaluation.raw_sql import INTEGRITY_ERRORS
from evaluation.services import ballots


def _values(key: str, now) -> dict:
    return {
        "stage_id": 1, "agency_id": 2, "voter_key": key, "vote_code_id": None,
        "level": Satisfaction.SATISFIED,
        "status": BallotStatus.QUARANTINED, "network": "10.1.2.0/24", "device": "d",
        "fill_ms": 1234, "cast_at": now, "quarantine_reason": "[\"x\"]", "decided_by": None,
        "decided_at": None, "decision_reason": "",
    }


def test_prepared_statements_store_and_read_as_sqlalchemy_does(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'raw.sqlite3'}")
    SQLModel.metadata.create_all(engine)
    now = utcnow()
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        raw_id = ballots._INSERT_BALLOT.scalar_one(connection, _values("raw", now))
        core_id = connection.execute(
            insert(Ballot.__table__).returning(Ballot.__table__.c.id), _values("core", now)
        ).scalar_one()
        stored = connection.execute(
            text("SELECT * FROM public_ballot WHERE id IN (:a, :b) ORDER BY id"),
            {"a": raw_id, "b": core_id},
        ).all()
        columns = connection.execute(text("SELECT * FROM public_ballot LIMIT 0")).keys()
        raw_row, core_row = (dict(zip(columns, row, strict=True)) for row in stored)
        for row in (raw_row, core_row):
            row.pop("id"), row.pop("voter_key")
        assert raw_row == core_row  # the same text for the enums and the date
        params = {"stage_id": 1, "network": "10.1.2.0/24",
                  "since": now - timedelta(seconds=60), "now": now}
        assert ballots._RECENT.scalars(connection, params) == [now, now]
        with pytest.raises(INTEGRITY_ERRORS):  # UNIQUE (stage, agency, voter_key)
            ballots._INSERT_BALLOT.scalar_one(connection, _values("raw", now))
    engine.dispose()

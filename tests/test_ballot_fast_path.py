"""The public ballot's lean POST path: one query for what the URL names, Core writes with the
audit events written beside them, and the settings read every time they are used."""

from __future__ import annotations

import json

import factories as f
import pytest
from sqlalchemy import text
from sqlmodel import select
from test_ballots import _backdate, ballot_url, cast, review, shown_token  # noqa: F401
from webclient import csrf_token

from evaluation.audit import _columns, verify_chain
from evaluation.audit_rows import row_problems
from evaluation.models import (
    AuditEvent,
    Ballot,
    BallotSettings,
    BallotStatus,
    CampaignStatus,
)


def _events(db, table: str) -> list[AuditEvent]:
    return db.exec(
        select(AuditEvent).where(AuditEvent.object_type == table).order_by(AuditEvent.seq)
    ).all()


def test_a_cast_ballot_is_audited_as_the_orm_would_record_it(web, db, review):  # noqa: F811
    assert cast(web, review, review["codes"][0]).status_code == 303
    ballot = db.exec(select(Ballot)).one()
    (event,) = _events(db, "public_ballot")
    assert (event.action, event.object_id) == ("create", ballot.id)
    # Every column, as the after_flush hook records a created row (the values read back).
    assert json.loads(event.payload) == json.loads(json.dumps(_columns(ballot)))
    assert event.actor == "anonymous"
    assert verify_chain(db).ok


@pytest.mark.parametrize(
    "tampering",
    [
        "UPDATE public_ballot SET level = 'dissatisfied'"
        " WHERE id = (SELECT min(id) FROM public_ballot)",
        "UPDATE public_ballot SET status = 'valid', quarantine_reason = ''",
        "DELETE FROM public_ballot WHERE id = (SELECT max(id) FROM public_ballot)",
        "INSERT INTO public_ballot (stage_id, agency_id, voter_key, level, status, network,"
        " device, cast_at, quarantine_reason, decision_reason) SELECT stage_id, agency_id,"
        " 'code:forged', level, status, network, device, cast_at, '', '' FROM public_ballot"
        " LIMIT 1",
    ],
)
def test_a_ballot_changed_behind_the_log_is_found_by_audit_verify(web, db, review, tampering):  # noqa: F811
    for code in review["codes"][:2]:
        assert cast(web, review, code).status_code == 303
    assert cast(web, review, review["codes"][2], wait=False).status_code == 303  # quarantined
    assert verify_chain(db).ok and row_problems(db) == []  # the hand-written events match
    db.exec(text(tampering))
    db.commit()
    assert verify_chain(db).ok  # the log itself is intact: the rows no longer match it
    assert {p.table for p in row_problems(db)} == {"public_ballot"}


def test_a_settings_change_applies_to_the_very_next_ballot(web, db, review):  # noqa: F811
    assert cast(web, review, review["codes"][0]).status_code == 303
    settings = db.exec(
        select(BallotSettings).where(BallotSettings.stage_id == review["stage"].id)
    ).one()
    settings.min_fill_seconds = 600  # nobody fills the form that slowly: quarantine
    db.add(settings)
    db.commit()
    assert cast(web, review, review["codes"][1]).status_code == 303
    first, second = db.exec(select(Ballot).order_by(Ballot.id)).all()
    assert (first.status, second.status) == (BallotStatus.VALID, BallotStatus.QUARANTINED)


def test_a_ballot_for_a_campaign_that_is_not_public_is_404(web, db, review):  # noqa: F811
    url = ballot_url(review)
    form = {"code": review["codes"][0], "level": "satisfied", "shown": ""}
    campaign = review["campaign"]
    campaign.status = CampaignStatus.DRAFT
    db.add(campaign)
    db.commit()
    assert web.post(url, form).status_code == 404
    missing = url.replace(f"/review/{campaign.id}/", "/review/999999/")
    assert web.post(missing, form).status_code == 404
    assert db.exec(select(Ballot)).all() == []


def test_a_ballot_for_a_campaign_without_a_public_review_is_404(web, db):
    org = f.org(db, "丁市普法办")
    campaign = f.campaign(db, org)
    agency = f.agency(db, org, "市民政局")
    response = web.post(
        f"/review/{campaign.id}/agencies/{agency.id}", {"code": "ABCD-EFGH", "level": "satisfied"}
    )
    assert response.status_code == 404


def test_the_thanks_come_from_the_redirect_not_a_resigned_session(web, db, review):  # noqa: F811
    response = cast(web, review, review["codes"][0])
    assert response.status_code == 303
    # No flashed message: the ballot's answer does not re-sign the session cookie.
    assert not any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))
    page = web.client.get(response.location).get_data(as_text=True)
    assert page.count("已收到您对“市司法局”的评议") == 1
    other = f"/review/{review['campaign'].id}?voted=999999"
    assert "已收到您对" not in web.client.get(other).get_data(as_text=True)


def test_an_anonymous_ballot_with_a_session_leaves_the_cookie_alone(web, db, review):  # noqa: F811
    url = ballot_url(review)
    shown = _backdate(web, shown_token(web.client, url))
    token = csrf_token(web.client)
    # As a voter's cookie is when the ballot page stored its CSRF token: nothing else in it.
    with web.client.session_transaction() as stored_session:
        stored_session.pop("_fresh", None)
        assert list(stored_session) == ["csrf_token"]
    form = {"code": review["codes"][0], "level": "satisfied", "shown": shown, "csrf_token": token}
    response = web.client.post(url, data=form)
    assert response.status_code == 303
    # Nobody is logged in: the user is not loaded, so Flask-Login's session protection does
    # not mark the session `_fresh=False` and re-sign it on every ballot.
    assert not any(c.startswith("session=") for c in response.headers.getlist("Set-Cookie"))
    assert db.exec(select(Ballot)).one().status == BallotStatus.VALID


def test_the_ballot_post_skips_flask_limiters_own_check_unless_app_wide_limits(
    app, web, db, review, monkeypatch  # noqa: F811
):
    """The view counts the three layers itself; Flask-Limiter's per-request resolution of
    the route's (absent) limits is skipped, but not when application-wide limits are set."""
    from evaluation.extensions import limiter

    resolved: list[str] = []
    original = limiter.limit_manager.resolve_limits

    def counting(app_, endpoint, *args, **kwargs):
        resolved.append(endpoint)
        return original(app_, endpoint, *args, **kwargs)

    monkeypatch.setattr(limiter.limit_manager, "resolve_limits", counting)
    assert cast(web, review, review["codes"][0]).status_code == 303
    assert "ballots.cast" not in resolved
    app.config["RATELIMIT_APPLICATION"] = "1000 per minute"
    assert cast(web, review, review["codes"][1]).status_code == 303
    assert "ballots.cast" in resolved


def test_the_ballot_reads_take_no_pooled_connection_and_see_every_commit(
    app, web, db, review  # noqa: F811
):
    """On SQLite a ballot takes no connection from the pool: its reads (what the URL names,
    the vote code) and its write go through the group commit's kept connection
    (evaluation/db_writes.py). Nothing is read ahead of a request: a code revoked, then a
    stage closed, after a ballot stop the next ones."""
    from sqlalchemy import event

    from evaluation.models import StageStatus
    from evaluation.services import vote_codes

    assert cast(web, review, review["codes"][3]).status_code == 303  # opens reader and writer
    url = ballot_url(review)
    shown = _backdate(web, shown_token(web.client, url))
    token = csrf_token(web.client)
    checkouts: list[int] = []
    engine = app.extensions["pingyi_db"]

    def count(*_args):
        checkouts.append(1)

    event.listen(engine, "checkout", count)
    try:
        form = {"code": review["codes"][0], "level": "satisfied", "shown": shown,
                "csrf_token": token}
        assert web.client.post(url, data=form).status_code == 303
    finally:
        event.remove(engine, "checkout", count)
    # PostgreSQL: the session's connection, which commits the ballot (no group commit there).
    assert len(checkouts) == (0 if engine.dialect.name == "sqlite" else 1)

    with app.test_request_context():
        vote_codes.revoke_batch(db, review["stage"], 1, "organizer")
    refused = cast(web, review, review["codes"][1])
    assert refused.status_code == 400
    assert "投票码无效" in refused.get_data(as_text=True)

    review["stage"].status = StageStatus.CLOSED
    db.add(review["stage"])
    db.commit()
    closed = cast(web, review, review["codes"][2])
    assert closed.status_code == 409
    assert len(db.exec(select(Ballot)).all()) == 2


def test_a_changed_secret_key_retires_the_session_cookies_it_did_not_sign(app):
    """The session cookie's serializer is made once per key set (evaluation/security.py),
    not once per process: a new SECRET_KEY refuses cookies signed with the old one, unless
    the old one is among SECRET_KEY_FALLBACKS (rotation)."""
    from flask import request

    interface = app.session_interface
    cookie = interface.get_signing_serializer(app).dumps({"csrf_token": "t"})

    def opened() -> dict:
        header = f"{interface.get_cookie_name(app)}={cookie}"
        with app.test_request_context(headers={"Cookie": header}):
            return dict(interface.open_session(app, request))

    assert opened() == {"csrf_token": "t"}
    old_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another-key-" + "x" * 40
    assert opened() == {}
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert opened() == {"csrf_token": "t"}


def test_on_sqlite_a_vote_code_ballot_is_read_and_checked_inside_its_group_commit(sqlite_app):
    """What the URL names and the vote code are read on the group commit's connection, in
    its write transaction, before the ballot's INSERT (that connection's page cache stays
    warm from commit to commit; the reader's is emptied by each one): no other connection runs
    a statement for the ballot. A code refused there is refused as before, nothing stored."""
    from sqlalchemy import event
    from sqlmodel import Session
    from test_ballots import open_review
    from webclient import Browserless

    from evaluation import db_writes, raw_sql

    app = sqlite_app
    engine = app.extensions["pingyi_db"]
    with Session(engine, expire_on_commit=False) as db:
        review = open_review(app, db)
    web = Browserless(app.test_client())
    assert cast(web, review, review["codes"][3]).status_code == 303
    url = ballot_url(review)
    form = {"code": review["codes"][0], "level": "satisfied", "csrf_token": csrf_token(web.client),
            "shown": _backdate(web, shown_token(web.client, url))}
    statements: list[tuple[int, str]] = []

    def traced(dbapi_connection, *_args):
        dbapi_connection.set_trace_callback(
            lambda sql: statements.append((id(dbapi_connection), sql)))

    # The reader and the writer are kept from request to request, other connections pooled:
    # every connection the ballot uses is opened again, traced.
    engine.dispose()
    db_writes._drop_writer(engine)
    raw_sql._readers.pop(engine, None)
    event.listen(engine, "connect", traced)
    try:
        assert web.client.post(url, data=form).status_code == 303
        stored_statements = statements[:]
        statements.clear()
        refused = web.client.post(url, data={**form, "code": "ABCD-EFGH-JKLM-NPQ2"})
    finally:
        event.remove(engine, "connect", traced)

    connections = {connection for connection, _sql in stored_statements}
    assert len(connections) == 1, stored_statements  # the group commit's, nothing else
    sql = [text for _connection, text in stored_statements]
    begin = sql.index("BEGIN IMMEDIATE")
    target = next(i for i, s in enumerate(sql) if s.startswith("SELECT campaign.status"))
    code = next(i for i, s in enumerate(sql) if "FROM vote_code" in s)
    insert = next(i for i, s in enumerate(sql) if s.startswith("INSERT INTO public_ballot"))
    assert begin < target < code < insert < sql.index("COMMIT"), sql

    assert refused.status_code == 400
    assert "投票码无效" in refused.get_data(as_text=True)
    with Session(engine) as db:
        assert len(db.exec(select(Ballot)).all()) == 2

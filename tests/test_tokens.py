"""Per-session bearer tokens for judges, the console and overlays."""

from __future__ import annotations

from datetime import timedelta

import factories as f
import pytest
from sqlmodel import select

from evaluation.models import AccessToken, TokenKind
from evaluation.models.base import utcnow
from evaluation.services.tokens import (
    SHORT_CODE_ALPHABET,
    check_token,
    find_short_code,
    issue_token,
    revoke_token,
    seat_token,
)


@pytest.fixture
def seat(db):
    campaign = f.campaign(db, f.org(db))
    judge = f.judge(db, campaign)
    issued = issue_token(
        db, kind=TokenKind.JUDGE, campaign_id=campaign.id, scope="session:1", judge_id=judge.id
    )
    db.commit()
    return issued, judge


def test_token_and_short_code_both_admit_the_seat(db, seat):
    """The QR token admits the seat; the short code does, but only through /live/join, which
    turns it into the seat token (256 bits, ASVS V7.2.3): that token admits the seat."""
    issued, judge = seat
    assert (
        check_token(db, issued.token, kind=TokenKind.JUDGE, scope="session:1").judge_id == judge.id
    )
    spaced = f" {issued.short_code[:5].lower()}-{issued.short_code[5:]} "
    record = find_short_code(db, spaced)
    assert record is not None and record.id == issued.record.id
    token = seat_token(record)
    assert len(token.partition(".")[2]) == 43  # 256 bits, base64url
    assert check_token(db, token, kind=TokenKind.JUDGE, scope="session:1").judge_id == judge.id
    assert seat_token(record) == token  # the same code always opens the same seat token


def test_a_short_code_cannot_connect_directly(db, seat):
    """A 49.5-bit code is no bearer credential: socket connect and the HTTP fallback (both
    call check_token) refuse it, however it is typed."""
    issued, _ = seat
    for typed in (issued.short_code, issued.short_code.lower(),
                  f"{issued.short_code[:5]}-{issued.short_code[5:]}"):
        assert check_token(db, typed, kind=TokenKind.JUDGE, scope="session:1") is None


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # wrong MAC
        lambda token: "999" + token[token.index("."):],  # another record's id
        lambda token: token.partition(".")[0] + ".",  # no MAC
        lambda token: "x" + token,  # not a number
    ],
)
def test_a_forged_seat_token_is_refused(db, seat, forge):
    issued, _ = seat
    token = seat_token(issued.record)
    assert check_token(db, forge(token), kind=TokenKind.JUDGE, scope="session:1") is None


def test_a_seat_token_ends_with_its_record(db, seat):
    issued, _ = seat
    token = seat_token(issued.record)
    revoke_token(db, issued.record)
    db.commit()
    assert check_token(db, token, kind=TokenKind.JUDGE, scope="session:1") is None


def test_only_digests_are_stored(db, seat):
    issued, _ = seat
    record = db.exec(select(AccessToken)).one()
    assert issued.token not in (record.token_digest, record.short_code_digest)
    assert len(record.token_digest) == 64


def test_short_codes_avoid_ambiguous_characters(seat):
    issued, _ = seat
    assert len(issued.short_code) == 10 and set(issued.short_code) <= set(SHORT_CODE_ALPHABET)
    assert not set("01OIL") & set(SHORT_CODE_ALPHABET)


@pytest.mark.parametrize(
    "presented, kind, scope",
    [
        ("wrong-token", TokenKind.JUDGE, "session:1"),
        ("", TokenKind.JUDGE, "session:1"),
        (None, TokenKind.OVERLAY, "session:1"),  # right token, wrong kind
        (None, TokenKind.JUDGE, "session:2"),  # right token, another session
    ],
)
def test_wrong_token_kind_or_scope_is_refused(db, seat, presented, kind, scope):
    issued, _ = seat
    assert (
        check_token(
            db, presented if presented is not None else issued.token, kind=kind, scope=scope
        )
        is None
    )


def test_revoked_and_expired_tokens_are_refused(db, seat):
    issued, _ = seat
    record = db.exec(select(AccessToken)).one()
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.commit()
    assert check_token(db, issued.token, kind=TokenKind.JUDGE, scope="session:1") is None
    record.expires_at = utcnow() + timedelta(hours=1)
    revoke_token(db, record)
    db.commit()
    assert check_token(db, issued.token, kind=TokenKind.JUDGE, scope="session:1") is None


def test_short_codes_are_stored_as_keyed_digests_not_plain_sha256(db, seat):
    # A copy of the database alone must not confirm a guessed short code (ASVS V6.5.2).
    from evaluation.services.tokens import code_digest, code_key_from, digest, rekey

    issued, _ = seat
    record = db.exec(select(AccessToken)).one()
    assert record.short_code_digest != digest(issued.short_code)
    assert record.short_code_digest == code_digest(issued.short_code)
    other_key = code_key_from({"SECRET_KEY": "another deployment"})
    assert record.short_code_digest != rekey(digest(issued.short_code), other_key)


def test_a_separate_code_key_survives_a_secret_key_rotation():
    from evaluation.services.tokens import code_key_from

    assert code_key_from({"SECRET_KEY": "a"}) != code_key_from({"SECRET_KEY": "b"})
    assert code_key_from({"SECRET_KEY": "a", "CODE_DIGEST_KEY": "k"}) == code_key_from(
        {"SECRET_KEY": "b", "CODE_DIGEST_KEY": "k"}
    )


def test_the_migration_keys_existing_plain_digests_so_issued_codes_keep_working(
    tmp_path, monkeypatch
):
    from sqlalchemy import text

    from evaluation.db import make_engine
    from evaluation.migrate import upgrade
    from evaluation.services.tokens import code_key_from, digest, rekey

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite3'}")
    upgrade(engine, "0007")
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        connection.execute(
            text(
                "INSERT INTO sms_challenge (id, stage_id, phone_digest, code_digest, attempts,"
                " created_at, expires_at) VALUES (1, 1, 'p', :d, 0, '2026-01-01', '2026-01-01')"
            ),
            {"d": digest("123456")},
        )
    monkeypatch.setenv("SECRET_KEY", "the deployment's key")
    upgrade(engine)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT code_digest FROM sms_challenge")).scalar_one()
    engine.dispose()
    key = code_key_from({"SECRET_KEY": "the deployment's key"})
    assert stored == rekey(digest("123456"), key) != digest("123456")

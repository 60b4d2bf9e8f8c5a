"""Per-session bearer tokens for judges, the console and overlays."""

from __future__ import annotations

from datetime import timedelta

import factories as f
import pytest
from sqlmodel import select

from evaluation.models import AccessToken, TokenKind
from evaluation.models.base import utcnow
from evaluation.services.tokens import SHORT_CODE_ALPHABET, check_token, issue_token, revoke_token


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
    issued, judge = seat
    assert (
        check_token(db, issued.token, kind=TokenKind.JUDGE, scope="session:1").judge_id == judge.id
    )
    spaced = f" {issued.short_code[:5].lower()}-{issued.short_code[5:]} "
    assert check_token(db, spaced, kind=TokenKind.JUDGE, scope="session:1") is not None


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

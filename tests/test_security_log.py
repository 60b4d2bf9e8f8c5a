"""Security events reach the `pingyi.security` log, one parseable line each, no secrets
(ASVS V16.3.1–V16.3.3, V16.4.1, V16.2.5)."""

from __future__ import annotations

import logging

import factories as f
import pytest

from evaluation.models import Role, TokenKind
from evaluation.services.tokens import issue_token, revoke_token


@pytest.fixture
def log(caplog):
    caplog.set_level(logging.INFO, logger="pingyi.security")
    return caplog


def _events(log) -> list[str]:
    return [r.getMessage() for r in log.records if r.name == "pingyi.security"]


def test_refused_pages_and_other_organizations_objects_are_logged(web, db, log):
    org_a, org_b = f.org(db), f.org(db)
    campaign = f.campaign(db, org_a)
    f.user(db, Role.ORGANIZER, org_b, username="other")
    f.user(db, Role.INSPECTOR, org_a, username="wang")
    web.login("other")
    assert web.client.get(f"/admin/campaigns/{campaign.id}").status_code == 404
    web.logout()
    web.login("wang")
    assert web.client.get("/admin/").status_code == 403
    lines = _events(log)
    assert any(
        "event=authorization_failed" in line and ":other" in line
        and f"object=campaign:{campaign.id}" in line
        for line in lines
    )
    assert any("event=authorization_failed" in line and ":wang" in line for line in lines)


def test_csrf_failures_and_rate_limits_are_logged(app, client, web, db, log):
    client.post("/login", data={"username": "zhang", "password": "x"})
    app.config["LOGIN_RATE_LIMIT"] = "1 per minute"
    web.login("zhang", "wrong password 1")
    assert web.login("zhang", "wrong password 1").status_code == 429
    lines = _events(log)
    assert any(line.startswith("event=csrf_failed") for line in lines)
    assert any(line.startswith("event=rate_limited") for line in lines)


def test_token_revocation_is_logged(db, log):
    campaign = f.campaign(db, f.org(db))
    issued = issue_token(db, kind=TokenKind.OVERLAY, campaign_id=campaign.id, scope="session:9")
    revoke_token(db, issued.record)
    line = next(e for e in _events(log) if e.startswith("event=token_revoked"))
    assert f"token={issued.record.id}" in line and "scope=session:9" in line
    assert issued.token not in line and issued.short_code not in line


def test_a_crafted_name_cannot_forge_a_log_line(web, log):
    web.login("zhang\nevent=login_succeeded user=1:admin", "whatever 12345")
    lines = _events(log)
    assert len(lines) == 1 and lines[0].startswith("event=login_failed")
    assert "\n" not in lines[0] and "login_succeeded" not in lines[0]  # unknown: hashed


def test_a_wrong_short_code_at_join_is_logged_without_the_code(web, log):
    assert web.post("/live/join", {"code": "WRONGCODE22"}).status_code == 400
    line = next(e for e in _events(log) if e.startswith("event=live_join_refused"))
    assert "WRONGCODE22" not in line

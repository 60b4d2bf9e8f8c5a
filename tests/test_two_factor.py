"""TOTP second factor for admin and organizer accounts (ASVS V6.3.3, V6.5, V6.4.4)."""

from __future__ import annotations

import logging
import re
import time

import factories as f
import pyotp
import pytest
from sqlmodel import select
from webclient import Browserless

from evaluation.models import RecoveryCode, Role, User
from evaluation.services import two_factor
from evaluation.services.tokens import digest

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


@pytest.fixture
def organizer(app, db):
    app.config["REQUIRE_2FA"] = True
    return f.user(db, Role.ORGANIZER, f.org(db), username="zhang")


@pytest.fixture
def enrolled(db, organizer):
    """zhang with SECRET enrolled (a code of 30 s ago) and ten recovery codes."""
    earlier = pyotp.TOTP(SECRET).at(time.time() - 30)
    codes = two_factor.enrol(db, organizer, SECRET, earlier)
    assert codes is not None and len(codes) == 10
    return codes


def _code(offset_seconds: int = 0) -> str:
    return pyotp.TOTP(SECRET).at(time.time() + offset_seconds)


def test_an_organizer_must_enrol_before_the_first_login_completes(web, db, organizer):
    response = web.login("zhang")
    assert response.status_code == 302 and response.location.endswith("/login/2fa/setup")
    assert web.client.get("/admin/").status_code == 302  # nobody is logged in yet
    page = web.client.get("/login/2fa/setup").get_data(as_text=True)
    assert "<svg" in page  # the QR code
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    assert web.post("/login/2fa/setup", {"code": "000000"}).status_code == 400
    assert web.client.get("/admin/").status_code == 302
    response = web.post("/login/2fa/setup", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([A-Z2-9]{4}(?:-[A-Z2-9]{4}){3})</code>", response.get_data(True))
    assert len(set(codes)) == 10
    assert web.client.get("/admin/").status_code == 200
    # Recovery codes are kept only as keyed digests: neither in clear nor as plain SHA-256.
    stored = set(db.exec(select(RecoveryCode.code_digest)).all())
    assert len(stored) == 10
    for code in codes:
        assert code not in stored and digest(code.replace("-", "")) not in stored


def test_the_password_alone_no_longer_logs_in(web, enrolled):
    response = web.login("zhang")
    assert response.location.endswith("/login/2fa")
    assert web.client.get("/admin/").status_code == 302
    response = web.post("/login/2fa", {"code": "123456"})
    assert response.status_code == 401 and "验证码不正确" in response.get_data(as_text=True)
    assert web.client.get("/admin/").status_code == 302
    response = web.post("/login/2fa", {"code": _code()})
    assert response.status_code == 302 and response.location.endswith("/admin/")
    assert web.client.get("/admin/").status_code == 200


def test_a_code_works_once_and_only_within_its_window(app, web, enrolled):
    web.login("zhang")
    code = _code()
    assert web.post("/login/2fa", {"code": code}).status_code == 302
    other = Browserless(app.test_client())
    other.login("zhang")
    # The same code again (not a fresh `_code()`, which may fall in the next 30-s step).
    assert other.post("/login/2fa", {"code": code}).status_code == 401  # replayed
    assert other.post("/login/2fa", {"code": _code(-90)}).status_code == 401  # too old
    assert other.post("/login/2fa", {"code": _code(+30)}).status_code == 302  # next step


def test_a_recovery_code_logs_in_once(app, web, enrolled):
    web.login("zhang")
    response = web.post("/login/2fa", {"code": enrolled[0].lower()})
    assert response.status_code == 302
    assert "还剩 9 个" in web.client.get("/admin/").get_data(as_text=True)
    again = Browserless(app.test_client())
    again.login("zhang")
    assert again.post("/login/2fa", {"code": enrolled[0]}).status_code == 401


def test_five_wrong_codes_send_the_user_back_to_the_password(web, enrolled):
    web.login("zhang")
    for _ in range(4):
        assert web.post("/login/2fa", {"code": "000000"}).status_code == 401
    response = web.post("/login/2fa", {"code": "000000"})
    assert response.status_code == 302 and response.location.endswith("/login")
    # The right code no longer helps: the password must be given again.
    assert web.post("/login/2fa", {"code": _code()}).location.endswith("/login")


def test_the_second_factor_step_cannot_be_skipped(web, enrolled):
    assert web.client.get("/login/2fa").location.endswith("/login")  # no password given
    web.login("zhang")
    assert web.client.get("/account/password").status_code == 302
    assert web.client.get("/login/2fa/setup").location.endswith("/login/2fa")


def test_an_admin_resets_a_lost_factor_from_the_cli_and_sessions_end(app, web, db, enrolled):
    web.login("zhang")
    web.post("/login/2fa", {"code": _code()})
    assert web.client.get("/admin/").status_code == 200
    result = app.test_cli_runner().invoke(args=["user", "reset-2fa", "zhang"])
    assert result.exit_code == 0, result.output
    assert web.client.get("/admin/").status_code == 302
    db.expire_all()
    user = db.exec(select(User).where(User.username == "zhang")).one()
    assert user.totp_secret is None
    assert db.exec(select(RecoveryCode)).all() == []
    assert web.login("zhang").location.endswith("/login/2fa/setup")  # enrol again


def test_without_the_policy_only_enrolled_users_are_asked(app, web, db):
    app.config["REQUIRE_2FA"] = None  # tests and development: off unless enrolled
    f.user(db, Role.ORGANIZER, f.org(db), username="li")
    assert web.login("li").location.endswith("/admin/")
    inspector = Browserless(app.test_client())
    app.config["REQUIRE_2FA"] = True
    org = f.org(db, name="另一个普法办")
    f.user(db, Role.INSPECTOR, org, username="wang")
    assert inspector.login("wang").location.endswith("/inspector/")


def test_users_can_enrol_themselves_and_renew_recovery_codes(app, web, db):
    f.user(db, Role.ORGANIZER, f.org(db), username="li")
    web.login("li")
    page = web.client.get("/account/2fa").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page).group(1).replace(" ", "")
    response = web.post("/account/2fa", {"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200
    assert len(re.findall(r"<li><code>", response.get_data(as_text=True))) == 10
    assert "剩余恢复码：10 个" in web.client.get("/account/2fa").get_data(as_text=True)
    response = web.post("/account/2fa", {"code": pyotp.TOTP(secret).at(time.time() + 30)})
    assert response.status_code == 200 and "请保存恢复码" in response.get_data(as_text=True)


def test_security_events_are_logged_without_secrets(web, enrolled, caplog):
    caplog.set_level(logging.INFO, logger="pingyi.security")
    web.login("zhang", "wrong password 1")
    web.login("nobody-my-secret-pw", "whatever 12345")
    web.login("zhang")
    web.post("/login/2fa", {"code": "000000"})
    good = _code()
    web.post("/login/2fa", {"code": good})
    web.logout()
    text = caplog.text
    for event in ("event=login_failed", "event=login_password_accepted",
                  "event=second_factor_failed", "event=login_succeeded", "event=logout"):
        assert event in text
    assert "user=1:zhang" in text or re.search(r"user=\d+:zhang", text)
    assert "ip=" in text
    for secret in (f.PASSWORD, "wrong password 1", "nobody-my-secret-pw", good, SECRET):
        assert secret not in text


def test_an_admin_resets_a_factor_or_disables_an_account_from_the_web(app, web, db, enrolled):
    web.login("zhang")
    web.post("/login/2fa", {"code": _code()})
    admin = Browserless(app.test_client())
    f.user(db, Role.ADMIN, None, username="root")
    app.config["REQUIRE_2FA"] = False  # the admin's own login is not what is tested here
    admin.login("root")
    page = admin.client.get("/admin/users").get_data(as_text=True)
    assert "重置两步验证" in page and "强制下线" in page
    organizer = db.exec(select(User).where(User.username == "zhang")).one()
    response = admin.post(f"/admin/users/{organizer.id}/security", {"action": "reset_2fa"})
    assert response.status_code == 302
    assert web.client.get("/admin/").status_code == 302  # zhang's session has ended
    db.expire_all()
    assert db.get(User, organizer.id).totp_secret is None
    # An organizer cannot do this to anyone; an admin not to themselves.
    assert web.login("zhang").status_code == 302
    assert web.post(f"/admin/users/{organizer.id}/security", {"action": "disable"}).status_code \
        == 403
    root = db.exec(select(User).where(User.username == "root")).one()
    assert admin.post(f"/admin/users/{root.id}/security", {"action": "disable"}).status_code \
        == 400
    assert admin.post(f"/admin/users/{organizer.id}/security", {"action": "disable"}).status_code \
        == 302
    assert web.client.get("/admin/").status_code == 302
    assert web.login("zhang").status_code == 401


def _full_width(code: str) -> str:
    return "".join(chr(ord(digit) + 0xFEE0) for digit in code)


def test_a_code_typed_with_a_chinese_input_method_logs_in(app, web, enrolled):
    # Full-width digits passed `str.isdigit` and reached `hmac.compare_digest`, which
    # raises on non-ASCII text: the login's second step answered 500.
    web.login("zhang")
    code = _code()
    response = web.post("/login/2fa", {"code": _full_width(code[:3]) + "\u3000" + code[3:]})
    assert response.status_code == 302 and response.location.endswith("/admin/")
    other = Browserless(app.test_client())
    other.login("zhang")
    # Other Unicode digits are not a code: refused, not a crash.
    arabic_indic = "".join(chr(0x0660 + int(d)) for d in _code(+30))
    assert other.post("/login/2fa", {"code": arabic_indic}).status_code == 401


def test_enrolment_accepts_full_width_digits(db, organizer):
    code = pyotp.TOTP(SECRET).now()
    assert two_factor.matching_step(SECRET, "１２３４５") is None
    assert two_factor.enrol(db, organizer, SECRET, _full_width(code)) is not None

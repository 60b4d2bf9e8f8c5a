"""Session cookies verified once per key set (evaluation/security.py,
HttpsAwareSessionInterface.open_session; review: docs/security.md, "Session cookies verified
once"): a remembered cookie answers exactly what verifying it again would."""

from __future__ import annotations

import time

import pytest
from itsdangerous import URLSafeTimedSerializer
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

T0 = 1_800_000_000  # a fixed signing time (whole seconds)


@pytest.fixture
def clock(monkeypatch):
    """time.time for itsdangerous (signing, its age check) and for the remembered cookies."""
    now = [float(T0)]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


@pytest.fixture
def verifications(monkeypatch):
    """How many times a session cookie's signature was checked."""
    count = [0]
    real = URLSafeTimedSerializer.loads

    def counted(self, *args, **kwargs):
        count[0] += 1
        return real(self, *args, **kwargs)

    monkeypatch.setattr(URLSafeTimedSerializer, "loads", counted)
    return count


def _sign(app, data: dict) -> str:
    return app.session_interface.get_signing_serializer(app).dumps(data)


def _open(app, cookie: str):
    """The session a request with this cookie opens (only it: no request context, which
    would open one more)."""
    interface = app.session_interface
    header = f"{interface.get_cookie_name(app)}={cookie}"
    environ = EnvironBuilder(headers={"Cookie": header}).get_environ()
    return interface.open_session(app, Request(environ))


def test_a_remembered_cookie_expires_to_the_second_as_a_verified_one(app, clock, verifications):
    lifetime = int(app.permanent_session_lifetime.total_seconds())
    cookie = _sign(app, {"csrf_token": "t"})
    clock[0] = T0 + lifetime + 0.9  # the last second it is valid: itsdangerous's own check
    assert dict(_open(app, cookie)) == {"csrf_token": "t"}
    assert verifications[0] == 1
    assert dict(_open(app, cookie)) == {"csrf_token": "t"}
    assert verifications[0] == 1  # remembered: not verified again
    clock[0] = T0 + lifetime + 1  # one second too old: refused, remembered or not
    assert dict(_open(app, cookie)) == {}
    clock[0] = T0 - 1  # signed "in the future" (the clock went back): refused as itsdangerous does
    assert dict(_open(app, cookie)) == {}


def test_a_cookie_is_verified_once_per_key_set(app, clock, verifications):
    cookie = _sign(app, {"csrf_token": "t"})
    for _ in range(3):
        assert dict(_open(app, cookie)) == {"csrf_token": "t"}
    assert verifications[0] == 1
    old_key = app.config["SECRET_KEY"]
    app.config["SECRET_KEY"] = "another-key-" + "x" * 40
    assert dict(_open(app, cookie)) == {}  # the remembered cookies went with the old key set
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert dict(_open(app, cookie)) == {"csrf_token": "t"}
    assert verifications[0] == 3


def test_another_cookie_text_is_verified_even_when_one_like_it_is_remembered(app, clock):
    cookie = _sign(app, {"csrf_token": "t"})
    assert dict(_open(app, cookie)) == {"csrf_token": "t"}
    payload, stamp, signature = cookie.rsplit(".", 2)
    forged_payload = _sign(app, {"csrf_token": "u"}).rsplit(".", 2)[0]
    assert dict(_open(app, f"{forged_payload}.{stamp}.{signature}")) == {}
    # (the first character: the last one's low bits are padding, ignored by base64)
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    assert dict(_open(app, f"{payload}.{stamp}.{flipped}")) == {}


def test_each_request_gets_a_session_of_its_own(app, clock):
    flat = _sign(app, {"csrf_token": "t"})
    nested = _sign(app, {"csrf_token": "t", "_flashes": [["message", "saved"]]})
    for cookie in (flat, nested):
        _open(app, cookie)  # remembered
        first = _open(app, cookie)
        first["csrf_token"] = "changed"
        first.get("_flashes", []).append(["message", "again"])
        second = _open(app, cookie)
        assert second["csrf_token"] == "t"
        assert second.get("_flashes", [["message", "saved"]]) == [["message", "saved"]]

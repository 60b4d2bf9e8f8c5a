"""Phone number + SMS code: a pluggable sender and the challenge it answers.

The sender is chosen by the `SMS_SENDER` setting: "console" (the default, development: the
message goes to the log; refused in production, where it would log numbers and codes) or
"package.module:Class" for a provider's gateway, a class with `send(phone, text)` (it should
set its own network timeout too). A gateway that raises, or does not answer within
`SMS_TIMEOUT_SECONDS`, gives the voter "短信发送失败，请稍后再试" (503) and stores nothing
(ASVS V16.5.2): the challenge row is written only after the message went out. The
phone number is kept only as a keyed digest (HMAC with PHONE_DIGEST_KEY, or the secret key),
so the database never holds a list of voters' numbers.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import logging
import re
import secrets
import threading
from datetime import timedelta
from typing import Protocol

from flask import current_app
from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.models import SmsChallenge, Stage
from evaluation.models.base import utcnow
from evaluation.services.errors import ValidationFailed
from evaluation.services.tokens import code_digest

log = logging.getLogger(__name__)

# Mainland mobile numbers: 11 digits starting 1[3-9]; +86 / 0086 prefixes accepted.
PHONE = re.compile(r"^(?:\+?86|0086)?(1[3-9]\d{9})$")
SMS_CODE_LENGTH = 6
VALID_FOR = timedelta(minutes=10)
MAX_ATTEMPTS = 5  # wrong codes per challenge before it is spent


class SmsUnavailable(Exception):
    """The gateway failed or did not answer in time: nothing was stored, try again later."""

    status = 503

    def __init__(self) -> None:
        super().__init__(_("短信发送失败，请稍后再试。"))
        self.errors = {"phone": str(self)}


class SmsSender(Protocol):
    def send(self, phone: str, text: str) -> None: ...


class ConsoleSender:
    """Development: the message is logged instead of sent."""

    def send(self, phone: str, text: str) -> None:
        log.warning("SMS to %s: %s", phone, text)


def sender() -> SmsSender:
    chosen = current_app.config.get("SMS_SENDER", "console")
    if chosen == "console":
        return ConsoleSender()
    module_name, _colon, class_name = chosen.partition(":")
    return getattr(importlib.import_module(module_name), class_name)()


def _refuse_the_console_in_production() -> None:
    """The console sender writes numbers and codes to the log: development only."""
    from evaluation.config import is_production
    from evaluation.security_log import security_event

    if current_app.config.get("SMS_SENDER", "console") == "console" and is_production(
        current_app.config
    ):
        security_event("sms_sender_not_configured", level=logging.ERROR)
        raise ValidationFailed(
            {"phone": _("短信发送服务尚未配置，暂时无法用手机号码参与评议，请联系组织方。")}
        )


def normalize_phone(raw: str) -> str | None:
    match = PHONE.match(re.sub(r"[\s-]", "", raw or ""))
    return match.group(1) if match else None


def phone_key(config) -> bytes:
    """PHONE_DIGEST_KEY when set, so SECRET_KEY can be rotated without every phone that has
    voted being able to vote again; else SECRET_KEY (what digests were made with before)."""
    return str(config.get("PHONE_DIGEST_KEY") or config["SECRET_KEY"]).encode("utf-8")


def phone_digest(phone: str) -> str:
    key = phone_key(current_app.config)
    return hmac.new(key, phone.encode("ascii"), hashlib.sha256).hexdigest()


def send_challenge(db: Session, stage: Stage, raw_phone: str) -> str:
    """Send a fresh code to the number; returns the normalized number."""
    phone = normalize_phone(raw_phone)
    if phone is None:
        raise ValidationFailed({"phone": _("请输入 11 位手机号码，如 13800138000。")})
    _refuse_the_console_in_production()
    code = "".join(secrets.choice("0123456789") for _ in range(SMS_CODE_LENGTH))
    text = _("【评议】您的社会评议验证码是 %(code)s，10 分钟内有效。", code=code)
    # Send first, write after: a gateway that fails leaves no challenge behind. (A write that
    # fails after a sent message only costs the voter a second request.)
    _send_within(sender(), phone, text, float(current_app.config["SMS_TIMEOUT_SECONDS"]))
    db.add(
        SmsChallenge(
            stage_id=stage.id,
            phone_digest=phone_digest(phone),
            code_digest=code_digest(code),
            expires_at=utcnow() + VALID_FOR,
        )
    )
    db.commit()
    return phone


def _send_within(gateway: SmsSender, phone: str, text: str, timeout: float) -> None:
    """gateway.send, bounded by `timeout` seconds whatever the gateway does.

    The call runs in its own thread (a greenlet under gevent) so a gateway that hangs
    without a timeout of its own cannot hold the request; the thread is abandoned, and a
    message it sends late carries a code nobody stored.
    """
    from evaluation.security_log import security_event

    failure: list[BaseException] = []

    def call() -> None:
        try:
            gateway.send(phone, text)
        except Exception as exc:  # noqa: BLE001  (any gateway error is a failed send)
            failure.append(exc)

    worker = threading.Thread(target=call, name="sms-send", daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        security_event("sms_send_failed", level=logging.ERROR, reason="timeout")
        raise SmsUnavailable()
    if failure:
        # The class only: a gateway's message may quote the number.
        security_event(
            "sms_send_failed", level=logging.ERROR, reason=type(failure[0]).__name__
        )
        raise SmsUnavailable()


def verify_challenge(db: Session, stage: Stage, raw_phone: str, code: str) -> str:
    """The voter key of a phone whose code is right and fresh; ValidationFailed otherwise."""
    phone = normalize_phone(raw_phone)
    if phone is None:
        raise ValidationFailed({"phone": _("请输入 11 位手机号码，如 13800138000。")})
    challenge = db.exec(
        select(SmsChallenge)
        .where(SmsChallenge.stage_id == stage.id, SmsChallenge.phone_digest == phone_digest(phone))
        .order_by(SmsChallenge.id.desc())
    ).first()
    if challenge is None or challenge.expires_at <= utcnow():
        raise ValidationFailed({"sms_code": _("验证码已过期或尚未获取，请重新获取。")})
    if challenge.attempts >= MAX_ATTEMPTS:
        raise ValidationFailed({"sms_code": _("验证码错误次数过多，请重新获取。")})
    if not hmac.compare_digest(challenge.code_digest, code_digest((code or "").strip())):
        challenge.attempts += 1
        db.add(challenge)
        db.commit()
        raise ValidationFailed({"sms_code": _("短信验证码不正确。")})
    return "phone:" + challenge.phone_digest

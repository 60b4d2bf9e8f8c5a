"""An SMS gateway that fails or hangs (ASVS V16.5.2): the voter gets a clear 503 at once and
nothing is stored, so the next request starts clean."""

from __future__ import annotations

import logging
import sys
import threading
import time
import types

import pytest
from sqlmodel import select
from test_ballot_modes import sms_review  # noqa: F401  (the fixture)
from test_ballots import review  # noqa: F401  (the fixture sms_review builds on)

from evaluation.models import SmsChallenge

released = threading.Event()
sent: list[tuple[str, str]] = []


class FailingGateway:
    def send(self, phone, text):
        raise ConnectionError(f"gateway refused {phone}")


class HangingGateway:
    def send(self, phone, text):
        released.wait(30)  # a gateway with no timeout of its own


class WorkingGateway:
    def send(self, phone, text):
        sent.append((phone, text))


@pytest.fixture
def gateways(app):
    module = types.ModuleType("pingyi_failing_gateways")
    module.FailingGateway, module.HangingGateway = FailingGateway, HangingGateway
    module.WorkingGateway = WorkingGateway
    sys.modules["pingyi_failing_gateways"] = module
    released.clear()
    sent.clear()
    yield app
    released.set()  # let a hung sender thread finish
    del sys.modules["pingyi_failing_gateways"]


def _sms_url(review) -> str:  # noqa: F811
    return f"/review/{review['campaign'].id}/agencies/{review['agencies'][0].id}/sms"


def test_a_failing_gateway_gives_503_and_stores_nothing(
    gateways, db, web, sms_review, caplog  # noqa: F811
):
    gateways.config["SMS_SENDER"] = "pingyi_failing_gateways:FailingGateway"
    with caplog.at_level(logging.INFO):
        response = web.post(_sms_url(sms_review), {"phone": "13912345678"})
    assert response.status_code == 503
    assert "短信发送失败，请稍后再试" in response.get_data(as_text=True)
    assert db.exec(select(SmsChallenge)).all() == []
    assert "event=sms_send_failed" in caplog.text and "reason=ConnectionError" in caplog.text
    assert "13912345678" not in caplog.text  # the gateway's message quoted the number


def test_a_hanging_gateway_times_out_with_503_and_stores_nothing(
    gateways, db, web, sms_review, caplog  # noqa: F811
):
    gateways.config.update(
        SMS_SENDER="pingyi_failing_gateways:HangingGateway", SMS_TIMEOUT_SECONDS=0.3
    )
    started = time.monotonic()
    with caplog.at_level(logging.INFO):
        response = web.post(_sms_url(sms_review), {"phone": "13912345678"})
    assert time.monotonic() - started < 5  # not the gateway's 30 s
    assert response.status_code == 503
    assert "短信发送失败，请稍后再试" in response.get_data(as_text=True)
    assert "reason=timeout" in caplog.text
    released.set()
    assert db.exec(select(SmsChallenge)).all() == []


def test_after_a_failure_the_next_request_works(gateways, db, web, sms_review):  # noqa: F811
    gateways.config["SMS_SENDER"] = "pingyi_failing_gateways:FailingGateway"
    assert web.post(_sms_url(sms_review), {"phone": "13912345678"}).status_code == 503
    gateways.config["SMS_SENDER"] = "pingyi_failing_gateways:WorkingGateway"
    assert web.post(_sms_url(sms_review), {"phone": "13912345678"}).status_code == 303
    assert len(sent) == 1 and len(db.exec(select(SmsChallenge)).all()) == 1

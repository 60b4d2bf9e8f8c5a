"""The other ways a public review runs: phone + SMS code, points per indicator; and the
display choices of public pages (elder mode, 繁體)."""

from __future__ import annotations

import logging
import re
from decimal import Decimal

import pytest
from sqlmodel import func, select
from test_ballots import review, shown_token, stored  # noqa: F401  (the fixture)

from evaluation.audit import verify_chain
from evaluation.audit_rows import row_problems
from evaluation.models import Ballot, BallotKind, BallotPoint, IdentityMode
from evaluation.services import ballot_results, ballot_setup, sms
from evaluation.services.indicators import IndicatorFields, create_indicator


def configure(db, review, mode=IdentityMode.VOTE_CODE, kind=BallotKind.SATISFACTION):  # noqa: F811
    ballot_setup.save_settings(
        db,
        review["stage"],
        ballot_setup.SettingsFields(
            identity_mode=mode,
            ballot_kind=kind,
            burst_limit=20,
            burst_window_seconds=60,
            min_fill_seconds=0,
        ),
    )


@pytest.fixture
def sms_review(app, db, review):  # noqa: F811
    with app.test_request_context():
        configure(db, review, IdentityMode.SMS)
    return review


def request_code(web, review, phone, caplog) -> str:  # noqa: F811
    url = f"/review/{review['campaign'].id}/agencies/{review['agencies'][0].id}/sms"
    with caplog.at_level(logging.WARNING, logger="evaluation.services.sms"):
        response = web.post(url, {"phone": phone})
    assert response.status_code == 303, response.get_data(as_text=True)
    return re.search(r"验证码是 (\d{6})", caplog.text).group(1)


def vote_by_phone(web, review, phone, code, agency=None):  # noqa: F811
    agency = agency or review["agencies"][0]
    url = f"/review/{review['campaign'].id}/agencies/{agency.id}"
    return web.post(
        url,
        {"phone": phone, "sms_code": code, "level": "basic", "shown": shown_token(web.client, url)},
    )


def test_phone_and_sms_code_vote_once_per_agency(web, db, sms_review, caplog):
    code = request_code(web, sms_review, "+86 138-0013-8000", caplog)
    assert vote_by_phone(web, sms_review, "13800138000", code).status_code == 303
    again = vote_by_phone(web, sms_review, "13800138000", code)
    assert again.status_code == 409
    assert "已经对该单位投过票" in again.get_data(as_text=True)
    other = vote_by_phone(web, sms_review, "13800138000", code, sms_review["agencies"][1])
    assert other.status_code == 303
    assert stored(db) == 2
    assert verify_chain(db).ok and row_problems(db) == []
    # The number itself is nowhere in the database: only a keyed digest.
    keys = db.exec(select(Ballot.voter_key)).all()
    assert all(key.startswith("phone:") and "13800138000" not in key for key in keys)


def test_the_console_sender_is_the_default_and_a_configured_one_is_used(
    app, web, sms_review, caplog
):
    sent = []

    class Recorder:
        def send(self, phone, text):
            sent.append((phone, text))

    import sys
    import types

    module = types.ModuleType("pingyi_test_gateway")
    module.Recorder = Recorder
    sys.modules["pingyi_test_gateway"] = module
    app.config["SMS_SENDER"] = "pingyi_test_gateway:Recorder"
    url = f"/review/{sms_review['campaign'].id}/agencies/{sms_review['agencies'][0].id}/sms"
    assert web.post(url, {"phone": "13912345678"}).status_code == 303
    assert sent[0][0] == "13912345678" and "验证码是" in sent[0][1]


@pytest.mark.parametrize(
    ("phone", "code", "field", "message"),
    [
        ("12345", "000000", "phone", "请输入 11 位手机号码"),
        ("13800138000", "000000", "sms_code", "短信验证码不正确"),
        ("13700137000", "123456", "sms_code", "验证码已过期或尚未获取"),
    ],
)
def test_bad_phone_or_sms_code_is_refused_and_nothing_stored(
    web, db, sms_review, caplog, phone, code, field, message
):
    request_code(web, sms_review, "13800138000", caplog)
    response = vote_by_phone(web, sms_review, phone, code)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert stored(db) == 0


def test_five_wrong_sms_codes_spend_the_challenge(web, db, sms_review, caplog):
    right = request_code(web, sms_review, "13800138000", caplog)
    for _ in range(sms.MAX_ATTEMPTS):
        assert vote_by_phone(web, sms_review, "13800138000", "000000").status_code == 400
    refused = vote_by_phone(web, sms_review, "13800138000", right)
    assert "错误次数过多" in refused.get_data(as_text=True)
    assert stored(db) == 0


def _points_review(app, db, review):  # noqa: F811
    """A points ballot over two indicators (40 and 60 points): the first agency's URL and
    the two indicators."""
    campaign = review["campaign"]
    with app.test_request_context():
        first = create_indicator(db, campaign, IndicatorFields("A", "组织领导", Decimal("40")))
        second = create_indicator(db, campaign, IndicatorFields("B", "普法成效", Decimal("60")))
        configure(db, review, kind=BallotKind.POINTS)
    return f"/review/{campaign.id}/agencies/{review['agencies'][0].id}", first, second


def test_points_ballot_stores_points_and_the_mean_comes_from_scoring(app, web, db, review):  # noqa: F811
    url, first, second = _points_review(app, db, review)
    for code, (a, b) in zip(review["codes"], [("35", "50"), ("30.5", "58")], strict=False):
        response = web.post(
            url,
            {
                "code": code,
                f"points-{first.id}": a,
                f"points-{second.id}": b,
                "shown": shown_token(web.client, url),
            },
        )
        assert response.status_code == 303
    too_many = web.post(
        url, {"code": review["codes"][2], f"points-{first.id}": "41", f"points-{second.id}": "10"}
    )
    assert too_many.status_code == 400
    assert "“组织领导”请填写 0 到 40.00 之间的分数" in too_many.get_data(as_text=True)
    assert db.exec(select(func.count()).select_from(BallotPoint)).one() == 4
    mean = ballot_results.points_by_agency(db, review["stage"])[review["agencies"][0].id]
    assert mean.value == Decimal("86.75")  # (85 + 88.5) / 2
    # The ballots and their points (written with Core) are exactly what their events say.
    assert verify_chain(db).ok and row_problems(db) == []


def test_points_with_three_decimals_are_refused_for_their_decimals(app, web, db, review):  # noqa: F811
    # 30.125 is inside 0 to 40: being told the range did not say what was wrong.
    campaign = review["campaign"]
    with app.test_request_context():
        first = create_indicator(db, campaign, IndicatorFields("A", "组织领导", Decimal("40")))
        second = create_indicator(db, campaign, IndicatorFields("B", "普法成效", Decimal("60")))
        configure(db, review, kind=BallotKind.POINTS)
    url = f"/review/{campaign.id}/agencies/{review['agencies'][0].id}"
    typed = {f"points-{first.id}": "30.125", f"points-{second.id}": "50"}
    response = web.post(url, {"code": review["codes"][0], **typed})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "“组织领导”的分数最多保留两位小数" in html
    assert "之间的分数" not in html
    assert db.exec(select(func.count()).select_from(BallotPoint)).one() == 0


def test_a_refused_points_ballot_keeps_the_points_typed(app, web, db, review):  # noqa: F811
    # A mistyped vote code (or one point out of range) re-showed the form with every points
    # field empty: the voter had to type all the indicators again.
    url, first, second = _points_review(app, db, review)
    typed = {f"points-{first.id}": "35", f"points-{second.id}": "50.5"}
    wrong_code = web.post(
        url, {"code": "XXXX-XXXX-XXXX", **typed, "shown": shown_token(web.client, url)}
    )
    assert wrong_code.status_code == 400
    page = wrong_code.get_data(as_text=True)
    assert re.search(rf'id="points-{first.id}"[^>]* value="35"', page)
    assert re.search(rf'id="points-{second.id}"[^>]* value="50.5"', page)
    too_many = web.post(
        url,
        {
            "code": review["codes"][0],
            f"points-{first.id}": "41",
            f"points-{second.id}": "58",
            "shown": shown_token(web.client, url),
        },
    )
    assert too_many.status_code == 400
    page = too_many.get_data(as_text=True)
    assert re.search(rf'id="points-{first.id}"[^>]* value="41"', page)
    assert re.search(rf'id="points-{second.id}"[^>]* value="58"', page)
    assert stored(db) == 0


def test_settings_cannot_change_the_ballot_once_votes_are_in(app, web, db, review):  # noqa: F811
    from test_ballots import cast

    assert cast(web, review, review["codes"][0]).status_code == 303
    with app.test_request_context():
        from evaluation.services.errors import ValidationFailed

        with pytest.raises(ValidationFailed, match="已经有人投票"):
            configure(db, review, IdentityMode.SMS)


# --- display choices ----------------------------------------------------------------------


def test_traditional_is_converted_on_the_server_and_remembered(web, db, review):  # noqa: F811
    chosen = web.post("/display", {"script": "hant", "next": f"/review/{review['campaign'].id}"})
    assert chosen.status_code == 303
    assert chosen.location.endswith(f"/review/{review['campaign'].id}")
    page = web.client.get(chosen.location).get_data(as_text=True)
    assert "社會評議" in page and 'lang="zh-Hant"' in page
    assert "市司法局" in page  # names from the database convert too (司法 is the same)
    # The login page is not a public page: left as it is.
    login = web.client.get("/login").get_data(as_text=True)
    assert "登录" in login and "登錄" not in login
    back = web.post("/display", {"script": "hans", "next": "/"})
    assert "評議" not in web.client.get(back.location).get_data(as_text=True)


def test_elder_mode_marks_every_public_page(web, review):  # noqa: F811
    web.post("/display", {"elder": "1", "next": "/"})
    for url in ("/", f"/campaigns/{review['campaign'].id}", f"/review/{review['campaign'].id}"):
        assert '<html lang="zh-CN" class="elder">' in web.client.get(url).get_data(as_text=True)


def test_display_choice_refuses_unknown_values_and_foreign_targets(web):
    assert web.post("/display", {"script": "latin"}).status_code == 400
    assert web.post("/display", {}).status_code == 400
    offsite = web.post("/display", {"elder": "1", "next": "https://evil.example/"})
    assert offsite.location.endswith("/") and "evil" not in offsite.location


def test_the_console_sender_is_refused_in_production(app, db, web, sms_review, caplog):
    # It would write phone numbers and codes to the log (ASVS V15.2.3, V16.2.5).
    from evaluation.models import SmsChallenge

    app.config.update(TESTING=False, PINGYI_ENV="production")
    url = f"/review/{sms_review['campaign'].id}/agencies/{sms_review['agencies'][0].id}/sms"
    with caplog.at_level(logging.INFO):
        response = web.post(url, {"phone": "13912345678"})
    assert response.status_code == 400
    assert "短信发送服务尚未配置" in response.get_data(as_text=True)
    assert "13912345678" not in caplog.text and "验证码是" not in caplog.text
    assert "event=sms_sender_not_configured" in caplog.text
    assert db.exec(select(SmsChallenge)).all() == []

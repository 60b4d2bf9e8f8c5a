"""The ballot lane (evaluation/ballot_lane.py) answers exactly as Flask's path does.

Each scenario runs twice on identical worlds (same ids): once through Flask alone
(BALLOT_LANE off), once with the lane; the answers (status, every header, the 303's body),
the stored ballots and their audit events must be the same, and the lane must have taken the
part the scenario is about (`ANSWERED` in each POST's environ, recorded by `Posts`).
"""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import Session, select
from test_ballots import ballot_url, cast, open_review, shown_token
from webclient import Browserless, csrf_token

from evaluation import ballot_lane
from evaluation.audit import verify_chain
from evaluation.models import AuditEvent, Ballot
from evaluation.services import ballot_setup, vote_codes
from evaluation.services import ballots as ballot_service

# Differ between two runs by nature: times, and the digest of the random device cookie.
VOLATILE = {"cast_at", "fill_ms", "device"}


def _same_in_both_runs(name: str, value: str) -> tuple[str, str]:
    """A page Flask rendered in both runs carries fresh tokens, cookies and expiry times."""
    if name == "Set-Cookie":
        cookie, _value = value.split(";", 1)[0].split("=", 1)
        kept = [a for a in value.split("; ")[1:] if not a.startswith("Expires=")]
        return name, "; ".join([cookie, *kept])
    return name, value


def _answer(response) -> dict:
    headers = list(response.headers.items())
    if response.status_code != 303:  # a page rendered by Flask in both runs: its tokens
        headers = [
            _same_in_both_runs(name, value)
            for name, value in headers
            if name not in ("Content-Length", "Retry-After")
        ]
    return {
        "status": response.status_code,
        "headers": headers,
        "body": response.get_data() if response.status_code == 303 else None,
    }


def _steady(columns: dict) -> dict:
    """The columns without the volatile ones; a fill time quarantined as too fast is "n
    seconds" of each run's own speed."""
    kept = {k: v for k, v in columns.items() if k not in VOLATILE}
    if kept.get("quarantine_reason"):
        kept["quarantine_reason"] = [
            [reason, {k: v for k, v in params.items() if k != "seconds"}]
            for reason, params in json.loads(kept["quarantine_reason"])
        ]
    return kept


def _stored(db) -> tuple[list, list]:
    db.expire_all()
    ballots = [_steady(row.model_dump()) for row in db.exec(select(Ballot).order_by(Ballot.id))]
    events = [
        (e.action, e.object_type, e.object_id, re.sub(r"^(user:\d+):.*", r"\1", e.actor),
         _steady(json.loads(e.payload)))
        for e in db.exec(
            select(AuditEvent)
            .where(AuditEvent.object_type.in_(("public_ballot", "public_ballot_point")))
            .order_by(AuditEvent.seq)
        ).all()
    ]
    assert verify_chain(db).ok
    return ballots, events


class Posts:
    """WSGI middleware recording what the lane did with each POST (the test client copies
    the environ it is given, so the response's own request cannot tell)."""

    def __init__(self, app):
        self.inner, self.seen = app.wsgi_app, []
        app.wsgi_app = self

    def __call__(self, environ, start_response):
        try:
            return self.inner(environ, start_response)
        finally:
            if environ["REQUEST_METHOD"] == "POST":
                self.seen.append(environ.get(ballot_lane.ANSWERED))


def twice(new_app, tmp_path, scenario, **settings):
    """`scenario(app, web, world, db) -> [responses]` through Flask alone, then with the lane:
    ({"answers", "rows", "lane"} of each)."""
    runs = []
    for lane in (False, True):
        directory = tmp_path / ("lane" if lane else "flask")
        directory.mkdir()
        app = new_app(directory, BALLOT_LANE=lane, **settings)
        with Session(app.extensions["pingyi_db"], expire_on_commit=False) as db:
            world, posts = open_review(app, db), Posts(app)
            responses = scenario(app, Browserless(app.test_client()), world, db)
            runs.append({
                "answers": [_answer(r) for r in responses],
                "rows": _stored(db),
                "lane": posts.seen,
            })
    flask, lane = runs
    assert set(flask["lane"]) <= {"flask", None}  # the lane was off: Flask answered all
    assert lane["answers"] == flask["answers"]
    assert lane["rows"] == flask["rows"]
    return flask, lane


def _post(web, world, data: dict, **kwargs):
    url = ballot_url(world)
    return web.client.post(url, data={"shown": shown_token(web.client, url), **data}, **kwargs)


def test_a_valid_ballot_is_answered_by_the_lane_as_flask_answers_it(new_app, tmp_path):
    flask, lane = twice(new_app, tmp_path, lambda app, web, world, db: [
        cast(web, world, world["codes"][0]),
        cast(web, world, world["codes"][1], wait=False),  # quarantined: stored too
    ])
    assert lane["lane"] == ["lane", "lane"]
    assert [a["status"] for a in lane["answers"]] == [303, 303]
    ballots, events = lane["rows"]
    assert [b["status"] for b in ballots] == ["valid", "quarantined"]
    assert [(e[0], e[1], e[3]) for e in events] == [("create", "public_ballot", "anonymous")] * 2
    headers = dict(lane["answers"][0]["headers"])
    assert headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert headers["Vary"] == "Cookie" and "Set-Cookie" not in headers


def test_a_duplicate_is_refused_by_flask_after_the_lane_tried(new_app, tmp_path):
    def scenario(app, web, world, db):
        code = world["codes"][0]
        return [cast(web, world, code), cast(web, world, code, "dissatisfied")]

    flask, lane = twice(new_app, tmp_path, scenario)
    assert lane["lane"] == ["lane", "flask: refused"]
    assert [a["status"] for a in lane["answers"]] == [303, 409]
    assert len(lane["rows"][0]) == 1 and len(lane["rows"][1]) == 1


@pytest.mark.parametrize("token", ["forged", "other session", "missing"])
def test_a_bad_csrf_token_is_left_to_flask_wtf(new_app, tmp_path, token):
    def scenario(app, web, world, db):
        data = {"code": world["codes"][0], "level": "satisfied"}
        if token == "forged":
            data["csrf_token"] = "IjAxMjM0NTY3ODki.Zz.forged"
        elif token == "other session":
            data["csrf_token"] = csrf_token(app.test_client())
        return [_post(web, world, data)]

    flask, lane = twice(new_app, tmp_path, scenario)
    assert lane["lane"] == ["flask"]
    assert lane["answers"][0]["status"] == 400 and lane["rows"] == ([], [])


@pytest.mark.parametrize(
    ("referrer", "answered_by", "status"),
    [
        (None, "flask", 400),
        ("https://evil.example/", "flask", 400),
        ("https://localhost/", "lane", 303),
    ],
)
def test_over_https_the_referrer_is_checked_as_flask_wtf_does(
    new_app, tmp_path, referrer, answered_by, status
):
    def scenario(app, web, world, db):
        url, https = ballot_url(world), {"base_url": "https://localhost"}
        shown = shown_token(web.client, url)  # sets the session and device cookies
        data = {"code": world["codes"][0], "level": "satisfied", "shown": shown,
                "csrf_token": csrf_token(web.client, **https)}
        headers = {"Referer": referrer} if referrer else {}
        return [web.client.post(url, data=data, headers=headers, **https)]

    flask, lane = twice(new_app, tmp_path, scenario)
    assert lane["lane"] == [answered_by]
    assert lane["answers"][0]["status"] == status
    if status == 303:
        headers = dict(lane["answers"][0]["headers"])
        assert headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("level", ["", "excellent"])
def test_a_missing_or_bad_field_is_worded_by_flask(new_app, tmp_path, level):
    flask, lane = twice(new_app, tmp_path, lambda app, web, world, db: [
        cast(web, world, world["codes"][0], level)
    ])
    assert lane["lane"] == ["flask: refused"]
    assert lane["answers"][0]["status"] == 400 and lane["rows"] == ([], [])


def test_over_the_limit_flask_answers_429_and_no_hit_is_counted_twice(new_app, tmp_path):
    def scenario(app, web, world, db):
        app.config["BALLOT_LIMIT_PER_IDENTITY"] = "3 per minute"
        return [cast(web, world, world["codes"][0]) for _ in range(5)]

    flask, lane = twice(new_app, tmp_path, scenario)
    # Counted twice, the third attempt would already be over the limit.
    assert [a["status"] for a in lane["answers"]] == [303, 409, 409, 429, 429]
    assert lane["lane"] == ["lane", "flask: refused", "flask: refused", "flask: limited",
                            "flask: limited"]
    assert ("Retry-After", "") not in lane["answers"][3]["headers"]


def test_a_closed_stage_and_a_revoked_code_are_refused_by_flask(new_app, tmp_path):
    def scenario(app, web, world, db):
        with app.test_request_context():
            vote_codes.revoke_batch(db, world["stage"], 1, "organizer")
        revoked = cast(web, world, world["codes"][0])
        with app.test_request_context():
            ballot_setup.close_voting(db, world["stage"])
        return [revoked, cast(web, world, world["codes"][1])]

    flask, lane = twice(new_app, tmp_path, scenario)
    assert [a["status"] for a in lane["answers"]] == [400, 409]
    assert lane["lane"] == ["flask: refused"] * 2 and lane["rows"] == ([], [])


def test_an_oversize_body_is_left_to_flask(new_app, tmp_path):
    def scenario(app, web, world, db):
        padding = "x" * app.config["MAX_CONTENT_LENGTH"]
        return [_post(web, world, {"code": world["codes"][0], "level": "satisfied",
                                   "csrf_token": csrf_token(web.client), "pad": padding})]

    flask, lane = twice(new_app, tmp_path, scenario, MAX_CONTENT_LENGTH=4096)
    assert lane["lane"] == ["flask"]
    assert lane["answers"][0]["status"] == 413 and lane["rows"] == ([], [])


def test_other_requests_go_to_flask_untouched(new_app, tmp_path):
    def scenario(app, web, world, db):
        url = ballot_url(world)
        campaign, agency = world["campaign"].id, world["agencies"][0].id
        data = {"code": world["codes"][0], "level": "satisfied",
                "csrf_token": csrf_token(web.client)}
        return [
            web.client.get(url),
            web.client.post(f"/review/{campaign}/agencies/0{agency}", data=data),
            web.client.post(f"{url}?lang=en", data=data),
            web.client.post(f"{url}/sms", data={**data, "phone": "13800000000"}),
        ]

    flask, lane = twice(new_app, tmp_path, scenario)
    # The query string: Flask decides (here: another agency's page refused the ballot).
    assert lane["lane"] == [None, None, None]


def test_a_logged_in_voter_goes_through_flask(new_app, tmp_path):
    def scenario(app, web, world, db):
        assert web.login(world["organizer"].username).status_code == 302
        return [cast(web, world, world["codes"][0])]

    flask, lane = twice(new_app, tmp_path, scenario)
    assert lane["lane"] == [None, "flask"]  # the login, the ballot
    assert lane["answers"][0]["status"] == 303
    assert ("Cache-Control", "no-store") in lane["answers"][0]["headers"]


def test_an_unexpected_error_in_the_lane_is_flasks_500_and_not_retried(
    new_app, tmp_path, monkeypatch
):
    calls = []

    def broken(*args, **kwargs):
        calls.append(1)
        raise RuntimeError("disk gone")

    monkeypatch.setattr(ballot_service, "_store", broken)  # the write, on every path
    flask, lane = twice(new_app, tmp_path, lambda app, web, world, db: [
        cast(web, world, world["codes"][0])
    ])
    assert lane["lane"] == ["flask: failed"]
    assert lane["answers"][0]["status"] == 500
    assert len(calls) == 2  # once per run: Flask re-raised the lane's error, did not retry


def test_an_unreviewed_hook_turns_the_lane_off(app, web, db):
    world, ran = open_review(app, db), []
    app.before_request(lambda: ran.append(1))
    posts = Posts(app)
    assert cast(web, world, world["codes"][0]).status_code == 303
    assert posts.seen == ["flask"] and ran


def test_the_lane_sits_inside_proxy_fix(new_app, tmp_path):
    """Behind the proxy, the lane sees the client's address: the network screening counts."""
    app = new_app(tmp_path, PROXY_FIX=True)
    assert isinstance(app.wsgi_app.app, ballot_lane.BallotLane)  # ProxyFix(lane)
    with Session(app.extensions["pingyi_db"], expire_on_commit=False) as db:
        world, posts = open_review(app, db), Posts(app)
        web = Browserless(app.test_client())
        url = ballot_url(world)
        data = {"code": world["codes"][0], "level": "satisfied",
                "shown": shown_token(web.client, url)}
        response = web.post(url, data, headers={"X-Forwarded-For": "203.0.113.9"})
        assert response.status_code == 303 and posts.seen == ["lane"]
        assert db.exec(select(Ballot.network)).one() == "203.0.113.0/24"


# Flask-WTF 1.3.0's validate_csrf, CSRFProtect.protect and same_origin, as reviewed for the
# lane's `_csrf_valid` (docs/security.md, "Public ballot lane").
REVIEWED_CSRF_SOURCE = "61ebe91edd070faaa990241179798c9a149b9ef17bcd2f71fcc3714caf011b53"


def test_the_lanes_csrf_check_follows_the_reviewed_flask_wtf():
    """The lane does Flask-WTF's CSRF check itself (Flask-WTF's needs a request context). A
    stricter rule in a later Flask-WTF would not be in the lane: when this fails, compare
    the new code with `ballot_lane._csrf_valid`, carry any new rule over, then record the
    new digest here and the version in docs/security.md."""
    import hashlib
    import inspect

    from flask_wtf import csrf

    source = "".join(inspect.getsource(function) for function in (
        csrf.validate_csrf, csrf.CSRFProtect.protect, csrf.same_origin))
    assert hashlib.sha256(source.encode()).hexdigest() == REVIEWED_CSRF_SOURCE

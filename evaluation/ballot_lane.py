"""The public ballot POST answered beside Flask's request cycle (a WSGI lane, like
live.overlays.FeedLane): the one request of a public review that arrives by the thousand.

Flask's own per-request machinery (request and session contexts, URL matching, a dozen hooks,
the response object) was a quarter of a ballot's CPU (bench/ballots_cpu.py, 2026-11-28). The
lane recognises exactly `POST /review/<campaign>/agencies/<agency>` and runs what Flask's
path runs, through the same functions: the session cookie opened by the application's own
session interface, the CSRF token checked as Flask-WTF checks it (`_csrf_valid`), the three
rate-limit layers (`ballot_limits.count_limits`), then the ballot itself
(`ballot_cast.store_cast`: identity, choice, screening, the group commit with its audit
events), in an application context. It answers only a stored ballot: the 303 to the thanks
page, with the headers Flask's answer carries (tests/test_ballot_lane.py compares them).

Everything else goes to Flask, with the body it read put back:
- any request the lane is not sure about, before anything was counted or written: another
  route or method, a query string, a body that is not a small urlencoded form, a logged-in
  or permanent session, a CSRF token the lane does not accept (Flask-WTF then refuses it in
  its own words), an application whose hooks are not the ones listed in `_SKIPPED_HOOKS`;
- a breached rate limit: the lane leaves the breach in the environ (`LIMITS_COUNTED`) and
  Flask answers the 429 with the layer's message, so no hit is counted twice;
- a refused ballot (nothing was stored): Flask runs the ballot again and re-shows the form
  with the reason, in the voter's language (`LIMITS_COUNTED` says the limits were counted);
- an unexpected error: Flask's view raises it again (`LANE_FAILED`), Flask's 500 answer.

Security review: docs/security.md, "Public ballot lane".
"""

from __future__ import annotations

import hmac
import io
import logging
import re
from dataclasses import dataclass
from functools import lru_cache

from flask import Flask
from flask_wtf.csrf import same_origin
from itsdangerous import BadData, URLSafeTimedSerializer
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_cookie, parse_options_header
from werkzeug.sansio.utils import get_host
from werkzeug.utils import redirect

from evaluation import ballot_cast, ballot_limits, security
from evaluation.audit import acting_as
from evaluation.services.ballots import BallotRefused

logger = logging.getLogger(__name__)

# Positive integers of at most nine digits, written as the int converter writes them: any
# other spelling (leading zeros, a sign, huge numbers) is Flask's to answer.
BALLOT_POST = re.compile(r"/review/([1-9][0-9]{0,8})/agencies/([1-9][0-9]{0,8})")
ENDPOINT = "ballots.cast"
FORM = "application/x-www-form-urlencoded"
ANSWERED = "pingyi.ballot_lane"  # in the environ: what the lane did (tests read it)
LANE_FAILED = "pingyi.ballot_lane_failed"  # an unexpected error of the lane's attempt

# The hooks Flask runs for a ballot POST, and why the lane may skip each. Any other hook (one
# added later) turns the lane off: a skipped check must be a decision, not an accident.
_SKIPPED_HOOKS = {
    "before_request": {
        # Flask-WTF's check: `_csrf_valid`, the same checks; a failure is Flask's to answer.
        "CSRFProtect.init_app.<locals>.csrf_protect",
        # Flask-Limiter's: skipped for ballot POSTs anyway (ballot_limits.skip_limiter_hooks;
        # with application-wide limits the lane is off, `_lane_applies`).
        "Limiter._check_request_limit",
        # Names the audit actor: the lane takes anonymous sessions only and acts as anonymous.
        "init_login.<locals>.name_the_actor",
        # Only the account pages (auth.*) are concerned.
        "init_login.<locals>.temporary_password_first",
    },
    "after_request": {
        # Flask-Limiter's headers: skipped for ballot POSTs (as above).
        "_unless_counted_by_the_view.<locals>.run",
        # 繁體 conversion of public pages: the 303's body is ASCII (a URL), unchanged by it.
        "_convert_public_page",
        # Flask-Login's remember cookie: nothing to do without `_remember` in the session and
        # without REMEMBER_COOKIE_REFRESH_EACH_REQUEST (the lane checks both).
        "LoginManager._update_remember_cookie",
        # The security headers: the lane sends `security.standard_headers` (no query string,
        # no logged-in user: the only cases where add_headers adds more).
        "add_headers",
        # ballot_limits.retry_after_header: 429 only, which Flask answers.
        "retry_after_header",
    },
    "teardown_request": {"Limiter.__release_context"},  # skipped for ballot POSTs
    # The database session: the lane's application context closes it the same way.
    "teardown_appcontext": {"close_session"},
    "url_value_preprocessors": set(),
    "url_default_functions": set(),
}


@dataclass(frozen=True)
class BallotPost:
    """What the ballot's checks read of a request (Flask's request has the same names)."""

    form: ImmutableMultiDict
    cookies: ImmutableMultiDict
    remote_addr: str | None
    environ: dict


class BallotLane:
    """WSGI middleware in front of the Flask application (inside ProxyFix, so the client's
    address and scheme are already the proxy's word)."""

    def __init__(self, app: Flask, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self._hooks_checked: bool | None = None

    def __call__(self, environ, start_response):
        if environ.get("REQUEST_METHOD") != "POST":
            return self.wsgi_app(environ, start_response)
        found = BALLOT_POST.fullmatch(environ.get("PATH_INFO", ""))
        if found is None or environ.get("QUERY_STRING"):
            return self.wsgi_app(environ, start_response)
        answer = self._serve(environ, int(found[1]), int(found[2]))
        if answer is None:
            return self.wsgi_app(environ, start_response)
        status, headers, body = answer
        start_response(status, headers)
        return [body]

    def _serve(self, environ, campaign_id: int, agency_id: int):
        """The answer to a stored ballot, or None: Flask's to answer (see the module)."""
        app = self.app
        environ[ANSWERED] = "flask"
        if not self._applies():
            return None
        body = _small_form_body(environ, app.config)
        if body is None:
            return None
        environ["wsgi.input"] = io.BytesIO(body)  # Flask reads it again if it answers
        post = BallotPost(
            _parse_form(body, app.config),
            parse_cookie(environ.get("HTTP_COOKIE", ""), cls=ImmutableMultiDict),
            environ.get("REMOTE_ADDR"),
            environ,
        )
        with app.app_context():
            try:
                if not self._admitted(post):
                    return None
                breach = ballot_limits.count_limits(post, ENDPOINT)
                environ[ballot_limits.LIMITS_COUNTED] = (ENDPOINT, breach)
                if breach is not None:
                    environ[ANSWERED] = "flask: limited"
                    return None
                with acting_as("anonymous"):  # as name_the_actor names an anonymous voter
                    ballot_cast.store_cast(post, campaign_id, agency_id)
            except (BallotRefused, HTTPException):
                environ[ANSWERED] = "flask: refused"  # nothing stored: Flask words it
                return None
            except Exception as failed:  # noqa: BLE001 - e.g. the limits' storage is down
                environ[LANE_FAILED] = failed  # Flask's view raises it again
                environ[ANSWERED] = "flask: failed"
                return None
        environ[ANSWERED] = "lane"
        script_root = environ.get("SCRIPT_NAME", "").rstrip("/")
        url = ballot_cast.thanks_url(app.url_map, script_root, campaign_id, agency_id)
        return _see_other(url, _is_secure(environ), app.config.get("HSTS_MAX_AGE"))

    def _applies(self) -> bool:
        """The settings under which the lane does what Flask's path does; otherwise Flask."""
        if self._hooks_checked is None:
            self._hooks_checked = _hooks_are_known(self.app)
        config = self.app.config
        return bool(
            self._hooks_checked
            and config["BALLOT_LANE"]
            and config.get("WTF_CSRF_ENABLED", True)
            and config.get("WTF_CSRF_CHECK_DEFAULT", True)
            and "POST" in config.get("WTF_CSRF_METHODS", ())
            and config.get("TRUSTED_HOSTS") is None
            and not config.get("REMEMBER_COOKIE_REFRESH_EACH_REQUEST")
            and not any(config.get(key) for key in ballot_limits.APP_WIDE_LIMITS)
            and self.app.secret_key
        )

    def _admitted(self, post: BallotPost) -> bool:
        """An anonymous session (as Flask's session interface opens it) whose CSRF token
        the form carries; anything else is Flask's to answer."""
        app = self.app
        session = app.session_interface.open_session(app, post)
        if session is None or session.permanent or "_user_id" in session:
            return False  # a permanent session's cookie is re-sent; a user is loaded
        if "_remember" in session:
            return False
        if app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in post.cookies:
            return False
        return _csrf_valid(app, session, post)


def _hooks_are_known(app: Flask) -> bool:
    found = {
        "before_request": app.before_request_funcs,
        "after_request": app.after_request_funcs,
        "teardown_request": app.teardown_request_funcs,
        "url_value_preprocessors": app.url_value_preprocessors,
        "url_default_functions": app.url_default_functions,
    }
    for kind, by_blueprint in found.items():
        names = {
            getattr(hook, "__qualname__", repr(hook))
            for blueprint in (None, "ballots")
            for hook in by_blueprint.get(blueprint, ())
        }
        if not names <= _SKIPPED_HOOKS[kind]:
            logger.warning("ballot lane off: unreviewed %s hooks %s", kind,
                           sorted(names - _SKIPPED_HOOKS[kind]))
            return False
    names = {getattr(hook, "__qualname__", repr(hook)) for hook in app.teardown_appcontext_funcs}
    if not names <= _SKIPPED_HOOKS["teardown_appcontext"]:
        logger.warning("ballot lane off: unreviewed teardown hooks %s", sorted(names))
        return False
    return True


def _small_form_body(environ, config) -> bytes | None:
    """The body of an urlencoded form within every size limit Flask applies, read whole;
    None (nothing read) for anything else: Flask answers it (413 for too large)."""
    mimetype, _options = parse_options_header(environ.get("CONTENT_TYPE", ""))
    if mimetype.lower() != FORM:  # as werkzeug's Request.mimetype
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH", ""))
    except ValueError:
        return None  # no length (chunked): Flask's stream handling
    limits = (config.get("MAX_CONTENT_LENGTH"), config.get("MAX_FORM_MEMORY_SIZE"))
    if length < 0 or any(limit is not None and length > limit for limit in limits):
        return None
    body = environ["wsgi.input"].read(length)
    if len(body) != length:  # the client stopped short: Flask answers that too
        environ["wsgi.input"] = io.BytesIO(body)
        return None
    return body


def _parse_form(body: bytes, config) -> ImmutableMultiDict:
    """Werkzeug's own form parser, with Flask's limits: the form Flask's request.form is."""
    parser = FormDataParser(
        max_form_memory_size=config.get("MAX_FORM_MEMORY_SIZE"),
        max_content_length=config.get("MAX_CONTENT_LENGTH"),
        max_form_parts=config.get("MAX_FORM_PARTS"),
        cls=ImmutableMultiDict,
    )
    _stream, form, _files = parser.parse(io.BytesIO(body), FORM, len(body), {})
    return form


def _is_secure(environ) -> bool:
    return environ.get("wsgi.url_scheme") in ("https", "wss")  # as werkzeug's is_secure


def _csrf_valid(app: Flask, session, post: BallotPost) -> bool:
    """Flask-WTF's CSRFProtect.protect for a token in the form field (flask_wtf/csrf.py,
    1.3): the token signed with WTF_CSRF_SECRET_KEY (else SECRET_KEY, no fallbacks) and the
    salt "wtf-csrf-token", younger than WTF_CSRF_TIME_LIMIT, equal to the session's; over
    https (WTF_CSRF_SSL_STRICT) a Referer of the same origin. False for anything Flask-WTF
    would refuse (and for a token elsewhere than the form field, which it would look for)."""
    config = app.config
    field_name = config.get("WTF_CSRF_FIELD_NAME", "csrf_token")
    token = post.form.get(field_name)
    expected = session.get(field_name)
    if not token or not isinstance(expected, str):
        return False
    secret = config.get("WTF_CSRF_SECRET_KEY", app.secret_key)
    if not secret:
        return False
    try:
        signed = _csrf_serializer(secret).loads(
            token, max_age=config.get("WTF_CSRF_TIME_LIMIT", 3600)
        )
    except BadData:
        return False
    if not isinstance(signed, str) or not hmac.compare_digest(
        expected.encode("utf-8"), signed.encode("utf-8")
    ):
        return False
    environ = post.environ
    if _is_secure(environ) and config.get("WTF_CSRF_SSL_STRICT", True):
        referrer = environ.get("HTTP_REFERER")
        server = (environ.get("SERVER_NAME", ""), int(environ.get("SERVER_PORT") or 0))
        host = get_host(environ.get("wsgi.url_scheme", "http"), environ.get("HTTP_HOST"), server)
        if not referrer or not same_origin(referrer, f"https://{host}/"):
            return False
    return True


@lru_cache(maxsize=8)
def _csrf_serializer(secret) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="wtf-csrf-token")


@lru_cache(maxsize=1024)
def _see_other(url: str, secure: bool, hsts_max_age) -> tuple[str, list, bytes]:
    """The 303 Flask answers a stored ballot with (werkzeug's redirect, the security headers
    add_headers sets, the Vary: Cookie of a session that was read), made once per URL."""
    response = redirect(url, 303)
    for name, value in security.standard_headers(secure, hsts_max_age).items():
        response.headers.setdefault(name, value)
    response.vary.add("Cookie")
    return response.status, response.headers.to_wsgi_list(), response.get_data()


def install(app: Flask) -> None:
    """Put the lane in front of the application (call before ProxyFix wraps it)."""
    app.wsgi_app = BallotLane(app, app.wsgi_app)

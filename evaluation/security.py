"""Response headers and cookie security that every page gets.

Cookies in production carry the `__Host-` prefix (ASVS V3.3.1, V3.3.3): the browser then
accepts them only with `Secure`, `Path=/` and no `Domain`, so neither plain http nor a
sibling subdomain can plant or overwrite them. `COOKIE_HOST_PREFIX` (default: on in
production, off in development and tests, where the server is plain http on localhost)
switches it; every cookie pingyi sets goes through `cookie_name` / `cookie_secure`.
"""

from __future__ import annotations

import hashlib
import time
from functools import lru_cache

from flask import Flask, current_app, g, request
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature
from itsdangerous.encoding import want_bytes
from werkzeug.middleware.proxy_fix import ProxyFix

from evaluation.config import is_production

# Scripts and styles come from our own static files only: no inline script can run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'self'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "SAMEORIGIN",
}


HOST_PREFIX = "__Host-"


def host_prefix_on(config) -> bool:
    setting = config.get("COOKIE_HOST_PREFIX")
    return is_production(config) if setting is None else bool(setting)


def cookie_name(base: str, config=None) -> str:
    """The name a cookie of ours has in this deployment (`__Host-` prefixed in production).
    `config`: the application's (default: the current one's)."""
    return HOST_PREFIX + base if host_prefix_on(config or current_app.config) else base


def cookie_secure() -> bool:
    """Secure over https, and always with the prefix (a `__Host-` cookie must be Secure)."""
    return host_prefix_on(current_app.config) or request.is_secure


# Verified session cookies remembered per key set (HttpsAwareSessionInterface.open_session):
# about 0.3 KB each; past this many the set starts over.
VERIFIED_COOKIES = 20_000
_IMMUTABLE = (str, int, float, bool, type(None))  # exact types: no subclass


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over https, and names it
    `__Host-session` (Secure, Path=/, no Domain) where the prefix is on.

    Signed with HMAC-SHA-256 rather than Flask's default SHA-1 (ASVS V11.4.1).
    """

    digest_method = staticmethod(hashlib.sha256)

    def _prefixed(self, app: Flask) -> bool:
        return host_prefix_on(app.config)

    def get_cookie_name(self, app: Flask) -> str:
        return cookie_name(app.config["SESSION_COOKIE_NAME"], app.config)

    def get_cookie_secure(self, app: Flask) -> bool:
        return (
            bool(app.config["SESSION_COOKIE_SECURE"]) or self._prefixed(app) or request.is_secure
        )

    def get_cookie_domain(self, app: Flask) -> str | None:
        # A __Host- cookie must not name a domain (the browser refuses it otherwise).
        return None if self._prefixed(app) else super().get_cookie_domain(app)

    def get_cookie_path(self, app: Flask) -> str:
        return "/" if self._prefixed(app) else super().get_cookie_path(app)

    def get_signing_serializer(self, app: Flask):
        """Flask's serializer, made once per key set instead of per request: making one costs
        as much as verifying the cookie (itsdangerous probes its JSON module each time; a
        public ballot's CPU, bench/ballots_cpu.py, 2026-11-28). It keeps no state between
        calls. Changing SECRET_KEY or its fallbacks (tests do) makes a new one, and with it
        a new, empty set of verified cookies (`open_session`)."""
        return self._for_key_set(app)[1]

    def _for_key_set(self, app: Flask) -> tuple:
        keys = (tuple(app.config["SECRET_KEY_FALLBACKS"] or ()), app.secret_key)
        cached = self.__dict__.get("_serializer")
        if cached is None or cached[0] != keys:
            cached = self._serializer = (keys, super().get_signing_serializer(app), {})
        return cached

    def open_session(self, app: Flask, req) -> SecureCookieSession | None:
        """Flask's `open_session`, verifying a cookie's signature once per key set.

        Verifying the signature (HMAC-SHA-256, each key of the set tried) was ~6% of a
        served public ballot's samples (py-spy --gil, bench/ballots_bench.py, 2026-11-28),
        and a voter's cookie stays the same from one ballot to the next. A verified cookie's
        signing time and payload are remembered, keyed by the cookie's exact text, in a set
        that belongs to the key set (a new SECRET_KEY or fallback list starts an empty one).
        Nothing else is skipped: the age is checked again at every request, as itsdangerous
        checks it (`TimestampSigner.unsign`: whole seconds now minus the signing time, more
        than the session lifetime or negative is refused). Each request gets a session of
        its own: the payload is decoded again, unless every value is a string, number, bool
        or None (an anonymous voter's CSRF token), which no request can change in place.
        Anything not remembered, and a remembered cookie that has expired, takes Flask's own
        path. Review: docs/security.md, "Session cookies verified once"."""
        _keys, serializer, verified = self._for_key_set(app)
        if serializer is None:
            return None
        value = req.cookies.get(self.get_cookie_name(app))
        if not value:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        found = verified.get(value)
        if found is not None:
            signed_at, flat, payload = found
            if 0 <= int(time.time()) - signed_at <= max_age:
                return self.session_class(flat if flat is not None
                                          else serializer.load_payload(payload))
        try:
            data, signed = serializer.loads(value, max_age=max_age, return_timestamp=True)
        except BadSignature:
            return self.session_class()
        if len(verified) >= VERIFIED_COOKIES:
            verified.clear()  # bounded; the next requests verify again
        # The payload as itsdangerous split it: before the timestamp and the signature.
        sep = want_bytes(serializer.make_signer().sep)
        flat = dict(data) if isinstance(data, dict) and all(
            type(item) in _IMMUTABLE for item in data.values()) else None
        verified[value] = (int(signed.timestamp()), flat, want_bytes(value).rsplit(sep, 2)[0])
        return self.session_class(data)


@lru_cache(maxsize=8)
def standard_headers(secure: bool, hsts_max_age) -> dict[str, str]:
    """The headers every answer carries unless it set its own (read-only: shared): added by
    `add_headers` to Flask's answers, by evaluation.ballot_lane to the 303 it makes itself.
    `hsts_max_age`: the HSTS_MAX_AGE setting."""
    headers = dict(HEADERS)
    if secure and hsts_max_age:
        headers["Strict-Transport-Security"] = f"max-age={int(hsts_max_age)}; includeSubDomains"
    return headers


def add_headers(response):
    secure, hsts_max_age = request.is_secure, current_app.config.get("HSTS_MAX_AGE")
    for name, value in standard_headers(secure, hsts_max_age).items():
        response.headers.setdefault(name, value)
    if request.query_string and "token" in request.args:  # most requests have no query
        # Live pages and feeds opened with ?token=… (OBS/vMix browser sources cannot send a
        # header): no Referer at all, so the token never reaches another request's headers,
        # not even our own static files' (same-origin would send the full URL).
        response.headers["Referrer-Policy"] = "no-referrer"
    # Only a user this request already loaded (every page that renders the header does):
    # loading one here would cost static files a query, and could fail on an error page.
    user = g.get("_login_user")
    if user is not None and user.is_authenticated and request.endpoint != "static":
        # Pages of a logged-in user stay out of shared and back-button caches (V14.3.2).
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.session_interface = HttpsAwareSessionInterface()
    if host_prefix_on(app.config):
        # Flask-Login reads these per request; pingyi sets no remember cookie today, but one
        # added later must not be the one unprefixed cookie.
        app.config["REMEMBER_COOKIE_NAME"] = HOST_PREFIX + app.config.get(
            "REMEMBER_COOKIE_NAME", "remember_token"
        ).removeprefix(HOST_PREFIX)
        app.config["REMEMBER_COOKIE_SECURE"] = True
        app.config["REMEMBER_COOKIE_DOMAIN"] = None
        app.config["REMEMBER_COOKIE_PATH"] = "/"
    app.after_request(add_headers)
    if app.config.get("PROXY_FIX"):
        # Behind nginx/Caddy: trust one proxy hop for the client address and the scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

"""Response headers and cookie security that every page gets."""

from __future__ import annotations

import hashlib

from flask import Flask, current_app, g, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

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


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over https.

    Signed with HMAC-SHA-256 rather than Flask's default SHA-1 (ASVS V11.4.1).
    """

    digest_method = staticmethod(hashlib.sha256)

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def add_headers(response):
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if "token" in request.args:
        # Live pages and feeds opened with ?token=… (OBS/vMix browser sources cannot send a
        # header): no Referer at all, so the token never reaches another request's headers,
        # not even our own static files' (same-origin would send the full URL).
        response.headers["Referrer-Policy"] = "no-referrer"
    max_age = current_app.config.get("HSTS_MAX_AGE")
    if request.is_secure and max_age:
        response.headers.setdefault(
            "Strict-Transport-Security", f"max-age={int(max_age)}; includeSubDomains"
        )
    # Only a user this request already loaded (every page that renders the header does):
    # loading one here would cost static files a query, and could fail on an error page.
    user = g.get("_login_user")
    if user is not None and user.is_authenticated and request.endpoint != "static":
        # Pages of a logged-in user stay out of shared and back-button caches (V14.3.2).
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.session_interface = HttpsAwareSessionInterface()
    app.after_request(add_headers)
    if app.config.get("PROXY_FIX"):
        # Behind nginx/Caddy: trust one proxy hop for the client address and the scheme.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)

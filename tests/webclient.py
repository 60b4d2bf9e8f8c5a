"""Posting forms as a browser would: with the CSRF token the page carries."""

from __future__ import annotations

import re

CSRF_PATTERN = re.compile(
    r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"'
)


def csrf_token(client, **request_options) -> str:
    """Every page carries a token (the language switcher is a POST form)."""
    html = client.get("/", **request_options).get_data(as_text=True)
    match = CSRF_PATTERN.search(html)
    assert match, "no CSRF token on the home page"
    return match.group(1) or match.group(2)


class Browserless:
    """Log in and post forms the way a browser would: with the page's CSRF token."""

    def __init__(self, client):
        self.client = client

    def login(self, username: str, password: str = "correct horse 42"):
        return self.post("/login", {"username": username, "password": password})

    def logout(self):
        return self.post("/logout", {})

    def post(self, url: str, data: dict, **kwargs):
        return self.client.post(url, data={**data, "csrf_token": csrf_token(self.client)}, **kwargs)


def logged_in(app, username: str) -> Browserless:
    """A fresh client of `app`, logged in as `username` (the factories' password)."""
    web = Browserless(app.test_client())
    assert web.login(username).status_code == 302
    return web


"""Friendly error pages for people, JSON errors for programs."""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from evaluation.security_log import account, security_event

MESSAGES = {
    400: lambda: _("请求有误，请检查后重试。"),
    403: lambda: _("您没有权限访问此页面。"),
    404: lambda: _("页面不存在，或您无权查看。"),
    405: lambda: _("不支持此操作方式。"),
    413: lambda: _("上传的内容太大。"),
    429: lambda: _("操作过于频繁，请稍后再试。"),
    500: lambda: _("服务器出错了，我们已记录此问题。"),
}


def wants_json() -> bool:
    if request.path.startswith("/api/"):
        return True
    best = request.accept_mimetypes.best_match(["text/html", "application/json"])
    return (
        best == "application/json"
        and request.accept_mimetypes[best] > request.accept_mimetypes["text/html"]
    )


def _respond(code: int, detail: str | None = None):
    message = MESSAGES.get(code, MESSAGES[400])()
    if wants_json():
        body = {"error": {"code": code, "message": message}}
        if detail:
            body["error"]["detail"] = detail
        return jsonify(body), code
    return render_template("errors/error.html", code=code, message=message, detail=detail), code


def handle_http(exc: HTTPException):
    if exc.code is None or exc.code < 400:
        return exc
    # Only descriptions we wrote (abort(400, description=...)) are shown, not Werkzeug's stock text.
    custom = exc.description and exc.description != type(exc).description
    detail = exc.description if custom and exc.code in (400, 403, 404, 413, 429) else None
    if exc.code in SECURITY_EVENTS:
        security_event(SECURITY_EVENTS[exc.code], user=_who())
    return _respond(exc.code, detail)


# Refusals worth a line in the security log (404s of other organizations' objects are
# logged where they are decided: evaluation.access._owned_or_404).
SECURITY_EVENTS = {403: "authorization_failed", 429: "rate_limited"}


def _who() -> str | None:
    from flask import g

    user = g.get("_login_user")
    return account(user) if user is not None and user.is_authenticated else None


def handle_csrf(exc: CSRFError):
    security_event("csrf_failed", user=_who(), reason=exc.description)
    return _respond(400, _("表单已失效（安全令牌缺失或过期），请刷新页面后重新提交。"))


def handle_unexpected(exc: Exception):
    if isinstance(exc, HTTPException):
        return handle_http(exc)
    from flask import current_app

    current_app.logger.exception("unhandled error", exc_info=exc)
    return _respond(InternalServerError.code)


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf)
    app.register_error_handler(HTTPException, handle_http)
    app.register_error_handler(Exception, handle_unexpected)

"""The OpenAPI 3.1 description of the JSON HTTP API, served at /api/openapi.json.

Request bodies come from the same pydantic models the handlers validate with
(`model_json_schema`), so the document cannot drift from what the server accepts; the response
models below describe what the handlers answer, and tests/test_openapi.py fuzzes the app with
schemathesis against this document to keep both honest.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.json_schema import models_json_schema

REF = "#/components/schemas/{model}"


class MarkAck(BaseModel):
    """A stored (201) or already stored (200, `duplicate`) sheet."""

    ok: Literal[True]
    submission_id: int
    score_id: int | None = Field(description="null in a rehearsal session")
    slot_id: int
    revision: int
    duplicate: bool


class RefusalDetail(BaseModel):
    model_config = ConfigDict(extra="allow")  # e.g. submission_id of the sheet already stored

    code: str = Field(description="machine-readable, e.g. invalid_payload, already_submitted")
    message: str
    field: str | None = Field(default=None, description="the payload field at fault")


class LiveRefusalBody(BaseModel):
    """The live module's refusal: the same shape as a refused socket ack."""

    ok: Literal[False]
    error: RefusalDetail


class ErrorDetail(BaseModel):
    code: int
    message: str
    detail: str | None = None


class ApiError(BaseModel):
    """Any error answered to a program (under /api/, or asking for application/json)."""

    error: ErrorDetail


class JobStatus(BaseModel):
    """A background job (Excel import, report export) as its page polls it."""

    status: str
    progress: float = Field(ge=0)


def _schemas() -> dict:
    from live.payloads import MarkSubmission  # evaluation reaches into live only to describe it

    models = [MarkSubmission, MarkAck, LiveRefusalBody, ApiError, JobStatus]
    _, top = models_json_schema([(model, "validation") for model in models], ref_template=REF)
    return top["$defs"]


def _json(schema_name: str, description: str) -> dict:
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": REF.format(model=schema_name)}}}}


def _not_found(schema_name: str) -> dict:
    # An unknown id answers JSON; a path the router cannot match at all (e.g. a session id
    # that is not a number) gets the site's ordinary error page.
    response = _json(schema_name, "unknown session, job or path")
    response["content"]["text/html"] = {"schema": {"type": "string"}}
    return response


def _path_int(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "integer", "minimum": 0}}


def _path_text(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string", "pattern": r"^[^/]+$", "minLength": 1}}


def _refusals(*codes: int) -> dict:
    texts = {400: "malformed request", 401: "missing, unknown or expired token",
             403: "this token may not do that", 409: "sheet already submitted or client_id taken",
             422: "payload refused; error.field names the field at fault",
             429: "rate limit reached"}
    return {str(code): _json("LiveRefusalBody", texts[code]) for code in codes}


def _job_status(summary: str, prefix: str, extra_params: list[dict]) -> dict:
    return {"get": {
        "summary": summary, "tags": ["jobs"], "security": [{"organizerSession": []}],
        "parameters": [_path_int("campaign_id", "the campaign"), *extra_params,
                       _path_text("job_id", "the job id from the upload or export")],
        "responses": {
            "200": _json("JobStatus", "the job's state and progress"),
            "302": {"description": "not logged in: redirect to the login page"},
            "403": {"description": "not an organizer",
                    "content": {"text/html": {"schema": {"type": "string"}},
                                "application/json": {"schema": {"$ref": REF.format(
                                    model="ApiError")}}}},
            "404": _not_found("ApiError"),
        },
    }}


def _either(description: str, json_schema: dict) -> dict:
    """A refusal that is JSON from the handler, or the site's page from the framework
    (a missing CSRF token or login is refused before the handler runs)."""
    return {"description": description,
            "content": {"application/json": {"schema": json_schema},
                        "text/html": {"schema": {"type": "string"}}}}


def _inspection_draft() -> dict:
    line = {"type": "object", "properties": {"points": {"type": "string"},
                                             "notes": {"type": "string"}}}
    body = {"type": "object", "required": ["save_id", "base_version", "lines"], "properties": {
        "save_id": {"type": "string", "description": "generated by the device; a resend with "
                                                     "the same id stores nothing again"},
        "base_version": {"type": "integer", "description": "the draft version it was based on"},
        "lines": {"type": "object", "description": "indicator id → points and notes",
                  "additionalProperties": line},
    }}
    return {"post": {
        "summary": "save an inspector's checklist draft (the page sends it when online)",
        "tags": ["inspection"], "security": [{"inspectorSession": []}],
        "parameters": [_path_int("sheet_id", "the inspection sheet")],
        "requestBody": {"required": True, "content": {"application/json": {"schema": body}}},
        "responses": {
            "200": {"description": "saved (stored) or already saved under this save_id",
                    "content": {"application/json": {"schema": {
                        "type": "object", "required": ["draft", "stored"],
                        "properties": {"draft": {"type": "object"},
                                       "stored": {"type": "boolean"}}}}}},
            "302": {"description": "not logged in: redirect to the login page"},
            "400": _either("bad payload (errors name the field) or a missing CSRF token",
                           {"type": "object"}),
            "403": _either("not an inspector", {"type": "object"}),
            "404": _either("not this inspector's sheet", {"type": "object"}),
            "409": _either("another device saved in between: the server's version",
                           {"type": "object"}),
        },
    }}


def _paths() -> dict:
    session = _path_int("session_id", "the live session")
    feed_refusals = {"401": _json("LiveRefusalBody", "missing or wrong overlay/control token"),
                     "404": _not_found("LiveRefusalBody")}
    token = {"name": "token", "in": "query", "required": False,
             "description": "overlay or control token (or a Bearer header)",
             "schema": {"type": "string"}}
    table = {"name": "table", "in": "query", "required": False,
             "schema": {"type": "string", "enum": ["seats", "leaderboard"]}}
    feeds = {}
    for fmt, media in (("json", "application/json"), ("xml", "application/xml"),
                       ("csv", "text/csv")):
        body = {"type": "object"} if fmt == "json" else {"type": "string"}
        feeds[f"/live/{{session_id}}/feed.{fmt}"] = {"get": {
            "summary": f"the overlay's data feed as {fmt.upper()} (shape in live.feeds)",
            "tags": ["live"], "security": [{"feedToken": []}, {"judgeToken": []}],
            "parameters": [session, token, table],
            "responses": {"200": {"description": "the feed", "content": {media: {
                "schema": body}}},
                "304": {"description": "unchanged since the ETag in If-None-Match"},
                **feed_refusals},
        }}
    return {
        "/api/openapi.json": {"get": {
            "summary": "this document", "tags": ["api"], "security": [],
            "responses": {"200": {"description": "OpenAPI 3.1",
                                  "content": {"application/json": {
                                      "schema": {"type": "object"}}}}},
        }},
        "/live/{session_id}/marks": {"post": {
            "summary": "submit a judge's sheet (HTTP fallback of the submit_mark socket event)",
            "tags": ["live"], "security": [{"judgeToken": []}],
            "parameters": [session],
            "requestBody": {"required": True, "content": {"application/json": {
                "schema": {"$ref": REF.format(model="MarkSubmission")}}}},
            "responses": {
                "201": _json("MarkAck", "stored"),
                "200": _json("MarkAck", "already stored under this client_id (a resend)"),
                **_refusals(400, 401, 403, 409, 422, 429),
                "404": _not_found("LiveRefusalBody"),
            },
        }},
        **feeds,
        "/admin/campaigns/{campaign_id}/imports/{kind}/{job_id}/status.json": _job_status(
            "an Excel import's progress", "imports",
            [_path_text("kind", "agencies, indicators, judges or vote_codes")]),
        "/admin/campaigns/{campaign_id}/reports/jobs/{job_id}/status.json": _job_status(
            "a report export's progress", "reports", []),
        "/inspector/sheets/{sheet_id}/draft": _inspection_draft(),
    }


def build() -> dict:
    return {
        "openapi": "3.1.0",
        "info": {"title": "pingyi JSON API", "version": "1",
                 "description": "Live marks fallback, overlay feeds, background job status, "
                                "inspection drafts. "
                                "Errors under /api/ are JSON (ApiError)."},
        "paths": _paths(),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "judgeToken": {"type": "http", "scheme": "bearer",
                               "description": "the judge's seat token from the tablet link"},
                "feedToken": {"type": "apiKey", "in": "query", "name": "token",
                              "description": "overlay or control token"},
                "organizerSession": {"type": "apiKey", "in": "cookie", "name": "session",
                                     "description": "a logged-in organizer's session"},
                "inspectorSession": {"type": "apiKey", "in": "cookie", "name": "session",
                                     "description": "a logged-in inspector's session (and the "
                                                    "page's CSRF token in X-CSRFToken)"},
            },
        },
    }

"""Schemathesis against /api/openapi.json, in-process (WSGI), shared by tests/test_openapi.py
(a few cases per operation) and bench/fuzz_api.py (thousands).

A live session on its scoring segment, with judge, overlay and organizer credentials, so that
authorized calls reach the handlers. Every case is checked for: no 5xx, a documented status,
content type and body; and invalid mark sheets (as the server's own pydantic model judges them)
refused with 4xx with no score or live_submission row written.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import factories as f
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import func
from sqlmodel import Session, select
from webclient import Browserless

from evaluation.extensions import socketio
from evaluation.models import LiveSlot, LiveSubmission, Role, Score, StageKind, TokenKind
from evaluation.services.live_sessions import create_session, issue_device_token, issue_seat_tokens
from live.payloads import MarkSubmission

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@dataclass
class World:
    app: object
    engine: object
    live_id: int
    slot_ids: list[int]
    judge_tokens: list[str]
    overlay: str
    campaign_id: int
    organizer_cookie: str
    import_job: str = ""
    report_job: str = ""


def prepare_world(app, db) -> World:
    organization = f.org(db)
    campaign = f.campaign(db, organization)
    agencies = [f.agency(db, organization) for _ in range(3)]
    judges = [f.judge(db, campaign) for _ in range(5)]
    stage = f.stage(db, campaign, StageKind.ONSITE_REVIEW)
    live = create_session(db, stage, "接口模糊测试", [a.id for a in agencies],
                          [j.id for j in judges])
    seats = issue_seat_tokens(db, live)
    control = issue_device_token(db, live, TokenKind.CONTROL).token
    overlay = issue_device_token(db, live, TokenKind.OVERLAY).token
    director = socketio.test_client(app, namespace="/live",
                                    auth={"session": live.id, "token": control})
    _emit = lambda action, **kw: director.emit(  # noqa: E731
        "director", {"action": action, **kw}, namespace="/live", callback=True)
    assert _emit("select", position=0)["ok"]
    for _ in range(3):  # waiting -> report -> showcase -> scoring: marks are taken
        assert _emit("next")["ok"]
    director.disconnect(namespace="/live")
    organizer = f.user(db, Role.ORGANIZER, organization)
    web = Browserless(app.test_client())
    web.login(organizer.username)
    slot_ids = list(db.exec(select(LiveSlot.id).where(LiveSlot.session_id == live.id)
                            .order_by(LiveSlot.position)).all())
    import_job, report_job = _finished_jobs(app, campaign.id)
    return World(import_job=import_job, report_job=report_job, app=app,
                 engine=app.extensions["pingyi_db"], live_id=live.id,
                 slot_ids=slot_ids, judge_tokens=[seat.token for seat in seats.values()],
                 overlay=overlay, campaign_id=campaign.id,
                 organizer_cookie=web.client.get_cookie("session").value)


def _finished_jobs(app, campaign_id: int) -> tuple[str, str]:
    """A finished import and report export of the campaign, so status.json answers 200 too."""
    from pathlib import Path

    from evaluation import jobs
    from evaluation.services.report_jobs import KINDS as REPORT_KINDS

    ids = ("a" * 32, "b" * 32)
    for folder_key, job_id, kind in (("IMPORTS_FOLDER", ids[0], "agencies"),
                                     ("REPORTS_FOLDER", ids[1], sorted(REPORT_KINDS)[0])):
        folder = Path(app.config[folder_key])  # set by the caller: never the instance folder
        jobs.write_job(jobs.job_path(folder, job_id),
                       {"campaign_id": campaign_id, "kind": kind, "status": "done",
                        "progress": 1})
    return ids


@dataclass
class Tally:
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    seconds: float = 0.0


def stored_rows(engine) -> tuple[int, int]:
    with Session(engine) as db:
        return (db.exec(select(func.count()).select_from(Score)).one(),
                db.exec(select(func.count()).select_from(LiveSubmission)).one())


def _is_valid_sheet(body) -> bool:
    try:
        MarkSubmission.model_validate(body if isinstance(body, dict) else {})
    except Exception:
        return False
    return True


def _authorize(case, world: World, authorized: bool, pick: int) -> tuple[dict, dict]:
    """Headers and cookies for one call: mostly the real credentials, sometimes none."""
    headers, cookies = {}, {}
    if not authorized:
        return headers, cookies
    if "session_id" in (case.path_parameters or {}):
        case.path_parameters["session_id"] = world.live_id
    if case.path.endswith("/marks"):
        headers["Authorization"] = f"Bearer {world.judge_tokens[pick % len(world.judge_tokens)]}"
        if isinstance(case.body, dict) and world.slot_ids and pick % 2:
            case.body["slot_id"] = world.slot_ids[0]  # the agency on stage
        if isinstance(case.body, dict) and pick % 4 == 1:  # a sheet the judge could send
            case.body.pop("marks", None)
            case.body["total"] = f"{60 + pick % 40}.5"
    elif "/feed." in case.path:
        case.query = {**(case.query or {}), "token": world.overlay}
    elif case.path.endswith("status.json"):
        case.path_parameters["campaign_id"] = world.campaign_id
        cookies["session"] = world.organizer_cookie
        if pick % 3 == 0:  # the job that exists
            imports = "kind" in case.path_parameters
            case.path_parameters["job_id"] = world.import_job if imports else world.report_job
            if imports:
                case.path_parameters["kind"] = "agencies"
    return headers, cookies


def fuzz_operation(operation, world: World, cases: int, mode: GenerationMode) -> Tally:
    tally = Tally()
    started = time.perf_counter()

    @settings(max_examples=cases, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(case=operation.as_strategy(generation_mode=mode), authorized=st.booleans(),
           pick=st.integers(0, 99))
    def run(case, authorized, pick):
        headers, cookies = _authorize(case, world, authorized, pick)
        before = stored_rows(world.engine)
        try:
            response = case.call(headers=headers, cookies=cookies)
        except Exception as error:  # the app raised through the WSGI call
            tally.failures.append(f"{operation.label}: exception {error!r} for {case.body!r}")
            return
        finally:
            tally.cases += 1
        tally.statuses[response.status_code] += 1
        problems = []
        try:
            case.validate_response(response, checks=CHECKS)
        except Exception as failure:  # schemathesis' FailureGroup or AssertionError
            problems.append(str(failure).strip().splitlines()[0] if str(failure) else
                            type(failure).__name__)
        if case.path.endswith("/marks") and case.method.upper() == "POST" \
                and not _is_valid_sheet(case.body):
            if not 400 <= response.status_code < 500:
                problems.append(f"invalid sheet answered {response.status_code}")
            if stored_rows(world.engine) != before:
                problems.append("invalid sheet stored rows")
        if problems:
            tally.failures.append(f"{operation.label} [{response.status_code}] "
                                  f"{'; '.join(problems)} | body={case.body!r} "
                                  f"path={case.path_parameters!r} query={case.query!r}")

    run()
    tally.seconds = time.perf_counter() - started
    return tally


def fuzz_app(world: World, cases: int) -> dict[str, Tally]:
    """Every operation of the published document, positive and negative cases."""
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", world.app)
    results = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            results[f"{operation.label} ({mode.value})"] = fuzz_operation(
                operation, world, cases, mode)
    return results

"""Every route of the platform against every role.

A route registered without an entry in ROUTES fails `test_every_route_is_in_the_table`, so
no page can be added without deciding who may see it.
"""

from __future__ import annotations

from decimal import Decimal

import factories as f
import pytest
from webclient import Browserless
from workbooks import MESSY_AGENCIES

from evaluation import jobs
from evaluation.imports import parse_workbook
from evaluation.models import InspectionAssignment, Role, StageKind
from evaluation.services.indicators import IndicatorFields, create_indicator
from evaluation.services.live_sessions import create_session

ROLES = ["anonymous", "admin", "organizer_a", "organizer_b", "contact_a", "inspector_a"]
LOGIN = "login"  # a redirect to the login page

# Expected answer per role, in ROLES order.
PUBLIC = (200, 200, 200, 200, 200, 200)
LOGIN_PAGE = (200, 302, 302, 302, 302, 302)
SIGNED_IN = (LOGIN, 200, 200, 200, 200, 200)
ANY_ORGANIZER = (LOGIN, 200, 200, 200, 403, 403)
ORG_A = (LOGIN, 200, 200, 404, 403, 403)
CONTACT = (LOGIN, 403, 403, 403, 200, 403)
INSPECTOR = (LOGIN, 403, 403, 403, 403, 200)
NOT_ASSIGNED = (LOGIN, 403, 403, 403, 403, 404)
# POSTs carry deliberately invalid data: an authorized user gets the form back (400) or a
# conflict (409), so the table shows authorization, not validation, and nothing is written.
POST_ANY_ORGANIZER = (LOGIN, 400, 400, 400, 403, 403)
POST_ORG_A = (LOGIN, 400, 400, 404, 403, 403)
POST_SIGNED_IN = (LOGIN, 400, 400, 400, 400, 400)

ROUTES = [  # (method, url template, endpoint, expected, form data)
    ("GET", "/", "public.index", PUBLIC, None),
    ("GET", "/campaigns/{campaign}", "public.campaign", PUBLIC, None),
    ("GET", "/login", "auth.login", LOGIN_PAGE, None),
    ("POST", "/login", "auth.login", (400, 302, 302, 302, 302, 302), {"username": ""}),
    ("GET", "/account/password", "auth.password", SIGNED_IN, None),
    ("POST", "/account/password", "auth.password", POST_SIGNED_IN, {"current_password": ""}),
    ("POST", "/account/language", "auth.language", (400,) * 6, {"lang": "xx"}),
    ("GET", "/admin/", "admin.dashboard", ANY_ORGANIZER, None),
    ("GET", "/admin/campaigns/new", "admin.campaign_new", ANY_ORGANIZER, None),
    ("POST", "/admin/campaigns/new", "admin.campaign_new", POST_ANY_ORGANIZER, {"title": ""}),
    ("GET", "/admin/campaigns/{campaign}", "admin.campaign", ORG_A, None),
    ("GET", "/admin/campaigns/{campaign}/edit", "admin.campaign_edit", ORG_A, None),
    ("POST", "/admin/campaigns/{campaign}/edit", "admin.campaign_edit", POST_ORG_A, {"title": ""}),
    ("GET", "/admin/campaigns/{campaign}/stages", "admin.stages", ORG_A, None),
    (
        "POST",
        "/admin/campaigns/{campaign}/stages",
        "admin.stages",
        POST_ORG_A,
        {"weight-self_assessment": "x"},
    ),
    ("GET", "/admin/campaigns/{campaign}/agencies", "admin.campaign_agencies_page", ORG_A, None),
    (
        "POST",
        "/admin/campaigns/{campaign}/agencies",
        "admin.campaign_agencies_page",
        POST_ORG_A,
        {"group_name": ""},
    ),
    ("GET", "/admin/campaigns/{campaign}/judges", "admin.judges", ORG_A, None),
    ("POST", "/admin/campaigns/{campaign}/judges", "admin.judges", POST_ORG_A, {"name": ""}),
    ("GET", "/admin/judges/{judge}/edit", "admin.judge_edit", ORG_A, None),
    ("POST", "/admin/judges/{judge}/edit", "admin.judge_edit", POST_ORG_A, {"name": ""}),
    ("GET", "/admin/campaigns/{campaign}/indicators", "admin.indicators", ORG_A, None),
    ("GET", "/admin/campaigns/{campaign}/indicators/new", "admin.indicator_new", ORG_A, None),
    (
        "POST",
        "/admin/campaigns/{campaign}/indicators/new",
        "admin.indicator_new",
        POST_ORG_A,
        {"code": ""},
    ),
    ("GET", "/admin/indicators/{indicator}/edit", "admin.indicator_edit", ORG_A, None),
    (
        "POST",
        "/admin/indicators/{indicator}/edit",
        "admin.indicator_edit",
        POST_ORG_A,
        {"code": ""},
    ),
    (
        "POST",
        "/admin/indicators/{indicator}/move",
        "admin.indicator_move",
        POST_ORG_A,
        {"direction": "sideways"},
    ),
    (
        "POST",
        "/admin/indicators/{indicator}/delete",
        "admin.indicator_delete",
        (LOGIN, 409, 409, 404, 403, 403),
        {},
    ),
    ("GET", "/admin/campaigns/{campaign}/imports", "admin.imports", ORG_A, None),
    (
        "GET",
        "/admin/campaigns/{campaign}/imports/agencies/template.xlsx",
        "admin.import_template",
        ORG_A,
        None,
    ),
    ("POST", "/admin/campaigns/{campaign}/imports/agencies", "admin.import_upload", POST_ORG_A, {}),
    ("GET", "/admin/campaigns/{campaign}/imports/agencies/{job}", "admin.import_job", ORG_A, None),
    (
        "GET",
        "/admin/campaigns/{campaign}/imports/agencies/{job}/status.json",
        "admin.import_status",
        ORG_A,
        None,
    ),
    (  # the job's workbook has problems: an authorized commit is refused with 400
        "POST",
        "/admin/campaigns/{campaign}/imports/agencies/{job}/commit",
        "admin.import_commit",
        POST_ORG_A,
        {},
    ),
    ("GET", "/admin/campaigns/{campaign}/reports", "admin.reports", ORG_A, None),
    (
        "POST",
        "/admin/campaigns/{campaign}/reports/export",
        "admin.report_export",
        POST_ORG_A,
        {"kind": "pdf"},
    ),
    ("GET", "/admin/campaigns/{campaign}/reports/jobs/{report}", "admin.report_job", ORG_A, None),
    (
        "GET",
        "/admin/campaigns/{campaign}/reports/jobs/{report}/status.json",
        "admin.report_status",
        ORG_A,
        None,
    ),
    (
        "GET",
        "/admin/campaigns/{campaign}/reports/jobs/{report}/download",
        "admin.report_download",
        ORG_A,
        None,
    ),
    (
        "GET",
        "/admin/campaigns/{campaign}/reports/charts/r3/ranking-0.png",
        "admin.report_chart",
        ORG_A,
        None,
    ),
    ("GET", "/admin/campaigns/{campaign}/reports/sheets", "admin.result_sheets", ORG_A, None),
    ("GET", "/admin/agencies", "admin.agencies", ANY_ORGANIZER, None),
    ("GET", "/admin/agencies/new", "admin.agency_new", ANY_ORGANIZER, None),
    ("POST", "/admin/agencies/new", "admin.agency_new", POST_ANY_ORGANIZER, {"name": ""}),
    ("GET", "/admin/agencies/{agency}/edit", "admin.agency_edit", ORG_A, None),
    ("POST", "/admin/agencies/{agency}/edit", "admin.agency_edit", POST_ORG_A, {"name": ""}),
    ("GET", "/admin/users", "admin.users", ANY_ORGANIZER, None),
    ("GET", "/admin/users/new", "admin.user_new", ANY_ORGANIZER, None),
    ("POST", "/admin/users/new", "admin.user_new", POST_ANY_ORGANIZER, {"username": ""}),
    ("GET", "/agency/", "agency.home", CONTACT, None),
    ("GET", "/inspector/", "inspector.home", INSPECTOR, None),
    ("GET", "/inspector/visits/{visit}", "inspector.visit", INSPECTOR, None),
    ("GET", "/inspector/visits/{other_visit}", "inspector.visit", NOT_ASSIGNED, None),
    # Live page shells carry no data (the socket checks the token): anyone may load them.
    ("GET", "/live/{live}/tablet", "live_pages.tablet", PUBLIC, None),
    ("GET", "/live/{live}/console", "live_pages.console", PUBLIC, None),
    ("GET", "/live/{live}/audience", "live_pages.audience", PUBLIC, None),
    ("GET", "/live/join", "live_pages.join", PUBLIC, None),
    ("POST", "/live/join", "live_pages.join", (400,) * 6, {"code": "WRONGCODE2"}),
    # Tablets authenticate with a bearer token; a login cookie is not enough.
    ("POST", "/live/{live}/marks", "live_http.post_mark", (401,) * 6, {}),
    # Broadcast graphics: the page is a shell (the socket checks the overlay token); feeds
    # take the overlay or control token in the URL, never a login cookie.
    ("GET", "/overlay/{live}/scoreboard", "live_overlays.overlay", PUBLIC, None),
    ("GET", "/overlay/{live}/leaderboard", "live_overlays.overlay", PUBLIC, None),
    ("GET", "/live/{live}/feed.json", "live_overlays.feed", (401,) * 6, None),
    ("GET", "/live/{live}/feed.xml", "live_overlays.feed", (401,) * 6, None),
    ("GET", "/live/{live}/feed.csv", "live_overlays.feed", (401,) * 6, None),
    # Last: it ends the session of the role being walked.
    ("POST", "/logout", "auth.logout", (LOGIN,) * 6, {}),
]
NOT_ROUTES = {"static"}


def _import_job(app, tmp_path, campaign_id: int) -> str:
    """A finished agencies import whose workbook has problems, without the worker."""
    app.config["IMPORTS_FOLDER"] = str(tmp_path)
    job_id = "0123456789abcdef" * 2
    parsed = parse_workbook("agencies", MESSY_AGENCIES)
    state = {"id": job_id, "kind": "agencies", "status": "done", "campaign_id": campaign_id}
    jobs.write_job(jobs.job_path(tmp_path, job_id), {**state, "result": parsed.to_plain()})
    return job_id


def _report_job(app, tmp_path, campaign_id: int, monkeypatch) -> str:
    """Results for the report pages (no marks needed) and a finished workbook export."""
    from evaluation.reports.chart_cache import chart_path
    from evaluation.reports.export import output_path
    from evaluation.reports.sample import sample_composed
    from evaluation.services import report_jobs

    composed = sample_composed(agencies=3, judges=5, indicators=10, campaign_id=campaign_id)
    monkeypatch.setattr(report_jobs, "composed_results", lambda _db, _campaign: composed)
    app.config["REPORTS_FOLDER"] = str(tmp_path)
    job_id = "fedcba9876543210" * 2
    state = {"id": job_id, "kind": "workbook", "status": "done", "campaign_id": campaign_id}
    jobs.write_job(jobs.job_path(tmp_path, job_id), state)
    output_path(tmp_path, job_id, "workbook").parent.mkdir(parents=True, exist_ok=True)
    output_path(tmp_path, job_id, "workbook").write_bytes(b"PK")
    chart = chart_path(tmp_path, campaign_id, composed.revision, "ranking-0", "png")
    chart.parent.mkdir(parents=True, exist_ok=True)
    chart.write_bytes(b"\x89PNG")
    return job_id


@pytest.fixture
def world(app, db, tmp_path, monkeypatch):
    org_a, org_b = f.org(db, "甲市普法办"), f.org(db, "乙市普法办")
    campaign = f.campaign(db, org_a)
    agency = f.agency(db, org_a)
    judge = f.judge(db, campaign)
    parent = create_indicator(db, campaign, IndicatorFields("A", "组织领导", Decimal("20")))
    create_indicator(db, campaign, IndicatorFields("A1", "责任清单", Decimal("20")), parent)
    users = {
        "admin": f.user(db, Role.ADMIN),
        "organizer_a": f.user(db, Role.ORGANIZER, org_a),
        "organizer_b": f.user(db, Role.ORGANIZER, org_b),
        "contact_a": f.user(db, Role.AGENCY_CONTACT, org_a, agency),
        "inspector_a": f.user(db, Role.INSPECTOR, org_a),
    }
    someone_else = f.user(db, Role.INSPECTOR, org_a)
    stage = f.stage(db, campaign, StageKind.FIELD_INSPECTION)
    visit = InspectionAssignment(
        stage_id=stage.id, agency_id=agency.id, inspector_id=users["inspector_a"].id
    )
    other = InspectionAssignment(
        stage_id=stage.id, agency_id=agency.id, inspector_id=someone_else.id
    )
    db.add_all([visit, other])
    db.commit()
    onsite = f.stage(db, campaign, StageKind.ONSITE_REVIEW)
    live = create_session(db, onsite, "第一场", [agency.id], [judge.id])
    ids = {
        "live": live.id,
        "campaign": campaign.id,
        "agency": agency.id,
        "judge": judge.id,
        "indicator": parent.id,
        "visit": visit.id,
        "other_visit": other.id,
        "job": _import_job(app, tmp_path, campaign.id),
        "report": _report_job(app, tmp_path, campaign.id, monkeypatch),
    }
    return users, ids


def _outcome(response) -> int | str:
    if response.status_code == 302 and "/login" in response.location:
        return LOGIN
    return response.status_code


@pytest.mark.parametrize("role", ROLES)
def test_each_role_gets_what_the_table_says(app, world, role):
    users, ids = world
    web = Browserless(app.test_client())
    if role != "anonymous":
        assert web.login(users[role].username).status_code == 302
    wrong = []
    for method, template, _endpoint, expected, data in ROUTES:
        url = template.format(**ids)
        response = web.client.get(url) if method == "GET" else web.post(url, data)
        want = expected[ROLES.index(role)]
        if _outcome(response) != want:
            wrong.append(f"{method} {url}: got {_outcome(response)}, want {want}")
    assert wrong == []


def test_every_route_is_in_the_table(app):
    covered = {(endpoint, method) for method, _url, endpoint, _e, _d in ROUTES}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in NOT_ROUTES:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert missing == [], "add these routes to ROUTES with the answer each role must get"

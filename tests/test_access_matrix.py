"""Every route of the platform against every role.

A route registered without an entry in ROUTES fails `test_every_route_is_in_the_table`, so
no page can be added without deciding who may see it.
"""

from __future__ import annotations

from decimal import Decimal

import factories as f
import pytest
import results_world
from webclient import Browserless
from workbooks import MESSY_AGENCIES

from evaluation import jobs
from evaluation.imports import parse_workbook
from evaluation.models import CampaignAgency, InspectionAssignment, Role, StageKind
from evaluation.services.appeals import file_appeal
from evaluation.services.indicators import IndicatorFields, create_indicator
from evaluation.services.live_sessions import create_session
from evaluation.services.results_versions import certify, compose_version, publish

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
    # The second factor: only after a right password (else back to the login page); a
    # logged-in user is sent home. Enrolment and recovery codes: any signed-in user.
    ("GET", "/login/2fa", "auth.second_factor", (LOGIN,) + (302,) * 5, None),
    ("POST", "/login/2fa", "auth.second_factor", (LOGIN,) + (302,) * 5, {"code": "1"}),
    ("GET", "/login/2fa/setup", "auth.second_factor_setup", (LOGIN,) + (302,) * 5, None),
    (
        "POST",
        "/login/2fa/setup",
        "auth.second_factor_setup",
        (LOGIN,) + (302,) * 5,
        {"code": "1"},
    ),
    ("GET", "/account/2fa", "auth.two_factor_page", SIGNED_IN, None),
    ("POST", "/account/2fa", "auth.two_factor_page", POST_SIGNED_IN, {"code": ""}),
    # One's own sessions: listed to anyone signed in; ending one that is not theirs is 404.
    ("GET", "/account/sessions", "auth.sessions", SIGNED_IN, None),
    ("POST", "/account/sessions/999999/end", "auth.end_session", (LOGIN,) + (404,) * 5, {}),
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
    (
        "POST",
        "/admin/users/{contact_user}/security",
        "admin.user_security",
        (LOGIN, 400, 403, 403, 403, 403),
        {"action": "x"},
    ),
    ("GET", "/agency/", "agency.home", CONTACT, None),
    ("GET", "/inspector/", "inspector.home", INSPECTOR, None),
    ("GET", "/inspector/sw.js", "inspector.service_worker", PUBLIC, None),
    ("GET", "/inspector/visits/{visit}", "inspector.visit", (LOGIN, 403, 403, 403, 403, 302), None),
    ("GET", "/inspector/visits/{other_visit}", "inspector.visit", NOT_ASSIGNED, None),
    # 实地考察: inspector_a's own draft sheet ({sheet}, with a photo) and the submitted sheet of
    # their teammate ({other_sheet}); organizers of the campaign see both, read-only.
    ("GET", "/inspector/sheets/{sheet}", "inspector.sheet", (LOGIN, 200, 200, 404, 403, 200), None),
    ("GET", "/inspector/sheets/{other_sheet}", "inspector.sheet",
     (LOGIN, 200, 200, 404, 403, 200), None),
    ("POST", "/inspector/sheets/{sheet}/draft", "inspector.sheet_draft",
     (LOGIN, 403, 403, 403, 403, 400), {"lines": ""}),
    ("POST", "/inspector/sheets/{other_sheet}/draft", "inspector.sheet_draft",
     (LOGIN, 403, 403, 403, 403, 403), {"lines": ""}),
    ("POST", "/inspector/sheets/{sheet}/submit", "inspector.sheet_submit",
     (LOGIN, 403, 403, 403, 403, 400), {}),
    # Confirming one's own sheet is refused by the service (400), never a silent success.
    ("POST", "/inspector/sheets/{sheet}/confirm", "inspector.sheet_confirm",
     (LOGIN, 403, 403, 403, 403, 400), {}),
    ("POST", "/inspector/sheets/{sheet}/return", "inspector.sheet_return",
     (LOGIN, 403, 403, 403, 403, 400), {"comment": ""}),
    ("POST", "/inspector/sheets/{sheet}/photos", "inspector.photo_upload",
     (LOGIN, 403, 403, 403, 403, 400), {}),
    ("POST", "/inspector/sheets/{sheet}/photos/999999/delete", "inspector.photo_delete",
     (LOGIN, 403, 403, 403, 403, 404), {}),
    ("GET", "/inspector/photos/{photo}", "inspector.photo_download",
     (LOGIN, 200, 200, 404, 403, 200), None),
    ("GET", "/admin/campaigns/{campaign}/inspection", "admin.inspection", ORG_A, None),
    ("POST", "/admin/campaigns/{campaign}/inspection", "admin.inspection_assign", POST_ORG_A,
     {"agency_id": ""}),
    # The teammate's sheet is submitted: taking them off the team is refused (409).
    ("POST", "/admin/campaigns/{campaign}/inspection/{other_visit}/delete",
     "admin.inspection_unassign", (LOGIN, 409, 409, 404, 403, 403), {}),
    # 部署安排 / 自查自评 / 回避登记 (contact_a's agency takes part; see `world`)
    ("GET", "/agency/campaigns/{campaign}/notice", "agency.notice", CONTACT, None),
    (
        "GET",
        "/agency/campaigns/{campaign}/notice/files/{notice_file}",
        "agency.notice_file",
        CONTACT,
        None,
    ),
    (
        "GET",
        "/agency/campaigns/{campaign}/self-assessment",
        "agency.self_assessment",
        CONTACT,
        None,
    ),
    (  # the world's submission is submitted: the contact gets 409 (no longer editable)
        "POST",
        "/agency/campaigns/{campaign}/self-assessment",
        "agency.self_assessment_save",
        (LOGIN, 403, 403, 403, 409, 403),
        {"report_md": ""},
    ),
    (
        "POST",
        "/agency/campaigns/{campaign}/self-assessment/evidence",
        "agency.evidence_upload",
        (LOGIN, 403, 403, 403, 400, 403),
        {},
    ),
    (
        "POST",
        "/agency/campaigns/{campaign}/self-assessment/evidence/999999/delete",
        "agency.evidence_delete",
        (LOGIN, 403, 403, 403, 409, 403),
        {},
    ),
    (
        "GET",
        "/agency/campaigns/{campaign}/self-assessment/files/{evidence_file}",
        "agency.evidence_download",
        CONTACT,
        None,
    ),
    (
        "GET",
        "/agency/campaigns/{campaign}/self-assessment/versions/1",
        "agency.version",
        CONTACT,
        None,
    ),
    # 互评: contact_a's agency reviews {peer_target}; invalid marks / setup answer 400.
    ("GET", "/agency/campaigns/{campaign}/peer-review", "agency.peer_review", CONTACT, None),
    ("GET", "/agency/campaigns/{campaign}/peer-review/{peer_target}", "agency.peer_sheet",
     CONTACT, None),
    ("POST", "/agency/campaigns/{campaign}/peer-review/{peer_target}", "agency.peer_sheet_save",
     (LOGIN, 403, 403, 403, 400, 403), {"mark-total": "x"}),
    ("GET", "/admin/campaigns/{campaign}/peer-review", "admin.peer_review", ORG_A, None),
    ("POST", "/admin/campaigns/{campaign}/peer-review/setup", "admin.peer_review_setup",
     POST_ORG_A, {"mode": ""}),
    ("POST", "/admin/campaigns/{campaign}/peer-review/reopen", "admin.peer_review_reopen",
     POST_ORG_A, {"agency": ""}),
    ("GET", "/admin/campaigns/{campaign}/deployment", "admin.deployment", ORG_A, None),
    (
        "POST",
        "/admin/campaigns/{campaign}/deployment",
        "admin.deployment_save",
        POST_ORG_A,
        {"title": ""},
    ),
    (
        "POST",
        "/admin/campaigns/{campaign}/deployment/attachments",
        "admin.deployment_attach",
        POST_ORG_A,
        {},
    ),
    (
        "POST",
        "/admin/campaigns/{campaign}/deployment/attachments/999999/delete",
        "admin.deployment_detach",
        (LOGIN, 404, 404, 404, 403, 403),
        {},
    ),
    (
        "GET",
        "/admin/campaigns/{campaign}/deployment/files/{notice_file}",
        "admin.deployment_file",
        ORG_A,
        None,
    ),
    (
        "POST",
        "/admin/campaigns/{campaign}/agencies/{agency}/invite",
        "admin.invite_contact",
        POST_ORG_A,
        {"username": ""},
    ),
    ("GET", "/invite/{invitation}", "invite.accept", PUBLIC, None),
    ("POST", "/invite/{invitation}", "invite.accept", (400,) * 6, {"password": "short"}),
    ("GET", "/admin/campaigns/{campaign}/self-assessment", "admin.self_assessments", ORG_A, None),
    (  # the agency has a submission already: the organizer is sent to it
        "POST",
        "/admin/campaigns/{campaign}/self-assessment/{agency}/start",
        "admin.submission_start",
        (LOGIN, 302, 302, 404, 403, 403),
        {},
    ),
    ("GET", "/admin/submissions/{submission}", "admin.submission_review", ORG_A, None),
    (
        "POST",
        "/admin/submissions/{submission}/review",
        "admin.submission_decide",
        POST_ORG_A,
        {"decision": ""},
    ),
    (
        "POST",
        "/admin/submissions/{submission}/reopen",
        "admin.submission_reopen",
        POST_ORG_A,
        {"until": "yesterday"},
    ),
    (
        "GET",
        "/admin/submissions/{submission}/versions/1",
        "admin.submission_version",
        ORG_A,
        None,
    ),
    (
        "GET",
        "/admin/submissions/{submission}/compare?a=1&b=1",
        "admin.submission_compare",
        ORG_A,
        None,
    ),
    (
        "GET",
        "/admin/submissions/{submission}/files/{evidence_file}",
        "admin.submission_file",
        ORG_A,
        None,
    ),
    ("GET", "/admin/campaigns/{campaign}/recusals", "admin.recusal_register", ORG_A, None),
    (
        "POST",
        "/admin/campaigns/{campaign}/recusals",
        "admin.conflict_declare",
        POST_ORG_A,
        {"reason": ""},
    ),
    (
        "POST",
        "/admin/campaigns/{campaign}/recusals/999999/delete",
        "admin.conflict_withdraw",
        (LOGIN, 404, 404, 404, 403, 403),
        {},
    ),
    ("GET", "/admin/campaigns/{campaign}/recusals.csv", "admin.recusal_export", ORG_A, None),
    ("GET", "/admin/campaigns/{campaign}/recusals.xlsx", "admin.recusal_export", ORG_A, None),
    ("GET", "/inspector/campaigns/{campaign}/conflicts", "inspector.conflicts", INSPECTOR, None),
    (
        "POST",
        "/inspector/campaigns/{campaign}/conflicts",
        "inspector.conflict_declare",
        (LOGIN, 403, 403, 403, 403, 400),
        {"reason": ""},
    ),
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
    # The JSON API's description names no secret: public.
    ("GET", "/api/openapi.json", "api.openapi_document", PUBLIC, None),
    # 社会评议: public ballot pages (the world's review is not open: a ballot is refused).
    ("GET", "/review/{campaign}", "ballots.overview", PUBLIC, None),
    ("GET", "/review/{campaign}/agencies/{agency}", "ballots.ballot", PUBLIC, None),
    ("POST", "/review/{campaign}/agencies/{agency}", "ballots.cast", (409,) * 6, {"code": "x"}),
    ("POST", "/review/{campaign}/agencies/{agency}/sms", "ballots.send_sms", (404,) * 6, {}),
    ("POST", "/display", "display.choose", (400,) * 6, {"elder": "x"}),
    ("GET", "/admin/campaigns/{campaign}/public-review", "admin.public_review", ORG_A, None),
    (
        "POST",
        "/admin/campaigns/{campaign}/public-review",
        "admin.public_review",
        POST_ORG_A,
        {"burst_limit": "x"},
    ),
    (
        "POST",
        "/admin/campaigns/{campaign}/public-review/status",
        "admin.public_review_status",
        POST_ORG_A,
        {"action": "x"},
    ),
    (
        "POST",
        "/admin/campaigns/{campaign}/public-review/codes",
        "admin.vote_codes_issue",
        POST_ORG_A,
        {"count": "0"},
    ),
    (
        "POST",
        "/admin/campaigns/{campaign}/public-review/codes/99/revoke",
        "admin.vote_codes_revoke",
        (LOGIN, 409, 409, 404, 403, 403),
        {},
    ),
    (
        "GET",
        "/admin/campaigns/{campaign}/public-review/quarantine",
        "admin.ballot_quarantine",
        ORG_A,
        None,
    ),
    (
        "POST",
        "/admin/campaigns/{campaign}/public-review/quarantine/99",
        "admin.ballot_decide",
        POST_ORG_A,
        {"reason": ""},
    ),
    # 媒体公示: public pages (the world's publicity is not open: a comment is refused).
    ("GET", "/publicity/{campaign}", "publicity.overview", PUBLIC, None),
    ("GET", "/publicity/{campaign}/agencies/{agency}", "publicity.agency_page", PUBLIC, None),
    ("POST", "/publicity/{campaign}/agencies/{agency}", "publicity.comment", (409,) * 6, {}),
    ("GET", "/agency/publicity", "agency.publicity_comments", CONTACT, None),
    (
        "POST",
        "/agency/publicity/99/reply",
        "agency.publicity_reply",
        (LOGIN, 403, 403, 403, 404, 403),
        {},
    ),
    ("GET", "/admin/campaigns/{campaign}/publicity", "admin.publicity_queue", ORG_A, None),
    (
        "POST",
        "/admin/campaigns/{campaign}/publicity/comments/99",
        "admin.publicity_moderate",
        POST_ORG_A,
        {"decision": "x"},
    ),
    (
        "POST",
        "/admin/campaigns/{campaign}/publicity/outlets",
        "admin.publicity_outlet",
        POST_ORG_A,
        {"outlet": ""},
    ),
    # Results: public pages read published versions; the organizer's pages are per campaign.
    ("GET", "/campaigns/{results_campaign}/results", "public.results", PUBLIC, None),
    ("GET", "/campaigns/{results_campaign}/results/v1", "public.results_version", PUBLIC, None),
    ("GET", "/agencies/{results_agency}/history", "public.agency_history", PUBLIC, None),
    ("GET", "/admin/campaigns/{campaign}/results", "admin.results", ORG_A, None),
    ("GET", "/admin/campaigns/{campaign}/results/policy", "admin.results_policy", ORG_A, None),
    (
        "POST",
        "/admin/campaigns/{campaign}/results/policy",
        "admin.results_policy",
        POST_ORG_A,
        {"weight-self_assessment": "x"},
    ),
    ("GET", "/admin/campaigns/{campaign}/results/what-if", "admin.results_what_if", ORG_A, None),
    (  # no agencies enrolled: composing is refused with a message on the results page
        "POST",
        "/admin/campaigns/{campaign}/results/versions",
        "admin.results_compose",
        (LOGIN, 303, 303, 404, 403, 403),
        {},
    ),
    ("GET", "/admin/results/{results_draft}", "admin.results_version", ORG_A, None),
    (  # composed by another organizer of A, so A's organizer may certify it
        "POST",
        "/admin/results/{results_draft}/certify",
        "admin.results_certify",
        (LOGIN, 302, 302, 404, 403, 403),
        {},
    ),
    (
        "POST",
        "/admin/results/{results_draft}/announcement",
        "admin.results_announcement",
        POST_ORG_A,
        {"announcement": ""},
    ),
    (
        "POST",
        "/admin/results/{results_draft}/publish",
        "admin.results_publish",
        POST_ORG_A,
        {"appeal_days": "x"},
    ),
    (
        "POST",
        "/admin/appeals/{appeal}/decision",
        "admin.appeal_decide",
        POST_ORG_A,
        {"status": "", "decision": ""},
    ),
    ("GET", "/agency/results", "agency.results", CONTACT, None),
    (  # contact_a's agency is not in that result: not theirs to learn about
        "POST",
        "/agency/results/{results_version}/appeal",
        "agency.appeal",
        (LOGIN, 403, 403, 403, 404, 403),
        {"text": ""},
    ),
    # 现场评议场次: create, order by hand or by lot, links, rehearsal (writes: authorized
    # organizers really draw, issue links and prepare the rehearsal of the world's session).
    ("GET", "/admin/campaigns/{campaign}/live", "admin.live_sessions", ORG_A, None),
    ("POST", "/admin/campaigns/{campaign}/live", "admin.live_sessions", POST_ORG_A,
     {"title": ""}),
    ("GET", "/admin/live/{live}", "admin.live_session", ORG_A, None),
    ("POST", "/admin/live/{live}/slots/99999/up", "admin.live_move",
     (LOGIN, 409, 409, 404, 403, 403), {}),
    ("POST", "/admin/live/{live}/draw", "admin.live_draw", (LOGIN, 302, 302, 404, 403, 403), {}),
    ("POST", "/admin/live/{live}/links", "admin.live_links", (LOGIN, 200, 200, 404, 403, 403),
     {}),
    ("POST", "/admin/live/{live}/rehearsal", "admin.live_rehearsal",
     (LOGIN, 302, 302, 404, 403, 403), {}),
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


def _self_assessment_world(app, db, campaign, agency, users) -> dict:
    """A published notice with a file, a submitted self-assessment (the agency is enrolled)."""
    from evidence_samples import PDF

    from evaluation.services import deployment, invitations, self_assessment
    from evaluation.services.file_store import Upload, files_root

    root = files_root(app)
    notice = deployment.save_notice(db, campaign, "通知", "正文")
    deployment.publish_notice(db, notice)
    [notice_file] = deployment.add_attachments(
        db, root, notice, [Upload("方案.pdf", PDF)], users["organizer_a"]
    )
    submission = self_assessment.submission_for(db, campaign.id, agency.id)
    leaves = self_assessment.campaign_leaves(db, campaign)
    scores = {n.id: self_assessment.ScoreInput("18", "") for n in leaves}
    self_assessment.save_draft(db, submission, "报告", scores)
    [evidence] = self_assessment.add_evidence(
        db, root, submission, [Upload("台账.pdf", PDF)], users["contact_a"]
    )
    self_assessment.submit(db, submission, users["contact_a"])
    issued = invitations.issue_invitation(db, users["contact_a"], users["organizer_a"])
    return {
        "notice_file": notice_file.id,
        "evidence_file": evidence.id,
        "submission": submission.id,
        "invitation": issued.token,
    }
def _peer_world(db, campaign, organization, users) -> dict:
    """A second agency in contact_a's group; everyone reviews everyone else, by total."""
    from evaluation.models import PeerMarking, PeerMode
    from evaluation.services.peer_review import SetupFields, set_up

    other = f.agency(db, organization)
    db.add(CampaignAgency(campaign_id=campaign.id, agency_id=other.id, group_name="市直组"))
    db.commit()
    stage = f.stage(db, campaign, StageKind.PEER_REVIEW)
    fields = SetupFields(PeerMode.ALL, None, PeerMarking.TOTAL, Decimal(100), None, "matrix")
    set_up(db, stage, fields, users["organizer_a"])
    return {"peer_target": other.id}


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
    a1 = create_indicator(db, campaign, IndicatorFields("A1", "责任清单", Decimal("20")), parent)
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
    db.add(CampaignAgency(campaign_id=campaign.id, agency_id=agency.id, group_name="市直组"))
    db.commit()
    sheet, other_sheet, photo = _inspection_sheets(app, db, visit, other, a1)
    onsite = f.stage(db, campaign, StageKind.ONSITE_REVIEW)
    live = create_session(db, onsite, "第一场", [agency.id], [judge.id])
    results = _results(db, org_a)
    ids = {
        **_self_assessment_world(app, db, campaign, agency, users),
        **_peer_world(db, campaign, org_a, users),
        **results,
        "live": live.id,
        "contact_user": users["contact_a"].id,
        "campaign": campaign.id,
        "agency": agency.id,
        "judge": judge.id,
        "indicator": parent.id,
        "visit": visit.id,
        "other_visit": other.id,
        "sheet": sheet.id,
        "other_sheet": other_sheet.id,
        "photo": photo.id,
        "job": _import_job(app, tmp_path, campaign.id),
        "report": _report_job(app, tmp_path, campaign.id, monkeypatch),
    }
    return users, ids


def _inspection_sheets(app, db, visit, other, indicator):
    """inspector_a's draft with one photo; the teammate's sheet submitted."""
    from evidence_samples import PNG

    from evaluation.models import InspectionPhoto, InspectionSheet, SheetStatus
    from evaluation.services.file_store import Upload, files_root, store_upload

    sheet = InspectionSheet(assignment_id=visit.id, inspector_id=visit.inspector_id)
    other_sheet = InspectionSheet(assignment_id=other.id, inspector_id=other.inspector_id,
                                  status=SheetStatus.SUBMITTED)
    db.add_all([sheet, other_sheet])
    db.flush()
    stored = store_upload(db, files_root(app), Upload("台账.png", PNG),
                          user_id=visit.inspector_id)
    photo = InspectionPhoto(sheet_id=sheet.id, indicator_id=indicator.id, file_id=stored.id,
                            client_id="access-matrix-photo")
    db.add(photo)
    db.commit()
    return sheet, other_sheet, photo


def _results(db, organization) -> dict[str, int]:
    """A published results version with an appeal, and a correction awaiting certification."""
    world = results_world.build(db, organization)
    published = compose_version(db, world.campaign, world.composer)
    certify(db, published, world.certifier)
    publish(db, published, world.composer)
    appeal = file_appeal(db, published, world.contacts["甲局"], "申诉")
    draft = compose_version(db, world.campaign, world.certifier, reason="更正")
    return {
        "results_campaign": world.campaign.id,
        "results_agency": world.agencies["甲局"].id,
        "results_version": published.id,
        "results_draft": draft.id,
        "appeal": appeal.id,
    }


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

"""Report pages: exports built in the worker process, charts, printable result sheets.

The results are composed by the results service; here its seam returns a ComposedResults
scored by scoring.evaluate (evaluation.reports.sample), so these tests need no marks in the
database and check what an organizer gets from given results.
"""

from __future__ import annotations

import io
import os
import time
from decimal import Decimal

import factories as f
import pytest
from openpyxl import load_workbook
from PIL import Image
from webclient import Browserless

from evaluation.models import Role
from evaluation.reports.sample import sample_composed
from evaluation.reports.sheets import render_result_sheets
from evaluation.services import report_jobs
from scoring import explain_agency


@pytest.fixture
def setup(app, db, tmp_path, monkeypatch):
    app.config["REPORTS_FOLDER"] = str(tmp_path)
    organization, other = f.org(db), f.org(db)
    f.user(db, Role.ORGANIZER, organization, username="li")
    f.user(db, Role.ORGANIZER, other, username="wang")
    campaign = f.campaign(db, organization)
    composed = sample_composed(agencies=4, judges=5, indicators=10, campaign_id=campaign.id)
    monkeypatch.setattr(report_jobs, "composed_results", lambda _db, _campaign: composed)
    web = Browserless(app.test_client())
    web.login("li")
    return web, campaign, composed


def finished(web, job_url: str, timeout: float = 150) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = web.client.get(job_url + "/status.json").get_json()
        if state["status"] not in ("queued", "running"):
            return state
        time.sleep(0.2)
    raise AssertionError("the export job did not finish")


def export(web, campaign, kind: str) -> str:
    response = web.post(f"/admin/campaigns/{campaign.id}/reports/export", {"kind": kind})
    assert response.status_code == 303, response.get_data(as_text=True)
    return response.location


def test_workbook_export_is_built_in_the_worker_and_downloaded(setup, tmp_path):
    web, campaign, composed = setup
    job_url = export(web, campaign, "workbook")
    progress_page = web.client.get(job_url).get_data(as_text=True)
    assert "import_job.js" in progress_page or "report-download" in progress_page
    assert finished(web, job_url)["status"] == "done"
    job = report_jobs.export_job(tmp_path, campaign.id, job_url.rsplit("/", 1)[1])
    assert job["pid"] != os.getpid()              # never built in the serving process
    page = web.client.get(job_url).get_data(as_text=True)
    assert 'id="report-download"' in page
    download = web.client.get(job_url + "/download")
    assert download.status_code == 200
    assert "attachment" in download.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(download.data))
    header = [cell.value for cell in book["总成绩"][2]]
    column = header.index("总分")
    totals = [Decimal(str(row[column].value)) for row in book["总成绩"].iter_rows(min_row=3)]
    assert totals == [agency.total for agency in composed.result.agencies]


def test_chart_export_fills_the_cache_the_pages_show(setup, tmp_path):
    web, campaign, composed = setup
    base = f"/admin/campaigns/{campaign.id}/reports"
    assert 'id="charts-missing"' in web.client.get(base).get_data(as_text=True)
    job_url = export(web, campaign, "charts")
    job_id = job_url.rsplit("/", 1)[1]
    assert finished(web, job_url)["status"] == "done", \
        report_jobs.export_job(tmp_path, campaign.id, job_id)
    archive = web.client.get(job_url + "/download")
    assert archive.status_code == 200 and archive.data[:2] == b"PK"
    page = web.client.get(base).get_data(as_text=True)
    assert 'id="charts-missing"' not in page
    chart = f"{base}/charts/r{composed.revision}/ranking-0.png"
    assert f'src="{chart}"' in page
    response = web.client.get(chart)
    assert response.status_code == 200 and response.mimetype == "image/png"
    assert "immutable" in response.headers["Cache-Control"]
    Image.open(io.BytesIO(response.data)).verify()
    svg = web.client.get(f"{base}/charts/r{composed.revision}/ranking-0.svg")
    assert svg.mimetype == "image/svg+xml"
    # matplotlib styles its SVG inline: the file gets a policy of its own that allows that
    # and nothing else (the site-wide CSP has no 'unsafe-inline', ASVS V3.4.3).
    assert svg.headers["Content-Security-Policy"].startswith("default-src 'none'; style-src")
    # an agency's sheet shows its charts once rendered
    first = composed.result.agencies[0].agency
    sheet = web.client.get(f"{base}/sheets?agency={first}").get_data(as_text=True)
    assert f"/charts/r{composed.revision}/radar-{first}.png" in sheet
    # another revision has no such files yet
    assert web.client.get(f"{base}/charts/r{composed.revision + 1}/ranking-0.png").status_code \
        == 404


def test_bad_requests_answer_4xx(setup):
    web, campaign, _composed = setup
    base = f"/admin/campaigns/{campaign.id}/reports"
    assert web.post(base + "/export", {"kind": "pdf"}).status_code == 400
    assert web.client.get(f"{base}/jobs/{'0' * 32}").status_code == 404
    assert web.client.get(f"{base}/jobs/not-a-job/status.json").status_code == 404
    assert web.client.get(f"{base}/charts/r1/..%2Fsecret.png").status_code == 404
    assert web.client.get(f"{base}/charts/r1/ranking-0.gif").status_code == 404
    assert web.client.get(f"{base}/sheets?agency=999999").status_code == 404


def test_another_organizations_campaign_is_not_found(setup, app):
    web, campaign, _composed = setup
    job_url = export(web, campaign, "workbook")
    finished(web, job_url)
    other = Browserless(app.test_client())
    other.login("wang")
    base = f"/admin/campaigns/{campaign.id}/reports"
    for url in (base, base + "/sheets", job_url, job_url + "/status.json",
                job_url + "/download"):
        assert other.client.get(url).status_code == 404, url
    assert other.post(base + "/export", {"kind": "workbook"}).status_code == 404


def test_result_sheets_list_every_mark_and_the_explanation(setup):
    web, campaign, composed = setup
    html = web.client.get(f"/admin/campaigns/{campaign.id}/reports/sheets").get_data(
        as_text=True)
    assert html.count('class="sheet"') == len(composed.result.agencies)
    assert "@page" not in html and "result_sheets.css" in html   # print CSS, no inline style
    assert "<script>" not in html
    for agency in composed.result.agencies:
        assert composed.agencies[agency.agency].name in html
        for line in explain_agency(agency).lines:
            assert line.replace("'", "&#39;") in html
        assert f"{agency.total:.2f}" in html
    assert html.count(f"<code>{composed.result.fingerprint}</code>") == len(
        composed.result.agencies)
    assert 'class="dropped_high"' in html and 'class="dropped_low"' in html
    for recusal in composed.recusals:
        assert recusal.reason in html and composed.judges[recusal.judge_id].name in html


def test_sheets_are_streamed_yielding_between_agencies(app, setup, monkeypatch):
    """All sheets of a large campaign take seconds: the serving greenlet yields between two."""
    web, campaign, composed = setup
    response = web.client.get(f"/admin/campaigns/{campaign.id}/reports/sheets")
    assert response.is_streamed and response.status_code == 200
    from evaluation.reports import sheets

    yields = []
    monkeypatch.setattr(sheets.time, "sleep", lambda seconds: yields.append(seconds))
    with app.test_request_context():
        pieces = sheets.stream_result_sheets(composed)
        first = next(pieces)                 # the page is sent while sheets are still made
        assert first.startswith("<!doctype html>") and yields == []
        html = first + "".join(pieces)
    assert yields == [0] * len(composed.result.agencies)
    assert html.count('class="sheet"') == len(composed.result.agencies)


def test_one_agency_sheet_holds_each_mark(app, setup):
    _web, _campaign, composed = setup
    agency = composed.result.agencies[1]
    with app.test_request_context():
        html = render_result_sheets(composed, [agency.agency])
    assert html.count('class="sheet"') == 1
    onsite = agency.stages["onsite_review"]
    for part in onsite.parts:
        for judge, mark in part.result.given():
            if mark is not None:
                assert f"<td>{composed.judges[judge].name}</td><td>{part.group}</td>" \
                       f"<td class=\"num\">{mark:.2f}</td>" in html
    assert f"{agency.graded.grade}" in html

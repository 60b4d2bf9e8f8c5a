"""Vote codes: issued and exported for printing (XLSX, CSV, printable page), revoked, and
imported from Excel through the same upload → preview → all-or-nothing commit as the other
imports; an imported code then votes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import factories as f
import pytest
from openpyxl import load_workbook
from sqlmodel import func, select
from test_ballots import cast
from test_imports_web import refused_commit, upload, uploaded
from workbooks import problems, xlsx

from evaluation import jobs
from evaluation.imports import parse_workbook
from evaluation.models import AuditEvent, Role, StageKind, VoteCode
from evaluation.services import ballot_setup, vote_codes
from evaluation.services.tokens import code_digest

PRINT_SHOP = ["K7PM-XR2T-9QWA", "B3NH-6YVD-MC8E", "T4GJ-Q9XZ-2RPF"]


@pytest.fixture
def organizer_review(app, db, web, tmp_path):
    app.config["IMPORTS_FOLDER"] = str(tmp_path)
    org = f.org(db, "甲市普法办")
    campaign = f.campaign(db, org)
    agency = f.agency(db, org, "市司法局")
    from evaluation.models import CampaignAgency

    db.add(CampaignAgency(campaign_id=campaign.id, agency_id=agency.id, group_name="市直组"))
    db.commit()
    stage = f.stage(db, campaign, StageKind.PUBLIC_REVIEW)
    with app.test_request_context():
        ballot_setup.open_voting(db, stage)
    f.user(db, Role.ORGANIZER, org, username="li")
    web.login("li")
    return {"campaign": campaign, "stage": stage, "agencies": [agency]}


def codes_count(db) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(VoteCode)).one()


def issue(web, review, count, output):
    return web.post(
        f"/admin/campaigns/{review['campaign'].id}/public-review/codes",
        {"count": str(count), "output": output},
    )


def test_issued_codes_download_as_xlsx_and_only_digests_are_stored(web, db, organizer_review):
    response = issue(web, organizer_review, 25, "xlsx")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1] == ("批次", "序号", "投票码")
    printed = [row[2] for row in rows[2:]]
    assert len(printed) == 25 == len(set(printed))
    stored = set(db.exec(select(VoteCode.code_digest)).all())
    assert stored == {code_digest(vote_codes.normalize(code)) for code in printed}
    assert not any(
        code.replace("-", "") in json.dumps(e.payload, ensure_ascii=False)
        for e in db.exec(select(AuditEvent)).all()
        for code in printed
    )
    # The printed code votes.
    assert cast(web, organizer_review, printed[0]).status_code == 303


def test_issued_codes_as_csv_and_as_a_printable_page(web, db, organizer_review):
    as_csv = issue(web, organizer_review, 3, "csv")
    assert as_csv.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert rows[0] == ["批次", "序号", "投票码"] and len(rows) == 4
    page = issue(web, organizer_review, 4, "print")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and html.count('class="ticket"') == 4
    assert "第 2 批" in html
    assert codes_count(db) == 7


@pytest.mark.parametrize("count", ["0", "5001", "x", ""])
def test_a_bad_batch_size_is_refused_and_nothing_issued(web, db, organizer_review, count):
    response = issue(web, organizer_review, count, "xlsx")
    assert response.status_code == 400
    assert codes_count(db) == 0


def test_a_revoked_batch_stops_voting(web, db, organizer_review):
    html = issue(web, organizer_review, 2, "print").get_data(as_text=True)
    code = html.split('class="code">')[1].split("<")[0]
    revoke = web.post(
        f"/admin/campaigns/{organizer_review['campaign'].id}/public-review/codes/1/revoke", {}
    )
    assert revoke.status_code == 303
    assert cast(web, organizer_review, code).status_code == 400


def test_clean_vote_code_workbook_imports_as_a_batch_and_votes(web, db, organizer_review):
    campaign = organizer_review["campaign"]
    data = xlsx(("投票码", [["投票码", "序号"], *[[c, n] for n, c in enumerate(PRINT_SHOP, 1)]]))
    job_url = uploaded(web, campaign, "vote_codes", data)
    preview = web.client.get(job_url).get_data(as_text=True)
    assert "K7PM-****-**WA" in preview and "K7PM-XR2T-9QWA" not in preview
    folder = Path(web.client.application.config["IMPORTS_FOLDER"])
    job = jobs.read_job(folder, job_url.rsplit("/", 1)[1])
    assert "XR2T" not in json.dumps(job, ensure_ascii=False)  # the job file holds no code
    assert web.post(job_url + "/commit", {}).status_code == 302
    assert codes_count(db) == 3
    assert {(c.batch, c.serial, c.imported) for c in db.exec(select(VoteCode)).all()} == {
        (1, 1, True),
        (1, 2, True),
        (1, 3, True),
    }
    assert cast(web, organizer_review, "b3nh 6yvd mc8e").status_code == 303


def test_messy_vote_code_workbook_lists_every_problem_and_stores_nothing(web, db, organizer_review):
    campaign = organizer_review["campaign"]
    rows = [
        ["社会评议投票码（第一批）", None],  # a merged title row
        [" 投票码 ", "编号"],
        ["ｋ７ｐｍ－ｘｒ２ｔ－９ｑｗａ", "１"],  # full-width: fine
        [None, None],  # blank: skipped
        ["ABC123", 2],  # too short
        ["AAAAAAAAAAAA", 3],  # too plain
        ["K7PMXR2T9QWA", 4],  # the first code again
        ["B3NH-6YVD-MC8E", 1],  # serial 1 again
        ["T4GJ Q9XZ 2RP!", 6],  # not letters and digits
        ["T4GJ-Q9XZ-2RPF", "六"],  # serial not a number
    ]
    data = xlsx(("Sheet1", rows, ["A1:B1"]))
    parsed = parse_workbook("vote_codes", data)
    found = {(row, column, rule) for _s, row, column, _h, rule in problems(parsed)}
    assert {(r, c) for r, c, _rule in found} == {
        (5, "A"),
        (6, "A"),
        (7, "A"),
        (8, "B"),
        (9, "A"),
        (10, "B"),
    }
    assert any("太短的码容易被猜中" in rule for *_x, rule in found)
    job_url = uploaded(web, campaign, "vote_codes", data)
    page = refused_commit(web, db, job_url)
    assert "没有保存任何数据" in web.client.get(job_url).get_data(as_text=True)
    assert "与第 3 行的投票码相同" in page
    assert codes_count(db) == 0


def test_codes_already_known_are_refused_at_their_row(web, db, organizer_review, app):
    with app.test_request_context():
        issued = vote_codes.issue_batch(db, organizer_review["stage"], 1, "li")[0].code
    data = xlsx(("码", [["投票码"], [PRINT_SHOP[0]], [issued]]))
    job_url = uploaded(web, organizer_review["campaign"], "vote_codes", data)
    page = refused_commit(web, db, job_url)
    assert "已经在系统中" in page
    assert codes_count(db) == 1


def test_the_vote_code_template_downloads(web, organizer_review):
    response = web.client.get(
        f"/admin/campaigns/{organizer_review['campaign'].id}/imports/vote_codes/template.xlsx"
    )
    assert response.status_code == 200
    assert parse_workbook("vote_codes", response.data).columns["code"]["header"] == "投票码"


def test_upload_of_a_non_workbook_is_refused(web, db, organizer_review):
    response = upload(web, organizer_review["campaign"], "vote_codes", b"not a workbook", "码.xlsx")
    assert response.status_code == 400
    assert codes_count(db) == 0


@pytest.mark.parametrize("serial", [1e20, 2**31, "99999999999999999999"])
def test_a_serial_too_large_to_store_is_refused_at_its_cell(web, db, organizer_review, serial):
    """The preview accepted it and the commit was a 500 (an integer overflow in the database)."""
    data = xlsx(("码", [["投票码", "序号"], [PRINT_SHOP[0], serial], [PRINT_SHOP[1], 2**31 - 1]]))
    found = {(row, column) for _s, row, column, _h, _rule in
             problems(parse_workbook("vote_codes", data))}
    assert found == {(2, "B")}
    job_url = uploaded(web, organizer_review["campaign"], "vote_codes", data)
    assert "2147483647" in refused_commit(web, db, job_url)  # the rule names the largest
    assert codes_count(db) == 0


def test_the_printed_sheet_keeps_a_campaign_title_as_text():
    # The title row carries the campaign's title as the organizer typed it: one starting
    # with "=" was written as a formula, one with a pasted \x0b made the download a 500.
    codes = [vote_codes.IssuedCode(1, 1, PRINT_SHOP[0])]
    sheet = load_workbook(io.BytesIO(vote_codes.codes_xlsx(codes, "=1+1\x0b评议"))).active
    assert (sheet["A1"].value, sheet["A1"].data_type) == ("=1+1评议", "s")

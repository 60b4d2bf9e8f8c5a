"""Imports through HTTP: upload, worker process, preview, commit all or nothing."""

from __future__ import annotations

import io
import os
import time
from decimal import Decimal

import factories as f
import pytest
from sqlmodel import select
from workbooks import CLEAN_AGENCIES, CLEAN_INDICATORS, CLEAN_JUDGES, MESSY_AGENCIES, xlsx

from evaluation import jobs
from evaluation.imports import parse_workbook
from evaluation.models import (
    Agency,
    AgencyLevel,
    AuditEvent,
    CampaignAgency,
    Indicator,
    Judge,
    Role,
)
from evaluation.services import imports as import_service
from evaluation.services.indicators import IndicatorFields, create_indicator, tree_problems


@pytest.fixture
def setup(app, db, web, tmp_path):
    app.config["IMPORTS_FOLDER"] = str(tmp_path)
    organization = f.org(db)
    f.user(db, Role.ORGANIZER, organization, username="li")
    campaign = f.campaign(db, organization)
    web.login("li")
    return web, campaign, organization


def counts(db) -> dict:
    db.expire_all()
    tables = (Agency, CampaignAgency, Judge, Indicator, AuditEvent)
    return {model.__name__: len(db.exec(select(model)).all()) for model in tables}


def upload(web, campaign, kind: str, data: bytes, name: str = "名单.xlsx"):
    return web.post(
        f"/admin/campaigns/{campaign.id}/imports/{kind}",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def finished(web, job_url: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = web.client.get(job_url + "/status.json").get_json()
        if state["status"] not in ("queued", "running"):
            return state
        time.sleep(0.1)
    raise AssertionError("the import job did not finish")


def uploaded(web, campaign, kind: str, data: bytes) -> str:
    response = upload(web, campaign, kind, data)
    assert response.status_code == 303, response.get_data(as_text=True)
    job_url = response.location
    assert finished(web, job_url)["status"] == "done"
    return job_url


def refused_commit(web, db, job_url: str) -> str:
    """Commit, expect a 400 and nothing stored (rows and audit events); the page's text."""
    before = counts(db)
    response = web.post(job_url + "/commit", {})
    assert response.status_code == 400
    assert counts(db) == before
    return response.get_data(as_text=True)


def test_clean_agencies_preview_then_commit_creates_rows_and_audit_events(setup, db):
    web, campaign, organization = setup
    job_url = uploaded(web, campaign, "agencies", CLEAN_AGENCIES)
    html = web.client.get(job_url).get_data(as_text=True)
    assert "检查通过" in html and "乳源瑶族自治县人民政府" in html and "新建并加入本次评议" in html
    before = counts(db)
    assert before["Agency"] == 0  # the preview stores nothing
    response = web.post(job_url + "/commit", {})
    assert response.status_code == 302
    assert response.location.endswith(f"/admin/campaigns/{campaign.id}/agencies")
    after = counts(db)
    assert after["Agency"] == 3 and after["CampaignAgency"] == 3
    assert after["AuditEvent"] - before["AuditEvent"] == 6  # one per created row
    entries = db.exec(select(CampaignAgency).order_by(CampaignAgency.id)).all()
    assert [(e.group_name, e.position) for e in entries] == [
        ("市直组", 0),
        ("市直组", 1),
        ("县区组", 0),
    ]
    again = web.post(job_url + "/commit", {})
    assert again.status_code == 409 and counts(db) == after


def test_messy_agencies_list_every_problem_and_store_nothing(setup, db):
    web, campaign, _organization = setup
    job_url = uploaded(web, campaign, "agencies", MESSY_AGENCIES)
    html = web.client.get(job_url).get_data(as_text=True)
    assert "发现 4 个问题，没有保存任何数据" in html
    assert "“央企”不是可选的值" in html and "单位名单" in html
    assert "与第 4 行完全相同，已合并为一条。" in html  # notes are listed too
    assert "确认导入" not in html
    assert "填写了顺序，但没有填写分组。" in refused_commit(web, db, job_url)


def test_existing_agencies_are_skipped_or_enrolled_and_conflicts_refused(setup, db):
    web, campaign, organization = setup
    f.agency(db, organization, "市公安局")  # 市直, 测试市: the sheet says 韶关市
    job_url = uploaded(web, campaign, "agencies", CLEAN_AGENCIES)
    html = web.client.get(job_url).get_data(as_text=True)
    assert "已有同名单位“市公安局”，但类别或地区不同" in html
    same = xlsx(
        ("单位", [["单位名称", "类别", "地区", "分组"], ["市公安局", "市直", "测试市", "市直组"]])
    )
    job_url = uploaded(web, campaign, "agencies", same)
    assert "单位“市公安局”已存在，将加入本次评议的“市直组”。" in web.client.get(job_url).get_data(
        as_text=True
    )
    assert web.post(job_url + "/commit", {}).status_code == 302
    assert counts(db)["Agency"] == 1 and counts(db)["CampaignAgency"] == 1


def test_commit_checks_the_database_again(setup, db):
    web, campaign, organization = setup
    job_url = uploaded(web, campaign, "agencies", CLEAN_AGENCIES)
    assert "检查通过" in web.client.get(job_url).get_data(as_text=True)
    # Between preview and commit, someone adds 市司法局 as a 中省驻地 agency.
    db.add(
        Agency(
            organization_id=organization.id, name="市司法局", level=AgencyLevel.CENTRAL_PROVINCIAL
        )
    )
    db.commit()
    assert "已有同名单位“市司法局”" in refused_commit(web, db, job_url)


def test_judges_need_a_known_affiliation(setup, db):
    web, campaign, organization = setup
    job_url = uploaded(web, campaign, "judges", CLEAN_JUDGES)
    html = web.client.get(job_url).get_data(as_text=True)
    assert "所属单位“市公安局”不是本单位管理的被评议单位" in html
    assert "<td>D 所属单位</td>" in html
    refused_commit(web, db, job_url)
    police = f.agency(db, organization, "市公安局")
    assert web.post(job_url + "/commit", {}).status_code == 302
    judges = db.exec(select(Judge).order_by(Judge.id)).all()
    assert [(j.name, j.group_name, j.affiliation_agency_id) for j in judges] == [
        ("张伟", "专家", None),
        ("李娜", "人大代表", police.id),
        ("王强", "群众代表", None),
    ]


def test_clean_indicator_tree_is_created_with_parents_and_positions(setup, db):
    web, campaign, _organization = setup
    job_url = uploaded(web, campaign, "indicators", CLEAN_INDICATORS)
    before = counts(db)
    assert web.post(job_url + "/commit", {}).status_code == 302
    nodes = {n.code: n for n in db.exec(select(Indicator)).all()}
    assert nodes["A1"].parent_id == nodes["A"].id and nodes["A2"].position == 1
    assert nodes["C"].max_points == Decimal("5.00") and nodes["C"].kind.value == "bonus"
    assert tree_problems(list(nodes.values())) == {}
    assert counts(db)["AuditEvent"] - before["AuditEvent"] == 5


def test_indicator_codes_already_in_the_campaign_are_refused(setup, db):
    web, campaign, _organization = setup
    create_indicator(db, campaign, IndicatorFields("A", "组织领导", Decimal("100")))
    job_url = uploaded(web, campaign, "indicators", CLEAN_INDICATORS)
    html = web.client.get(job_url).get_data(as_text=True)
    assert "指标编号 A 在本次评议中已存在。" in html and "本次评议已有 1 项指标" in html
    refused_commit(web, db, job_url)


def test_a_failure_while_writing_stores_nothing(setup, db, monkeypatch):
    web, campaign, _organization = setup
    job_url = uploaded(web, campaign, "indicators", CLEAN_INDICATORS)
    real = import_service.WRITERS["indicators"]

    def half_then_fail(session, *args):
        real(session, *args)  # every row flushed (and audited) ...
        raise RuntimeError("disk full")  # ... then the transaction fails

    monkeypatch.setitem(import_service.WRITERS, "indicators", half_then_fail)
    before = counts(db)
    with pytest.raises(RuntimeError):
        import_service.commit_import(db, campaign, parse_workbook("indicators", CLEAN_INDICATORS))
    assert counts(db) == before
    assert job_url  # the HTTP job is untouched


@pytest.mark.parametrize(
    "data, name, status, message",
    [
        (b"name,category\n", "units.csv", 400, "不是 Excel .xlsx 文件"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 1000,
            "units.xls",
            400,
            "旧版 Excel（.xls）",
        ),
        (b"PK\x03\x04" + os.urandom(6 * 1024 * 1024), "big.xlsx", 413, "超过上限 5 MB"),
        (b"", "", 400, "请选择要上传的 .xlsx 文件"),
    ],
)
def test_upload_checks_answer_4xx_with_a_clear_message(setup, db, data, name, status, message):
    web, campaign, _organization = setup
    response = upload(web, campaign, "agencies", data, name)
    assert response.status_code == status
    assert message in response.get_data(as_text=True)
    assert counts(db)["Agency"] == 0


def test_jobs_belong_to_their_campaign_and_kind(setup, db):
    web, campaign, organization = setup
    job_url = uploaded(web, campaign, "judges", CLEAN_JUDGES)
    other = f.campaign(db, organization)
    job_id = job_url.rsplit("/", 1)[1]
    for url in (
        f"/admin/campaigns/{other.id}/imports/judges/{job_id}",
        f"/admin/campaigns/{campaign.id}/imports/agencies/{job_id}",
        f"/admin/campaigns/{campaign.id}/imports/votes/{job_id}",
        f"/admin/campaigns/{campaign.id}/imports/judges/..%2f..%2fsecret_key",
        f"/admin/campaigns/{campaign.id}/imports/judges/{'0' * 32}/status.json",
    ):
        assert web.client.get(url).status_code == 404, url


def test_templates_download_as_xlsx(setup):
    web, campaign, _organization = setup
    response = web.client.get(f"/admin/campaigns/{campaign.id}/imports/indicators/template.xlsx")
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    assert parse_workbook("indicators", response.data).columns["code"]["header"] == "编号"


def test_the_job_runs_in_another_process_and_reports_progress(tmp_path, monkeypatch):
    rows = [["单位名称", "类别"]] + [[f"单位{i}", "市直"] for i in range(1500)]
    path = jobs.store_upload(tmp_path, xlsx(("单位", rows)))
    job_id = jobs.submit(tmp_path, "agencies", path, campaign_id=1)
    deadline = time.monotonic() + 60
    while (state := jobs.read_job(tmp_path, job_id))["status"] in ("queued", "running"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert state["status"] == "done" and state["progress"] == 100
    assert state["pid"] != os.getpid()
    assert len(state["result"]["rows"]) == 1500
    # Progress, seen from inside: reported as rows are read, never past 99 before the end.
    seen = []
    monkeypatch.setattr(jobs, "PROGRESS_INTERVAL", 0)
    real_update = jobs.update_job
    monkeypatch.setattr(
        jobs, "update_job", lambda p, **c: seen.append(c.get("progress")) or real_update(p, **c)
    )
    jobs.run_job(str(jobs.job_path(tmp_path, job_id)), "agencies", str(path))
    progress = [value for value in seen if value is not None]
    assert progress[:-1] == sorted(progress[:-1]) and 0 < progress[0] < 99 and progress[-1] == 100


def test_a_job_still_reading_shows_progress_and_polls_without_inline_script(setup, app, tmp_path):
    web, campaign, _organization = setup
    job_id = "f" * 32
    state = {"id": job_id, "kind": "judges", "status": "running", "progress": 40}
    jobs.write_job(jobs.job_path(tmp_path, job_id), {**state, "campaign_id": campaign.id})
    url = f"/admin/campaigns/{campaign.id}/imports/judges/{job_id}"
    html = web.client.get(url).get_data(as_text=True)
    assert '<progress id="import-progress" max="100" value="40">' in html
    assert 'src="/static/import_job.js"' in html and "<script>" not in html
    assert web.client.get(url + "/status.json").get_json() == {"status": "running", "progress": 40}
    assert web.post(url + "/commit", {}).status_code == 409


def _places(problems) -> list[tuple]:
    return [(p.row, p.column) for p in problems]


def test_problems_from_the_database_are_listed_in_row_order(setup, db):
    """A database check (row 5's 所属单位) sits between the workbook's own problems of rows
    4 and 6, not after them; then column order within a row."""
    _web, campaign, organization = setup
    f.agency(db, organization, "市公安局")
    data = xlsx(
        (
            "评委",
            [
                ["姓名", "类别", "职务", "所属单位"],
                ["张伟", "专家", None, "市公安局"],
                ["李娜", "人大代表", None, None],
                [None, "专家", None, None],
                ["王强", "群众代表", None, "不存在的单位"],
                ["赵敏", "领导", None, None],
            ],
        )
    )
    review = import_service.review_import(db, campaign, parse_workbook("judges", data))
    assert _places(review.problems) == [(4, "A"), (5, "D"), (6, "B")]
    with pytest.raises(import_service.ImportRefused) as refused:
        import_service.commit_import(db, campaign, parse_workbook("judges", data))
    assert _places(refused.value.problems) == [(4, "A"), (5, "D"), (6, "B")]


def test_every_importer_lists_database_problems_in_row_order(setup, db):
    _web, campaign, organization = setup
    f.agency(db, organization, "市公安局")  # 市直, 测试市
    agencies = xlsx(
        (
            "单位",
            [
                ["单位名称", "类别", "地区", "分组"],
                ["市公安局", "中省驻地", "测试市", "市直组"],  # row 2: differs from the stored one
                ["市教育局", "部委", "测试市", "市直组"],  # row 3: not a 类别
            ],
        )
    )
    review = import_service.review_import(db, campaign, parse_workbook("agencies", agencies))
    assert [p.row for p in review.problems] == [2, 3]
    create_indicator(db, campaign, IndicatorFields("B", "普法实效", Decimal("100")))
    indicators = xlsx(
        (
            "指标",
            [
                ["编号", "名称", "分值", "上级编号"],
                ["A", "组织领导", 40, None],
                ["A1", "责任清单", "四十", "A"],  # row 3: the workbook's own problem
                ["B", "普法实效", 60, None],  # row 4: the database's (B is taken)
            ],
        )
    )
    review = import_service.review_import(db, campaign, parse_workbook("indicators", indicators))
    # The whole-sheet problem (row None) first, then by row.
    assert [p.row for p in review.problems] == [None, 3, 4]

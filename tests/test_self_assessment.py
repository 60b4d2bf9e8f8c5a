"""自查自评: drafts, submission, review with comments, resubmission, versions, deadlines."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from evidence_samples import EICAR, EXE, PDF, PNG, plain_zip, xlsx
from selfassess_world import build, close_stage
from sqlmodel import select

from evaluation.models import (
    AuditEvent,
    EvidenceFile,
    SelfScore,
    StoredFile,
    Submission,
    SubmissionStatus,
    SubmissionVersion,
)
from evaluation.services.file_store import MAX_FILE_BYTES


@pytest.fixture
def world(db):
    return build(db)


def _submission(db, world, agency=None) -> Submission | None:
    db.expire_all()
    return db.exec(
        select(Submission).where(
            Submission.campaign_id == world.campaign.id,
            Submission.agency_id == (agency or world.agency_a).id,
        )
    ).first()


def _versions(db) -> list[SubmissionVersion]:
    db.expire_all()
    return list(db.exec(select(SubmissionVersion).order_by(SubmissionVersion.id)).all())


def _upload(web, world, name: str, data: bytes):
    return web.post(
        world.form_url() + "/evidence",
        {"file": (io.BytesIO(data), name)},
        content_type="multipart/form-data",
    )


def test_draft_submit_return_resubmit_accept_keeps_every_version(app, db, world):
    contact = world.web(app, world.contact_a)
    assert (
        contact.post(world.form_url(), {**world.filled_form(), "action": "save"}).status_code == 302
    )
    assert _submission(db, world).status == SubmissionStatus.DRAFT
    assert _upload(contact, world, "普法台账.pdf", PDF).status_code == 302
    response = contact.post(world.form_url(), {**world.filled_form(), "action": "submit"})
    assert response.status_code == 302
    submission = _submission(db, world)
    assert submission.status == SubmissionStatus.SUBMITTED and submission.version_count == 1

    organizer = world.web(app, world.organizer)
    returned = organizer.post(
        f"/admin/submissions/{submission.id}/review",
        {
            "decision": "returned",
            "note": "请补充佐证",
            f"comment-{world.a1.id}": "责任清单未附文件",
        },
    )
    assert returned.status_code == 302
    assert _submission(db, world).status == SubmissionStatus.RETURNED
    page = contact.client.get(world.form_url()).get_data(as_text=True)
    assert "责任清单未附文件" in page and "请补充佐证" in page

    revised = world.filled_form(report="# 履职报告\n\n本年度开展普法活动 40 场。", a1="10")
    assert contact.post(world.form_url(), {**revised, "action": "submit"}).status_code == 302
    versions = _versions(db)
    assert [v.number for v in versions] == [1, 2]
    assert "36 场" in versions[0].report_md and "40 场" in versions[1].report_md

    compare = organizer.client.get(f"/admin/submissions/{submission.id}/compare?a=1&b=2")
    text = compare.get_data(as_text=True)
    assert compare.status_code == 200
    assert "36 场" in text and "40 场" in text and "9.5" in text and "10" in text

    accepted = organizer.post(
        f"/admin/submissions/{submission.id}/review", {"decision": "accepted"}
    )
    assert accepted.status_code == 302
    assert _submission(db, world).status == SubmissionStatus.ACCEPTED
    actions = [e.action for e in db.exec(select(AuditEvent)).all()]
    for action in (
        "self_assessment_submitted",
        "self_assessment_returned",
        "self_assessment_accepted",
    ):
        assert action in actions


def test_a_report_pasted_from_word_is_stored_without_control_characters(app, db, world):
    contact = world.web(app, world.contact_a)
    form = {**world.filled_form(report="# 履职报告\x0b\n普法\x07活动"),
            f"explanation-{world.a1.id}": "责任清单\x07已公开"}
    assert contact.post(world.form_url(), {**form, "action": "save"}).status_code == 302
    submission = _submission(db, world)
    assert submission.report_md == "# 履职报告\n普法活动"
    explanation = db.exec(select(SelfScore.explanation).where(
        SelfScore.submission_id == submission.id, SelfScore.indicator_id == world.a1.id)).one()
    assert explanation == "责任清单已公开"


def test_accepted_submission_cannot_be_edited(app, db, world):
    contact = world.web(app, world.contact_a)
    contact.post(world.form_url(), {**world.filled_form(), "action": "submit"})
    response = contact.post(world.form_url(), {**world.filled_form(a1="1"), "action": "save"})
    assert response.status_code == 409
    assert "不能再修改" in response.get_data(as_text=True)


def test_self_score_above_max_names_the_indicator_and_stores_nothing(app, db, world):
    contact = world.web(app, world.contact_a)
    response = contact.post(world.form_url(), {**world.filled_form(a2="12"), "action": "save"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "A2" in page and "普法台账" in page and "超出" in page
    assert db.exec(select(SelfScore)).all() == []
    assert _submission(db, world).report_md == ""


def test_self_score_off_step_is_refused(app, db, world):
    contact = world.web(app, world.contact_a)
    response = contact.post(world.form_url(), {**world.filled_form(a1="9.3"), "action": "submit"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "A1" in page and "步长" in page
    assert _versions(db) == [] and db.exec(select(SelfScore)).all() == []


def test_self_score_with_three_decimals_is_refused_not_rounded(app, db, world):
    # A2 has no step; the column keeps two decimals, so 7.255 was stored as 7.26.
    contact = world.web(app, world.contact_a)
    response = contact.post(world.form_url(), {**world.filled_form(a2="7.255"), "action": "save"})
    assert response.status_code == 400
    assert "A2「普法台账」的得分最多保留两位小数" in response.get_data(as_text=True)
    assert db.exec(select(SelfScore)).all() == []


def test_explanation_over_the_limit_is_refused_naming_the_indicator(app, db, world):
    contact = world.web(app, world.contact_a)
    form = {**world.filled_form(), f"explanation-{world.a1.id}": "说" * 501, "action": "save"}
    response = contact.post(world.form_url(), form)
    assert response.status_code == 400
    assert "A1「责任清单」的说明不能超过 500 字" in response.get_data(as_text=True)
    assert db.exec(select(SelfScore)).all() == []


def test_empty_report_cannot_be_submitted(app, db, world):
    contact = world.web(app, world.contact_a)
    response = contact.post(
        world.form_url(), {**world.filled_form(report="  "), "action": "submit"}
    )
    assert response.status_code == 400
    assert "履职报告不能为空" in response.get_data(as_text=True)
    assert _versions(db) == []
    assert _submission(db, world).status == SubmissionStatus.DRAFT
    assert db.exec(select(SelfScore)).all() == []  # the whole submit rolled back


def test_missing_indicator_scores_are_named(app, db, world):
    contact = world.web(app, world.contact_a)
    response = contact.post(world.form_url(), {**world.filled_form(a2=""), "action": "submit"})
    assert response.status_code == 400
    assert "A2「普法台账」" in response.get_data(as_text=True)
    assert _versions(db) == []


def test_submitting_after_the_deadline_is_refused_until_the_organizer_reopens(app, db, world):
    contact = world.web(app, world.contact_a)
    contact.post(world.form_url(), {**world.filled_form(), "action": "save"})
    close_stage(db, world)
    late = contact.post(world.form_url(), {**world.filled_form(), "action": "submit"})
    assert late.status_code == 409
    assert "截止" in late.get_data(as_text=True)
    assert _versions(db) == []
    assert _upload(contact, world, "late.pdf", PDF).status_code == 409
    assert db.exec(select(StoredFile)).all() == []

    organizer = world.web(app, world.organizer)
    submission = _submission(db, world)
    reopened = organizer.post(
        f"/admin/submissions/{submission.id}/reopen", {"until": "2099-01-01T12:00"}
    )
    assert reopened.status_code == 302
    assert (
        contact.post(world.form_url(), {**world.filled_form(), "action": "submit"}).status_code
        == 302
    )
    assert [v.number for v in _versions(db)] == [1]


def test_upload_accepts_pdf_png_and_office_and_checks_content_not_name(app, db, world):
    contact = world.web(app, world.contact_a)
    for name, data in (("a.pdf", PDF), ("b.png", PNG), ("c.xlsx", xlsx())):
        assert _upload(contact, world, name, data).status_code == 302
    stored = {f.original_name: f.media_type for f in db.exec(select(StoredFile)).all()}
    assert stored["a.pdf"] == "application/pdf" and stored["b.png"] == "image/png"
    assert stored["c.xlsx"].endswith("spreadsheetml.sheet")


def test_a_small_evidence_file_shows_its_size_in_bytes(app, db, world):
    """A 69-byte PDF showed as （0.1 KB）, a 40-byte one as （0.0 KB）."""
    contact = world.web(app, world.contact_a)
    assert _upload(contact, world, "a.pdf", PDF).status_code == 302
    page = contact.client.get(world.form_url()).get_data(as_text=True)
    assert f"（{len(PDF)} 字节）" in page and " KB）" not in page


@pytest.mark.parametrize(
    ("name", "data"),
    [("report.pdf", EXE), ("photo.png", PDF[:4] + b"garbage"), ("台账.docx", plain_zip())],
)
def test_wrong_type_behind_a_right_name_is_refused(app, db, world, name, data):
    contact = world.web(app, world.contact_a)
    response = _upload(contact, world, name, data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert name in page and "不是允许的类型" in page
    assert db.exec(select(StoredFile)).all() == []
    assert not list(Path(app.config["FILES_FOLDER"]).glob("*/*"))


@pytest.mark.parametrize(
    ("name", "data"),
    [("report.exe", PDF), ("照片.pdf", PNG), ("台账.xlsx", PDF), ("台账", xlsx()),
     ("index.html", PNG)],
)
def test_a_right_type_behind_a_wrong_name_is_refused(app, db, world, name, data):
    """ASVS V5.2.2: the extension must be one of the sniffed kind's (the organizer's computer
    opens the download by its name): a real PDF uploaded as report.exe is refused."""
    contact = world.web(app, world.contact_a)
    response = _upload(contact, world, name, data)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert name in page and "扩展名与内容不符" in page
    assert db.exec(select(StoredFile)).all() == []
    assert not list(Path(app.config["FILES_FOLDER"]).glob("*/*"))


def test_the_extension_check_ignores_case_and_accepts_every_name_of_a_kind(app, db, world):
    contact = world.web(app, world.contact_a)
    for name, data in (("A.PDF", PDF), ("b.Png", PNG), ("c.XLSX", xlsx())):
        assert _upload(contact, world, name, data).status_code == 302


def test_an_infected_file_is_refused_before_it_is_written(app, db, world, caplog):
    """ASVS V5.4.3: with a scanner configured (FILE_SCANNER), EICAR is refused with a message,
    nothing is stored, the finding is a security event; a clean file still goes through."""
    app.config["FILE_SCANNER"] = "evidence_samples:FakeScanner"
    caplog.set_level("INFO", logger="pingyi.security")
    contact = world.web(app, world.contact_a)
    response = _upload(contact, world, "台账.pdf", PDF + EICAR)
    assert response.status_code == 400
    assert "未通过病毒扫描（Eicar-Test-Signature）" in response.get_data(as_text=True)
    assert db.exec(select(StoredFile)).all() == []
    assert not list(Path(app.config["FILES_FOLDER"]).glob("*/*"))
    assert "event=upload_infected" in caplog.text
    assert _upload(contact, world, "台账.pdf", PDF).status_code == 302


def test_a_scanner_that_cannot_answer_refuses_the_upload(app, db, world):
    app.config["FILE_SCANNER"] = "evidence_samples:BrokenScanner"
    contact = world.web(app, world.contact_a)
    response = _upload(contact, world, "台账.pdf", PDF)
    assert response.status_code == 400
    assert "暂时无法完成" in response.get_data(as_text=True)
    assert db.exec(select(StoredFile)).all() == []


def test_the_clamd_scanner_streams_the_file_and_reads_the_verdict(tmp_path):
    """The INSTREAM exchange against a stand-in clamd on a Unix socket."""
    import socket
    import struct
    import threading

    from evaluation.services.virus_scan import ClamdScanner

    path = str(tmp_path / "clamd.ctl")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(2)

    def serve():
        for _ in range(2):
            connection, _address = listener.accept()
            with connection:
                stream = connection.makefile("rb")
                assert stream.read(10) == b"zINSTREAM\0"
                received = b""
                while size := struct.unpack("!I", stream.read(4))[0]:
                    received += stream.read(size)
                verdict = b"Eicar-Test-Signature FOUND" if EICAR in received else b"OK"
                connection.sendall(b"stream: " + verdict + b"\0")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    scanner = ClamdScanner(path, timeout=5)
    assert scanner.scan(PDF * 3000) is None  # several chunks
    assert scanner.scan(EICAR) == "Eicar-Test-Signature"
    thread.join(5)
    listener.close()


def test_oversize_file_is_refused(app, db, world):
    contact = world.web(app, world.contact_a)
    big = PDF + b"0" * (MAX_FILE_BYTES + 1 - len(PDF))
    response = _upload(contact, world, "big.pdf", big)
    assert response.status_code == 400
    assert "big.pdf" in response.get_data(as_text=True)
    assert db.exec(select(StoredFile)).all() == []


def test_file_count_is_limited(app, db, world, monkeypatch):
    from evaluation.services import self_assessment

    monkeypatch.setattr(self_assessment, "MAX_EVIDENCE_FILES", 2)
    contact = world.web(app, world.contact_a)
    assert _upload(contact, world, "1.pdf", PDF).status_code == 302
    assert _upload(contact, world, "2.png", PNG).status_code == 302
    response = _upload(contact, world, "3.pdf", PDF + b"x")
    assert response.status_code == 400
    assert "最多上传 2 个" in response.get_data(as_text=True)
    assert len(db.exec(select(EvidenceFile)).all()) == 2


def test_evidence_is_downloaded_as_an_attachment_never_inline(app, db, world):
    contact = world.web(app, world.contact_a)
    _upload(contact, world, "照片.png", PNG)
    stored = db.exec(select(StoredFile)).one()
    response = contact.client.get(f"{world.form_url()}/files/{stored.id}")
    assert response.status_code == 200
    assert response.data == PNG
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.mimetype == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]
    blob = Path(app.config["FILES_FOLDER"]) / stored.sha256[:2] / stored.sha256
    assert blob.read_bytes() == PNG  # stored under its content hash, outside static/


def test_agency_b_never_sees_or_touches_agency_a(app, db, world):
    contact_a = world.web(app, world.contact_a)
    contact_a.post(
        world.form_url(), {**world.filled_form(report="甲单位的机密草稿"), "action": "save"}
    )
    _upload(contact_a, world, "甲.pdf", PDF)
    stored = db.exec(select(StoredFile)).one()
    evidence = db.exec(select(EvidenceFile)).one()

    contact_b = world.web(app, world.contact_b)
    page = contact_b.client.get(world.form_url()).get_data(as_text=True)
    assert "甲单位的机密草稿" not in page and "甲.pdf" not in page
    assert contact_b.client.get(f"{world.form_url()}/files/{stored.id}").status_code == 404
    deleted = contact_b.post(f"{world.form_url()}/evidence/{evidence.id}/delete", {})
    assert deleted.status_code == 404
    assert db.exec(select(EvidenceFile)).one().id == evidence.id
    submission_a = _submission(db, world)
    # Organizer pages are not reachable for contacts at all.
    assert contact_b.client.get(f"/admin/submissions/{submission_a.id}").status_code == 403
    assert _submission(db, world).report_md == "甲单位的机密草稿"


def test_report_markdown_is_rendered_without_html_or_script(app, db, world):
    contact = world.web(app, world.contact_a)
    report = (
        "# 标题\n\n<script>alert(1)</script>\n\n[点我](javascript:alert(2)) **重点** "
        "<img src=x onerror=alert(3)> [官网](https://example.org)"
    )
    contact.post(world.form_url(), {**world.filled_form(report=report), "action": "submit"})
    version = _versions(db)[0]
    page = contact.client.get(f"{world.form_url()}/versions/{version.number}").get_data(
        as_text=True
    )
    assert "<h1>标题</h1>" in page and "<strong>重点</strong>" in page
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page
    assert 'href="javascript' not in page and "<img" not in page
    assert 'href="https://example.org" rel="noopener noreferrer nofollow"' in page


def test_completeness_lists_agencies_that_have_not_submitted(app, db, world):
    world.web(app, world.contact_a).post(
        world.form_url(), {**world.filled_form(), "action": "submit"}
    )
    organizer = world.web(app, world.organizer)
    page = organizer.client.get(f"/admin/campaigns/{world.campaign.id}/self-assessment")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    missing_line = text.split("尚未提交：", 1)[1].split("</p>", 1)[0]
    assert "市税务局" in missing_line and "市司法局" not in missing_line
    assert "1 / 2" in text


def test_return_needs_a_comment(app, db, world):
    world.web(app, world.contact_a).post(
        world.form_url(), {**world.filled_form(), "action": "submit"}
    )
    organizer = world.web(app, world.organizer)
    submission = _submission(db, world)
    response = organizer.post(
        f"/admin/submissions/{submission.id}/review", {"decision": "returned"}
    )
    assert response.status_code == 400
    assert "至少填写一条意见" in response.get_data(as_text=True)
    assert _submission(db, world).status == SubmissionStatus.SUBMITTED


def test_other_organization_cannot_review(app, db, world):
    import factories as f

    from evaluation.models import Role

    stranger = f.user(db, Role.ORGANIZER, f.org(db))
    world.web(app, world.contact_a).post(
        world.form_url(), {**world.filled_form(), "action": "submit"}
    )
    submission = _submission(db, world)
    web = world.web(app, stranger)
    assert web.client.get(f"/admin/submissions/{submission.id}").status_code == 404
    response = web.post(f"/admin/submissions/{submission.id}/review", {"decision": "accepted"})
    assert response.status_code == 404
    assert _submission(db, world).status == SubmissionStatus.SUBMITTED


def test_comparison_treats_equal_numbers_as_unchanged():
    from evaluation.models import SubmissionVersion
    from evaluation.services.self_assessment_overview import compare_versions

    def version(number, points, report):
        row = {"indicator_id": 1, "code": "A1", "name": "责任清单", "max_points": "10"}
        return SubmissionVersion(
            number=number,
            report_md=report,
            scores_json=json.dumps([{**row, "points": points, "explanation": ""}]),
            files_json="[]",
            submission_id=1,
            submitted_by=1,
        )

    same = compare_versions(version(1, "4", "甲\n乙"), version(2, "4.00", "甲\n丙"))
    assert not same.scores[0].changed
    assert ("-", "乙") in same.report_lines and ("+", "丙") in same.report_lines
    assert compare_versions(version(1, "4", ""), version(2, "4.5", "")).scores[0].changed


def test_one_bad_file_in_an_upload_keeps_none_of_them(app, db, world):
    contact = world.web(app, world.contact_a)
    response = contact.post(
        world.form_url() + "/evidence",
        {"file": [(io.BytesIO(PDF), "good.pdf"), (io.BytesIO(EXE), "bad.pdf")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert "bad.pdf" in response.get_data(as_text=True)
    assert db.exec(select(StoredFile)).all() == [] and db.exec(select(EvidenceFile)).all() == []


def test_opening_the_form_writes_nothing(app, db, world):
    contact = world.web(app, world.contact_a)
    assert contact.client.get(world.form_url()).status_code == 200
    assert _submission(db, world) is None
    assert (
        contact.post(world.form_url(), {**world.filled_form(), "action": "save"}).status_code == 302
    )
    assert _submission(db, world) is not None

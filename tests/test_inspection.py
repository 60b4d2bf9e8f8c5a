"""实地考察: teams with the conflict check, sheets that survive resends and a second device,
submission, confirmation by a second team member, photos, and the marks results count."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

import factories as f
import pytest
from evidence_samples import EXE, PNG
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select
from webclient import Browserless, csrf_token, logged_in

from evaluation.models import (
    Agency,
    AuditEvent,
    Campaign,
    CampaignAgency,
    Indicator,
    InspectionLine,
    InspectionPhoto,
    InspectionSave,
    InspectionSheet,
    Role,
    Score,
    SheetStatus,
    Stage,
    StageKind,
    StoredFile,
    User,
)
from evaluation.services.conflicts import declare_conflict, recusals
from evaluation.services.errors import ValidationFailed
from evaluation.services.inspection_teams import assign_team, team_of
from evaluation.services.results import compose
from evaluation.services.results_marks import REVIEWER, inspection_marks

D = Decimal


@dataclass
class World:
    campaign: Campaign
    stage: Stage
    agency: Agency
    other_agency: Agency
    organizer: User
    alice: User  # fills a sheet
    bob: User  # her teammate
    carol: User  # an inspector on no team
    a1: Indicator
    a2: Indicator

    def web(self, app, user: User) -> Browserless:
        return logged_in(app, user.username)

    def sheet_of(self, db, user: User) -> InspectionSheet:
        member = next(m for m in team_of(db, self.stage.id, self.agency.id)
                      if m.inspector.id == user.id)
        return member.sheet


_HASH: dict[str, str] = {}


def _inspector(db, org, name: str, agency=None) -> User:
    """An inspector account; the password is hashed once per run (scrypt costs 0.3 s)."""
    if not _HASH:
        _HASH["hash"] = f.user(db, Role.INSPECTOR, org).password_hash
    user = User(username=f"inspector-{uuid.uuid4().hex[:12]}", display_name=name,
                password_hash=_HASH["hash"], role=Role.INSPECTOR, organization_id=org.id,
                agency_id=agency.id if agency else None)
    db.add(user)
    db.commit()
    return user


@pytest.fixture
def world(db) -> World:
    org = f.org(db)
    campaign = f.campaign(db, org)
    agency = f.agency(db, org, "市司法局")
    other = f.agency(db, org, "市税务局")
    for position, a in enumerate((agency, other)):
        db.add(CampaignAgency(campaign_id=campaign.id, agency_id=a.id, group_name="市直组",
                              position=position))
    db.commit()
    a1, a2 = f.two_leaf_rubric(db, campaign)
    stage = f.stage(db, campaign, StageKind.FIELD_INSPECTION)
    alice, bob, carol = (_inspector(db, org, n) for n in ("李考察", "王考察", "赵考察"))
    w = World(campaign, stage, agency, other, f.user(db, Role.ORGANIZER, org), alice, bob, carol,
              a1, a2)
    assign_team(db, campaign, stage, agency.id, [alice.id, bob.id])
    return w


def _draft(web, sheet_id, base, lines, save_id=None):
    token = csrf_token(web.client)
    return web.client.post(
        f"/inspector/sheets/{sheet_id}/draft",
        json={"save_id": save_id or uuid.uuid4().hex, "base_version": base, "lines": lines},
        headers={"X-CSRFToken": token},
    )


def _lines(w, a1="9.5", a2="8", notes="台账齐全"):
    return {str(w.a1.id): {"points": a1, "notes": notes}, str(w.a2.id): {"points": a2, "notes": ""}}


def _count(db, model, *where):
    return db.exec(select(func.count()).select_from(model).where(*where)).one()


def _submit(web, w, sheet, version, a1="9.5", a2="8"):
    return web.post(f"/inspector/sheets/{sheet.id}/submit", {
        "save_id": uuid.uuid4().hex, "base_version": str(version),
        f"points-{w.a1.id}": a1, f"notes-{w.a1.id}": "现场查看台账", f"points-{w.a2.id}": a2,
    })


# --- teams and conflicts -----------------------------------------------------------------

def test_assignment_refuses_recused_inspectors_by_name(app, db, world):
    w = world
    seconded = _inspector(db, _org(db, w), "钱借调", agency=w.agency)
    declared = _inspector(db, _org(db, w), "孙申报")
    declare_conflict(db, w.campaign, agency_id=w.agency.id, reason="配偶在该局任职",
                     recorded_by=w.organizer, inspector_id=declared.id)
    for person, rule in ((seconded, "所属单位是市司法局"), (declared, "配偶在该局任职")):
        with pytest.raises(ValidationFailed) as caught:
            assign_team(db, w.campaign, w.stage, w.agency.id, [person.id, w.carol.id])
        message = caught.value.errors["inspector_ids"]
        assert person.display_name in message and "市司法局" in message and rule in message
        assert len(team_of(db, w.stage.id, w.agency.id)) == 2  # carol was not added either
    register = {(r.person_name, r.agency_name, r.basis) for r in recusals(db, w.campaign)}
    assert ("钱借调", "市司法局", "affiliation") in register
    assert ("孙申报", "市司法局", "declared") in register
    # The same refusal through the organizer's page: a 400 naming both.
    web = w.web(app, w.organizer)
    page = web.post(f"/admin/campaigns/{w.campaign.id}/inspection",
                    {"agency_id": str(w.agency.id), "inspector_ids": [str(seconded.id)]})
    assert page.status_code == 400
    assert "钱借调 的所属单位是市司法局" in page.get_data(as_text=True)
    # A recused inspector may still visit another agency.
    assign_team(db, w.campaign, w.stage, w.other_agency.id, [seconded.id, declared.id])
    assert len(team_of(db, w.stage.id, w.other_agency.id)) == 2


def _org(db, w):
    from evaluation.models import Organization

    return db.get(Organization, w.campaign.organization_id)


def test_a_team_needs_two_inspectors(db, world):
    with pytest.raises(ValidationFailed, match="至少需要 2 名"):
        assign_team(db, world.campaign, world.stage, world.other_agency.id, [world.carol.id])
    assert team_of(db, world.stage.id, world.other_agency.id) == []


def test_organizer_assigns_and_removes_on_the_admin_page(app, db, world):
    w = world
    web = w.web(app, w.organizer)
    page = web.client.get(f"/admin/campaigns/{w.campaign.id}/inspection")
    assert page.status_code == 200 and "李考察" in page.get_data(as_text=True)
    response = web.post(f"/admin/campaigns/{w.campaign.id}/inspection",
                        {"agency_id": str(w.other_agency.id),
                         "inspector_ids": [str(w.carol.id), str(w.bob.id)]})
    assert response.status_code == 302
    members = team_of(db, w.stage.id, w.other_agency.id)
    assert {m.inspector.id for m in members} == {w.carol.id, w.bob.id}
    carol = next(m for m in members if m.inspector.id == w.carol.id)
    removed = web.post(
        f"/admin/campaigns/{w.campaign.id}/inspection/{carol.assignment.id}/delete", {})
    assert removed.status_code == 302
    assert len(team_of(db, w.stage.id, w.other_agency.id)) == 1


# --- the sheet ---------------------------------------------------------------------------

def test_draft_saves_are_idempotent_and_conflicts_are_reported(app, db, world):
    w = world
    web = w.web(app, w.alice)
    sheet = w.sheet_of(db, w.alice)
    save_id = uuid.uuid4().hex
    first = _draft(web, sheet.id, 0, _lines(w), save_id)
    assert first.status_code == 200 and first.json["stored"] is True
    assert first.json["draft"]["version"] == 1
    again = _draft(web, sheet.id, 0, _lines(w), save_id)  # the answer was lost: resent
    assert again.status_code == 200 and again.json["stored"] is False
    assert again.json["draft"]["version"] == 1
    assert _count(db, InspectionSave, InspectionSave.sheet_id == sheet.id) == 1
    # A second device that never saw version 1 must not overwrite it silently.
    stale = _draft(web, sheet.id, 0, _lines(w, a1="3"))
    assert stale.status_code == 409
    assert stale.json["conflict"]["version"] == 1
    assert stale.json["conflict"]["lines"][str(w.a1.id)]["points"] == "9.50"
    # Resolved by keeping the device's draft: resent on the server's version.
    kept = _draft(web, sheet.id, 1, _lines(w, a1="3"))
    assert kept.status_code == 200 and kept.json["draft"]["lines"][str(w.a1.id)]["points"] == \
        "3.00"


def test_points_above_max_or_off_step_are_refused_naming_the_indicator(app, db, world):
    w = world
    web = w.web(app, w.alice)
    sheet = w.sheet_of(db, w.alice)
    response = _draft(web, sheet.id, 0, _lines(w, a1="10.5", a2="7.25"))
    assert response.status_code == 400
    errors = response.json["errors"]
    assert "A1「责任清单」" in errors[f"points-{w.a1.id}"] and "超出" in errors[f"points-{w.a1.id}"]
    db.refresh(sheet)
    assert sheet.version == 0 and _count(db, InspectionSave) == 0
    off_step = _draft(web, sheet.id, 0, _lines(w, a1="9.3"))
    assert "步长" in off_step.json["errors"][f"points-{w.a1.id}"]
    page = _submit(web, w, sheet, 0, a1="11")
    assert page.status_code == 400 and "A1「责任清单」的得分 11 超出" in page.get_data(as_text=True)
    db.refresh(sheet)
    assert sheet.status == SheetStatus.DRAFT


def test_points_with_more_than_two_decimals_are_refused_not_rounded(app, db, world):
    # A2 has no step: 7.255 used to be saved, then shown back as 7.26 (the column keeps two
    # decimals), a mark the inspector never gave.
    w = world
    web = w.web(app, w.alice)
    sheet = w.sheet_of(db, w.alice)
    response = _draft(web, sheet.id, 0, _lines(w, a1="9.5", a2="7.255"))
    assert response.status_code == 400
    message = response.json["errors"][f"points-{w.a2.id}"]
    assert message == "指标 A2「普法台账」的得分最多保留两位小数。"
    db.refresh(sheet)
    assert sheet.version == 0 and _count(db, InspectionLine) == 0
    page = _submit(web, w, sheet, 0, a2="7.255")
    assert page.status_code == 400 and "A2「普法台账」的得分最多保留两位小数" in page.get_data(
        as_text=True
    )
    assert _draft(web, sheet.id, 0, _lines(w, a2="7.25")).status_code == 200


def test_notes_over_the_limit_are_refused_with_every_other_error_at_once(app, db, world):
    w = world
    web = w.web(app, w.alice)
    sheet = w.sheet_of(db, w.alice)
    response = _draft(web, sheet.id, 0, _lines(w, a1="10.5", notes="记" * 1001))
    assert response.status_code == 400
    errors = response.json["errors"]
    assert "A1「责任清单」的考察记录不能超过 1000 字" in errors[f"notes-{w.a1.id}"]
    assert "超出" in errors[f"points-{w.a1.id}"]
    db.refresh(sheet)
    assert sheet.version == 0 and _count(db, InspectionLine) == 0


def test_submit_confirm_and_return_by_a_second_team_member(app, db, world):
    w = world
    alice, bob, carol = (w.web(app, u) for u in (w.alice, w.bob, w.carol))
    sheet = w.sheet_of(db, w.alice)
    events = _count(db, AuditEvent)
    # Nothing to confirm before submission; teammates cannot see a draft.
    assert bob.client.get(f"/inspector/sheets/{sheet.id}").status_code == 404
    incomplete = _submit(alice, w, sheet, 0, a2="")
    assert incomplete.status_code == 400 and "A2「普法台账」" in incomplete.get_data(as_text=True)
    assert _submit(alice, w, sheet, 0).status_code == 302
    db.refresh(sheet)
    assert sheet.status == SheetStatus.SUBMITTED
    # The author cannot confirm their own sheet; the server says so.
    own = alice.post(f"/inspector/sheets/{sheet.id}/confirm", {})
    assert own.status_code == 400 and "不能确认自己填写的考察表" in own.get_data(as_text=True)
    # An inspector on no team of this agency sees nothing.
    assert carol.client.get(f"/inspector/sheets/{sheet.id}").status_code == 404
    assert carol.post(f"/inspector/sheets/{sheet.id}/confirm", {}).status_code == 404
    assert carol.post(f"/inspector/sheets/{sheet.id}/return", {"comment": "x"}).status_code == 404
    # Bob returns it (a reason is required), Alice revises and resubmits, Bob confirms.
    assert bob.post(f"/inspector/sheets/{sheet.id}/return", {"comment": " "}).status_code == 400
    assert bob.post(f"/inspector/sheets/{sheet.id}/return",
                    {"comment": "A2 台账分偏高，请核实"}).status_code == 302
    db.refresh(sheet)
    assert sheet.status == SheetStatus.RETURNED and sheet.return_comment == "A2 台账分偏高，请核实"
    assert "A2 台账分偏高" in alice.client.get(f"/inspector/sheets/{sheet.id}").get_data(
        as_text=True)
    assert _count(db, Score, Score.stage_id == w.stage.id) == 0
    assert _submit(alice, w, sheet, sheet.version, a2="6").status_code == 302
    assert bob.post(f"/inspector/sheets/{sheet.id}/confirm", {}).status_code == 302
    db.refresh(sheet)
    assert sheet.status == SheetStatus.CONFIRMED and sheet.confirmed_by == w.bob.id
    marks = db.exec(select(Score).where(Score.stage_id == w.stage.id)).all()
    assert {(s.reviewer_id, s.indicator_id, s.value) for s in marks} == {
        (w.alice.id, w.a1.id, D("9.5")), (w.alice.id, w.a2.id, D(6))}
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.seq > events)).all()
    for action in ("inspection_sheet_submitted", "inspection_sheet_returned",
                   "inspection_sheet_confirmed"):
        assert action in actions
    # Confirmed: no more edits, no second confirmation.
    assert _draft(alice, sheet.id, sheet.version, _lines(w)).status_code == 400
    assert bob.post(f"/inspector/sheets/{sheet.id}/confirm", {}).status_code == 400


def test_a_return_comment_pasted_from_word_is_stored_without_control_characters(app, db, world):
    w = world
    alice, bob = (w.web(app, u) for u in (w.alice, w.bob))
    sheet = w.sheet_of(db, w.alice)
    assert _submit(alice, w, sheet, 0).status_code == 302
    url = f"/inspector/sheets/{sheet.id}/return"
    assert bob.post(url, {"comment": "\x07\x0b"}).status_code == 400  # nothing but the marks
    assert bob.post(url, {"comment": "A2 偏高\x0b请核实\x07"}).status_code == 302
    db.refresh(sheet)
    assert sheet.return_comment == "A2 偏高请核实"


def test_a_refused_return_still_shows_the_authors_marks(app, db, world):
    # The teammate checking the sheet pressed 退回修改 without a comment: the page that asks
    # for the reason showed "None" in every mark and note instead of what the author gave.
    w = world
    alice, bob = w.web(app, w.alice), w.web(app, w.bob)
    sheet = w.sheet_of(db, w.alice)
    assert _submit(alice, w, sheet, 0, a1="9.5", a2="8").status_code == 302
    refused = bob.post(f"/inspector/sheets/{sheet.id}/return", {"comment": ""})
    assert refused.status_code == 400
    page = refused.get_data(as_text=True)
    assert "退回时请写明需要修改的内容" in page
    assert f'name="points-{w.a1.id}"' in page and "None" not in page
    assert 'value="9.50"' in page and "现场查看台账</textarea>" in page


def test_the_database_refuses_a_self_confirmed_sheet(db, world):
    sheet = world.sheet_of(db, world.alice)
    sheet.status, sheet.confirmed_by = SheetStatus.CONFIRMED, world.alice.id
    db.add(sheet)
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


# --- photos ------------------------------------------------------------------------------

def _photo(web, sheet, indicator, name, data, client_id=None):
    import io

    return web.post(f"/inspector/sheets/{sheet.id}/photos", {
        "indicator_id": str(indicator.id), "client_id": client_id or uuid.uuid4().hex,
        "photo": (io.BytesIO(data), name),
    }, content_type="multipart/form-data")


def test_photos_are_images_by_content_and_served_as_attachments_to_the_team(app, db, world):
    w = world
    alice = w.web(app, w.alice)
    sheet = w.sheet_of(db, w.alice)
    files = app.config["FILES_FOLDER"]
    refused = _photo(alice, sheet, w.a1, "现场.jpg", EXE)
    assert refused.status_code == 400
    assert "不是图片" in refused.get_data(as_text=True)
    assert _count(db, StoredFile) == 0 and _count(db, InspectionPhoto) == 0
    import pathlib

    assert not pathlib.Path(files).exists() or not any(pathlib.Path(files).rglob("*"))
    pdf = _photo(alice, sheet, w.a1, "现场.png", b"%PDF-1.4\n%%EOF\n")
    assert pdf.status_code == 400 and _count(db, StoredFile) == 0
    client_id = uuid.uuid4().hex
    assert _photo(alice, sheet, w.a1, "台账.png", PNG, client_id).status_code == 302
    assert _photo(alice, sheet, w.a1, "台账.png", PNG, client_id).status_code == 302  # resent
    photos = db.exec(select(InspectionPhoto).where(InspectionPhoto.sheet_id == sheet.id)).all()
    assert len(photos) == 1
    download = alice.client.get(f"/inspector/photos/{photos[0].id}")
    assert download.status_code == 200
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.mimetype == "application/octet-stream" and download.data == PNG
    bob, carol = w.web(app, w.bob), w.web(app, w.carol)
    assert bob.client.get(f"/inspector/photos/{photos[0].id}").status_code == 404  # a draft
    assert carol.client.get(f"/inspector/photos/{photos[0].id}").status_code == 404
    _submit(alice, w, sheet, w.sheet_of(db, w.alice).version)
    assert bob.client.get(f"/inspector/photos/{photos[0].id}").status_code == 200
    assert w.web(app, w.organizer).client.get(
        f"/inspector/photos/{photos[0].id}").status_code == 200


def test_photo_count_per_indicator_is_limited(app, db, world, monkeypatch):
    from evaluation.services import inspection_photos

    monkeypatch.setattr(inspection_photos, "MAX_PHOTOS_PER_INDICATOR", 1)
    w = world
    alice = w.web(app, w.alice)
    sheet = w.sheet_of(db, w.alice)
    assert _photo(alice, sheet, w.a1, "1.png", PNG).status_code == 302
    second = _photo(alice, sheet, w.a1, "2.png", PNG)
    assert second.status_code == 400 and "最多 1 张照片" in second.get_data(as_text=True)
    assert _count(db, InspectionPhoto) == 1


# --- results -----------------------------------------------------------------------------

def test_only_confirmed_sheets_give_marks_and_results_use_them(app, db, world):
    w = world
    alice, bob = w.web(app, w.alice), w.web(app, w.bob)
    a_sheet, b_sheet = w.sheet_of(db, w.alice), w.sheet_of(db, w.bob)
    _submit(alice, w, a_sheet, 0, a1="9.5", a2="8")
    _submit(bob, w, b_sheet, 0, a1="8", a2="7")
    assert inspection_marks(db, w.stage) == []  # submitted is not counted
    bob.post(f"/inspector/sheets/{a_sheet.id}/confirm", {})
    marks = inspection_marks(db, w.stage)
    assert {(m.source, m.scorer_id, m.indicator, m.value) for m in marks} == {
        (REVIEWER, w.alice.id, "A1", D("9.5")), (REVIEWER, w.alice.id, "A2", D(8))}
    alice.post(f"/inspector/sheets/{b_sheet.id}/confirm", {})
    for stage in db.exec(select(Stage).where(Stage.campaign_id == w.campaign.id)):
        stage.weight = D(100) if stage.id == w.stage.id else D(0)
        db.add(stage)
    db.delete(db.exec(select(CampaignAgency).where(
        CampaignAgency.agency_id == w.other_agency.id)).one())  # not inspected in this test
    db.commit()
    composed = compose(db, w.campaign)
    # The mean of the two inspectors' sheet totals (17.5 and 15), on the stage's scale.
    assert composed.inputs[w.agency.id]["field_inspection"] == {
        f"U{w.alice.id}": D("17.5"), f"U{w.bob.id}": D(15)}
    # A conflict declared after the visit sets that inspector's marks aside.
    declare_conflict(db, w.campaign, agency_id=w.agency.id, reason="考察后发现亲属任职",
                     recorded_by=w.organizer, inspector_id=w.bob.id)
    assert {m.scorer_id for m in inspection_marks(db, w.stage)} == {w.alice.id}


def test_a_teammate_who_declared_a_conflict_cannot_confirm(app, db, world):
    w = world
    alice, bob = w.web(app, w.alice), w.web(app, w.bob)
    sheet = w.sheet_of(db, w.alice)
    _submit(alice, w, sheet, 0)
    declare_conflict(db, w.campaign, agency_id=w.agency.id, reason="近亲属在该局任职",
                     recorded_by=w.bob, inspector_id=w.bob.id)
    refused = bob.post(f"/inspector/sheets/{sheet.id}/confirm", {})
    assert refused.status_code == 400 and "须回避该单位" in refused.get_data(as_text=True)
    db.refresh(sheet)
    assert sheet.status == SheetStatus.SUBMITTED
    assert _count(db, Score, Score.stage_id == w.stage.id) == 0

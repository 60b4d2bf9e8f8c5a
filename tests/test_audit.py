"""The audit chain: written with every change, verified, and tamper-evident."""

from __future__ import annotations

import json
from decimal import Decimal

import factories as f
import pytest
from sqlalchemy import text
from sqlmodel import select

from evaluation.audit import acting_as, verify_chain
from evaluation.models import AgencyLevel, AuditEvent, Role, Score, StageKind
from evaluation.services.agencies import AgencyFields, create_agency, update_agency
from evaluation.services.indicators import IndicatorFields, create_indicator, delete_indicator


def _events(db) -> list[AuditEvent]:
    return list(db.exec(select(AuditEvent).order_by(AuditEvent.seq)).all())


def test_every_audited_change_writes_an_event_with_actor_and_payload(db):
    organization = f.org(db)
    with acting_as("user:7:organizer"):
        agency = create_agency(db, organization.id, AgencyFields("市司法局", AgencyLevel.CITY))
        update_agency(db, agency, AgencyFields("市司法局（更名）", AgencyLevel.CITY))
    create_event, update_event = _events(db)[-2:]
    assert (create_event.action, create_event.object_type, create_event.object_id) == (
        "create",
        "agency",
        agency.id,
    )
    assert json.loads(create_event.payload)["name"] == "市司法局"
    assert update_event.actor == "user:7:organizer"
    assert json.loads(update_event.payload) == {"name": ["市司法局", "市司法局（更名）"]}


def test_campaign_stage_indicator_judge_and_score_changes_are_all_logged(db):
    organization = f.org(db)
    campaign = f.campaign(db, organization)
    judge = f.judge(db, campaign)
    agency = f.agency(db, organization)
    node = create_indicator(db, campaign, IndicatorFields("A", "组织领导", Decimal("10")))
    stage = f.stage(db, campaign, StageKind.ONSITE_REVIEW)
    db.add(
        Score(
            stage_id=stage.id,
            agency_id=agency.id,
            judge_id=judge.id,
            indicator_id=node.id,
            value=Decimal("9.5"),
            client_request_id="a1",
        )
    )
    db.commit()
    logged = {(e.object_type, e.action) for e in _events(db)}
    assert {
        ("campaign", "create"),
        ("stage", "create"),
        ("judge", "create"),
        ("indicator", "create"),
        ("score", "create"),
        ("agency", "create"),
    } <= logged


def test_passwords_never_reach_the_log(db):
    organization = f.org(db)
    f.user(db, Role.ORGANIZER, organization)
    created = [e for e in _events(db) if e.object_type == "user"][0]
    assert json.loads(created.payload)["password_hash"] == "<redacted>"
    assert "scrypt" not in created.payload and "pbkdf2" not in created.payload


def test_a_rolled_back_change_leaves_no_event(db):
    organization = f.org(db)
    before = len(_events(db))
    agency = f.agency(db, organization)
    after_create = len(_events(db))
    agency.name = "不会保存"
    db.add(agency)
    db.flush()
    db.rollback()
    assert after_create == before + 1
    assert len(_events(db)) == after_create


def test_delete_is_logged_with_the_deleted_values(db):
    organization = f.org(db)
    campaign = f.campaign(db, organization)
    node = create_indicator(db, campaign, IndicatorFields("Z9", "待删除", Decimal("5")))
    delete_indicator(db, node)
    last = _events(db)[-1]
    assert (last.action, last.object_type) == ("delete", "indicator")
    assert json.loads(last.payload)["code"] == "Z9"


def _populated(db) -> None:
    organization = f.org(db)
    campaign = f.campaign(db, organization)
    for _ in range(3):
        f.agency(db, organization)
    f.judge(db, campaign)


def test_untouched_chain_verifies(db):
    _populated(db)
    report = verify_chain(db)
    assert report.ok and report.count == len(_events(db)) and report.count > 10
    assert report.head_hash == _events(db)[-1].hash


def test_changing_one_payload_byte_is_detected(db):
    _populated(db)
    victim = _events(db)[5]
    tampered = (
        victim.payload.replace("测试", "测验", 1)
        if "测试" in victim.payload
        else (victim.payload[:-1] + " }")
    )
    db.execute(
        text("UPDATE audit_event SET payload = :p WHERE seq = :s"), {"p": tampered, "s": victim.seq}
    )
    db.commit()
    report = verify_chain(db)
    assert not report.ok and report.broken_seq == victim.seq
    assert "changed" in report.reason


def test_deleting_a_row_is_detected(db):
    _populated(db)
    db.execute(text("DELETE FROM audit_event WHERE seq = 4"))
    db.commit()
    report = verify_chain(db)
    assert not report.ok and report.broken_seq == 4


def test_reordering_two_rows_is_detected(db):
    _populated(db)
    # Swap the sequence numbers of events 3 and 4 (through a free number: seq is unique).
    for old, new in ((3, -1), (4, 3), (-1, 4)):
        db.execute(text("UPDATE audit_event SET seq = :n WHERE seq = :o"), {"n": new, "o": old})
    db.commit()
    report = verify_chain(db)
    assert not report.ok and report.broken_seq == 3


def test_rewriting_a_row_and_its_own_hash_is_still_detected(db):
    from evaluation.audit import event_hash

    _populated(db)
    victim = _events(db)[2]
    fields = victim.model_dump()
    fields["actor"] = "someone-else"
    db.execute(
        text("UPDATE audit_event SET actor = :a, hash = :h WHERE seq = :s"),
        {"a": "someone-else", "h": event_hash(fields), "s": victim.seq},
    )
    db.commit()
    report = verify_chain(db)
    # The next event still links to the original hash.
    assert not report.ok and report.broken_seq == victim.seq + 1


@pytest.mark.parametrize(
    "tamper, exit_code", [(None, 0), ("DELETE FROM audit_event WHERE seq = 2", 1)]
)
def test_cli_verify_prints_ok_or_the_broken_sequence(app, db, tamper, exit_code):
    _populated(db)
    if tamper:
        db.execute(text(tamper))
        db.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == exit_code
    if exit_code == 0:
        events = _events(db)
        assert result.output.startswith(f"OK {len(events)} events, head {events[-1].hash}")
    else:
        assert "BROKEN at sequence 2" in result.output


@pytest.mark.parametrize("tamper, named", [
    # The newest event cut off the end: the chain alone still links, the agency no longer
    # matches what is left of its log.
    ("DELETE FROM audit_event WHERE seq = (SELECT max(seq) FROM audit_event)",
     "name is '市司法局（更名）', the audit log says '市司法局'"),
    ("UPDATE agency SET name = '改过的名字' WHERE name = '市司法局（更名）'",
     "name is '改过的名字', the audit log says '市司法局（更名）'"),
    ("UPDATE stage SET weight = 50 WHERE kind = 'onsite_review'", "weight is '50.00'"),
    ("DELETE FROM judge", "created in the audit log, but missing"),
])
def test_campaign_records_changed_behind_the_log_are_named(app, db, tamper, named):
    organization = f.org(db)
    campaign = f.campaign(db, organization)
    f.judge(db, campaign)
    agency = create_agency(db, organization.id, AgencyFields("市司法局", AgencyLevel.CITY))
    update_agency(db, agency, AgencyFields("市司法局（更名）", AgencyLevel.CITY))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    db.execute(text(tamper))
    db.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "TAMPERED" in result.output and named in result.output


def test_a_stage_change_publishes_the_head_and_verify_holds_the_chain_to_it(
    app, db, caplog, tmp_path
):
    """ASVS V16.4.3: the chain head leaves the database at each milestone (here a stage
    opening): the security log and AUDIT_HEAD_SINK get seq:hash. Deleting the newest events
    together with the rows they record leaves a chain that verifies on its own;
    `audit verify --head` catches it."""
    from evaluation.models import StageStatus

    sink = tmp_path / "heads.txt"
    app.config["AUDIT_HEAD_SINK"] = str(sink)
    caplog.set_level("INFO", logger="pingyi.security")
    campaign = f.campaign(db, f.org(db))
    stage = f.stage(db, campaign, StageKind.ONSITE_REVIEW)
    assert "event=audit_head" not in caplog.text  # creating things is no milestone
    stage.status = StageStatus.OPEN
    db.add(stage)
    with app.app_context():  # as in a request or a CLI command: the sink is app config
        db.commit()
    head = _events(db)[-1]
    published = f"{head.seq}:{head.hash}"
    assert f"event=audit_head seq={head.seq} hash={head.hash} reason=stage_open" in caplog.text
    assert sink.read_text().split()[1:] == [published, "stage_open"]

    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit", "verify", "--head", published]).exit_code == 0
    # Erase the opening: its event and the row's new status.
    db.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": head.seq})
    db.execute(text("UPDATE stage SET status = 'pending' WHERE id = :i"), {"i": stage.id})
    db.commit()
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # alone: looks fine
    caught = runner.invoke(args=["audit", "verify", "--head", published])
    assert caught.exit_code == 1 and "newest events were removed" in caught.output
    # A head whose event was rewritten, and a head that is not SEQ:HASH.
    wrong = f"{head.seq - 1}:{'f' * 64}"
    assert "differs from the published head" in runner.invoke(
        args=["audit", "verify", "--head", wrong]).output
    assert runner.invoke(args=["audit", "verify", "--head", "12"]).exit_code == 2


def test_a_rolled_back_milestone_publishes_nothing(db, caplog):
    from evaluation.models import StageStatus

    caplog.set_level("INFO", logger="pingyi.security")
    stage = f.stage(db, f.campaign(db, f.org(db)), StageKind.ONSITE_REVIEW)
    stage.status = StageStatus.OPEN
    db.add(stage)
    db.flush()
    db.rollback()
    assert "event=audit_head" not in caplog.text


@pytest.mark.parametrize("action, object_type, payload, reason", [
    ("update", "stage", {"status": ["open", "closed"]}, "stage_closed"),
    ("update", "live_slot", {"segment": ["summary", "done"]}, "live_slot_done"),
    ("results.publish", "results_version", {"revision": 3}, "results.publish"),
    ("results.certify", "results_version", {"revision": 3}, "results.certify"),
    ("update", "live_slot", {"segment": ["scoring", "closed"]}, None),
    ("update", "stage", {"weight": ["20.00", "25.00"]}, None),
    ("create", "score", {"value": "9.5"}, None),
])
def test_the_milestones_that_publish_the_head(action, object_type, payload, reason):
    from evaluation.audit import _milestone

    assert _milestone(action, object_type, payload) == reason

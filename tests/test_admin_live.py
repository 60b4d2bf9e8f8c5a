"""Live sessions from the organizer's pages: create (with clear errors), order by hand or by
lot (the seed and the result audited, reproducible), links with QR codes (old ones revoked)."""

from __future__ import annotations

import json
import random

import factories as f
import pytest
from sqlmodel import select

from evaluation.models import (
    AccessToken,
    AuditEvent,
    CampaignAgency,
    LiveSeat,
    LiveSession,
    LiveSlot,
    Role,
    Segment,
)


@pytest.fixture
def setup(db, web):
    organization = f.org(db)
    campaign = f.campaign(db, organization)
    agencies = [f.agency(db, organization) for _ in range(5)]
    for position, agency in enumerate(agencies):
        db.add(CampaignAgency(campaign_id=campaign.id, agency_id=agency.id, group_name="市直组",
                              position=position))
    db.commit()
    judges = [f.judge(db, campaign) for _ in range(4)]
    organizer = f.user(db, Role.ORGANIZER, organization)
    web.login(organizer.username)
    return campaign, agencies, judges


def _form(agencies, judges, **changes):
    data = {"title": "现场评议第一场", "venue": "会议中心", "starts_at": "2024-12-20T09:00",
            "broadcast_mode": "live", "embargo_until": "", "score_max": "100",
            "score_step": "0.5", "drop_high": "1", "drop_low": "1", "sheet_indicator_id": "0",
            "agency_ids": [str(a.id) for a in agencies], "judge_ids": [str(j.id) for j in judges],
            "chief_judge_id": str(judges[0].id)}
    data.update(changes)
    return data


def _order(db, live_id) -> list[int]:
    db.expire_all()
    return [s.agency_id for s in db.exec(select(LiveSlot).where(LiveSlot.session_id == live_id)
                                         .order_by(LiveSlot.position)).all()]


def test_an_organizer_creates_a_session_and_sets_its_order(db, web, setup):
    campaign, agencies, judges = setup
    answer = web.post(f"/admin/campaigns/{campaign.id}/live", _form(agencies, judges))
    assert answer.status_code == 302
    live = db.exec(select(LiveSession)).one()
    assert (live.title, live.venue, live.starts_at.hour) == ("现场评议第一场", "会议中心", 1)
    assert _order(db, live.id) == [a.id for a in agencies]
    chief = db.exec(select(LiveSeat).where(LiveSeat.is_chief)).one()
    assert chief.judge_id == judges[0].id

    slot = db.exec(select(LiveSlot).where(LiveSlot.session_id == live.id,
                                          LiveSlot.position == 0)).one()
    assert web.post(f"/admin/live/{live.id}/slots/{slot.id}/down", {}).status_code == 302
    ids = [a.id for a in agencies]
    assert _order(db, live.id) == [ids[1], ids[0], *ids[2:]]
    page = web.client.get(f"/admin/live/{live.id}").get_data(as_text=True)
    assert page.index(agencies[1].name) < page.index(agencies[0].name)


def test_a_draw_by_lot_is_audited_and_reproducible(db, web, setup):
    campaign, agencies, judges = setup
    web.post(f"/admin/campaigns/{campaign.id}/live", _form(agencies, judges))
    live = db.exec(select(LiveSession)).one()
    before = _order(db, live.id)
    assert web.post(f"/admin/live/{live.id}/draw", {}).status_code == 302
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "draw")).one()
    logged = json.loads(event.payload)
    replay = list(logged["before"])
    random.Random(logged["seed"]).shuffle(replay)
    assert logged["before"] == before and replay == logged["order"] == _order(db, live.id)

    live.current_position = 0  # the show has begun: the order is fixed
    slot = db.exec(select(LiveSlot).where(LiveSlot.session_id == live.id,
                                          LiveSlot.position == 0)).one()
    slot.segment = Segment.REPORT
    db.add_all([live, slot])
    db.commit()
    refused = web.post(f"/admin/live/{live.id}/draw", {})
    assert refused.status_code == 409 and "已经开始" in refused.get_data(as_text=True)
    assert _order(db, live.id) == logged["order"]


def test_links_come_with_qr_codes_and_revoke_the_old_ones(db, web, setup):
    campaign, agencies, judges = setup
    web.post(f"/admin/campaigns/{campaign.id}/live", _form(agencies, judges))
    live = db.exec(select(LiveSession)).one()
    first = web.post(f"/admin/live/{live.id}/links", {})
    html = first.get_data(as_text=True)
    assert first.status_code == 200 and html.count("<svg") == len(judges)
    assert "/console#token=" in html and "短码" in html
    second = web.post(f"/admin/live/{live.id}/links", {})
    assert second.status_code == 200
    tokens = db.exec(select(AccessToken)).all()
    live_tokens = len(judges) + 2  # seats, console, overlay
    assert len(tokens) == 2 * live_tokens
    assert sum(1 for t in tokens if t.revoked_at is None) == live_tokens


def test_console_and_tablet_links_carry_the_token_in_the_fragment(db, web, setup):
    """ASVS V14.2.1: a browser never sends the fragment, so console and tablet tokens are in no
    request line or log; only overlay and feed links (OBS, vMix, pollers) keep `?token=`."""
    import re

    from evaluation.services.live_links import session_urls
    from evaluation.services.live_sessions import issue_session_links

    campaign, agencies, judges = setup
    web.post(f"/admin/campaigns/{campaign.id}/live", _form(agencies, judges))
    live = db.exec(select(LiveSession)).one()
    urls = session_urls("https://pingyi.example", live.id, issue_session_links(db, live))
    assert urls["pages"]["console"].endswith(f"/console#token={urls['control_token']}")
    for seat in urls["seats"].values():
        assert seat["url"].endswith(f"/tablet#token={seat['token']}")
    in_query = [url for url in urls["pages"].values() if "?token=" in url]
    assert in_query and all("/overlay/" in url or "/feed." in url for url in in_query)
    html = web.post(f"/admin/live/{live.id}/links", {}).get_data(as_text=True)
    assert not re.search(r"/(console|tablet)\?token=", html)


@pytest.mark.parametrize("changes, field", [
    ({"title": ""}, "title"),
    ({"broadcast_mode": "recorded"}, "embargo_until"),
    ({"starts_at": "明天上午"}, "starts_at"),
    ({"score_step": "150"}, "score_step"),
    ({"agency_ids": []}, "agency_ids"),
])
def test_bad_input_names_the_field_and_stores_nothing(db, web, setup, changes, field):
    campaign, agencies, judges = setup
    answer = web.post(f"/admin/campaigns/{campaign.id}/live",
                      _form(agencies, judges, **changes))
    assert answer.status_code == 400
    assert f'id="{field}-error"' in answer.get_data(as_text=True)
    assert db.exec(select(LiveSession)).all() == []


def test_the_chief_must_sit_on_the_panel_and_titles_are_unique(db, web, setup):
    campaign, agencies, judges = setup
    outsider = f.judge(db, campaign)
    answer = web.post(f"/admin/campaigns/{campaign.id}/live",
                      _form(agencies, judges, chief_judge_id=str(outsider.id)))
    assert answer.status_code == 400 and 'id="chief_judge_id-error"' in answer.get_data(
        as_text=True)
    assert web.post(f"/admin/campaigns/{campaign.id}/live",
                    _form(agencies, judges)).status_code == 302
    again = web.post(f"/admin/campaigns/{campaign.id}/live", _form(agencies, judges))
    assert again.status_code == 400 and 'id="title-error"' in again.get_data(as_text=True)
    assert len(db.exec(select(LiveSession)).all()) == 1

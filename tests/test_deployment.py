"""部署安排: the notice reaches enrolled agencies, read receipts, invitation links."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from evidence_samples import EXE, PDF
from selfassess_world import build
from sqlmodel import select
from webclient import Browserless

from evaluation.models import CampaignNotice, Invitation, NoticeReceipt, StoredFile, User
from evaluation.models.base import utcnow


@pytest.fixture
def world(db):
    return build(db)


def _publish(app, world, body="## 时间安排\n\n请各单位于 9 月底前完成自查自评。"):
    organizer = world.web(app, world.organizer)
    url = f"/admin/campaigns/{world.campaign.id}/deployment"
    response = organizer.post(url, {"title": "评议通知", "body_md": body, "action": "publish"})
    assert response.status_code == 302
    return organizer


def test_contact_reads_the_published_notice_and_the_organizer_sees_the_receipt(app, db, world):
    contact = world.web(app, world.contact_a)
    notice_url = f"/agency/campaigns/{world.campaign.id}/notice"
    assert contact.client.get(notice_url).status_code == 404  # not published yet
    organizer = _publish(app, world)
    page = contact.client.get(notice_url)
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "<h2>时间安排</h2>" in text and "A1" in text and "自查自评" in text
    contact.client.get(notice_url)  # a second reading adds no second receipt
    assert len(db.exec(select(NoticeReceipt)).all()) == 1
    overview = organizer.client.get(f"/admin/campaigns/{world.campaign.id}/deployment")
    text = overview.get_data(as_text=True)
    assert "已阅读：1 / 2 个单位" in text


def test_a_notice_pasted_from_word_is_stored_without_control_characters(app, db, world):
    organizer = world.web(app, world.organizer)
    url = f"/admin/campaigns/{world.campaign.id}/deployment"
    response = organizer.post(url, {"title": "评议\x07通知", "body_md": "正文\x0b第二行\n第三行",
                                    "action": "save"})
    assert response.status_code == 302
    notice = db.exec(select(CampaignNotice)).one()
    assert (notice.title, notice.body_md) == ("评议通知", "正文第二行\n第三行")


def test_notice_needs_a_body_to_be_published(app, db, world):
    organizer = world.web(app, world.organizer)
    response = organizer.post(
        f"/admin/campaigns/{world.campaign.id}/deployment",
        {"title": "评议通知", "body_md": "", "action": "publish"},
    )
    assert response.status_code == 400
    assert "通知正文为空" in response.get_data(as_text=True)


def test_attachments_are_type_checked_and_reach_enrolled_agencies_only(app, db, world):
    import factories as f

    from evaluation.models import Role

    organizer = _publish(app, world)
    url = f"/admin/campaigns/{world.campaign.id}/deployment/attachments"
    bad = organizer.post(
        url, {"file": (io.BytesIO(EXE), "方案.pdf")}, content_type="multipart/form-data"
    )
    assert bad.status_code == 400 and db.exec(select(StoredFile)).all() == []
    good = organizer.post(
        url, {"file": (io.BytesIO(PDF), "实施方案.pdf")}, content_type="multipart/form-data"
    )
    assert good.status_code == 302
    stored = db.exec(select(StoredFile)).one()
    contact = world.web(app, world.contact_a)
    notice = contact.client.get(f"/agency/campaigns/{world.campaign.id}/notice")
    assert f"（{len(PDF)} 字节）" in notice.get_data(as_text=True)  # not （0.1 KB）
    download = contact.client.get(f"/agency/campaigns/{world.campaign.id}/notice/files/{stored.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Disposition"].startswith("attachment")
    outsider_agency = f.agency(db, f.org(db))
    outsider = f.user(db, Role.AGENCY_CONTACT, f.org(db), outsider_agency)
    web = world.web(app, outsider)
    assert web.client.get(f"/agency/campaigns/{world.campaign.id}/notice").status_code == 404
    assert (
        web.client.get(
            f"/agency/campaigns/{world.campaign.id}/notice/files/{stored.id}"
        ).status_code
        == 404
    )


def _invite(app, world, username="sfj_lianluo"):
    organizer = world.web(app, world.organizer)
    response = organizer.post(
        f"/admin/campaigns/{world.campaign.id}/agencies/{world.agency_a.id}/invite",
        {"username": username, "display_name": "王联络"},
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    link = text.split('id="invitation-link"', 1)[0].rsplit('value="', 1)[1].split('"', 1)[0]
    return link.split("/invite/", 1)[1]


def test_invitation_link_sets_a_password_once(app, db, world):
    token = _invite(app, world)
    stored = db.exec(select(Invitation)).one()
    assert token not in stored.token_digest and len(stored.token_digest) == 64
    web = Browserless(app.test_client())
    assert web.client.get(f"/invite/{token}").status_code == 200
    weak = web.post(f"/invite/{token}", {"password": "short", "confirm": "short"})
    assert weak.status_code == 400 and "至少" in weak.get_data(as_text=True)
    ok = web.post(f"/invite/{token}", {"password": "Fazhi2024!ok", "confirm": "Fazhi2024!ok"})
    assert ok.status_code == 302
    assert web.login("sfj_lianluo", "Fazhi2024!ok").status_code == 302
    again = Browserless(app.test_client())
    assert again.client.get(f"/invite/{token}").status_code == 404
    reuse = again.post(f"/invite/{token}", {"password": "Other2024!x", "confirm": "Other2024!x"})
    assert reuse.status_code == 404
    db.expire_all()
    user = db.exec(select(User).where(User.username == "sfj_lianluo")).one()
    assert user.agency_id == world.agency_a.id


def test_expired_or_superseded_invitations_do_not_open(app, db, world):
    first = _invite(app, world)
    second = _invite(app, world)  # a new link revokes the older one
    web = Browserless(app.test_client())
    assert web.client.get(f"/invite/{first}").status_code == 404
    invitation = db.exec(select(Invitation).where(Invitation.revoked_at.is_(None))).one()
    invitation.expires_at = utcnow() - timedelta(seconds=1)
    invitation.created_at = utcnow() - timedelta(days=8)
    db.add(invitation)
    db.commit()
    assert web.client.get(f"/invite/{second}").status_code == 404


def test_an_invitation_cannot_take_over_another_account(app, db, world):
    organizer = world.web(app, world.organizer)
    response = organizer.post(
        f"/admin/campaigns/{world.campaign.id}/agencies/{world.agency_a.id}/invite",
        {"username": world.organizer.username, "display_name": "冒用"},
    )
    assert response.status_code == 400
    assert "已被其他账号使用" in response.get_data(as_text=True)
    assert db.exec(select(Invitation)).all() == []

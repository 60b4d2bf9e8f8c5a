"""媒体公示: the public comments, organizers moderate (hide with a reason), agencies reply;
bad input and out-of-period comments are refused with nothing stored."""

from __future__ import annotations

import factories as f
import pytest
from sqlmodel import func, select

from evaluation.models import (
    AuditEvent,
    CampaignAgency,
    CommentStatus,
    PublicityComment,
    PublicityOutlet,
    PublicityReply,
    Role,
    StageKind,
    StageStatus,
)


@pytest.fixture
def publicity(db):
    org = f.org(db, "甲市普法办")
    campaign = f.campaign(db, org)
    agencies = [f.agency(db, org, "市司法局"), f.agency(db, org, "市公安局")]
    db.add_all(
        CampaignAgency(campaign_id=campaign.id, agency_id=a.id, group_name="市直组")
        for a in agencies
    )
    stage = f.stage(db, campaign, StageKind.MEDIA_PUBLICITY)
    stage.status = StageStatus.OPEN
    db.add(stage)
    db.commit()
    return {
        "campaign": campaign,
        "stage": stage,
        "agencies": agencies,
        "organizer": f.user(db, Role.ORGANIZER, org),
        "contact": f.user(db, Role.AGENCY_CONTACT, org, agencies[0]),
        "other_contact": f.user(db, Role.AGENCY_CONTACT, org, agencies[1]),
    }


def page_url(p, agency=None):
    return f"/publicity/{p['campaign'].id}/agencies/{(agency or p['agencies'][0]).id}"


def count(db, model) -> int:
    db.expire_all()
    return db.exec(select(func.count()).select_from(model)).one()


def comment(web, p, body="宣传册很实用，希望多进社区。", **extra):
    return web.post(page_url(p), {"body": body, **extra})


def test_a_comment_waits_for_moderation_then_shows_with_the_reply(web, db, publicity):
    assert comment(web, publicity, author_name="张先生", contact="13800138000").status_code == 303
    page = web.client.get(page_url(publicity)).get_data(as_text=True)
    assert "宣传册很实用" not in page and "经审核后公开" in page
    stored = db.exec(select(PublicityComment)).one()
    assert stored.status == CommentStatus.PENDING

    web.login(publicity["organizer"].username)
    base = f"/admin/campaigns/{publicity['campaign'].id}/publicity"
    queue = web.client.get(base).get_data(as_text=True)
    assert "宣传册很实用" in queue and "13800138000" in queue  # contact: organizers only
    assert web.post(f"{base}/comments/{stored.id}", {"decision": "approve"}).status_code == 303
    web.logout()

    public = web.client.get(page_url(publicity)).get_data(as_text=True)
    assert "宣传册很实用" in public and "张先生" in public
    assert "13800138000" not in public

    web.login(publicity["contact"].username)
    answer = web.post(f"/agency/publicity/{stored.id}/reply", {"body": "谢谢建议，下月进社区。"})
    assert answer.status_code == 303
    again = web.post(f"/agency/publicity/{stored.id}/reply", {"body": "再答一次"})
    assert again.status_code == 400 and "已经答复过" in again.get_data(as_text=True)
    web.logout()
    public = web.client.get(page_url(publicity)).get_data(as_text=True)
    assert "谢谢建议，下月进社区。" in public
    assert count(db, PublicityReply) == 1


def test_a_comment_pasted_from_word_is_stored_without_control_characters(web, db, publicity):
    # Not WTForms fields: Word's cell mark \x07 and line break \x0b were stored and shown.
    response = comment(web, publicity, body="宣传册\x0b很实用\x07", author_name="张\x07先生")
    assert response.status_code == 303
    stored = db.exec(select(PublicityComment)).one()
    assert (stored.body, stored.author_name) == ("宣传册很实用", "张先生")


def test_hiding_needs_a_reason_and_is_audited(web, db, publicity):
    comment(web, publicity, body="广告：代办证件 138xxxx")
    stored = db.exec(select(PublicityComment)).one()
    web.login(publicity["organizer"].username)
    url = f"/admin/campaigns/{publicity['campaign'].id}/publicity/comments/{stored.id}"
    refused = web.post(url, {"decision": "hide", "reason": ""})
    assert refused.status_code == 400 and "隐藏留言须写明理由" in refused.get_data(as_text=True)
    assert web.post(url, {"decision": "hide", "reason": "广告信息"}).status_code == 303
    db.expire_all()
    assert db.get(PublicityComment, stored.id).status == CommentStatus.HIDDEN
    events = db.exec(select(AuditEvent).where(AuditEvent.object_type == "publicity_comment")).all()
    assert any("广告信息" in str(e.payload) for e in events if e.action == "update")
    assert "代办证件" not in web.client.get(page_url(publicity)).get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"body": "   "}, "请填写留言内容"),
        ({"body": "长" * 1001}, "最多 1000 个字"),
        ({"body": "好", "author_name": "名" * 51}, "称呼最多 50 个字"),
        ({"body": "好", "contact": "1" * 101}, "联系方式最多 100 个字"),
    ],
)
def test_bad_comments_are_refused_and_nothing_stored(web, db, publicity, data, message):
    response = web.post(page_url(publicity), data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert count(db, PublicityComment) == 0


def test_no_comment_outside_the_publicity_period(web, db, publicity):
    publicity["stage"].status = StageStatus.CLOSED
    db.add(publicity["stage"])
    db.commit()
    response = comment(web, publicity)
    assert response.status_code == 409 and "公示期外不接受留言" in response.get_data(as_text=True)
    assert count(db, PublicityComment) == 0


def test_comments_are_rate_limited(app, web, db, publicity):
    app.config["PUBLICITY_COMMENT_LIMIT"] = "2 per minute"
    answers = [comment(web, publicity, body=f"第{n}条") for n in range(3)]
    assert [a.status_code for a in answers] == [303, 303, 429]
    assert "留言过于频繁" in answers[2].get_data(as_text=True)
    assert count(db, PublicityComment) == 2


def test_an_agency_cannot_reply_to_another_agencys_or_a_pending_comment(web, db, publicity):
    comment(web, publicity)
    stored = db.exec(select(PublicityComment)).one()
    web.login(publicity["other_contact"].username)
    assert web.post(f"/agency/publicity/{stored.id}/reply", {"body": "x"}).status_code == 404
    web.logout()
    web.login(publicity["contact"].username)
    pending = web.post(f"/agency/publicity/{stored.id}/reply", {"body": "x"})
    assert pending.status_code == 400 and "尚未公开" in pending.get_data(as_text=True)
    assert count(db, PublicityReply) == 0


def test_organizer_records_outlets_shown_on_the_public_page(web, db, publicity):
    web.login(publicity["organizer"].username)
    url = f"/admin/campaigns/{publicity['campaign'].id}/publicity/outlets"
    bad = web.post(
        url, {"outlet": "韶关日报", "published_on": "2025-02-16", "link": "javascript:x"}
    )
    assert bad.status_code == 400 and count(db, PublicityOutlet) == 0
    ok = web.post(
        url,
        {
            "outlet": "韶关日报",
            "published_on": "2025-02-16",
            "link": "https://example.org/sgrb/2025-02-16",
        },
    )
    assert ok.status_code == 303
    web.logout()
    page = web.client.get(f"/publicity/{publicity['campaign'].id}").get_data(as_text=True)
    assert "韶关日报" in page and "2025-02-16" in page

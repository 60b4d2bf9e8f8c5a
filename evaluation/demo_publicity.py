"""The demo's media publicity (媒体公示): comments approved and hidden, replies, outlets."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from evaluation.models import (
    Agency,
    Campaign,
    CommentStatus,
    PublicityComment,
    PublicityOutlet,
    PublicityReply,
    Stage,
    StageKind,
    StageStatus,
)

OUTLETS = [
    ("韶关日报", date(2025, 2, 16), "https://example.org/sgrb/2025-02-16"),
    ("韶关广播电视台《韶关新闻》", date(2025, 2, 17), ""),
    ("韶关发布（政务新媒体）", date(2025, 2, 18), "https://example.org/sgfb/pingyi"),
]
# (agency, name, text, status, reason, reply)
COMMENTS = [
    (
        "市司法局",
        "张先生",
        "社区法律顾问每月来一次，解答了我家租房合同的问题，很实用。",
        CommentStatus.APPROVED,
        "",
        "感谢肯定！今年将把法律顾问服务延伸到全部村（社区）。",
    ),
    (
        "市司法局",
        "",
        "希望普法讲座安排在周末，上班族平时去不了。",
        CommentStatus.APPROVED,
        "",
        "已调整：每月第二个周六上午在市民中心开设普法课堂。",
    ),
    (
        "市公安局",
        "李女士",
        "反诈宣传进校园做得好，孩子回家给我们讲了好几种骗局。",
        CommentStatus.APPROVED,
        "",
        "",
    ),
    (
        "市市场监督管理局",
        "王师傅",
        "食品安全宣传册字太小，老人看不清，建议出大字版。",
        CommentStatus.APPROVED,
        "",
        "",
    ),
    (
        "市公安局",
        "",
        "代办各类证件，加微信 xxxxxxx",
        CommentStatus.HIDDEN,
        "广告信息，与评议无关。",
        "",
    ),
    (
        "市司法局",
        "",
        "某某工作人员态度差（含个人姓名与电话）",
        CommentStatus.HIDDEN,
        "含他人个人信息；已转市司法局按投诉程序处理。",
        "",
    ),
    (
        "市税务局",
        "陈会计",
        "个税汇算的普法短视频通俗易懂，能否出一期小微企业的？",
        CommentStatus.PENDING,
        "",
        "",
    ),
]


def load_publicity(session: Session, campaign: Campaign) -> None:
    stage = session.exec(
        select(Stage).where(
            Stage.campaign_id == campaign.id, Stage.kind == StageKind.MEDIA_PUBLICITY
        )
    ).one()
    agencies = {
        a.name: a
        for a in session.exec(
            select(Agency).where(Agency.organization_id == campaign.organization_id)
        )
    }
    for outlet, published_on, link in OUTLETS:
        session.add(
            PublicityOutlet(stage_id=stage.id, outlet=outlet, published_on=published_on, link=link)
        )
    for number, (agency, name, text, status, reason, reply) in enumerate(COMMENTS):
        at = stage.opens_at + timedelta(days=1 + number, hours=number)
        comment = PublicityComment(
            stage_id=stage.id,
            agency_id=agencies[agency].id,
            author_name=name,
            body=text,
            status=status,
            moderation_reason=reason,
            created_at=at,
            moderated_by=None if status == CommentStatus.PENDING else "organizer",
            moderated_at=None if status == CommentStatus.PENDING else at + timedelta(hours=3),
        )
        session.add(comment)
        session.flush()
        if reply:
            session.add(
                PublicityReply(
                    comment_id=comment.id,
                    body=reply,
                    replied_by="sifaju",
                    created_at=at + timedelta(days=1),
                )
            )
    stage.status = StageStatus.CLOSED
    session.add(stage)
    session.flush()

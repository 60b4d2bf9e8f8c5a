"""媒体公示 media publicity: the public comments, organizers moderate, agencies reply.

Comments are length limited and rate limited (at the view), captcha-free; each waits in the
moderation queue until an organizer approves it, or hides it with a reason (audited, like
every change to these rows). An agency replies only to approved comments on itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.models import (
    CampaignAgency,
    CommentStatus,
    PublicityComment,
    PublicityOutlet,
    PublicityReply,
    Stage,
    StageKind,
    StageStatus,
)
from evaluation.models.base import utcnow
from evaluation.services.errors import ValidationFailed
from evaluation.services.persistence import commit_or_fail
from evaluation.spreadsheet_text import typed_text

MAX_BODY = 1000
MAX_NAME = 50
MAX_CONTACT = 100


def publicity_stage(db: Session, campaign_id: int) -> Stage | None:
    return db.exec(
        select(Stage).where(
            Stage.campaign_id == campaign_id, Stage.kind == StageKind.MEDIA_PUBLICITY
        )
    ).first()


def accepting_comments(stage: Stage, now=None) -> bool:
    now = now or utcnow()
    if stage.status != StageStatus.OPEN:
        return False
    return stage.closes_at is None or now < stage.closes_at


def _text(value: str | None) -> str:
    return typed_text((value or "").replace("\u3000", " "))


@dataclass(frozen=True)
class CommentFields:
    body: str
    author_name: str = ""
    contact: str = ""


def submit_comment(
    db: Session, stage: Stage, agency_id: int, fields: CommentFields, network: str = ""
) -> PublicityComment:
    if not accepting_comments(stage):
        raise ValidationFailed({"form": _("公示期外不接受留言。")})
    enrolled = db.exec(
        select(CampaignAgency).where(
            CampaignAgency.campaign_id == stage.campaign_id,
            CampaignAgency.agency_id == agency_id,
        )
    ).first()
    if enrolled is None:
        raise ValidationFailed({"form": _("该单位不在本次评议之列。")})
    body, name, contact = _text(fields.body), _text(fields.author_name), _text(fields.contact)
    errors = {}
    if not body:
        errors["body"] = _("请填写留言内容。")
    elif len(body) > MAX_BODY:
        errors["body"] = _(
            "留言有 %(length)s 个字，最多 %(max)s 个字。", length=len(body), max=MAX_BODY
        )
    if len(name) > MAX_NAME:
        errors["author_name"] = _("称呼最多 %(max)s 个字。", max=MAX_NAME)
    if len(contact) > MAX_CONTACT:
        errors["contact"] = _("联系方式最多 %(max)s 个字。", max=MAX_CONTACT)
    if errors:
        raise ValidationFailed(errors)
    comment = PublicityComment(
        stage_id=stage.id,
        agency_id=agency_id,
        body=body,
        author_name=name,
        contact=contact,
        network=network[:64],
    )
    db.add(comment)
    commit_or_fail(db)
    return comment


def comments(db: Session, stage: Stage, agency_id: int | None = None, status=None):
    query = select(PublicityComment).where(PublicityComment.stage_id == stage.id)
    if agency_id is not None:
        query = query.where(PublicityComment.agency_id == agency_id)
    if status is not None:
        query = query.where(PublicityComment.status == status)
    return list(db.exec(query.order_by(PublicityComment.created_at)).all())


def replies_to(db: Session, comment_ids: list[int]) -> dict[int, PublicityReply]:
    if not comment_ids:
        return {}
    found = db.exec(select(PublicityReply).where(PublicityReply.comment_id.in_(comment_ids)))
    return {reply.comment_id: reply for reply in found.all()}


def moderate(
    db: Session, stage: Stage, comment_id: int, approve: bool, reason: str, by: str
) -> PublicityComment:
    comment = db.get(PublicityComment, comment_id)
    if comment is None or comment.stage_id != stage.id:
        raise ValidationFailed({"comment": _("没有这条留言。")})
    reason = _text(reason)
    if not approve and not reason:
        raise ValidationFailed({"reason": _("隐藏留言须写明理由。")})
    if len(reason) > 300:
        raise ValidationFailed({"reason": _("理由最多 300 个字。")})
    comment.status = CommentStatus.APPROVED if approve else CommentStatus.HIDDEN
    comment.moderation_reason = reason
    comment.moderated_by = by[:100]
    comment.moderated_at = utcnow()
    db.add(comment)
    commit_or_fail(db)
    return comment


def reply(db: Session, comment: PublicityComment, agency_id: int, body: str, by: str):
    """The agency's public reply; only to an approved comment about that agency, once."""
    if comment.agency_id != agency_id:
        raise ValidationFailed({"comment": _("只能答复对本单位的留言。")})
    if comment.status != CommentStatus.APPROVED:
        raise ValidationFailed({"comment": _("这条留言尚未公开，不能答复。")})
    body = _text(body)
    if not body:
        raise ValidationFailed({"body": _("请填写答复内容。")})
    if len(body) > MAX_BODY:
        raise ValidationFailed(
            {
                "body": _(
                    "答复有 %(length)s 个字，最多 %(max)s 个字。", length=len(body), max=MAX_BODY
                )
            }
        )
    if replies_to(db, [comment.id]):
        raise ValidationFailed({"comment": _("本单位已经答复过这条留言。")})
    answer = PublicityReply(comment_id=comment.id, body=body, replied_by=by[:100])
    db.add(answer)
    commit_or_fail(db)
    return answer


def outlets(db: Session, stage: Stage) -> list[PublicityOutlet]:
    return list(
        db.exec(
            select(PublicityOutlet)
            .where(PublicityOutlet.stage_id == stage.id)
            .order_by(PublicityOutlet.published_on, PublicityOutlet.id)
        ).all()
    )


def add_outlet(db: Session, stage: Stage, outlet: str, published_on: date | None, link: str):
    outlet, link = _text(outlet), _text(link)
    errors = {}
    if not outlet:
        errors["outlet"] = _("请填写媒体名称。")
    elif len(outlet) > 100:
        errors["outlet"] = _("媒体名称最多 100 个字。")
    if published_on is None:
        errors["published_on"] = _("请填写发布日期。")
    if link and (urlsplit(link).scheme not in ("http", "https") or not urlsplit(link).netloc):
        errors["link"] = _("链接应以 http:// 或 https:// 开头。")
    elif len(link) > 300:
        errors["link"] = _("链接最多 300 个字符。")
    if errors:
        raise ValidationFailed(errors)
    row = PublicityOutlet(stage_id=stage.id, outlet=outlet, published_on=published_on, link=link)
    db.add(row)
    commit_or_fail(db)
    return row

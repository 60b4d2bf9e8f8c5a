"""部署安排: the campaign notice published to the agencies, and who has read it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from flask_babel import gettext as _
from sqlmodel import Session, select

from evaluation.audit import record
from evaluation.models import (
    Agency,
    Campaign,
    CampaignAgency,
    CampaignNotice,
    NoticeAttachment,
    NoticeReceipt,
    Role,
    StoredFile,
    User,
)
from evaluation.models.base import utcnow
from evaluation.services.errors import ValidationFailed
from evaluation.services.file_store import Upload, check_upload, store_upload
from evaluation.services.persistence import commit_or_fail
from evaluation.spreadsheet_text import without_controls

MAX_NOTICE_CHARS = 50_000
MAX_ATTACHMENTS = 10


def notice_of(session: Session, campaign_id: int) -> CampaignNotice | None:
    return session.exec(
        select(CampaignNotice).where(CampaignNotice.campaign_id == campaign_id)
    ).first()


def save_notice(session: Session, campaign: Campaign, title: str, body_md: str) -> CampaignNotice:
    # not WTForms fields (see typed_text); stripped below where it matters
    title, body_md = without_controls(title), without_controls(body_md)
    errors = {}
    if not title.strip():
        errors["title"] = _("通知标题不能为空。")
    elif len(title) > 200:
        errors["title"] = _("通知标题不能超过 200 字。")
    if len(body_md) > MAX_NOTICE_CHARS:
        errors["body_md"] = _("通知正文不能超过 %(n)d 字。", n=MAX_NOTICE_CHARS)
    if errors:
        raise ValidationFailed(errors)
    notice = notice_of(session, campaign.id) or CampaignNotice(campaign_id=campaign.id, title="")
    notice.title, notice.body_md, notice.updated_at = title.strip(), body_md, utcnow()
    session.add(notice)
    commit_or_fail(session)
    return notice


def publish_notice(session: Session, notice: CampaignNotice) -> None:
    if not notice.body_md.strip():
        raise ValidationFailed({"body_md": _("通知正文为空，不能发布。")})
    if notice.published_at is None:
        notice.published_at = utcnow()
        session.add(notice)
        session.flush()
        record(session, "notice_published", "campaign_notice", notice.id, {})
    commit_or_fail(session)


def attachments_of(session: Session, notice_id: int) -> list[tuple[NoticeAttachment, StoredFile]]:
    return list(
        session.exec(
            select(NoticeAttachment, StoredFile)
            .join(StoredFile, StoredFile.id == NoticeAttachment.file_id)
            .where(NoticeAttachment.notice_id == notice_id)
            .order_by(NoticeAttachment.id)
        ).all()
    )


def add_attachments(
    session: Session, root: Path, notice: CampaignNotice, uploads: list[Upload], user: User
) -> list[StoredFile]:
    """All the files of one upload, or none: each is checked before any is kept."""
    for upload in uploads:
        check_upload(upload)
    if len(attachments_of(session, notice.id)) + len(uploads) > MAX_ATTACHMENTS:
        raise ValidationFailed({"file": _("通知最多 %(n)d 个附件。", n=MAX_ATTACHMENTS)})
    stored = []
    for upload in uploads:
        stored.append(store_upload(session, root, upload, user_id=user.id))
        session.add(NoticeAttachment(notice_id=notice.id, file_id=stored[-1].id))
    commit_or_fail(session)
    return stored


def remove_attachment(session: Session, notice: CampaignNotice, attachment_id: int) -> None:
    row = session.get(NoticeAttachment, attachment_id)
    if row is None or row.notice_id != notice.id:
        raise ValidationFailed({"file": _("没有这个附件。")})
    session.delete(row)
    commit_or_fail(session)


def mark_read(session: Session, notice: CampaignNotice, user: User) -> None:
    """The first opening by a contact counts; later ones change nothing."""
    if notice.published_at is None or user.role != Role.AGENCY_CONTACT:
        return
    exists = session.exec(
        select(NoticeReceipt).where(
            NoticeReceipt.notice_id == notice.id, NoticeReceipt.user_id == user.id
        )
    ).first()
    if exists is None:
        session.add(NoticeReceipt(notice_id=notice.id, user_id=user.id, agency_id=user.agency_id))
        commit_or_fail(session)


@dataclass(frozen=True)
class ReceiptRow:
    agency: Agency
    contacts: list[User]
    read_at: datetime | None
    read_by: str


def receipts(session: Session, campaign_id: int) -> list[ReceiptRow]:
    """Every enrolled agency: its contacts and when one of them first read the notice."""
    notice = notice_of(session, campaign_id)
    agencies = session.exec(
        select(Agency)
        .join(CampaignAgency, CampaignAgency.agency_id == Agency.id)
        .where(CampaignAgency.campaign_id == campaign_id)
        .order_by(CampaignAgency.group_name, CampaignAgency.position, Agency.id)
    ).all()
    contacts: dict[int, list[User]] = {}
    for user in session.exec(select(User).where(User.role == Role.AGENCY_CONTACT)):
        contacts.setdefault(user.agency_id, []).append(user)
    first_read: dict[int, tuple[datetime, str]] = {}
    if notice is not None:
        rows = session.exec(
            select(NoticeReceipt, User)
            .join(User, User.id == NoticeReceipt.user_id)
            .where(NoticeReceipt.notice_id == notice.id)
            .order_by(NoticeReceipt.read_at)
        ).all()
        for receipt, user in rows:
            first_read.setdefault(receipt.agency_id, (receipt.read_at, user.display_name))
    return [
        ReceiptRow(
            agency=agency,
            contacts=contacts.get(agency.id, []),
            read_at=first_read.get(agency.id, (None, ""))[0],
            read_by=first_read.get(agency.id, (None, ""))[1],
        )
        for agency in agencies
    ]


def published_notice_for_agency(
    session: Session, campaign_id: int, agency_id: int
) -> CampaignNotice | None:
    """The notice when it is published and the agency takes part in the campaign."""
    enrolled = session.exec(
        select(CampaignAgency).where(
            CampaignAgency.campaign_id == campaign_id, CampaignAgency.agency_id == agency_id
        )
    ).first()
    notice = notice_of(session, campaign_id)
    if enrolled is None or notice is None or notice.published_at is None:
        return None
    return notice

"""部署安排 deployment: the campaign notice, its attachments, read receipts and invitations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from evaluation.models.base import foreign_key, utcnow


class StoredFile(SQLModel, table=True):
    """A file kept outside the web root under its SHA-256 (see services/file_store.py).

    One row per upload: two agencies uploading the same bytes share the blob on disk but
    not the row, so one never learns of the other's file.
    """

    __tablename__ = "stored_file"
    __table_args__ = (
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint("length(sha256) = 64", name="sha256_length"),
    )

    id: int | None = Field(default=None, primary_key=True)
    sha256: str = Field(max_length=64, index=True)
    size_bytes: int
    # The type found in the content (magic bytes), never the one the browser claimed.
    media_type: str = Field(max_length=100)
    original_name: str = Field(max_length=200)
    uploaded_by: int = Field(sa_column=foreign_key("user.id"))
    uploaded_at: datetime = Field(default_factory=utcnow)


class CampaignNotice(SQLModel, table=True):
    """The plan published to the participating agencies (one per campaign)."""

    __tablename__ = "campaign_notice"
    __table_args__ = (UniqueConstraint("campaign_id"),)

    id: int | None = Field(default=None, primary_key=True)
    campaign_id: int = Field(sa_column=foreign_key("campaign.id", ondelete="CASCADE"))
    title: str = Field(max_length=200)
    body_md: str = Field(default="", max_length=50_000)
    published_at: datetime | None = None
    updated_at: datetime = Field(default_factory=utcnow)


class NoticeAttachment(SQLModel, table=True):
    __tablename__ = "notice_attachment"
    __table_args__ = (UniqueConstraint("notice_id", "file_id"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(sa_column=foreign_key("campaign_notice.id", ondelete="CASCADE"))
    file_id: int = Field(sa_column=foreign_key("stored_file.id"))


class NoticeReceipt(SQLModel, table=True):
    """The first time a contact opened the published notice (回执)."""

    __tablename__ = "notice_receipt"
    __table_args__ = (UniqueConstraint("notice_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    notice_id: int = Field(sa_column=foreign_key("campaign_notice.id", ondelete="CASCADE"))
    user_id: int = Field(sa_column=foreign_key("user.id"))
    agency_id: int = Field(sa_column=foreign_key("agency.id"))
    read_at: datetime = Field(default_factory=utcnow)


class Invitation(SQLModel, table=True):
    """A single-use, expiring link for an agency contact to set a password.

    Only the SHA-256 digest of the token is stored: a database dump opens no account.
    """

    __table_args__ = (CheckConstraint("expires_at > created_at", name="expires_after_creation"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=foreign_key("user.id", ondelete="CASCADE"))
    token_digest: str = Field(max_length=64, unique=True)
    # None: issued by the operator at the server (`pingyi user reset-link`).
    created_by: int | None = Field(default=None, sa_column=foreign_key("user.id", nullable=True))
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    revoked_at: datetime | None = None

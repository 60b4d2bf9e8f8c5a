"""媒体公示 media publicity: the public's comments (moderated), agencies' replies, outlets.

A comment is shown only once an organizer approves it; hiding one needs a reason (a CHECK).
The commenter's contact is for the organizers only and never shown on a public page.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from evaluation.models.base import N_, LabelledEnum, enum_column, foreign_key, utcnow


class CommentStatus(LabelledEnum):
    PENDING = ("pending", N_("待审核"))
    APPROVED = ("approved", N_("已公开"))
    HIDDEN = ("hidden", N_("已隐藏"))


class PublicityComment(SQLModel, table=True):
    __tablename__ = "publicity_comment"
    __table_args__ = (
        CheckConstraint("status != 'hidden' OR moderation_reason != ''", name="hiding_reasoned"),
        CheckConstraint("length(body) > 0", name="body_present"),
    )

    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(sa_column=foreign_key("stage.id", ondelete="CASCADE"))
    agency_id: int = Field(sa_column=foreign_key("agency.id"))
    author_name: str = Field(default="", max_length=50)
    contact: str = Field(default="", max_length=100)  # organizers only
    body: str = Field(max_length=1000)
    status: CommentStatus = Field(
        default=CommentStatus.PENDING, sa_column=enum_column(CommentStatus, name="comment_status")
    )
    network: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    moderation_reason: str = Field(default="", max_length=300)
    moderated_by: str | None = Field(default=None, max_length=100)
    moderated_at: datetime | None = None


class PublicityReply(SQLModel, table=True):
    """The agency's public answer to an approved comment: one per comment."""

    __tablename__ = "publicity_reply"
    __table_args__ = (
        UniqueConstraint("comment_id"),
        CheckConstraint("length(body) > 0", name="body_present"),
    )

    id: int | None = Field(default=None, primary_key=True)
    comment_id: int = Field(sa_column=foreign_key("publicity_comment.id", ondelete="CASCADE"))
    body: str = Field(max_length=1000)
    replied_by: str = Field(max_length=100)
    created_at: datetime = Field(default_factory=utcnow)


class PublicityOutlet(SQLModel, table=True):
    """Where the material was also published (a newspaper, a TV programme, a website)."""

    __tablename__ = "publicity_outlet"

    id: int | None = Field(default=None, primary_key=True)
    stage_id: int = Field(sa_column=foreign_key("stage.id", ondelete="CASCADE"))
    outlet: str = Field(max_length=100)
    published_on: date
    link: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow)

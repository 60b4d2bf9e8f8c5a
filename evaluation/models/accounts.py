"""Organizations (普法办) and the people who log in."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from evaluation.models.base import N_, LabelledEnum, enum_column, utcnow


class OrganizationKind(LabelledEnum):
    CITY = ("city", N_("市级"))
    COUNTY = ("county", N_("县区级"))


class Role(LabelledEnum):
    ADMIN = ("admin", N_("系统管理员"))
    ORGANIZER = ("organizer", N_("评议组织者"))
    AGENCY_CONTACT = ("agency_contact", N_("单位联络员"))
    INSPECTOR = ("inspector", N_("实地考察员"))


class Organization(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, unique=True)
    kind: OrganizationKind = Field(
        sa_column=enum_column(OrganizationKind, name="organization_kind")
    )
    created_at: datetime = Field(default_factory=utcnow)


class User(SQLModel, table=True):
    __table_args__ = (
        # Who belongs where is part of the data's integrity, not only of the forms.
        CheckConstraint(
            "role = 'admin' OR organization_id IS NOT NULL", name="organization_required"
        ),
        CheckConstraint(
            "role != 'agency_contact' OR agency_id IS NOT NULL", name="contact_has_agency"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(max_length=64)
    password_hash: str = Field(max_length=255)
    role: Role = Field(sa_column=enum_column(Role, name="user_role"))
    organization_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("organization.id", ondelete="RESTRICT"), index=True),
    )
    agency_id: int | None = Field(
        default=None,
        sa_column=Column(Integer, ForeignKey("agency.id", ondelete="RESTRICT"), index=True),
    )
    locale: str | None = Field(default=None, max_length=16)
    active: bool = Field(default=True)
    created_at: datetime = Field(default_factory=utcnow)
    password_changed_at: datetime = Field(default_factory=utcnow)
    # Server-side session version: bumped on logout, on "end all sessions" and on a 2FA
    # reset, so a cookie copied before any of these stops working (see get_id).
    session_epoch: int = Field(default=0)
    # TOTP (RFC 6238) second factor: the shared secret (base32), when it was confirmed, and
    # the last 30-second step accepted, so a code cannot be replayed within its window.
    totp_secret: str | None = Field(default=None, max_length=64)
    totp_enabled_at: datetime | None = Field(default=None)
    totp_last_step: int | None = Field(default=None)
    # Set when an admin chose the password (`/admin/users/new`, `pingyi user create`): the
    # user must replace it before anything else opens (ASVS V6.4.1), so no admin-chosen
    # password becomes the long-term one.
    must_change_password: bool = Field(default=False)

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # The password timestamp (to the microsecond: a change can follow a login within the
        # same second) invalidates older sessions when the password changes.
        # The session epoch ends every session at logout (a copied cookie included).
        stamp = int(self.password_changed_at.timestamp() * 1_000_000)
        return f"{self.id}:{stamp}:{self.session_epoch}"

    @property
    def has_totp(self) -> bool:
        return self.totp_enabled_at is not None and self.totp_secret is not None


class RecoveryCode(SQLModel, table=True):
    """One-time recovery codes for a lost authenticator: keyed digests only (see tokens)."""

    __tablename__ = "recovery_code"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    code_digest: str = Field(max_length=64, unique=True)
    used_at: datetime | None = Field(default=None)
    created_at: datetime = Field(default_factory=utcnow)


class UserSession(SQLModel, table=True):
    """One browser login: listed on the account's sessions page, ended one by one (V7.5.2).

    The signed session cookie carries a random key; only its SHA-256 digest is stored, so a
    copy of this table opens nothing. `evaluation.auth.load_user` refuses a cookie whose
    record is missing or ended.
    """

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(
        sa_column=Column(
            Integer, ForeignKey("user.id", ondelete="CASCADE"), nullable=False, index=True
        )
    )
    key_digest: str = Field(max_length=64, unique=True)
    user_agent: str = Field(default="", max_length=255)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: datetime = Field(default_factory=utcnow)
    ended_at: datetime | None = Field(default=None)

"""Shared column helpers for the tables.

Constraint names follow one convention so that Alembic's batch mode (SQLite) and
PostgreSQL see the same names, and a migration can drop a constraint by name.
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import Column, ForeignKey, Index, Integer, text
from sqlalchemy import Enum as SAEnum
from sqlmodel import SQLModel

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def N_(message: str) -> str:
    """Marks a label for translation where it is defined; it is translated where shown."""
    return message


def utcnow() -> datetime:
    """Aware UTC: SQLModel's UTCDateTime refuses naive values, so no local time sneaks in."""
    return datetime.now(UTC)


def enum_column(enum_cls: type[enum.Enum], *, name: str, **kwargs) -> Column:
    """A portable enum: a VARCHAR with a CHECK constraint, storing the member's value."""
    sa_type = SAEnum(
        enum_cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=32,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )
    kwargs.setdefault("nullable", False)
    return Column(sa_type, **kwargs)


class LabelledEnum(str, enum.Enum):
    """A str enum whose members carry a user-facing label (translated at render time)."""

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


def foreign_key(target: str, *, nullable: bool = False, ondelete: str = "RESTRICT") -> Column:
    """An indexed integer foreign key column (RESTRICT unless the parent owns the row)."""
    return Column(Integer, ForeignKey(target, ondelete=ondelete), nullable=nullable, index=True)


def partial_unique(name: str, *columns: str, where: str) -> Index:
    """A unique index over the rows matching `where`, on SQLite and PostgreSQL alike."""
    condition = text(where)
    return Index(name, *columns, unique=True, sqlite_where=condition, postgresql_where=condition)

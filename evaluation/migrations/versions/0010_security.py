"""security: server-side session epoch, TOTP second factor, recovery codes, keyed code digests

Revision ID: 0010_security
Revises: 0009_peer_review
Create Date: 2026-11-28 14:20:00

Short codes, vote codes, audience-panel codes and SMS codes were stored as plain SHA-256,
which anyone holding a copy of the database can reverse offline (they are 20 to 60 bits).
They are now stored as HMAC-SHA-256(key, SHA-256(code)) with the key outside the database
(`evaluation.services.tokens.code_digest`). Because the keyed digest is taken over the old
digest, existing rows are converted here without knowing a single code: printed vote codes
and issued short codes keep working across the upgrade.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0010_security"
down_revision = "0009_peer_review"
branch_labels = None
depends_on = None

# (table, column) holding a code digest that becomes keyed.
CODE_DIGESTS = (
    ("access_token", "short_code_digest"),
    ("vote_code", "code_digest"),
    ("panel_member", "code_digest"),
    ("sms_challenge", "code_digest"),
)


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(
            sa.Column("session_epoch", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("totp_secret", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True)
        )
        batch.add_column(
            sa.Column("totp_enabled_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True)
        )
        batch.add_column(sa.Column("totp_last_step", sa.Integer(), nullable=True))
    op.create_table(
        "recovery_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("code_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_recovery_code_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recovery_code")),
        sa.UniqueConstraint("code_digest", name=op.f("uq_recovery_code_code_digest")),
    )
    op.create_index(op.f("ix_recovery_code_user_id"), "recovery_code", ["user_id"])
    _key_existing_code_digests()


def _key_existing_code_digests() -> None:
    connection = op.get_bind()
    rows = {
        (table, column): connection.execute(
            sa.text(f"SELECT id, {column} FROM {table}")
        ).all()
        for table, column in CODE_DIGESTS
    }
    if not any(rows.values()):
        return  # a new database: nothing to convert, no key needed
    from evaluation.services.tokens import migration_code_key, rekey

    key = migration_code_key()
    for (table, column), found in rows.items():
        for row_id, old in found:
            connection.execute(
                sa.text(f"UPDATE {table} SET {column} = :new WHERE id = :id"),
                {"new": rekey(old, key), "id": row_id},
            )


def downgrade() -> None:
    # Keyed digests cannot be turned back into plain ones: downgrading revokes the codes.
    op.drop_index(op.f("ix_recovery_code_user_id"), table_name="recovery_code")
    op.drop_table("recovery_code")
    with op.batch_alter_table("user") as batch:
        batch.drop_column("totp_last_step")
        batch.drop_column("totp_enabled_at")
        batch.drop_column("totp_secret")
        batch.drop_column("session_epoch")

"""user sessions: one row per browser login, forced change of admin-set passwords, reset links

Revision ID: 0011_user_sessions
Revises: 0010_security
Create Date: 2026-11-28 17:00:00

- `user_session`: each login gets a row (key digest, user agent, created, last seen, ended),
  so a user can list their sessions and end one (ASVS V7.5.2). Sessions opened before this
  revision carry no key and end at the next request: everyone logs in once more.
- `user.must_change_password`: an admin-chosen initial password must be replaced at the
  first login (V6.4.1). Existing accounts are not flagged.
- `invitation.created_by` may be empty: a reset link issued by the operator at the server
  (`pingyi user reset-link`, V6.4.3) has no issuing account.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = "0011_user_sessions"
down_revision = "0010_security"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("user") as batch:
        batch.add_column(
            sa.Column(
                "must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("invitation") as batch:
        batch.alter_column("created_by", existing_type=sa.Integer(), nullable=True)
    op.create_table(
        "user_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key_digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("user_agent", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("ended_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_session_user_id_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_session")),
        sa.UniqueConstraint("key_digest", name=op.f("uq_user_session_key_digest")),
    )
    op.create_index(op.f("ix_user_session_user_id"), "user_session", ["user_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_user_session_user_id"), table_name="user_session")
    op.drop_table("user_session")
    # Reset links issued from the command line have no issuer: they go with the downgrade.
    op.execute("DELETE FROM invitation WHERE created_by IS NULL")
    with op.batch_alter_table("invitation") as batch:
        batch.alter_column("created_by", existing_type=sa.Integer(), nullable=False)
    with op.batch_alter_table("user") as batch:
        batch.drop_column("must_change_password")

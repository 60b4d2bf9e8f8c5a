"""ballot burst index: public_ballot (stage_id, network, cast_at)

Revision ID: 0012_ballot_burst_index
Revises: 0011_user_sessions
Create Date: 2026-11-28 17:10:00

Every ballot asks how many ballots its network cast in this stage within the burst window
(services/ballots.py `_recent_from`); without an index that query read every ballot of the
stage, so each ballot cost more than the one before it.
"""

from alembic import op

revision = "0012_ballot_burst_index"
down_revision = "0011_user_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_public_ballot_burst", "public_ballot", ["stage_id", "network", "cast_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_public_ballot_burst", table_name="public_ballot")

"""rehearsal sessions, the graphic on air, per-indicator sheets

Revision ID: 0007
Revises: 0006_public_review
Create Date: 2026-11-28 11:45:00

A rehearsal's marks stay in live_submission.rehearsal_value and never become `score` rows,
so no result, export or public page can count them.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006_public_review"
branch_labels = None
depends_on = None

GRAPHIC = sa.Enum(
    "leaderboard", "audience", name="live_graphic", native_enum=False,
    create_constraint=True, length=32,
)


def upgrade() -> None:
    # Batch mode: SQLite rebuilds the tables (it cannot alter a column or add a CHECK).
    with op.batch_alter_table("live_session") as batch:
        batch.add_column(sa.Column("on_air", GRAPHIC, nullable=True))
        batch.add_column(sa.Column("sheet_indicator_id", sa.Integer(), nullable=True))
        batch.create_index(op.f("ix_live_session_sheet_indicator_id"), ["sheet_indicator_id"])
        batch.create_foreign_key(
            op.f("fk_live_session_sheet_indicator_id_indicator"), "indicator",
            ["sheet_indicator_id"], ["id"], ondelete="RESTRICT",
        )
        batch.add_column(sa.Column("rehearsal_of_id", sa.Integer(), nullable=True))
        batch.create_index(op.f("ix_live_session_rehearsal_of_id"), ["rehearsal_of_id"])
        batch.create_foreign_key(
            op.f("fk_live_session_rehearsal_of_id_live_session"), "live_session",
            ["rehearsal_of_id"], ["id"], ondelete="CASCADE",
        )
        batch.create_unique_constraint(
            op.f("uq_live_session_rehearsal_of_id"), ["rehearsal_of_id"]
        )
    with op.batch_alter_table("live_submission") as batch:
        batch.add_column(sa.Column("rehearsal_value", sa.Numeric(7, 2), nullable=True))
        batch.alter_column("score_id", existing_type=sa.Integer(), nullable=True)
        batch.create_check_constraint(
            "score_or_rehearsal",
            "score_id IS NULL OR rehearsal_value IS NULL",
        )
    op.create_table(
        "live_sheet_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("indicator_id", sa.Integer(), nullable=False),
        sa.Column("score_id", sa.Integer(), nullable=True),
        sa.Column("rehearsal_value", sa.Numeric(precision=7, scale=2), nullable=True),
        sa.CheckConstraint(
            "score_id IS NULL OR rehearsal_value IS NULL",
            name=op.f("ck_live_sheet_line_score_or_rehearsal"),
        ),
        sa.CheckConstraint(
            "score_id IS NOT NULL OR rehearsal_value IS NOT NULL",
            name=op.f("ck_live_sheet_line_has_value"),
        ),
        sa.ForeignKeyConstraint(
            ["indicator_id"], ["indicator.id"],
            name=op.f("fk_live_sheet_line_indicator_id_indicator"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["score_id"], ["score.id"],
            name=op.f("fk_live_sheet_line_score_id_score"), ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["submission_id"], ["live_submission.id"],
            name=op.f("fk_live_sheet_line_submission_id_live_submission"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_live_sheet_line")),
        sa.UniqueConstraint(
            "submission_id", "indicator_id",
            name=op.f("uq_live_sheet_line_submission_id_indicator_id"),
        ),
    )
    for column in ("indicator_id", "score_id", "submission_id"):
        op.create_index(op.f(f"ix_live_sheet_line_{column}"), "live_sheet_line", [column])


def downgrade() -> None:
    op.drop_table("live_sheet_line")
    with op.batch_alter_table("live_submission") as batch:
        batch.drop_constraint("score_or_rehearsal", type_="check")
        batch.alter_column("score_id", existing_type=sa.Integer(), nullable=False)
        batch.drop_column("rehearsal_value")
    with op.batch_alter_table("live_session") as batch:
        batch.drop_constraint("uq_live_session_rehearsal_of_id", type_="unique")
        batch.drop_constraint("fk_live_session_rehearsal_of_id_live_session", type_="foreignkey")
        batch.drop_index("ix_live_session_rehearsal_of_id")
        batch.drop_column("rehearsal_of_id")
        batch.drop_column("on_air")
        batch.drop_constraint("fk_live_session_sheet_indicator_id_indicator", type_="foreignkey")
        batch.drop_index("ix_live_session_sheet_indicator_id")
        batch.drop_column("sheet_indicator_id")

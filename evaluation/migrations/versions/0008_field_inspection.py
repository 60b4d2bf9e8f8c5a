"""field inspection: inspectors' sheets, their lines, photos and the draft-save ledger

Revision ID: 0008_field_inspection
Revises: 0007
Create Date: 2026-11-28 14:30:00

A sheet's lines become `score` rows only when a second inspector confirms the sheet.
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = '0008_field_inspection'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('inspection_sheet',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('assignment_id', sa.Integer(), nullable=False),
    sa.Column('inspector_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'submitted', 'returned', 'confirmed', name='sheet_status', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('submitted_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('confirmed_by', sa.Integer(), nullable=True),
    sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('returned_by', sa.Integer(), nullable=True),
    sa.Column('returned_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('return_comment', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.CheckConstraint("status != 'confirmed' OR confirmed_by IS NOT NULL", name=op.f('ck_inspection_sheet_confirmed_has_confirmer')),
    sa.CheckConstraint('confirmed_by IS NULL OR confirmed_by != inspector_id', name=op.f('ck_inspection_sheet_not_self_confirmed')),
    sa.CheckConstraint('version >= 0', name=op.f('ck_inspection_sheet_version_positive')),
    sa.ForeignKeyConstraint(['assignment_id'], ['inspection_assignment.id'], name=op.f('fk_inspection_sheet_assignment_id_inspection_assignment'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['confirmed_by'], ['user.id'], name=op.f('fk_inspection_sheet_confirmed_by_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['inspector_id'], ['user.id'], name=op.f('fk_inspection_sheet_inspector_id_user'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['returned_by'], ['user.id'], name=op.f('fk_inspection_sheet_returned_by_user'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_sheet')),
    sa.UniqueConstraint('assignment_id', name=op.f('uq_inspection_sheet_assignment_id'))
    )
    with op.batch_alter_table('inspection_sheet', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_sheet_assignment_id'), ['assignment_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_sheet_confirmed_by'), ['confirmed_by'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_sheet_inspector_id'), ['inspector_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_sheet_returned_by'), ['returned_by'], unique=False)

    op.create_table('inspection_line',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Numeric(precision=6, scale=2), nullable=True),
    sa.Column('notes', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.CheckConstraint('points IS NULL OR points >= 0', name=op.f('ck_inspection_line_points_not_negative')),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], name=op.f('fk_inspection_line_indicator_id_indicator'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['sheet_id'], ['inspection_sheet.id'], name=op.f('fk_inspection_line_sheet_id_inspection_sheet'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_line')),
    sa.UniqueConstraint('sheet_id', 'indicator_id', name=op.f('uq_inspection_line_sheet_id_indicator_id'))
    )
    with op.batch_alter_table('inspection_line', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_line_indicator_id'), ['indicator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_line_sheet_id'), ['sheet_id'], unique=False)

    op.create_table('inspection_photo',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('indicator_id', sa.Integer(), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('uploaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['file_id'], ['stored_file.id'], name=op.f('fk_inspection_photo_file_id_stored_file'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['indicator_id'], ['indicator.id'], name=op.f('fk_inspection_photo_indicator_id_indicator'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['sheet_id'], ['inspection_sheet.id'], name=op.f('fk_inspection_photo_sheet_id_inspection_sheet'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_photo')),
    sa.UniqueConstraint('client_id', name=op.f('uq_inspection_photo_client_id'))
    )
    with op.batch_alter_table('inspection_photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_photo_file_id'), ['file_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_photo_indicator_id'), ['indicator_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inspection_photo_sheet_id'), ['sheet_id'], unique=False)

    op.create_table('inspection_save',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sheet_id', sa.Integer(), nullable=False),
    sa.Column('client_save_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('saved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['sheet_id'], ['inspection_sheet.id'], name=op.f('fk_inspection_save_sheet_id_inspection_sheet'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inspection_save')),
    sa.UniqueConstraint('client_save_id', name=op.f('uq_inspection_save_client_save_id'))
    )
    with op.batch_alter_table('inspection_save', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_inspection_save_sheet_id'), ['sheet_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('inspection_save', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_save_sheet_id'))

    op.drop_table('inspection_save')
    with op.batch_alter_table('inspection_photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_photo_sheet_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_photo_indicator_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_photo_file_id'))

    op.drop_table('inspection_photo')
    with op.batch_alter_table('inspection_line', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_line_sheet_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_line_indicator_id'))

    op.drop_table('inspection_line')
    with op.batch_alter_table('inspection_sheet', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_inspection_sheet_returned_by'))
        batch_op.drop_index(batch_op.f('ix_inspection_sheet_inspector_id'))
        batch_op.drop_index(batch_op.f('ix_inspection_sheet_confirmed_by'))
        batch_op.drop_index(batch_op.f('ix_inspection_sheet_assignment_id'))

    op.drop_table('inspection_sheet')

"""Appointments; dossiers record the consent text version and the channel they came through.

Rows from before this revision keep every value. Their consent was given to the first consent
text, so consented dossiers get version "1"; all of them came through the station, the only
channel at 0001. Adding the CHECK constraints rebuilds `dossiers` (SQLite's batch mode).

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-16
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "appointments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("slot_start", sa.DateTime(), nullable=False),
        sa.Column("slot_end", sa.DateTime(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("procedure_code", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("slot_end > slot_start", name=op.f("ck_appointments_slot_order")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
        sa.UniqueConstraint("code", name=op.f("uq_appointments_code")),
    )
    with op.batch_alter_table("appointments") as batch_op:
        batch_op.create_index(
            batch_op.f("ix_appointments_slot_start"), ["slot_start"], unique=False
        )

    with op.batch_alter_table("dossiers") as batch_op:
        batch_op.add_column(sa.Column("consent_text_version", sa.String(length=16), nullable=True))
        batch_op.add_column(
            sa.Column("channel", sa.String(length=8), server_default="station", nullable=False)
        )
    op.execute("UPDATE dossiers SET consent_text_version = '1' WHERE consent_at IS NOT NULL")
    with op.batch_alter_table("dossiers") as batch_op:
        batch_op.create_check_constraint(
            batch_op.f("ck_dossiers_channel"), "channel IN ('station', 'phone')"
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_dossiers_consent_recorded"),
            "(consent_at IS NULL) = (consent_text_version IS NULL)",
        )


def downgrade() -> None:
    raise NotImplementedError("boxes only move forward; restore a backup to go back")

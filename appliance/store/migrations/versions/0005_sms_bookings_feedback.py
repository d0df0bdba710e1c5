"""SMS, help-slot bookings, feedback and the assistance log.

New tables: `sms_templates` (the technician's wording; built-in texts need no row), `feedback`
(one rating per dossier) and `assistance` (help given without a dossier). Dossiers and bookings
record the resident's language for their SMS: existing rows get "vi", the box's first language.
The outbox gains the states `unsure` and `cancelled` for SMS (its CHECK widens, rebuilding the
table; every existing state is still allowed). A live booking is unique per phone and slot. The
reports' periods get indexes (dossiers.submitted_at, feedback.created_at).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NEW_STATES = (
    "state IN ('pending', 'in_flight', 'delivered', 'rejected', 'conflict', 'unsure', 'cancelled')"
)
LANG = "lang IN ('vi', 'en')"


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_state"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_outbox_state"), NEW_STATES)

    for table in ("dossiers", "appointments"):
        with op.batch_alter_table(table) as batch_op:
            batch_op.add_column(
                sa.Column("lang", sa.String(length=2), server_default="vi", nullable=False)
            )
        with op.batch_alter_table(table) as batch_op:
            batch_op.create_check_constraint(batch_op.f(f"ck_{table}_lang"), LANG)
    op.create_index(
        "uq_appointments_live_phone_slot",
        "appointments",
        ["phone", "slot_start"],
        unique=True,
        sqlite_where=sa.text("cancelled_at IS NULL"),
    )

    op.create_table(
        "sms_templates",
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("lang", sa.String(length=2), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.CheckConstraint(LANG, name=op.f("ck_sms_templates_lang")),
        sa.PrimaryKeyConstraint("event", "lang", name=op.f("pk_sms_templates")),
    )
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("rating IN (1, 2, 3, 4, 5)", name=op.f("ck_feedback_rating")),
        sa.CheckConstraint(
            "channel IN ('status', 'sms', 'station')", name=op.f("ck_feedback_channel")
        ),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_feedback_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
        sa.UniqueConstraint("dossier_id", name=op.f("uq_feedback_dossier_id")),
    )
    op.create_table(
        "assistance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("volunteer", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('vneid', 'account', 'explained', 'lookup', 'other')",
            name=op.f("ck_assistance_kind"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assistance")),
    )
    op.create_index(op.f("ix_assistance_created_at"), "assistance", ["created_at"])
    op.create_index(op.f("ix_feedback_created_at"), "feedback", ["created_at"])
    op.create_index(op.f("ix_dossiers_submitted_at"), "dossiers", ["submitted_at"])


def downgrade() -> None:
    raise NotImplementedError("boxes only move forward; restore a backup to go back")

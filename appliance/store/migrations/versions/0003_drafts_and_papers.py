"""Drafts without a receipt code or a name yet; each dossier's papers to be brought as originals;
each page's source photo and how it was cut, kept while the dossier is a draft.

A draft is saved from its first step (so it survives a reload or a reboot) and only gets its
receipt code when it is submitted, so `receipt_code` and `full_name` may now be empty — but only
while the dossier is a draft. Every row before this revision had both, so the new CHECK holds
for all of them. Relaxing the columns rebuilds `dossiers` (SQLite's batch mode). Pages from
before this revision have no source photo (NULL) and were not turned (rotation 0).

Revision ID: 0003
Revises: 0002
Create Date: 2025-06-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers") as batch_op:
        batch_op.alter_column("receipt_code", existing_type=sa.String(length=16), nullable=True)
        batch_op.alter_column("full_name", existing_type=sa.String(length=200), nullable=True)
        batch_op.create_check_constraint(
            batch_op.f("ck_dossiers_code_and_name_before_queue"),
            "status = 'draft' OR (receipt_code IS NOT NULL AND full_name IS NOT NULL)",
        )

    with op.batch_alter_table("pages") as batch_op:
        batch_op.add_column(sa.Column("source_sha256", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("rotation", sa.Integer(), server_default=sa.text("0"), nullable=False)
        )
        batch_op.add_column(sa.Column("corners", sa.JSON(), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f("ck_pages_source_sha256"),
            "length(source_sha256) = 64 AND source_sha256 NOT GLOB '*[^0-9a-f]*'",
        )

    op.create_table(
        "dossier_papers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.Integer(), nullable=False),
        sa.Column("paper_name", sa.String(length=200), nullable=False),
        sa.Column("bring_original", sa.Boolean(), server_default=sa.text("0"), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dossier_id"],
            ["dossiers.id"],
            name=op.f("fk_dossier_papers_dossier_id_dossiers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dossier_papers")),
        sa.UniqueConstraint(
            "dossier_id", "paper_name", name=op.f("uq_dossier_papers_dossier_id_paper_name")
        ),
    )


def downgrade() -> None:
    raise NotImplementedError("boxes only move forward; restore a backup to go back")

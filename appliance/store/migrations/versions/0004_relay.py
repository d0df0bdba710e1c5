"""The relay: the commune's latest word on each dossier, a conflict state for outbox items, and
the relay's durable facts (updates cursor, catalog ETag).

Existing dossiers have no promised date or officer note yet (NULL); existing outbox rows keep
their states, all of which are still allowed. Widening the state CHECK rebuilds `outbox`.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATES = "state IN ('pending', 'in_flight', 'delivered', 'rejected')"
NEW_STATES = "state IN ('pending', 'in_flight', 'delivered', 'rejected', 'conflict')"


def upgrade() -> None:
    with op.batch_alter_table("dossiers") as batch_op:
        batch_op.add_column(sa.Column("result_due", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("officer_note", sa.Text(), nullable=True))

    with op.batch_alter_table("outbox") as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_outbox_state"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_outbox_state"), NEW_STATES)

    op.create_table(
        "relay_state",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_relay_state")),
    )


def downgrade() -> None:
    raise NotImplementedError("boxes only move forward; restore a backup to go back")

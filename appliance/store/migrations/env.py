"""Alembic environment: runs on the connection `appliance.store.migrate` hands over, never its own.

The caller owns the transaction (one SQLite transaction for the whole upgrade, so a power cut
leaves the old schema or the new one) and the engine's pragmas; there is no alembic.ini.
"""

from typing import Any, Literal

from alembic import context

from appliance.store.tables import Base, UtcDateTime


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write our column types as plain SQLAlchemy ones, so a revision never imports app code."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime()"
    return False


connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through appliance.store.migrate (hamletbox db upgrade)")

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters most things only by rebuilding the table
    render_item=render_item,
    compare_type=True,
    compare_server_default=True,
)
with context.begin_transaction():
    context.run_migrations()

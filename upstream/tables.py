"""The upstream's tables: devices and their tokens, received blobs and dossiers, the updates
feed, heartbeats, officers. The same schema runs on SQLite (reference, tests) and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    CheckConstraint,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from appliance.domain.dossier import STATUSES

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Moment(TypeDecorator[datetime]):
    """Aware UTC in and out: PostgreSQL's timestamptz, SQLite's naive text read back as UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware one (UTC)")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: Moment(),
        dict[str, Any]: JSON(),
        bytes: LargeBinary(),
    }


class Device(Base):
    """An enrolled box. The secret signs its requests; a revoked box is refused (403)."""

    __tablename__ = "devices"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    hamlet: Mapped[str] = mapped_column(String(200))
    secret: Mapped[str] = mapped_column(String(128))
    hostname: Mapped[str | None] = mapped_column(String(64))
    software_version: Mapped[str | None] = mapped_column(String(32))
    enrolled_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class EnrollToken(Base):
    """A one-time enrolment token, kept only as its SHA-256: a leaked table enrolls nothing."""

    __tablename__ = "enroll_tokens"

    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    hamlet: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    device_id: Mapped[str | None] = mapped_column(ForeignKey("devices.id"))


class Nonce(Base):
    """Nonces seen within the freshness window, per device: a replayed request is refused."""

    __tablename__ = "nonces"
    __table_args__ = (Index(None, "seen_at"),)

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime]


class Blob(Base):
    """A page's bytes, keyed by their SHA-256 (verified on the way in)."""

    __tablename__ = "blobs"

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    media_type: Mapped[str] = mapped_column(String(32))
    size: Mapped[int]
    data: Mapped[bytes]
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    stored_at: Mapped[datetime]


class Dossier(Base):
    """A dossier as received: the manifest exactly as first stored, and the commune's handling."""

    __tablename__ = "dossiers"
    __table_args__ = (
        CheckConstraint(one_of("status", STATUSES), name="status"),
        Index(None, "hamlet", "status"),
    )

    uuid: Mapped[str] = mapped_column(String(36), primary_key=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), index=True)
    receipt_code: Mapped[str] = mapped_column(String(16))
    hamlet: Mapped[str] = mapped_column(String(200))  # the enrolled device's hamlet
    procedure: Mapped[str] = mapped_column(String(32))
    applicant_name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16))
    manifest: Mapped[dict[str, Any]]
    manifest_sha256: Mapped[str] = mapped_column(String(64))  # of its canonical JSON
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    appointment_date: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)


class DossierPage(Base):
    __tablename__ = "dossier_pages"

    dossier_uuid: Mapped[str] = mapped_column(
        ForeignKey("dossiers.uuid", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("blobs.sha256"))
    paper: Mapped[str] = mapped_column(String(200))
    mode: Mapped[str] = mapped_column(String(8))


class Update(Base):
    """One decision of the commune, on the feed of the device that sent the dossier."""

    __tablename__ = "updates"
    __table_args__ = (Index(None, "device_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"))
    dossier_uuid: Mapped[str] = mapped_column(ForeignKey("dossiers.uuid", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    appointment_date: Mapped[date | None]
    officer: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]


class Heartbeat(Base):
    """Each device's latest heartbeat (one row per device, replaced each time)."""

    __tablename__ = "heartbeats"

    device_id: Mapped[str] = mapped_column(ForeignKey("devices.id"), primary_key=True)
    received_at: Mapped[datetime]
    body: Mapped[dict[str, Any]]


class Officer(Base):
    __tablename__ = "officers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(server_default=false())


class ServerValue(Base):
    """The server's own durable values, such as the session-signing key made at first start."""

    __tablename__ = "server_values"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(Text)

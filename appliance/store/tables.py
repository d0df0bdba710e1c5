"""The box's tables as SQLAlchemy 2.0 typed models: what it keeps, and the rules SQLite enforces.

Each change here ships as an Alembic revision in `migrations/versions/`; a test checks that the
migrated schema equals this metadata. Constraints carry stable names (the naming convention) so
batch migrations on SQLite can find, keep and change them.
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
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
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

# The allowed values of the string "enums". The domain's status lifecycle decides which moves are
# legal; the CHECK constraints only keep a typo or a stray write from storing a value nothing reads.
DOSSIER_STATUSES = STATUSES
GENDERS = ("male", "female")
CHANNELS = ("station", "phone")
PAGE_MODES = ("text", "color")
# rejected: the upstream refused it for good (too large, invalid), or an SMS could not be sent in
# time; conflict: it holds a different manifest under the same UUID. Neither is retried; both show
# on the technician page. unsure: an SMS whose sending was cut off (power, a crash) after it went
# to the modem: it may have gone, so it is never resent by itself (a technician may). cancelled:
# an SMS no longer wanted (the booking it reminds of was cancelled; SMS turned off).
OUTBOX_STATES = ("pending", "in_flight", "delivered", "rejected", "conflict", "unsure", "cancelled")
ROLES = ("volunteer", "technician")
LANGS = ("vi", "en")
RATINGS = (1, 2, 3, 4, 5)
# Help given at the station without a dossier, as the commune reports it upward.
ASSIST_KINDS = ("vneid", "account", "explained", "lookup", "other")
FEEDBACK_CHANNELS = ("status", "sms", "station")


def one_of(column: str, values: tuple[str, ...]) -> str:
    """SQL for "column holds one of values", the text of a CHECK constraint."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return f"{column} IN ({quoted})"


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in and out, stored as naive UTC text that sorts in time order.

    SQLite keeps no time zone, and the Pi has no RTC: a naive value could be local time or a
    pre-NTP guess, so one is refused rather than stored ambiguously.
    """

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value!r}: pass an aware one (UTC)")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every datetime column is aware UTC; every dict column is JSON text.
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        dict[str, Any]: JSON(),
    }


class Dossier(Base):
    """One resident's application for one procedure, from draft to the result handed back.

    The applicant is kept as decoded text only, never a picture of the ID card (privacy rule).
    """

    __tablename__ = "dossiers"
    __table_args__ = (
        CheckConstraint(one_of("status", DOSSIER_STATUSES), name="status"),
        CheckConstraint(one_of("gender", GENDERS), name="gender"),
        CheckConstraint(one_of("channel", CHANNELS), name="channel"),
        CheckConstraint(one_of("lang", LANGS), name="lang"),
        # Nothing leaves the box without the resident's recorded consent to a known text.
        CheckConstraint("status = 'draft' OR consent_at IS NOT NULL", name="consent_before_queue"),
        CheckConstraint(
            "(consent_at IS NULL) = (consent_text_version IS NULL)", name="consent_recorded"
        ),
        # A draft is filled in step by step; a submitted dossier has its code and applicant.
        CheckConstraint(
            "status = 'draft' OR (receipt_code IS NOT NULL AND full_name IS NOT NULL)",
            name="code_and_name_before_queue",
        ),
        Index(None, "status"),
        Index(None, "submitted_at"),  # the reports' period
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)  # the upstream's key for it
    # What the resident holds; given on submitting, so a draft has none.
    receipt_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    procedure_code: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), server_default="draft")
    full_name: Mapped[str | None] = mapped_column(String(200))
    id_number: Mapped[str | None] = mapped_column(String(12))
    date_of_birth: Mapped[date | None]
    gender: Mapped[str | None] = mapped_column(String(8))
    address: Mapped[str | None] = mapped_column(String(300))
    phone: Mapped[str | None] = mapped_column(String(20))
    consent_at: Mapped[datetime | None]
    consent_text_version: Mapped[str | None] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(8), server_default="station")
    upstream_code: Mapped[str | None] = mapped_column(String(64))  # opaque: the commune's code
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    # The commune's latest word: the date promised on the receipt slip, the papers asked for or
    # the reason for a refusal. Set by the relay from the updates feed.
    result_due: Mapped[date | None]
    officer_note: Mapped[str | None] = mapped_column(Text)
    lang: Mapped[str] = mapped_column(String(2), server_default="vi")  # the resident's, for SMS


class Page(Base):
    """One cleaned page of a paper; the PDF itself is a content-addressed blob on disk."""

    __tablename__ = "pages"
    __table_args__ = (
        UniqueConstraint("dossier_id", "position"),
        CheckConstraint(one_of("mode", PAGE_MODES), name="mode"),
        CheckConstraint(
            "length(blob_sha256) = 64 AND blob_sha256 NOT GLOB '*[^0-9a-f]*'", name="blob_sha256"
        ),
        CheckConstraint("position >= 1 AND width > 0 AND height > 0 AND bytes > 0", name="sizes"),
        CheckConstraint(
            "length(source_sha256) = 64 AND source_sha256 NOT GLOB '*[^0-9a-f]*'",
            name="source_sha256",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    position: Mapped[int]
    paper_name: Mapped[str] = mapped_column(String(200))  # which required paper this page is of
    blob_sha256: Mapped[str] = mapped_column(String(64))
    mode: Mapped[str] = mapped_column(String(8))
    width: Mapped[int]
    height: Mapped[int]
    bytes: Mapped[int]
    created_at: Mapped[datetime]
    # While the dossier is a draft, the photo the page was cut from (a JPEG blob, never sent
    # upstream) and how it was cut: turning or re-cropping starts again from the photo, not from
    # the cleaned page, which lost detail. The purge deletes the photo once the dossier is sent.
    source_sha256: Mapped[str | None] = mapped_column(String(64))
    rotation: Mapped[int] = mapped_column(server_default=text("0"))  # clockwise, after flattening
    # The page's corners in the photo (TL, TR, BR, BL) when found or set by hand; NULL: none found.
    corners: Mapped[list[list[float]] | None] = mapped_column(JSON)


class DossierPaper(Base):
    """A dossier's state of one paper of its procedure's checklist, beyond its pages.

    For now that is "the resident brings the original to the commune" instead of a photo. One row
    per (dossier, paper) that has such a state; papers with only pages need no row.
    """

    __tablename__ = "dossier_papers"
    __table_args__ = (UniqueConstraint("dossier_id", "paper_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossiers.id", ondelete="CASCADE"))
    paper_name: Mapped[str] = mapped_column(String(200))  # the paper's Vietnamese catalog name
    bring_original: Mapped[bool] = mapped_column(server_default=false())
    updated_at: Mapped[datetime]


class OutboxItem(Base):
    """One thing to deliver upstream, at least once: ack after send, back to pending after a crash.

    (kind, key) is the idempotency key the upstream de-duplicates by; `payload` is frozen at
    enqueue time so a resend is byte-for-byte the same request, never a conflicting one. A dossier
    with undelivered items cannot be deleted (RESTRICT).
    """

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("kind", "key"),
        CheckConstraint(one_of("state", OUTBOX_STATES), name="state"),
        CheckConstraint("attempts >= 0", name="attempts"),
        Index(None, "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # blob, manifest, sms, …: the relay dispatches
    key: Mapped[str] = mapped_column(String(128))
    dossier_id: Mapped[int | None] = mapped_column(
        ForeignKey("dossiers.id", ondelete="RESTRICT"), index=True
    )
    payload: Mapped[dict[str, Any] | None]
    state: Mapped[str] = mapped_column(String(16), server_default="pending")
    attempts: Mapped[int] = mapped_column(server_default=text("0"))
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class User(Base):
    """A volunteer or technician who signs in at the station; residents have no accounts."""

    __tablename__ = "users"
    __table_args__ = (CheckConstraint(one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime]
    disabled: Mapped[bool] = mapped_column(server_default=false())


class Appointment(Base):
    """A resident's booked help slot at the station."""

    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("slot_end > slot_start", name="slot_order"),
        CheckConstraint(one_of("lang", LANGS), name="lang"),
        # One live booking per phone number and slot: a double tap books once.
        Index(
            "uq_appointments_live_phone_slot",
            "phone",
            "slot_start",
            unique=True,
            sqlite_where=text("cancelled_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)  # the resident's booking code
    slot_start: Mapped[datetime] = mapped_column(index=True)
    slot_end: Mapped[datetime]
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(20))
    procedure_code: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    cancelled_at: Mapped[datetime | None]
    lang: Mapped[str] = mapped_column(String(2), server_default="vi")  # of the SMS it gets


class Event(Base):
    """The status history and audit log: who did what, when. Goes with its dossier if deleted."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int | None] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))  # "status", "login", "sms_sent", …
    payload: Mapped[dict[str, Any] | None]
    actor: Mapped[str | None] = mapped_column(String(64))  # "volunteer:lan", "relay", "resident"
    created_at: Mapped[datetime]


class RelayState(Base):
    """The relay's few durable facts (the updates cursor, the catalog's ETag): written only when
    they change, never on a timer, so the SD card is spared."""

    __tablename__ = "relay_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[dict[str, Any]]
    updated_at: Mapped[datetime]


class SmsTemplate(Base):
    """A technician's wording of one SMS event in one language; events without a row use the
    built-in text of appliance.domain.notify."""

    __tablename__ = "sms_templates"
    __table_args__ = (CheckConstraint(one_of("lang", LANGS), name="lang"),)

    event: Mapped[str] = mapped_column(String(32), primary_key=True)
    lang: Mapped[str] = mapped_column(String(2), primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
    updated_by: Mapped[str] = mapped_column(String(64))


class Feedback(Base):
    """A resident's rating of the service once the result was handed back: one per dossier."""

    __tablename__ = "feedback"
    __table_args__ = (
        CheckConstraint(f"rating IN ({', '.join(map(str, RATINGS))})", name="rating"),
        CheckConstraint(one_of("channel", FEEDBACK_CHANNELS), name="channel"),
        Index(None, "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dossier_id: Mapped[int] = mapped_column(
        ForeignKey("dossiers.id", ondelete="CASCADE"), unique=True
    )
    rating: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    channel: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime]


class Assistance(Base):
    """Help a volunteer gave without a dossier ("installed VNeID"): counted in the reports, and
    holding no personal data."""

    __tablename__ = "assistance"
    __table_args__ = (
        CheckConstraint(one_of("kind", ASSIST_KINDS), name="kind"),
        Index(None, "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    volunteer: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]

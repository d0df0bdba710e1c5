"""Residents' ratings of the service: one per dossier, once its result was handed back.

A resident proves the dossier is theirs as for the status lookup (receipt code + the phone's last
4 digits, checked by the caller with the lookup's own code). Only the
rating, the comment, the channel and the time are kept: nothing that names the resident again.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from appliance.store.tables import FEEDBACK_CHANNELS, RATINGS, Dossier, Feedback

COMMENT_MAX = 1000
OPEN, NOT_RETURNED, RATED = "open", "not_returned", "rated"


class FeedbackError(ValueError):
    """A rating that cannot be recorded; the message is "Vietnamese / English"."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Rating:
    rating: int
    comment: str | None
    channel: str


def clean_rating(text: str) -> int:
    """The rating 1–5 from a form field; anything else (0, 6, words) is refused."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or int(value) not in RATINGS:
        raise FeedbackError(
            "rating",
            "Hãy chọn một mức từ 1 đến 5 / Choose a rating from 1 to 5",
        )
    return int(value)


def clean_comment(text: str) -> str | None:
    """The comment as kept: NFC, trimmed, at most COMMENT_MAX characters; empty: none."""
    comment = unicodedata.normalize("NFC", text).strip()
    if len(comment) > COMMENT_MAX:
        raise FeedbackError(
            "comment_long",
            f"Góp ý dài quá {COMMENT_MAX} ký tự / The comment is longer than {COMMENT_MAX} "
            "characters",
        )
    return comment or None


def already_rated() -> FeedbackError:
    return FeedbackError(
        "rated", "Bạn đã đánh giá rồi. Cảm ơn! / You have rated it already. Thank you!"
    )


def not_returned() -> FeedbackError:
    return FeedbackError(
        "not_returned",
        "Bạn có thể đánh giá sau khi đã nhận kết quả tại nhà văn hóa / "
        "You can rate the service once you have collected the result at the cultural house",
    )


class FeedbackRepo:
    """Callers check ownership first (Intake.lookup: receipt code + the phone's last 4 digits)
    and pass the canonical receipt code it returns."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def standing(self, receipt_code: str) -> str:
        """OPEN, NOT_RETURNED or RATED for the dossier with that code."""
        with self._sessions() as session:
            return _standing(session, _dossier(session, receipt_code))

    def rate(self, receipt_code: str, rating: Rating, now: datetime) -> None:
        """Record the rating, or FeedbackError: not returned yet, or rated already."""
        if rating.channel not in FEEDBACK_CHANNELS or rating.rating not in RATINGS:
            raise ValueError(f"bad rating {rating!r}")
        try:
            with self._sessions.begin() as session:
                row = _dossier(session, receipt_code)
                standing = _standing(session, row)
                if standing == RATED:
                    raise already_rated()
                if row is None or standing == NOT_RETURNED:
                    raise not_returned()
                session.add(
                    Feedback(
                        dossier_id=row.id,
                        rating=rating.rating,
                        comment=rating.comment,
                        channel=rating.channel,
                        created_at=now,
                    )
                )
        except IntegrityError:  # a second tab rated it in between
            raise already_rated() from None


def _dossier(session: Session, receipt_code: str) -> Dossier | None:
    return session.scalars(select(Dossier).where(Dossier.receipt_code == receipt_code)).first()


def _standing(session: Session, row: Dossier | None) -> str:
    if row is None:
        return NOT_RETURNED
    if session.scalar(select(exists().where(Feedback.dossier_id == row.id))):
        return RATED
    return OPEN if row.status == "returned" else NOT_RETURNED

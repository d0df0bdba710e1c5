"""Ratings in the real store: only for a returned dossier, one per dossier, nothing half-saved."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, update

from appliance.services import Services
from appliance.store.feedback_repo import (
    NOT_RETURNED,
    OPEN,
    RATED,
    FeedbackError,
    FeedbackRepo,
    Rating,
    clean_comment,
    clean_rating,
)
from appliance.store.tables import Dossier, Feedback
from tests.appliance.test_disk_guard import queued

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)


def set_status(services: Services, code: str, status: str) -> None:
    with services.sessions.begin() as session:
        session.execute(update(Dossier).where(Dossier.receipt_code == code).values(status=status))


def feedback_rows(services: Services) -> list[tuple[int, str | None, str]]:
    with services.sessions() as session:
        rows = session.scalars(select(Feedback).order_by(Feedback.id))
        return [(row.rating, row.comment, row.channel) for row in rows]


@pytest.fixture
def returned(services: Services) -> str:
    code = queued(services, pages=1).code
    set_status(services, code, "returned")
    return code


def test_a_returned_dossier_is_rated_once(services: Services, returned: str) -> None:
    repo = FeedbackRepo(services.sessions)
    assert repo.standing(returned) == OPEN
    repo.rate(returned, Rating(4, "Cán bộ nhiệt tình", "sms"), NOW)
    assert repo.standing(returned) == RATED
    with pytest.raises(FeedbackError) as caught:
        repo.rate(returned, Rating(1, None, "status"), NOW)
    assert caught.value.code == "rated" and "Bạn đã đánh giá rồi. Cảm ơn!" in str(caught.value)
    assert feedback_rows(services) == [(4, "Cán bộ nhiệt tình", "sms")]


@pytest.mark.parametrize("status", ["queued", "sent", "received", "done", "rejected"])
def test_rating_opens_only_once_the_result_is_handed_over(services: Services, status: str) -> None:
    code = queued(services, pages=1).code
    set_status(services, code, status)
    repo = FeedbackRepo(services.sessions)
    assert repo.standing(code) == NOT_RETURNED
    with pytest.raises(FeedbackError) as caught:
        repo.rate(code, Rating(5, None, "status"), NOW)
    assert caught.value.code == "not_returned"
    assert feedback_rows(services) == []


def test_two_tabs_at_once_record_one_rating(services: Services, returned: str) -> None:
    barrier = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def send(rating: int) -> None:
        barrier.wait()
        try:
            FeedbackRepo(services.sessions).rate(returned, Rating(rating, None, "status"), NOW)
            outcomes.append("ok")
        except FeedbackError as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=send, args=(n,)) for n in (2, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert sorted(outcomes) == ["ok", "rated"]
    with services.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Feedback)) == 1


@pytest.mark.parametrize("typed", ["0", "6", "-1", "tốt", "", "4.5", "５", " 3 "])
def test_only_ratings_one_to_five_are_read(typed: str) -> None:
    if typed.strip() == "3":
        assert clean_rating(typed) == 3
        return
    with pytest.raises(FeedbackError) as caught:
        clean_rating(typed)
    assert caught.value.code == "rating" and " / " in str(caught.value)


def test_comments_are_trimmed_and_limited() -> None:
    assert clean_comment("  Rất tốt \n") == "Rất tốt"
    assert clean_comment("   ") is None
    assert clean_comment("x" * 1000) == "x" * 1000
    with pytest.raises(FeedbackError) as caught:
        clean_comment("x" * 1001)
    assert caught.value.code == "comment_long"


def test_a_rating_the_form_could_not_make_is_a_programming_error(
    services: Services, returned: str
) -> None:
    repo = FeedbackRepo(services.sessions)
    for bad in (Rating(0, None, "status"), Rating(3, None, "email")):
        with pytest.raises(ValueError):
            repo.rate(returned, bad, NOW)
    assert feedback_rows(services) == []

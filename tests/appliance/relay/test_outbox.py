"""The delivery policy as tables: backoff with jitter and a cap, and what each answer means."""

from __future__ import annotations

import random

import pytest

from appliance.relay import outbox
from appliance.relay.client import TransportError
from appliance.relay.outbox import Outcome, backoff, classify, expect
from tests.appliance.relay.helpers import reply


@pytest.mark.parametrize(
    ("attempts", "low", "high"),
    [(1, 2.5, 5), (2, 5, 10), (3, 10, 20), (4, 20, 40), (8, 320, 640), (9, 450, 900)],
)
def test_backoff_doubles_within_its_upper_half_up_to_the_cap(
    attempts: int, low: float, high: float
) -> None:
    rng = random.Random(attempts)
    delays = [backoff(attempts, 5, 900, rng) for _ in range(200)]
    assert all(low <= d <= high for d in delays)
    assert max(delays) - min(delays) > (high - low) / 2, "jittered, not one fixed delay"


def test_backoff_stays_at_the_cap_however_many_attempts() -> None:
    rng = random.Random(1)
    assert all(450 <= backoff(n, 5, 900, rng) <= 900 for n in (10, 100, 10_000))
    assert 2.5 <= backoff(0, 5, 900, rng) <= 5, "a first try counts as attempt 1"


def test_the_same_seed_gives_the_same_delays() -> None:
    first = [backoff(3, 5, 900, random.Random(7)) for _ in range(3)]
    assert first == [backoff(3, 5, 900, random.Random(7)) for _ in range(3)]


def err(status: int, code: str | None = None, **extra: object) -> outbox.Answer:
    body = {"error": code, "message": "Lỗi / Error", **extra} if code else None
    return reply(status, body)


@pytest.mark.parametrize(
    ("kind", "answer", "action", "reason"),
    [
        ("blob", reply(201, {}), "delivered", None),
        ("manifest", reply(200, {}), "delivered", None),
        ("blob", TransportError("connection refused"), "retry", outbox.NO_LINK),
        ("blob", err(500, "internal"), "retry", outbox.SERVER_FAULT),
        ("manifest", err(503), "retry", outbox.SERVER_FAULT),
        ("blob", err(429), "retry", outbox.SERVER_BUSY),
        ("blob", err(408), "retry", outbox.NO_LINK),
        ("blob", err(401, "bad_signature"), "retry", outbox.SIGNATURE),
        ("manifest", err(401, "replayed"), "retry", outbox.SIGNATURE),
        ("blob", err(401, "clock_skew", server_time=1.0), "retry", outbox.SIGNATURE),
        ("blob", err(401, "unknown_device"), "revoked", outbox.REVOKED),
        ("manifest", err(403, "revoked"), "revoked", outbox.REVOKED),
        ("manifest", err(409, "conflict"), "conflict", outbox.CONFLICT),
        ("blob", err(413, "too_large", limit=10), "reject", outbox.TOO_LARGE),
        ("blob", err(415, "bad_media_type"), "reject", outbox.MEDIA_TYPE),
        ("blob", err(422, "hash_mismatch"), "reject", outbox.HASH_MISMATCH),
        ("manifest", err(400, "not_object"), "reject", f"{outbox.REFUSED}: Lỗi / Error"),
        ("manifest", err(404, "not_found"), "reject", f"{outbox.REFUSED}: Lỗi / Error"),
        # Not the upstream speaking (no JSON error): a proxy, a portal, a wrong address.
        ("blob", err(404), "retry", outbox.ODD_ANSWER),
        ("blob", err(403), "retry", outbox.ODD_ANSWER),
        ("blob", err(302), "retry", outbox.ODD_ANSWER),
        ("updates", err(401), "retry", outbox.ODD_ANSWER),
    ],
)
def test_each_answer_means_one_thing(
    kind: str, answer: outbox.Answer | Exception, action: str, reason: str | None
) -> None:
    assert classify(kind, answer) == Outcome(action, reason)  # type: ignore[arg-type]


def test_a_manifest_refused_as_invalid_says_what_is_wrong() -> None:
    answer = err(422, "invalid_manifest", problems=["pages: must be a non-empty list"])
    found = classify("manifest", answer)
    assert found.action == "reject"
    assert found.reason == f"{outbox.INVALID}: pages: must be a non-empty list"


def test_missing_pages_resend_the_named_blobs_and_retry_the_manifest() -> None:
    missing = ["a" * 64, "b" * 64]
    found = classify("manifest", err(422, "missing_blobs", missing=missing))
    assert found == Outcome("resend_blobs", outbox.MISSING_PAGES, tuple(missing))
    assert found.transient
    assert classify("manifest", err(422, "missing_blobs", missing="junk")).missing == ()


def test_every_reason_for_people_is_vietnamese_then_english() -> None:
    reasons = [
        value
        for name, value in vars(outbox).items()
        if name.isupper() and isinstance(value, str) and " / " in value
    ]
    assert len(reasons) >= 12
    for reason in reasons:
        vietnamese, english = reason.split(" / ", 1)
        assert any(ord(c) > 127 for c in vietnamese), reason
        assert all(c.isascii() or not c.isalpha() for c in english), reason
        assert english[0].isupper(), reason


def test_expect_raises_what_the_answer_means() -> None:
    expect("heartbeat", reply(200, {}))
    expect("catalog", reply(304), ok=(200, 304))
    with pytest.raises(outbox.Refused) as caught:
        expect("heartbeat", err(403, "revoked"))
    assert caught.value.outcome.action == "revoked"

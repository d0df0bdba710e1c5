"""The device protocol's signing and manifest checks, shared by the relay and the upstream."""

from __future__ import annotations

import copy
import hashlib
import hmac
from typing import Any

import pytest

from appliance.domain import protocol

UUID = "0b6c2f64-5d0e-4a43-9a57-2f4b5d1e9c10"
SHA = "a" * 64


def manifest() -> dict[str, Any]:
    return {
        "version": 1,
        "uuid": UUID,
        "receipt_code": "XB1-K7M4QD",
        "hamlet": "Thôn Xà Bang 1",
        "procedure": "khai-sinh",
        "channel": "station",
        "submitted_at": "2026-11-22T08:30:00+00:00",
        "applicant": {
            "full_name": "Nguyễn Thị Hồng Nhung",
            "id_number": "079190001234",
            "date_of_birth": "1990-05-17",
            "gender": "female",
            "address": "Ấp Xà Bang, xã Xà Bang",
            "phone": "0912345678",
        },
        "pages": [{"sha256": SHA, "paper": "Tờ khai", "mode": "text", "position": 1}],
        "originals": [],
        "consent": {"version": "1", "at": "2026-11-22T08:30:00+00:00"},
    }


def test_signature_is_hmac_over_the_six_lines() -> None:
    body = b'{"a":1}'
    signed = protocol.sign("s3cret", "put", "/v1/dossiers/x?y=1", 1700000000, "n" * 16, body)
    lines = f"HB1\nPUT\n/v1/dossiers/x?y=1\n1700000000\n{'n' * 16}\n"
    text = (lines + hashlib.sha256(body).hexdigest()).encode()
    assert signed == hmac.new(b"s3cret", text, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    "change",
    [
        {"method": "POST"},
        {"target": "/v1/dossiers/y"},
        {"timestamp": 1700000001},
        {"nonce": "m" * 16},
        {"body": b"{}"},
        {"secret": "other"},
    ],
)
def test_any_changed_part_breaks_the_signature(change: dict[str, Any]) -> None:
    parts: dict[str, Any] = {
        "secret": "s3cret",
        "method": "PUT",
        "target": "/v1/dossiers/x",
        "timestamp": 1700000000,
        "nonce": "n" * 16,
        "body": b"[]",
    }
    signature = protocol.sign(**parts)
    assert protocol.signature_matches(**parts, signature=signature)
    assert not protocol.signature_matches(**{**parts, **change}, signature=signature)


def test_signed_headers_carry_device_time_nonce_signature() -> None:
    headers = protocol.signed_headers("hb-device1", "k", "GET", "/v1/updates", 5, "n" * 16, b"")
    assert headers[protocol.HEADER_DEVICE] == "hb-device1"
    assert headers[protocol.HEADER_TIMESTAMP] == "5"
    assert protocol.signature_matches(
        "k", "GET", "/v1/updates", 5, "n" * 16, b"", headers[protocol.HEADER_SIGNATURE]
    )


def test_freshness_window() -> None:
    assert protocol.is_fresh(1000, 1000 + protocol.MAX_SKEW_SECONDS)
    assert not protocol.is_fresh(1000, 1001 + protocol.MAX_SKEW_SECONDS)
    assert not protocol.is_fresh(1000 + protocol.MAX_SKEW_SECONDS + 1, 1000)


def test_canonical_json_ignores_key_order_and_keeps_vietnamese() -> None:
    a = protocol.canonical_json({"b": 1, "a": "Xà Bang"})
    assert a == protocol.canonical_json({"a": "Xà Bang", "b": 1})
    assert "Xà Bang".encode() in a


def test_a_good_manifest_has_no_problems() -> None:
    assert protocol.manifest_problems(manifest(), UUID) == []
    assert protocol.manifest_blobs(manifest()) == [SHA]


def _broken(path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    found = copy.deepcopy(manifest())
    target: Any = found
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return found


@pytest.mark.parametrize(
    ("path", "value", "problem"),
    [
        (("uuid",), "0b6c2f64-5d0e-4a43-9a57-000000000000", "uuid: must be the UUID in the path"),
        (("version",), 2, "version: must be 1"),
        (("receipt_code",), KeyError, "receipt_code: missing"),
        (("channel",), "fax", "channel: must be station/phone"),
        (("submitted_at",), "2026-11-22T08:30:00", "submitted_at: must be an ISO 8601"),
        (("applicant", "full_name"), "  ", "applicant.full_name: must be text"),
        (("applicant", "date_of_birth"), "17/05/1990", "applicant.date_of_birth: must be a date"),
        (("pages",), [], "pages: must be a non-empty list"),
        (("pages", 0, "sha256"), "A" * 64, "pages[0].sha256: must be 64 lowercase hex"),
        (("pages", 0, "position"), True, "pages[0].position: must be a whole number"),
        (("originals",), "ban chinh", "originals: must be a list of texts"),
        (("consent",), None, "consent: must be an object"),
    ],
)
def test_each_broken_field_is_named(path: tuple[str | int, ...], value: Any, problem: str) -> None:
    problems = protocol.manifest_problems(_broken(path, value), UUID)
    assert any(p.startswith(problem) for p in problems), problems


def test_not_an_object() -> None:
    assert protocol.manifest_problems([1, 2], UUID) == ["the manifest must be a JSON object"]

"""docs/upstream-api.yaml against the running server: the same operations, and every answer —
good and bad — one the document lists for its operation, with a body and headers that fit it."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012
from sqlalchemy import update

from appliance.domain.protocol import EMPTY_SHA256, PREFIX, body_digest
from tests.support.upstream_server import (
    JSON_TYPE,
    HttpAnswer,
    HttpSigner,
    enroll_http,
    http_request,
    make_token,
    page_bytes,
    running_upstream,
    sample_manifest,
)
from upstream.db import open_store
from upstream.officers import add_officer
from upstream.settings import UpstreamSettings
from upstream.tables import Device, Officer

DOC_PATH = Path(__file__).resolve().parents[2] / "docs" / "upstream-api.yaml"
DOC_URI = "urn:hamletbox:upstream-api"
DOC: dict[str, Any] = yaml.safe_load(DOC_PATH.read_text(encoding="utf-8"))
# The whole document as one resource, so that "#/components/…" inside any schema resolves.
REGISTRY: Registry[Any] = Registry().with_resource(DOC_URI, DRAFT202012.create_resource(DOC))
METHODS = ("get", "put", "post", "delete", "patch")
BLOB_LIMIT, JSON_LIMIT = 100_000, 50_000  # small, so over-limit bodies stay cheap to send
Exchange = tuple[str, str, HttpAnswer]  # documented path, method, answer


def _pointer(*parts: str) -> str:
    return "".join("/" + p.replace("~", "~0").replace("/", "~1") for p in parts)


def _at(pointer: str) -> Any:
    node: Any = DOC
    for part in pointer.split("/")[1:]:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _follow(pointer: str) -> tuple[str, dict[str, Any]]:
    """The object at `pointer` after following its $refs, and where it really is."""
    node = _at(pointer)
    while "$ref" in node:
        pointer = node["$ref"].removeprefix("#")
        node = _at(pointer)
    return pointer, node


def _schema_errors(value: Any, pointer: str) -> list[str]:
    validator = Draft202012Validator({"$ref": f"{DOC_URI}#{pointer}"}, registry=REGISTRY)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(value)]


def test_the_server_has_exactly_the_documented_operations(upstream_app: Flask) -> None:
    documented = {
        (path, method.upper())
        for path, item in DOC["paths"].items()
        for method in item
        if method in METHODS
    }
    served = {
        (re.sub(r"<(?:[^:>]+:)?([^>]+)>", r"{\1}", rule.rule), method)
        for rule in upstream_app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX + "/")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }
    assert served == documented


def _problems(exchange: Exchange) -> list[str]:
    """How an answer departs from the document; empty when it fits."""
    path, method, answer = exchange
    where = f"{method} {path} → {answer.status}"
    operation = _pointer("paths", path, method.lower())
    if str(answer.status) not in _at(operation)["responses"]:
        return [f"{where}: status not documented"]
    found, response = _follow(operation + _pointer("responses", str(answer.status)))
    problems = []
    for name in response.get("headers", {}):
        at, header = _follow(found + _pointer("headers", name))
        value = answer.headers.get(name.lower())
        if value is None:
            problems += [f"{where}: header {name} missing"] if header.get("required") else []
        elif "schema" in header:
            problems += [f"{where}: {name} {e}" for e in _schema_errors(value, at + "/schema")]
    content = response.get("content")
    if content is None:
        return problems + ([f"{where}: body not documented"] if answer.body else [])
    media = answer.headers.get("content-type", "").split(";")[0]
    if media not in content:
        return [*problems, f"{where}: media type {media!r} not documented"]
    if media == "application/json":
        schema_at = found + _pointer("content", media, "schema")
        problems += [f"{where}: {e}" for e in _schema_errors(answer.json(), schema_at)]
    return problems


@pytest.fixture
def served(db_url: str) -> Iterator[tuple[str, UpstreamSettings]]:
    settings = UpstreamSettings(db_url=db_url, max_blob_bytes=BLOB_LIMIT, max_json_bytes=JSON_LIMIT)
    with running_upstream(settings) as url:
        yield url, settings


def _revoked(url: str, settings: UpstreamSettings) -> HttpSigner:
    device = enroll_http(url, make_token(settings))
    engine, sessions = open_store(settings.db_url)
    try:
        with sessions.begin() as session:
            session.execute(
                update(Device).where(Device.id == device.id).values(revoked_at=datetime.now(UTC))
            )
    finally:
        engine.dispose()
    return HttpSigner(url, device)


def _enroll_exchanges(url: str, settings: UpstreamSettings) -> Iterator[Exchange]:
    path = "/v1/enroll"
    token = make_token(settings).encode()
    for body in (b'{"token": "%s"}' % token, b"[]", b'{"token": "%s"}' % token):
        yield path, "POST", http_request(url, "POST", path, body, JSON_TYPE)
    too_big = b'{"token": "%s"}' % (b"x" * JSON_LIMIT)
    yield path, "POST", http_request(url, "POST", path, too_big, JSON_TYPE)


def _blob_exchanges(url: str, good: HttpSigner, revoked: HttpSigner) -> Iterator[Exchange]:
    path, data = "/v1/blobs/{sha256}", page_bytes(5)
    target = f"/v1/blobs/{body_digest(data)}"
    for signer, body, media in [
        (good, data, "image/jpeg"),  # 201
        (good, data, "image/jpeg"),  # 200
        (good, data, "text/plain"),  # 415
        (good, b"not these bytes", "image/jpeg"),  # 422
        (revoked, data, "image/jpeg"),  # 403
    ]:
        yield path, "PUT", signer("PUT", target, body, content_type=media)
    empty = good("PUT", f"/v1/blobs/{EMPTY_SHA256}", b"", content_type="image/jpeg")  # 400
    big = b"x" * (BLOB_LIMIT + 1)
    yield path, "PUT", empty
    yield path, "PUT", good("PUT", f"/v1/blobs/{body_digest(big)}", big, content_type="image/jpeg")
    yield path, "PUT", http_request(url, "PUT", target, data, {"Content-Type": "image/jpeg"})


def _dossier_exchanges(url: str, good: HttpSigner, revoked: HttpSigner) -> Iterator[Exchange]:
    path, data = "/v1/dossiers/{uuid}", page_bytes(6)
    good("PUT", f"/v1/blobs/{body_digest(data)}", data, content_type="image/jpeg")
    manifest = sample_manifest(pages=[data])
    target = f"/v1/dossiers/{manifest['uuid']}"
    yield path, "PUT", good.put_json(target, manifest)  # 201
    yield path, "PUT", good.put_json(target, manifest)  # 200
    yield path, "PUT", good.put_json(target, {**manifest, "receipt_code": "OTHER"})  # 409
    yield path, "PUT", good.put_json(target, [manifest])  # 400
    yield path, "PUT", good.put_json(target, {**manifest, "version": 2})  # 422 invalid
    other = sample_manifest(pages=[page_bytes(7)])
    yield path, "PUT", good.put_json(f"/v1/dossiers/{other['uuid']}", other)  # 422 missing
    yield path, "PUT", good.put_json(target, {**manifest, "originals": ["x" * JSON_LIMIT]})
    yield path, "PUT", revoked.put_json(target, manifest)  # 403
    yield path, "PUT", http_request(url, "PUT", target, b"{}", JSON_TYPE)  # 401


def _other_exchanges(url: str, good: HttpSigner, revoked: HttpSigner) -> Iterator[Exchange]:
    for query in ("?after=0&limit=5", "?limit=0"):
        yield "/v1/updates", "GET", good("GET", "/v1/updates" + query)
    yield "/v1/updates", "GET", revoked("GET", "/v1/updates")
    yield "/v1/updates", "GET", http_request(url, "GET", "/v1/updates")
    beat = {"software_version": "0.1.0", "queue_depth": 0, "disk_free_bytes": 10**9}
    for body in (beat, [beat], {**beat, "figures": {"x": "y" * JSON_LIMIT}}):
        yield "/v1/heartbeat", "POST", good.post_json("/v1/heartbeat", body)
    yield "/v1/heartbeat", "POST", good.post_json("/v1/heartbeat", beat, timestamp=1)  # skew
    yield "/v1/heartbeat", "POST", revoked.post_json("/v1/heartbeat", beat)
    catalog = good("GET", "/v1/catalog")
    yield "/v1/catalog", "GET", catalog
    etag = {"If-None-Match": catalog.headers["etag"]}
    yield "/v1/catalog", "GET", good("GET", "/v1/catalog", headers=etag)
    yield "/v1/catalog", "GET", revoked("GET", "/v1/catalog")
    yield "/v1/catalog", "GET", good("GET", "/v1/catalog", secret="wrong")


def _token_exchanges(url: str, settings: UpstreamSettings) -> Iterator[Exchange]:
    """POST /v1/tokens; the throttled answer comes last, as it locks out this client address."""
    engine, sessions = open_store(settings.db_url)
    try:
        add_officer(sessions, "kythuat", "mat-khau-ky-thuat")
        add_officer(sessions, "da-nghi", "mat-khau-da-nghi")
        with sessions.begin() as session:
            session.execute(update(Officer).where(Officer.name == "da-nghi").values(disabled=True))
    finally:
        engine.dispose()
    path = "/v1/tokens"

    def send(who: str, body: bytes, media: str = "application/json") -> HttpAnswer:
        auth = base64.b64encode(who.encode()).decode()
        headers = {"Content-Type": media, "Authorization": f"Basic {auth}"}
        return http_request(url, "POST", path, body, headers)

    good, body = "kythuat:mat-khau-ky-thuat", '{"hamlets": ["Thôn 2"], "days": 3}'.encode()
    yield path, "POST", send(good, body)  # 201
    yield path, "POST", send(good, b'{"hamlets": []}')  # 400
    yield path, "POST", http_request(url, "POST", path, body, JSON_TYPE)  # 401
    yield path, "POST", send("da-nghi:mat-khau-da-nghi", body)  # 403
    yield path, "POST", send(good, b'{"hamlets": ["%s"]}' % (b"x" * JSON_LIMIT))  # 413
    yield path, "POST", send(good, b"hamlets=x", "application/x-www-form-urlencoded")  # 415
    for _ in range(6):
        yield path, "POST", send("kythuat:sai", body)  # 401 five times, then 429


def test_every_answer_fits_the_document(served: tuple[str, UpstreamSettings]) -> None:
    url, settings = served
    good = HttpSigner(url, enroll_http(url, make_token(settings)))
    revoked = _revoked(url, settings)
    exchanges = [
        *_enroll_exchanges(url, settings),
        *_blob_exchanges(url, good, revoked),
        *_dossier_exchanges(url, good, revoked),
        *_other_exchanges(url, good, revoked),
        *_token_exchanges(url, settings),
    ]
    assert [p for exchange in exchanges for p in _problems(exchange)] == []
    seen = {(path, method, str(answer.status)) for path, method, answer in exchanges}
    documented = {
        (path, method.upper(), status)
        for path, item in DOC["paths"].items()
        for method, operation in item.items()
        if method in METHODS
        for status in operation["responses"]
    }
    assert documented - seen == set(), "documented answers this test never saw"


def test_the_check_itself_catches_departures() -> None:
    """A checker that passes everything proves nothing: each kind of departure is found."""
    time_header = {"x-hb-server-time": "1760000000.5", "content-type": "application/json"}
    bad_time = {**time_header, "x-hb-server-time": "soon"}
    blob = "/v1/blobs/{sha256}"
    cases = [
        (blob, "PUT", HttpAnswer(418, time_header, b"{}"), "status not documented"),
        (blob, "PUT", HttpAnswer(201, {"content-type": "application/json"}, b"{}"), "missing"),
        (blob, "PUT", HttpAnswer(201, time_header, b'{"sha256": "x", "bytes": 0}'), "minimum"),
        (blob, "PUT", HttpAnswer(401, bad_time, b"{}"), "'soon'"),
        ("/v1/catalog", "GET", HttpAnswer(304, time_header, b"body"), "ETag missing"),
        ("/v1/catalog", "GET", HttpAnswer(200, time_header, b"{}"), "media type"),
    ]
    for path, method, answer, expected in cases:
        found = _problems((path, method, answer))
        assert any(expected in problem for problem in found), (answer, found)

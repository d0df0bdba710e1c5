"""The box's side of device API v1: signed requests to the upstream over the relay's transport.

The contract is docs/upstream-api.yaml; signing is appliance.domain.protocol's.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any

from appliance.domain import protocol
from appliance.relay.transport import BaseUrl, Reply, Transport, TransportError, software_version

__all__ = [
    "BaseUrl",
    "Reply",
    "Transport",
    "TransportError",
    "UpstreamClient",
    "enroll",
    "software_version",
]

HOSTNAME_MAX = 64  # the enrol request's limits (docs/upstream-api.yaml)
VERSION_MAX = 32


class UpstreamClient(Transport):
    """Signed requests for one enrolled device; learns the upstream's clock when refused for it."""

    def __init__(
        self,
        base_url: str,
        device_id: str,
        secret: str,
        *,
        timeout: float,
        max_kbps: int = 0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        super().__init__(base_url, timeout=timeout, max_kbps=max_kbps, clock=clock, sleep=sleep)
        self._device_id = device_id
        self._secret = secret
        self.offset = 0.0  # seconds to add to clock() to get the upstream's clock
        self.last_server_time: float | None = None

    def request(
        self,
        method: str,
        target: str,
        body: bytes = b"",
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Reply:
        """`target` is the API path with its query ("/v1/updates?after=3")."""
        reply = self._signed(method, target, body, content_type, headers)
        if reply.status == 401 and reply.error == "clock_skew" and reply.server_time is not None:
            self.offset = reply.server_time - self._clock()
            reply = self._signed(method, target, body, content_type, headers)
        return reply

    def put_blob(self, sha256: str, data: bytes, media_type: str) -> Reply:
        return self.request("PUT", f"{protocol.PREFIX}/blobs/{sha256}", data, media_type)

    def put_manifest(self, uuid: str, manifest: Mapping[str, Any]) -> Reply:
        body = protocol.canonical_json(manifest)
        return self.request("PUT", f"{protocol.PREFIX}/dossiers/{uuid}", body, "application/json")

    def updates(self, after: int, limit: int = 100) -> Reply:
        return self.request("GET", f"{protocol.PREFIX}/updates?after={after}&limit={limit}")

    def heartbeat(self, body: Mapping[str, Any]) -> Reply:
        data = protocol.canonical_json(body)
        return self.request("POST", f"{protocol.PREFIX}/heartbeat", data, "application/json")

    def catalog(self, etag: str | None) -> Reply:
        headers = {"If-None-Match": etag} if etag else None
        return self.request("GET", f"{protocol.PREFIX}/catalog", headers=headers)

    def _signed(
        self,
        method: str,
        path: str,
        body: bytes,
        content_type: str | None,
        headers: Mapping[str, str] | None,
    ) -> Reply:
        target = self.target(path)
        plain = {**(headers or {}), **_content_type(content_type)}

        def signed() -> dict[str, str]:
            timestamp = int(self._clock() + self.offset)
            nonce = secrets.token_urlsafe(18)
            return plain | protocol.signed_headers(
                self._device_id, self._secret, method, target, timestamp, nonce, body
            )

        reply = self.exchange(method, target, body, signed)
        if reply.server_time is not None:
            self.last_server_time = reply.server_time
        return reply


def enroll(
    base_url: str, token: str, *, hostname: str, software_version: str, timeout: float
) -> Reply:
    """Exchange a one-time token for a device id and secret (the only unsigned request)."""
    transport = Transport(base_url, timeout=timeout)
    body = json.dumps(
        {
            "token": token,
            "hostname": hostname[:HOSTNAME_MAX],
            "software_version": software_version[:VERSION_MAX],
        }
    ).encode()
    try:
        target = transport.target(f"{protocol.PREFIX}/enroll")
        return transport.exchange("POST", target, body, lambda: _content_type("application/json"))
    finally:
        transport.close()


def _content_type(value: str | None) -> dict[str, str]:
    return {"Content-Type": value} if value else {}

"""Serves the upstream under waitress, with the body cap set just above the largest page.

Waitress reads a whole body before the app sees it, so a huge declared body must be cut by
waitress itself; its refusal is answered in the device API's JSON, with the server's clock.
"""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

from flask import Flask
from waitress import create_server
from waitress.channel import HTTPChannel
from waitress.task import ErrorTask
from waitress.utilities import RequestEntityTooLarge

from appliance.domain.protocol import HEADER_SERVER_TIME, PREFIX
from upstream.errors import json_bytes, too_large
from upstream.settings import UpstreamSettings

SLACK = 64 * 1024  # over the blob limit: chunked framing, and the app's own 413 just above it


def listen(host: str, port: int) -> socket.socket:
    """A bound, listening socket of our own: a taken port fails here, plainly (OSError)."""
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    return socket.create_server((host, port), family=family)


def make_server(app: Flask, sock: socket.socket, threads: int) -> Any:
    """A waitress server for `app` on `sock`; `.run()` serves until closed or interrupted."""
    context = app.extensions["upstream"]
    settings: UpstreamSettings = context.settings
    server = create_server(
        app,
        sockets=[sock],
        threads=threads,
        ident="hamletbox-upstream",
        max_request_body_size=settings.max_blob_bytes + SLACK,
        clear_untrusted_proxy_headers=True,
    )
    server.channel_class = _channel_class(settings, context.clock)
    return server


def close(server: Any) -> None:
    """Close the listening socket and every connection, then stop the worker threads."""
    _close_connections(server)
    server.task_dispatcher.shutdown()


def close_soon(server: Any) -> None:
    """Make `run()` return, from any thread: the closing is done in the serving thread."""
    trigger = server.trigger
    # pull_trigger appends, releases the lock, then writes to the wake-up pipe: a worker waking the
    # loop in between lets the loop run our thunk, which closes that pipe under the write. Holding
    # the lock (thunks run under it) through the write closes that window.
    with trigger.lock:
        trigger.thunks.append(lambda: _close_connections(server))
        trigger._physical_pull()


def _close_connections(server: Any) -> None:
    for dispatcher in list(server._map.values()):
        dispatcher.close()


def body_limit(settings: UpstreamSettings, path: str) -> int:
    """The body limit of the endpoint at `path`: pages may be large, JSON bodies are small."""
    blobs = f"{PREFIX}/blobs/"
    return settings.max_blob_bytes if path.startswith(blobs) else settings.max_json_bytes


def _channel_class(settings: UpstreamSettings, clock: Callable[[], float]) -> type[Any]:
    class JsonErrorTask(ErrorTask):  # type: ignore[misc]
        """Waitress's own refusals, with the server's clock; too large ones as JSON."""

        def execute(self) -> None:
            self.response_headers.append((HEADER_SERVER_TIME, f"{clock():.3f}"))
            if not isinstance(self.request.error, RequestEntityTooLarge):
                super().execute()
                return
            error = too_large(body_limit(settings, self.request.path or ""))
            body = json_bytes(error.body())
            self.status = "413 Request Entity Too Large"
            self.response_headers.append(("Content-Type", "application/json"))
            self.set_close_on_finish()
            self.content_length = len(body)
            self.write(body)

    class JsonErrorChannel(HTTPChannel):  # type: ignore[misc]
        error_task_class = JsonErrorTask

    return JsonErrorChannel

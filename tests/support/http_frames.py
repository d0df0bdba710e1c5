"""HTTP/1.1 messages read off a socket just far enough to know where each one ends.

For the fault proxy: a request or an answer head, then its body by Content-Length, chunked
framing, or (an answer with neither) the connection's close. Bodies are kept exactly as on the
wire, so what is passed on is byte for byte what came in.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

HEAD_LIMIT = 64 * 1024


class Closed(Exception):
    """The other end closed or cut the connection in the middle of a message."""


class Stream:
    """A socket read in HTTP's units: a head, an exact count of bytes, a line, a chunked body."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buf = bytearray()

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise Closed
        self.buf += data

    def _take(self, n: int) -> bytes:
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def head(self) -> bytes | None:
        """The next head up to its blank line; None when the peer closed between messages."""
        while (end := self.buf.find(b"\r\n\r\n")) < 0:
            if len(self.buf) > HEAD_LIMIT:
                raise Closed
            try:
                self._fill()
            except Closed:
                if self.buf:
                    raise
                return None
        return self._take(end + 4)

    def exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        return self._take(n)

    def line(self) -> bytes:
        while (end := self.buf.find(b"\r\n")) < 0:
            self._fill()
        return self._take(end + 2)

    def up_to(self, n: int) -> bytes:
        """At most `n` bytes of what is there or arrives next (to cut a body short)."""
        if not self.buf and n > 0:
            self._fill()
        return self._take(n)

    def chunked(self) -> bytes:
        """A chunked body exactly as on the wire, trailers included."""
        out = bytearray()
        while True:
            size_line = self.line()
            out += size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                break
            out += self.exact(size + 2)
        while (trailer := self.line()) != b"\r\n":
            out += trailer
        return bytes(out + trailer)

    def until_close(self) -> bytes:
        try:
            while True:
                self._fill()
        except Closed:
            return self._take(len(self.buf))


@dataclass(frozen=True)
class Head:
    """A request's or an answer's head as received, and what it says about the body."""

    raw: bytes
    first: list[str]  # the request line or the status line, split
    headers: dict[str, str]  # lower-cased names

    @classmethod
    def parse(cls, raw: bytes) -> Head:
        lines = raw.decode("latin-1").split("\r\n")
        pairs = (line.partition(":") for line in lines[1:])
        headers = {name.strip().lower(): value.strip() for name, sep, value in pairs if sep}
        return cls(raw, lines[0].split(" ", 2), headers)

    @property
    def chunked(self) -> bool:
        return "chunked" in self.headers.get("transfer-encoding", "").lower()

    @property
    def length(self) -> int | None:
        """The body's length by Content-Length; None when chunked or not said."""
        text = None if self.chunked else self.headers.get("content-length")
        return None if text is None else int(text)

    @property
    def closes(self) -> bool:
        return self.headers.get("connection", "").lower() == "close"

    @property
    def status(self) -> int:
        return int(self.first[1]) if self.first[0].startswith("HTTP/") else 0

    def body(self, stream: Stream, *, no_body: bool = False) -> bytes:
        """The body as on the wire; a response with no length runs to the connection's close."""
        if no_body:
            return b""
        if self.chunked:
            return stream.chunked()
        if self.length is not None:
            return stream.exact(self.length)
        return stream.until_close() if self.status else b""

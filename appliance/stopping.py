"""Stopping a daemon on SIGTERM / SIGINT without deadlocking it.

A Python signal handler runs in the main thread between two bytecodes, possibly while that thread
is inside `Event.wait()` holding the event's internal lock; `Event.set()` in the handler then waits
on that lock forever. So the handler only writes a byte to a pipe, and a watcher thread sets the
event.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterable


def stop_on_signals(
    stopping: threading.Event, signums: Iterable[int] = (signal.SIGTERM, signal.SIGINT)
) -> None:
    """Set `stopping` soon after any of `signums` arrives (main thread only)."""
    read_fd, write_fd = os.pipe()
    os.set_blocking(write_fd, False)  # a flood of signals never blocks the handler

    def watch() -> None:
        os.read(read_fd, 1)
        stopping.set()

    threading.Thread(target=watch, name="signal-watch", daemon=True).start()

    def handler(_signum: int, _frame: object) -> None:
        with contextlib.suppress(BlockingIOError):  # already signalled: the pipe is full
            os.write(write_fd, b"s")

    for signum in signums:
        signal.signal(signum, handler)

"""A small in-memory rate limiter: at most N attempts per key in any sliding window.

For the status lookup, where a receipt code plus four digits is the only secret: keyed by client
address, it makes guessing the digits slow. Memory is bounded (a deque of at most N times per
key, at most `max_keys` keys, least recently used dropped first), and the clock is injected so
tests need no sleeps. Thread-safe: the web server answers on several threads.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if limit < 1 or window_s <= 0 or max_keys < 1:
            raise ValueError("limit, window_s and max_keys must be positive")
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._max_keys = max_keys
        self._hits: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count an attempt for `key` and say whether it is allowed; refused ones do not count."""
        now = self._clock()
        with self._lock:
            hits = self._recent(key, now)
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            self._hits[key] = hits
            self._hits.move_to_end(key)
            while len(self._hits) > self._max_keys:
                self._hits.popitem(last=False)
            return True

    def retry_after(self, key: str) -> float:
        """Seconds until `key` may try again; 0 when it may now."""
        now = self._clock()
        with self._lock:
            hits = self._recent(key, now)
            if len(hits) < self.limit:
                return 0.0
            return hits[0] + self.window_s - now

    def __len__(self) -> int:
        """How many keys are remembered (for tests and diagnostics)."""
        return len(self._hits)

    def _recent(self, key: str, now: float) -> deque[float]:
        """The key's attempts still inside the window; forgets the key when none are left."""
        hits = self._hits.get(key)
        if hits is None:
            return deque(maxlen=self.limit)
        while hits and hits[0] <= now - self.window_s:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits

"""A signal stops a daemon even when it arrives while the main thread waits on the stop Event."""

from __future__ import annotations

import os
import signal
import threading

from appliance.stopping import stop_on_signals


def test_a_signal_during_the_wait_sets_the_event_without_a_deadlock() -> None:
    stopping = threading.Event()
    previous = signal.getsignal(signal.SIGUSR1)
    try:
        stop_on_signals(stopping, [signal.SIGUSR1])
        timer = threading.Timer(0.2, os.kill, (os.getpid(), signal.SIGUSR1))
        timer.start()
        for _ in range(100):  # the signal lands somewhere in these waits
            if stopping.wait(0.01):
                break
        assert stopping.wait(30)
        timer.join()
    finally:
        signal.signal(signal.SIGUSR1, previous)

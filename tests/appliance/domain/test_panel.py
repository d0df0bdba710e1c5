"""The panel's LED patterns, one row per situation a volunteer or a technician meets."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from appliance.domain.panel import PATTERNS, BoxState, Leds, patterns

HEALTHY = BoxState(
    web_alive=True,
    relay_alive=True,
    uplink="online",
    last_ok_age=60.0,
    queue_depth=0,
    oldest_waiting_seconds=None,
    refused=0,
    disk_free_bytes=8 * 1024**3,
    disk_low=False,
    camera="ok",
    modem="ok",
    modem_detail=None,
    clock_ok=True,
    clock_detail=None,
)
DAY = 24 * 3600

# (situation, changes to HEALTHY, (green, blue, amber, red), words each reason must hold in order)
SITUATIONS: list[tuple[str, dict[str, Any], tuple[str, str, str, str], list[str]]] = [
    ("all well, nothing waits", {}, ("slow", "on", "off", "off"), []),
    ("web down", {"web_alive": False, "camera": "unknown"}, ("on", "on", "off", "off"), ["web"]),
    ("relay down", {"relay_alive": False, "uplink": "unknown", "last_ok_age": None},
     ("on", "off", "off", "off"), ["relay"]),
    ("both down", {"web_alive": False, "relay_alive": False, "uplink": "unknown"},
     ("on", "off", "off", "off"), ["web", "relay"]),
    ("sending", {"uplink": "sending", "queue_depth": 2, "oldest_waiting_seconds": 30},
     ("slow", "slow", "on", "off"), []),
    ("online but the last answer is old", {"last_ok_age": 15 * 60.0 + 1},
     ("slow", "off", "off", "off"), []),
    ("online, answered exactly 15 min ago", {"last_ok_age": 15 * 60.0},
     ("slow", "on", "off", "off"), []),
    ("online, never answered", {"last_ok_age": None}, ("slow", "off", "off", "off"), []),
    ("offline with dossiers waiting", {"uplink": "offline", "queue_depth": 3,
     "oldest_waiting_seconds": 3600}, ("slow", "off", "on", "off"), []),
    ("not enrolled", {"uplink": "not_enrolled", "last_ok_age": None},
     ("slow", "off", "off", "off"), []),
    ("a dossier stuck over a day", {"uplink": "offline", "queue_depth": 1,
     "oldest_waiting_seconds": 2 * DAY + 5}, ("slow", "off", "fast", "off"), ["2 ngày", "2 day"]),
    ("exactly a day is not stuck yet", {"queue_depth": 1, "oldest_waiting_seconds": DAY},
     ("slow", "on", "on", "off"), []),
    ("refused by the upstream, queue empty", {"refused": 1},
     ("slow", "on", "fast", "off"), ["từ chối", "refused 1"]),
    ("disk low", {"disk_low": True}, ("slow", "on", "off", "on"), ["Thẻ nhớ", "SD card"]),
    ("camera missing", {"camera": "missing"}, ("slow", "on", "off", "on"), ["máy ảnh", "camera"]),
    ("no camera configured", {"camera": "off"}, ("slow", "on", "off", "off"), []),
    ("modem fault", {"modem": "fault", "modem_detail": "SIM: not inserted"},
     ("slow", "on", "off", "on"), ["Modem", "SIM: not inserted"]),
    ("modem unknown is not a fault", {"modem": "unknown"}, ("slow", "on", "off", "off"), []),
    ("revoked", {"uplink": "revoked", "last_ok_age": None},
     ("slow", "off", "off", "on"), ["thu hồi", "revoked"]),
    ("clock not set", {"clock_ok": False, "clock_detail": "Đồng hồ chưa đặt / clock not set"},
     ("slow", "on", "off", "on"), ["clock not set"]),
    ("clock wrong, no detail", {"clock_ok": False}, ("slow", "on", "off", "on"), ["Đồng hồ"]),
]  # fmt: skip


@pytest.mark.parametrize(
    ("changes", "expected", "words"),
    [
        pytest.param(changes, expected, words, id=name)
        for name, changes, expected, words in SITUATIONS
    ],
)
def test_situation(
    changes: dict[str, Any], expected: tuple[str, str, str, str], words: list[str]
) -> None:
    leds = patterns(replace(HEALTHY, **changes))
    assert (leds.green, leds.blue, leds.amber, leds.red) == expected
    text = " | ".join(leds.reasons)
    for word in words:
        assert word in text
    if not words:
        assert leds.reasons == ()


def test_every_fault_adds_its_own_reason_and_green_is_never_off() -> None:
    everything = replace(
        HEALTHY,
        web_alive=False,
        relay_alive=False,
        uplink="revoked",
        refused=2,
        oldest_waiting_seconds=3 * DAY,
        queue_depth=4,
        disk_low=True,
        camera="missing",
        modem="fault",
        clock_ok=False,
    )
    leds = patterns(everything)
    assert leds == Leds("on", "off", "fast", "on", leds.reasons)
    assert len(leds.reasons) == 2 + 2 + 5  # two daemons down, two queue reasons, five faults
    assert all(" / " in reason for reason in leds.reasons)  # Vietnamese / English


def test_by_colour_is_what_panel_json_holds() -> None:
    leds = patterns(replace(HEALTHY, queue_depth=1))
    assert leds.by_colour() == {"green": "slow", "blue": "on", "amber": "on", "red": "off"}
    assert set(leds.by_colour().values()) <= set(PATTERNS)

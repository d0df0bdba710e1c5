"""The virtual LED panel on the technician's page: what the panel daemon shows (panel.json), or,
while it is not running, what it would show, from the same pure function over the same state."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from appliance.box_state import STALE_SECONDS, read_box_state
from appliance.config import Settings
from appliance.domain.panel import COLOURS, PATTERNS, patterns
from appliance.liveness import read_fresh
from appliance.panel import PANEL_FILE


@dataclass(frozen=True)
class PanelView:
    leds: dict[str, str]  # colour -> one of PATTERNS, in COLOURS order
    reasons: tuple[str, ...]
    from_daemon: bool  # False: computed here because the panel daemon is not running


def virtual_panel(settings: Settings, sessions: sessionmaker[Session], now: datetime) -> PanelView:
    data = read_fresh(settings.runtime_dir / PANEL_FILE, now, STALE_SECONDS)
    leds = data.get("leds") if data is not None else None
    if isinstance(leds, dict) and all(leds.get(colour) in PATTERNS for colour in COLOURS):
        said = data.get("reasons") if data is not None else None
        reasons = tuple(r for r in said if isinstance(r, str)) if isinstance(said, list) else ()
        return PanelView({colour: leds[colour] for colour in COLOURS}, reasons, True)
    shown = patterns(read_box_state(settings, sessions, now))
    return PanelView(shown.by_colour(), shown.reasons, False)

"""Child process for the kiosk tests: the real Kiosk window, driven like a curious volunteer.

Usage: python -m tests.kiosk.drive SETTINGS URL...  Runs the kiosk as `hamletbox kiosk` does and
waits for the station. For each URL it then follows a link there and opens URL?new-window in a
new window (through the page's own JavaScript, as a click would), and last opens the station's
own /login in a new window, which must show in this one. It prints one JSON line (where the
window was after each try, and what the kiosk refused) and closes the window."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from appliance import config
from appliance.kiosk import KIOSK_FILE, Kiosk, bounded, origin, station_url

WAIT = 20.0


def attempt(kiosk: Kiosk, how: str, url: str) -> dict[str, object]:
    """Try `how(url)` in the page and wait for the kiosk to refuse it. A refused link leaves
    Qt's error page for `url`, which the kiosk replaces by the station: two loads; a refused
    new window loads nothing."""
    loads = kiosk.loads
    later(kiosk, f"{how}({json.dumps(url)})")
    refused = kiosk.wait_until(lambda: url in kiosk.refused, WAIT)
    expected = loads + (2 if how == "location.assign" else 0)
    back = kiosk.wait_until(lambda: kiosk.loads >= expected and on_station(kiosk), WAIT)
    return {
        "url": url,
        "refused": refused,
        "back": back,
        "after": kiosk.window.get_current_url(),
        "title": title(kiosk),
    }


def later(kiosk: Kiosk, script: str) -> None:
    """Run `script` just after this call returns: a script that navigates at once may never
    answer pywebview."""
    kiosk.window.run_js(f"setTimeout(() => {{ {script}; }}, 0); true")


def title(kiosk: Kiosk) -> object:
    return bounded(lambda: kiosk.window.run_js("document.title"))


def on_station(kiosk: Kiosk) -> bool:
    return origin(kiosk.current) == kiosk.origin


def drive(kiosk: Kiosk, urls: list[str]) -> None:
    report: dict[str, object] = {"station": None, "attempts": []}
    try:
        if kiosk.wait_until(lambda: on_station(kiosk), WAIT):
            report["station"] = kiosk.current
            report["title"] = title(kiosk)
            report["attempts"] = [
                attempt(kiosk, how, url + query)
                for url in urls
                for how, query in (("location.assign", ""), ("window.open", "?new-window"))
            ]
            later(kiosk, 'window.open("/login")')  # the station's own page: shown here
            kiosk.wait_until(lambda: kiosk.current.endswith("/login"), WAIT)
            report["own_new_window"] = kiosk.current
    finally:
        print(json.dumps(report, ensure_ascii=False), flush=True)
        kiosk.window.destroy()


def main(argv: list[str]) -> int:
    settings = config.load(Path(argv[0]))
    kiosk = Kiosk(station_url(settings, None), settings.runtime_dir / KIOSK_FILE)
    kiosk.run(settings.kiosk.backend, also=lambda running: drive(running, argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

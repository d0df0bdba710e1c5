"""Composition root: builds everything a process needs from its settings.

This is the only place that decides between real and fake hardware. A device that does not come
up (no camera on the ribbon, a pin another program holds) is logged and left out: residents can
still browse, start dossiers and look up their status without the station's camera.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from appliance import catalog_source
from appliance.capture.camera import Camera, open_camera
from appliance.catalog_source import CatalogSource
from appliance.config import Settings, prepare_data_dir
from appliance.hardware.gpio import Buzzer, GpioBuzzer, Shutter, pin_conflicts, pin_factory
from appliance.hardware.modem import open_modem
from appliance.hardware.modem_api import Modem, ModemError
from appliance.store import migrate
from appliance.store.blobs import BlobStore
from appliance.store.db import make_engine, make_sessions

log = logging.getLogger("hamletbox.services")
T = TypeVar("T")


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    catalog: CatalogSource
    blobs: BlobStore
    camera: Camera | None = None
    shutter: Shutter | None = None
    buzzer: Buzzer | None = None  # beeps when the station reads an ID card
    pin_factory: Any | None = None  # gpiozero's MockFactory in mock mode (tests press its pins)
    modem: Modem | None = None  # the relay's alone (build(..., modem=True))

    def close(self) -> None:
        """Let go of the devices first (another process may want the camera), then the store."""
        try:
            if self.shutter is not None:
                self.shutter.close()
            if self.buzzer is not None:
                self.buzzer.close()
            if self.pin_factory is not None:
                self.pin_factory.close()
            if self.camera is not None:
                self.camera.close()
            if self.modem is not None:
                self.modem.close()
        finally:
            self.engine.dispose()


def build(settings: Settings, *, devices: bool = True, modem: bool = False) -> Services:
    """Prepare the data dir, bring the store to the current schema, and wire the services.

    `devices=False` is for processes that do not own the station's hardware (the relay, one-off
    commands): only one process may hold the camera and the pins. `modem=True` is for the one
    process that sends SMS (the relay): it opens the modem set in `modem.url`.
    """
    prepare_data_dir(settings)
    engine = make_engine(settings.database_path)
    migrate.upgrade(engine)
    services = Services(
        settings=settings,
        engine=engine,
        sessions=make_sessions(engine),
        catalog=catalog_source.for_settings(settings),
        blobs=BlobStore(settings.blob_dir),
    )
    if devices:
        services.camera = open_camera(settings)
        _open_pins(services, settings)
    if modem:
        services.modem = _open_modem(settings)
    return services


def _open_modem(settings: Settings) -> Modem | None:
    """The modem, or None when none is set or it does not answer: SMS wait in the outbox."""
    try:
        return open_modem(settings)
    except ModemError as exc:
        log.warning(
            "modem at %s did not answer, going on without SMS / "
            "modem không trả lời, hộp chạy tiếp nhưng chưa gửi được tin nhắn: %s",
            settings.modem.url,
            exc,
        )
        return None


def _open_pins(services: Services, settings: Settings) -> None:
    """The pin factory, then the shutter button and the buzzer, each when its pin is set."""
    gpio = settings.gpio
    if gpio.shutter_pin is None and gpio.buzzer_pin is None:
        return
    try:
        services.pin_factory = pin_factory(gpio.pin_factory)
    except Exception as exc:
        log.warning("GPIO did not open / không mở được GPIO: %s: %s", type(exc).__name__, exc)
        return
    factory = services.pin_factory
    shutter_names = ("shutter button", "nút chụp")
    services.shutter = _open_device(
        settings, "shutter_pin", shutter_names, lambda pin: Shutter(pin, factory)
    )
    services.buzzer = _open_device(
        settings, "buzzer_pin", ("buzzer", "còi"), lambda pin: GpioBuzzer(pin, factory)
    )


def _open_device(
    settings: Settings, setting: str, names: tuple[str, str], make: Callable[[int], T]
) -> T | None:
    """One device on gpio.<setting>; None when not set, when its pin is named twice (the plain
    message is logged), or when the pin does not open: the box keeps serving without it."""
    pin: int | None = getattr(settings.gpio, setting)
    if pin is None:
        return None
    english, vietnamese = names
    conflicts = pin_conflicts(settings, involving=setting)
    for message in conflicts:
        log.warning("%s left out / không dùng %s: %s", english, vietnamese, message)
    if conflicts:
        return None
    try:
        return make(pin)
    except Exception as exc:
        log.warning(
            "%s on GPIO %d did not open, going on without it / "
            "không dùng được %s, hộp vẫn chạy tiếp: %s: %s",
            english,
            pin,
            vietnamese,
            type(exc).__name__,
            exc,
        )
        return None

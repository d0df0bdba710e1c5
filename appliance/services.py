"""Composition root: builds everything a process needs from its settings.

This is the only place that decides between real and fake hardware. A device that does not come
up (no camera on the ribbon, a pin another program holds) is logged and left out: residents can
still browse, start dossiers and look up their status without the station's camera.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from appliance import catalog_source
from appliance.capture.camera import Camera, open_camera
from appliance.catalog_source import CatalogSource
from appliance.config import Settings, prepare_data_dir
from appliance.hardware.gpio import Shutter, pin_factory
from appliance.hardware.modem import open_modem
from appliance.hardware.modem_api import Modem, ModemError
from appliance.store import migrate
from appliance.store.blobs import BlobStore
from appliance.store.db import make_engine, make_sessions

log = logging.getLogger("hamletbox.services")


@dataclass
class Services:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    catalog: CatalogSource
    blobs: BlobStore
    camera: Camera | None = None
    shutter: Shutter | None = None
    pin_factory: Any | None = None  # gpiozero's MockFactory in mock mode (tests press its pins)
    modem: Modem | None = None  # the relay's alone (build(..., modem=True))

    def close(self) -> None:
        """Let go of the devices first (another process may want the camera), then the store."""
        try:
            if self.shutter is not None:
                self.shutter.close()
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
    """The pin factory and the shutter button, when a shutter pin is set."""
    pin = settings.gpio.shutter_pin
    if pin is None:
        return
    try:
        services.pin_factory = pin_factory(settings.gpio.pin_factory)
        services.shutter = Shutter(pin, services.pin_factory)
    except Exception as exc:
        log.warning(
            "shutter button on GPIO %d did not open, going on without it / "
            "không dùng được nút chụp, hộp vẫn chạy tiếp: %s: %s",
            pin,
            type(exc).__name__,
            exc,
        )

"""Settings: one TOML file plus HAMLETBOX_* environment overrides, loaded once into frozen objects.

Nothing here runs at import time; `load()` is called by the command that starts a service, and any
problem becomes a `SettingsError` naming the file (or environment variable) and the key.
"""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.domain.schedule import (
    HelpHour,
    ScheduleError,
    Window,
    parse_help_hours,
    parse_window,
)

DEFAULT_FILE = Path("/etc/hamletbox/hamletbox.toml")
ENV_PREFIX = "HAMLETBOX_"
# Short environment names for the settings people override most.
ENV_ALIASES = {"HAMLETBOX_DATA": ("data_dir",), "HAMLETBOX_RUNTIME": ("runtime_dir",)}
ENV_NOT_SETTINGS = {"HAMLETBOX_CONFIG"}
# The upstream server is another program with its own variables (see upstream/settings.py).
ENV_OTHER_PROGRAMS = ("HAMLETBOX_UPSTREAM_",)
MASK = "********"


def secret() -> Any:
    """A settings field whose value `config check` and support bundles never print."""
    return field(default="", metadata={"secret": True})


class SettingsError(Exception):
    """Settings that cannot be used; the message names the file or variable and the key."""


@dataclass(frozen=True)
class BoxSettings:
    name: str = "Hamlet Box"
    hamlet: str = "Thôn mẫu"
    commune: str = "Xã mẫu"
    province: str = "Tỉnh mẫu"
    station_place: str = "Nhà văn hóa thôn"
    office: str = "Bộ phận một cửa, Ủy ban nhân dân xã"
    office_address: str = ""
    office_hours: str = "Thứ Hai – Thứ Sáu, 7:30–11:30 và 13:30–17:00"
    help_phone: str = ""


@dataclass(frozen=True)
class HotspotSettings:
    ssid: str = "HamletBox"
    password: str = secret()
    address: str = "10.42.0.1"
    hostname: str = "hamlet.box"
    # Phones the radio serves at once: about 8-10 for the Pi's own in AP mode (a firmware limit);
    # more with a USB radio or an external access point (DOMAIN.md).
    max_clients: int = 8
    # The hotspot's DHCP leases (NetworkManager's shared mode runs dnsmasq): doctor counts phones.
    leases_file: Path = Path("/var/lib/NetworkManager/dnsmasq-wlan0.leases")


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8080
    threads: int = 8
    secret_key: str = secret()


@dataclass(frozen=True)
class PortalSettings:
    client_hours: int = 12


@dataclass(frozen=True)
class HelpSettings:
    hours: tuple[str, ...] = ("thu 08:00-11:00", "daily 19:00-21:00")
    slot_minutes: int = 30  # help hours are booked in slots this long
    slot_capacity: int = 3  # residents one slot takes (one per volunteer at the station)
    booking_days: int = 14  # how far ahead residents may book


@dataclass(frozen=True)
class CatalogSettings:
    override: Path | None = None


@dataclass(frozen=True)
class CameraSettings:
    backend: str = "none"  # none | folder | picamera2
    folder: Path | None = None  # the folder backend's images, served in turn


@dataclass(frozen=True)
class GpioSettings:
    pin_factory: str = "mock"  # mock (gpiozero's MockFactory) | native (gpiozero picks: lgpio)
    shutter_pin: int | None = None  # BCM number of the station's shutter button
    # The panel's LEDs (each to ground through a resistor), its shutdown button and the buzzer,
    # by BCM number; None: not fitted. A pin named twice is refused by the daemon that opens it.
    green_pin: int | None = None  # power: slow blink while the web and relay are alive
    blue_pin: int | None = None  # uplink
    amber_pin: int | None = None  # queue
    red_pin: int | None = None  # fault
    shutdown_pin: int | None = None  # held for shutdown_hold_seconds: a clean poweroff
    buzzer_pin: int | None = None  # an active buzzer: a short beep when an ID card is read
    shutdown_hold_seconds: float = 3.0
    poweroff_command: str = "systemctl poweroff"  # empty: only log it (the demo, a bench box)


@dataclass(frozen=True)
class IntakeSettings:
    receipt_prefix: str = "HB"  # the hamlet's prefix on receipt codes, e.g. "XB1"
    max_image_mb: int = 15
    max_dossier_mb: int = 80
    retention_days: int = 90  # pages are purged this long after the result is handed over
    printer: str = ""  # CUPS queue for receipts; empty: no printing
    consent_version: str = "1"
    min_free_mb: int = 200  # below this much free space, new dossiers are refused (the queue stays)


@dataclass(frozen=True)
class RelaySettings:
    upstream_url: str = ""  # the commune's upstream, e.g. "https://motcua.example.vn"; empty: none
    device_file: Path = Path("/etc/hamletbox/device.json")  # `hamletbox enroll` writes it, 0600
    window: str = ""  # "22:00-06:00": send only then (local time); empty: at any time
    max_kbps: int = 0  # upload cap in kilobits per second, per connection; 0: no cap
    connections: int = 3  # requests in flight at once while a backlog drains; 1 under max_kbps
    poll_seconds: int = 60  # how often to ask for the commune's decisions
    heartbeat_seconds: int = 300
    catalog_seconds: int = 3600
    timeout_seconds: int = 30  # connect and each read
    backoff_base_seconds: int = 5
    backoff_cap_seconds: int = 900


@dataclass(frozen=True)
class KioskSettings:
    url: str = ""  # the station page the touchscreen shows; empty: the local web's /station
    backend: str = "qt"  # pywebview GUI: qt (tests, PyQt6) | gtk (the Pi: WebKitGTK under cage)


@dataclass(frozen=True)
class ModemSettings:
    url: str = ""  # pyserial URL or device: "/dev/ttyHAMLETMODEM", "rfc2217://…"; empty: no modem
    baudrate: int = 115200
    timeout_seconds: int = 10  # the longest wait for one answer (a send waits up to 6×)
    status_seconds: int = 60  # how often the relay asks for SIM, registration and signal


@dataclass(frozen=True)
class SmsSettings:
    enabled: bool = True  # false: nothing is queued (no modem, or the commune texts itself)
    unaccented: bool = False  # send Vietnamese without diacritics: 160 characters a part, not 70
    per_number_per_hour: int = 3  # more to one number waits for the next hour
    retry_base_seconds: int = 60
    retry_cap_seconds: int = 3600
    give_up_hours: int = 72  # a message still unsent this long after it was due is dropped, logged
    reminder_hours: int = 3  # a help-slot reminder goes this long before the slot


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("/var/lib/hamletbox")
    runtime_dir: Path = Path("/run/hamletbox")
    source: str = field(default="<defaults>", metadata={"internal": True})
    box: BoxSettings = BoxSettings()
    hotspot: HotspotSettings = HotspotSettings()
    web: WebSettings = WebSettings()
    portal: PortalSettings = PortalSettings()
    help: HelpSettings = HelpSettings()
    catalog: CatalogSettings = CatalogSettings()
    camera: CameraSettings = CameraSettings()
    gpio: GpioSettings = GpioSettings()
    intake: IntakeSettings = IntakeSettings()
    relay: RelaySettings = RelaySettings()
    modem: ModemSettings = ModemSettings()
    kiosk: KioskSettings = KioskSettings()
    sms: SmsSettings = SmsSettings()

    @property
    def database_path(self) -> Path:
        return self.data_dir / "hamletbox.sqlite3"

    @property
    def blob_dir(self) -> Path:
        return self.data_dir / "blobs"

    @property
    def box_url(self) -> str:
        """The plain address residents type into a normal browser."""
        return f"http://{self.hotspot.address}/"

    @property
    def help_hours(self) -> tuple[HelpHour, ...]:
        return parse_help_hours(self.help.hours)

    @property
    def sending_window(self) -> Window | None:
        return parse_window(self.relay.window)


def load(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings file and the environment; validate everything before returning."""
    env = os.environ if environ is None else environ
    if path is None:
        path = Path(env.get("HAMLETBOX_CONFIG") or DEFAULT_FILE)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(
            f"{path}: settings file not found / không tìm thấy tệp cấu hình"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(f"{path}: cannot read settings file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{path}: not valid TOML: {exc}") from None
    settings = _build(Settings, raw, str(path), prefix="")
    settings = _apply_env(settings, env)
    settings = dataclasses.replace(settings, source=str(path))
    _validate(settings)
    return settings


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _build(cls: type, raw: Mapping[str, Any], where: str, prefix: str) -> Any:
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = f"{prefix}{key}"
        if key not in fields:
            raise SettingsError(f"{where}: unknown setting '{name}' / khóa cấu hình không hợp lệ")
        values[key] = _coerce(hints[key], value, where, name)
    return cls(**values)


def _coerce(hint: Any, value: Any, where: str, name: str) -> Any:
    if dataclasses.is_dataclass(hint):
        if not isinstance(value, dict):
            raise SettingsError(f"{where}: '{name}' must be a table [{name}]")
        return _build(typing.cast(type, hint), value, where, f"{name}.")
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (types.UnionType, typing.Union) and type(None) in args:
        inner = next(a for a in args if a is not type(None))
        return None if value in ("", None) else _coerce(inner, value, where, name)
    if origin is tuple:
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"{where}: '{name}' must be a list of strings")
        return tuple(value)
    expected = {Path: str}.get(hint, hint)
    ok = isinstance(value, expected) and not (expected is int and isinstance(value, bool))
    if not ok:
        got = type(value).__name__
        raise SettingsError(f"{where}: '{name}' must be {_type_name(hint)}, not {got}")
    return Path(value) if hint is Path else value


def _type_name(hint: Any) -> str:
    return {str: "a string", int: "a whole number", bool: "true or false", Path: "a path"}.get(
        hint, str(hint)
    )


def _apply_env(settings: Settings, env: Mapping[str, str]) -> Settings:
    for var in sorted(env):
        if not var.startswith(ENV_PREFIX) or var in ENV_NOT_SETTINGS:
            continue
        if var.startswith(ENV_OTHER_PROGRAMS):
            continue
        keys = ENV_ALIASES.get(var) or tuple(var[len(ENV_PREFIX) :].lower().split("__"))
        settings = _replace_path(settings, keys, env[var], var)
    return settings


def _replace_path(obj: Any, keys: tuple[str, ...], text: str, var: str) -> Any:
    fields = {f.name for f in dataclasses.fields(obj) if not f.metadata.get("internal")}
    key = keys[0]
    if key not in fields:
        raise SettingsError(f"environment: unknown setting {var} / biến môi trường không hợp lệ")
    hint = _hints(type(obj))[key]
    if dataclasses.is_dataclass(hint):
        if len(keys) < 2:
            raise SettingsError(f"environment: {var} names a section, not a setting")
        new = _replace_path(getattr(obj, key), keys[1:], text, var)
    elif len(keys) > 1:
        raise SettingsError(f"environment: unknown setting {var}")
    else:
        new = _coerce(hint, _parse_env_value(hint, text), "environment", var)
    return dataclasses.replace(obj, **{key: new})


def _parse_env_value(hint: Any, text: str) -> Any:
    if hint in (str, Path) or (typing.get_args(hint) and Path in typing.get_args(hint)):
        return text
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def _validate(s: Settings) -> None:
    where = s.source
    if not 1 <= s.web.port <= 65535:
        raise SettingsError(f"{where}: 'web.port' must be between 1 and 65535")
    if not 1 <= s.web.threads <= 64:
        raise SettingsError(f"{where}: 'web.threads' must be between 1 and 64")
    if s.portal.client_hours < 1:
        raise SettingsError(f"{where}: 'portal.client_hours' must be at least 1")
    if not s.box.name.strip():
        raise SettingsError(f"{where}: 'box.name' must not be empty")
    if s.hotspot.password and not 8 <= len(s.hotspot.password) <= 63:
        raise SettingsError(f"{where}: 'hotspot.password' must be 8 to 63 characters (WPA2)")
    _validate_devices(s)
    _validate_intake(s)
    _validate_relay(s)
    _validate_help_and_sms(s)
    try:
        parse_help_hours(s.help.hours)
    except ScheduleError as exc:
        raise SettingsError(f"{where}: 'help.hours': {exc}") from None


CAMERA_BACKENDS = ("none", "folder", "picamera2")
PIN_FACTORIES = ("mock", "native")
GPIO_PINS = (
    "shutter_pin",
    "green_pin",
    "blue_pin",
    "amber_pin",
    "red_pin",
    "shutdown_pin",
    "buzzer_pin",
)
KIOSK_BACKENDS = ("qt", "gtk")
MAX_CONNECTIONS = 8
BAUDRATES = (9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
RECEIPT_PREFIX = re.compile(r"^[A-Z0-9]{1,4}$")


def _validate_devices(s: Settings) -> None:
    where = s.source
    if s.camera.backend not in CAMERA_BACKENDS:
        raise SettingsError(
            f"{where}: 'camera.backend' must be one of {', '.join(CAMERA_BACKENDS)}"
        )
    if s.camera.backend == "folder" and s.camera.folder is None:
        raise SettingsError(f"{where}: 'camera.folder' is needed when camera.backend is folder")
    if s.gpio.pin_factory not in PIN_FACTORIES:
        raise SettingsError(
            f"{where}: 'gpio.pin_factory' must be one of {', '.join(PIN_FACTORIES)}"
        )
    for name in GPIO_PINS:
        pin = getattr(s.gpio, name)
        if pin is not None and not 0 <= pin <= 27:
            raise SettingsError(f"{where}: 'gpio.{name}' must be a BCM pin from 0 to 27")
    if not 0.5 <= s.gpio.shutdown_hold_seconds <= 30:
        raise SettingsError(f"{where}: 'gpio.shutdown_hold_seconds' must be from 0.5 to 30")
    if s.kiosk.backend not in KIOSK_BACKENDS:
        raise SettingsError(f"{where}: 'kiosk.backend' must be one of {', '.join(KIOSK_BACKENDS)}")
    if not 1 <= s.hotspot.max_clients <= 250:
        raise SettingsError(f"{where}: 'hotspot.max_clients' must be from 1 to 250")


def _validate_intake(s: Settings) -> None:
    where, intake = s.source, s.intake
    if not RECEIPT_PREFIX.match(intake.receipt_prefix):
        raise SettingsError(
            f"{where}: 'intake.receipt_prefix' must be 1-4 capital letters or digits"
        )
    if not 1 <= intake.max_image_mb <= intake.max_dossier_mb:
        raise SettingsError(f"{where}: 'intake.max_image_mb' must be from 1 to max_dossier_mb")
    if intake.min_free_mb < 0:
        raise SettingsError(f"{where}: 'intake.min_free_mb' must be 0 or more")
    if intake.retention_days < 1:
        raise SettingsError(f"{where}: 'intake.retention_days' must be at least 1")


def _validate_relay(s: Settings) -> None:
    where, relay = s.source, s.relay
    url = relay.upstream_url
    if url and not re.match(r"^https?://[^\s/?#]+(/[^\s?#]*)?$", url):
        raise SettingsError(
            f"{where}: 'relay.upstream_url' must be like https://host[:port][/path]"
        )
    try:
        parse_window(relay.window)
    except ScheduleError as exc:
        raise SettingsError(f"{where}: 'relay.window': {exc}") from None
    for key in ("poll_seconds", "heartbeat_seconds", "catalog_seconds", "timeout_seconds"):
        if getattr(relay, key) < 1:
            raise SettingsError(f"{where}: 'relay.{key}' must be at least 1")
    if relay.max_kbps < 0:
        raise SettingsError(f"{where}: 'relay.max_kbps' must be 0 (no cap) or more")
    if not 1 <= relay.connections <= MAX_CONNECTIONS:
        raise SettingsError(f"{where}: 'relay.connections' must be from 1 to {MAX_CONNECTIONS}")
    if not 1 <= relay.backoff_base_seconds <= relay.backoff_cap_seconds:
        raise SettingsError(
            f"{where}: 'relay.backoff_base_seconds' must be from 1 to backoff_cap_seconds"
        )


def _validate_help_and_sms(s: Settings) -> None:
    where, help_, modem, sms = s.source, s.help, s.modem, s.sms
    if not 5 <= help_.slot_minutes <= 240:
        raise SettingsError(f"{where}: 'help.slot_minutes' must be from 5 to 240")
    if not 1 <= help_.slot_capacity <= 50:
        raise SettingsError(f"{where}: 'help.slot_capacity' must be from 1 to 50")
    if not 1 <= help_.booking_days <= 90:
        raise SettingsError(f"{where}: 'help.booking_days' must be from 1 to 90")
    if modem.baudrate not in BAUDRATES:
        raise SettingsError(
            f"{where}: 'modem.baudrate' must be one of {', '.join(map(str, BAUDRATES))}"
        )
    for key in ("timeout_seconds", "status_seconds"):
        if getattr(modem, key) < 1:
            raise SettingsError(f"{where}: 'modem.{key}' must be at least 1")
    if sms.per_number_per_hour < 1:
        raise SettingsError(f"{where}: 'sms.per_number_per_hour' must be at least 1")
    if not 1 <= sms.retry_base_seconds <= sms.retry_cap_seconds:
        raise SettingsError(
            f"{where}: 'sms.retry_base_seconds' must be from 1 to retry_cap_seconds"
        )
    if sms.give_up_hours < 1:
        raise SettingsError(f"{where}: 'sms.give_up_hours' must be at least 1")
    if not 0 <= sms.reminder_hours <= 72:
        raise SettingsError(f"{where}: 'sms.reminder_hours' must be from 0 (no reminder) to 72")


def effective(settings: Settings) -> dict[str, Any]:
    """The settings as nested plain values, secrets masked: what `config check` prints."""
    return _effective(settings)


def _effective(obj: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if f.metadata.get("internal"):
            continue
        if dataclasses.is_dataclass(value):
            out[f.name] = _effective(value)
        elif f.metadata.get("secret"):
            out[f.name] = MASK if value else ""
        elif isinstance(value, Path):
            out[f.name] = str(value)
        elif isinstance(value, tuple):
            out[f.name] = list(value)
        else:
            out[f.name] = value
    return out


def prepare_data_dir(settings: Settings) -> Path:
    """Create the data dir readable by the service user alone (0700), tightening an existing one."""
    path = settings.data_dir
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)
    return path

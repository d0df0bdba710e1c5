"""The device's id and secret from `hamletbox enroll`: one small JSON file readable by root alone.

Under systemd the relay may get it through LoadCredential= ($CREDENTIALS_DIRECTORY/device.json),
so the service user never needs read access to /etc/hamletbox.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from appliance.config import Settings
from appliance.errors import HamletBoxError
from appliance.files import write_atomically

CREDENTIAL_NAME = "device.json"


class CredentialsError(HamletBoxError):
    """A credentials file that is there but cannot be read, parsed or written."""


@dataclass(frozen=True)
class DeviceCredentials:
    upstream_url: str
    device_id: str
    secret: str
    hamlet: str
    enrolled_at: str  # ISO 8601, UTC


def credentials_path(settings: Settings, environ: Mapping[str, str] | None = None) -> Path:
    """systemd's credential copy when the service was given one, else the settings' file."""
    env = os.environ if environ is None else environ
    directory = env.get("CREDENTIALS_DIRECTORY")
    if directory:
        given = Path(directory) / CREDENTIAL_NAME
        if given.exists():
            return given
    return settings.relay.device_file


def load_credentials(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> DeviceCredentials | None:
    """None when the box is not enrolled; a broken or unreadable file is an error, not "none"."""
    path = credentials_path(settings, environ)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except PermissionError:
        raise CredentialsError(
            f"{path}: không có quyền đọc thông tin thiết bị (chạy bằng quyền root)"
            " / no permission to read the device credentials (run as root)"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise CredentialsError(
            f"{path}: không đọc được thông tin thiết bị / cannot read the device credentials: {exc}"
        ) from None
    return _parse(path, text)


def save_credentials(path: Path, creds: DeviceCredentials) -> None:
    """All or nothing, mode 0600: a power cut never leaves half a secret, nor a readable one."""
    data = json.dumps(asdict(creds), ensure_ascii=False, indent=2) + "\n"
    _make_folder(path)
    try:
        write_atomically(path, data.encode(), durable=True)  # mkstemp's 0600 from the start
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def check_writable(path: Path) -> None:
    """Fail before anything is spent (a one-time token) when the file could not be written."""
    fd, tmp = _temp_beside(path)
    os.close(fd)
    os.unlink(tmp)


def upstream_url(settings: Settings, creds: DeviceCredentials) -> str:
    """The settings may move the box to another address of the same upstream."""
    return settings.relay.upstream_url or creds.upstream_url


def _parse(path: Path, text: str) -> DeviceCredentials:
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    names = [f.name for f in fields(DeviceCredentials)]
    if not isinstance(data, dict) or not all(
        isinstance(data.get(name), str) and data[name] for name in names
    ):
        raise CredentialsError(
            f"{path}: tệp thông tin thiết bị bị hỏng, cần đăng ký lại"
            f" / broken device credentials file (needs {', '.join(names)}); enroll again"
        )
    return DeviceCredentials(**{name: data[name] for name in names})


def _temp_beside(path: Path) -> tuple[int, str]:
    """A new 0600 file in the credentials' folder (made 0700 when missing)."""
    _make_folder(path)
    try:
        return tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def _make_folder(path: Path) -> None:
    try:
        path.parent.mkdir(parents=True, mode=0o700)
        path.parent.chmod(0o700)  # whatever the umask
    except FileExistsError:
        pass
    except OSError as exc:
        raise _cannot_write(path, exc) from None


def _cannot_write(path: Path, exc: OSError) -> CredentialsError:
    hint = " (chạy bằng quyền root / run as root)" if isinstance(exc, PermissionError) else ""
    return CredentialsError(
        f"{path}: không ghi được thông tin thiết bị / cannot write the device credentials:"
        f" {exc.strerror or exc}{hint}"
    )

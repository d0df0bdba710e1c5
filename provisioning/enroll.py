"""`provision enroll`: one enrolment token per DEVICES.csv row, asked of the upstream with the
technician's officer account (`POST /v1/tokens`) and written into the sheet's `token` column.

The sheet is read and rewritten as plain CSV (every column and row kept as typed), not through
`devices.read_devices`: tokens are often fetched before the SSH keys and passwords are final, and
`provision image` checks the whole sheet anyway. The sheet is replaced whole through a temp file
and a rename after each batch, so it is never half-written and a rerun skips rows already done.
"""

from __future__ import annotations

import base64
import csv
import io
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from provisioning.devices import Refused, check_url

BATCH = 200  # the upstream's most hamlets per request
TIMEOUT_S = 30.0
BOM = "\ufeff"
NEEDED = ("hostname", "hamlet")
_PROBLEM = re.compile(r"^hamlets\[(\d+)\]")


class EnrollFailed(Exception):
    """The upstream could not be asked or said no; `exit_code` 2 for refused input (password,
    hamlet), 1 for a failure that a retry may fix (network, server error)."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@dataclass
class Sheet:
    """A CSV as typed: its columns in order, its rows, and whether it began with a BOM (Excel)."""

    path: Path
    columns: list[str]
    rows: list[dict[str, str]]
    bom: bool

    def row_number(self, index: int) -> int:
        """The spreadsheet's row number (the header is row 1)."""
        return index + 2


def read_sheet(path: Path, needed: Sequence[str] = NEEDED) -> Sheet:
    """The sheet, or Refused naming missing columns and empty cells of `needed` by row."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Refused([f"{path}: không tìm thấy tệp / file not found"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Refused(
            [f"{path}: không đọc được tệp (cần UTF-8) / cannot read it (UTF-8?): {exc}"]
        ) from None
    bom = text.startswith(BOM)
    reader = csv.DictReader(io.StringIO(text.removeprefix(BOM), newline=""))
    columns = [c.strip() for c in reader.fieldnames or []]
    missing = [c for c in needed if c not in columns]
    if missing:
        raise Refused([f"{path}: thiếu cột / missing columns: {', '.join(missing)}"])
    rows = [
        {(k or "").strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        for raw in reader
    ]
    sheet = Sheet(path, columns, [r for r in rows if any(r.values())], bom)
    problems = [
        f"{path}: dòng {sheet.row_number(i)} / row {sheet.row_number(i)}: ô trống ở cột {c}"
        f" / empty cell in column {c}"
        for i, row in enumerate(sheet.rows)
        for c in needed
        if not row.get(c)
    ]
    if not sheet.rows:
        problems.append(f"{path}: không có dòng thiết bị nào / no device rows")
    if problems:
        raise Refused(problems)
    return sheet


def write_sheet(sheet: Sheet) -> None:
    """Replace the file whole: a temp file beside it, flushed to disk, then renamed over it."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=sheet.columns, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({c: row.get(c, "") for c in sheet.columns} for row in sheet.rows)
    tmp = sheet.path.with_name(f".{sheet.path.name}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write((BOM if sheet.bom else "") + out.getvalue())
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(sheet.path)
    finally:
        tmp.unlink(missing_ok=True)


Ask = Callable[[list[str]], list[str]]  # hamlets in, one token each out


def enroll_sheet(path: Path, ask: Ask, *, renew: bool = False) -> list[str]:
    """Fill the `token` cells that are empty (all with `renew`); one line per row for the log."""
    sheet = read_sheet(path)
    if "token" not in sheet.columns:
        sheet.columns.append("token")
    todo = [i for i, row in enumerate(sheet.rows) if renew or not row.get("token")]
    report = [
        f"{sheet.rows[i]['hostname']}: đã có mã, giữ nguyên / has a token, kept"
        for i in range(len(sheet.rows))
        if i not in todo
    ]
    for start in range(0, len(todo), BATCH):
        batch = todo[start : start + BATCH]
        try:
            tokens = ask([sheet.rows[i]["hamlet"] for i in batch])
        except _RefusedHamlets as exc:
            raise Refused(
                f"{path}: dòng {sheet.row_number(batch[n])} / row {sheet.row_number(batch[n])}:"
                f" máy chủ từ chối tên thôn / the upstream refused the hamlet"
                f" “{sheet.rows[batch[n]]['hamlet']}”"
                for n in exc.positions
            ) from None
        for i, token in zip(batch, tokens, strict=True):
            sheet.rows[i]["token"] = token
            report.append(f"{sheet.rows[i]['hostname']}: mã mới / new token")
        write_sheet(sheet)  # each batch kept at once: a later failure loses nothing
    return report


class _RefusedHamlets(Exception):
    def __init__(self, positions: list[int]) -> None:
        super().__init__(positions)
        self.positions = positions


@dataclass(frozen=True)
class Upstream:
    """The upstream's token endpoint as the technician's account sees it."""

    url: str
    user: str
    password: str
    days: int = 14
    timeout: float = TIMEOUT_S

    def __post_init__(self) -> None:
        problems = check_url(self.url)
        if problems:
            raise Refused(problems)

    def __call__(self, hamlets: list[str]) -> list[str]:
        body = json.dumps({"hamlets": hamlets, "days": self.days}, ensure_ascii=False).encode()
        pair = base64.b64encode(f"{self.user}:{self.password}".encode()).decode()
        request = urllib.request.Request(
            self.url.rstrip("/") + "/v1/tokens",
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Basic {pair}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as answer:
                found: dict[str, Any] = json.load(answer)
        except urllib.error.HTTPError as exc:
            raise _refusal(exc) from None
        except (urllib.error.URLError, OSError) as exc:  # TimeoutError is an OSError
            reason = getattr(exc, "reason", exc)
            raise EnrollFailed(
                f"không kết nối được máy chủ xã {self.url} / cannot reach the upstream: {reason}"
            ) from None
        return [t["token"] for t in found["tokens"]]


def _refusal(exc: urllib.error.HTTPError) -> Exception:
    """The upstream's "no" in words the technician can act on."""
    try:
        body: dict[str, Any] = json.loads(exc.read())
    except ValueError:
        body = {}
    message = str(body.get("message", exc.reason))
    if exc.code == 401:
        return EnrollFailed(
            "sai tên tài khoản hoặc mật khẩu / wrong account name or password", exit_code=2
        )
    if exc.code == 400 and body.get("error") == "invalid_body":
        positions = [int(m[1]) for p in body.get("problems", []) if (m := _PROBLEM.match(p))]
        if positions:
            return _RefusedHamlets(positions)
    if exc.code in (403, 429):
        return EnrollFailed(message, exit_code=2)
    return EnrollFailed(f"máy chủ xã trả lời HTTP {exc.code} / the upstream said: {message}")

"""An ID-card photo in, the holder's CitizenId out: the QR cascade, then the CCCD parser.

The frame stays in memory and is dropped when the call returns; only the decoded text fields
live on. `hamletbox id read` runs the same path over image files, one JSON line per image.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from appliance.domain.citizen_id import CitizenId, IdCardError, parse_citizen_qr, warning_text

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


def read_id(
    frame: NDArray[np.uint8], budget_s: float = 1.5, today: date | None = None
) -> CitizenId:
    """The card in this RGB frame. Raises IdCardError "no_qr" when no QR could be read in the
    budget, or the parser's refusal when what was read is not a usable card QR."""
    from appliance.capture.qr import decode_qr

    result = decode_qr(frame, budget_s)
    if result is None:
        raise IdCardError("no_qr")
    refusals: list[IdCardError] = []
    for text in result.texts:  # a second QR in view (a poster, a phone) must not hide the card's
        try:
            return parse_citizen_qr(text, today)
        except IdCardError as exc:
            refusals.append(exc)
    raise refusals[0]


def read_command(paths: list[Path], out: TextIO | None = None) -> int:
    """`hamletbox id read IMAGE...`: one JSON line per image; 0 when every image gave a card."""
    stream = out if out is not None else sys.stdout
    failures = 0
    for path in paths:
        line = _read_file(path)
        failures += not line["ok"]
        print(json.dumps(line, ensure_ascii=False), file=stream, flush=True)
    return 1 if failures else 0


def _read_file(path: Path) -> dict[str, Any]:
    from appliance.capture.images import UploadError, load_upload
    from appliance.config import IntakeSettings

    try:
        data = path.read_bytes()
        frame = load_upload(data, IntakeSettings().max_image_mb * 1024 * 1024)
        card = read_id(frame)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        return _failure(path, f"Không mở được tệp ({reason}) / Could not open the file ({reason})")
    except (UploadError, IdCardError) as exc:
        return _failure(path, str(exc))
    return card_json(path, card)


def card_json(path: Path, card: CitizenId) -> dict[str, Any]:
    """The card as `id read` prints it; warnings as "Vietnamese / English" messages."""
    return {
        "file": str(path),
        "ok": True,
        "id_number": card.id_number,
        "old_id": card.old_id,
        "full_name": card.full_name,
        "date_of_birth": card.date_of_birth.isoformat(),
        "gender": card.gender_vi,
        "address": card.address,
        "issue_date": card.issue_date.isoformat() if card.issue_date else None,
        "warnings": [f"{warning_text(w, 'vi')} / {warning_text(w, 'en')}" for w in card.warnings],
    }


def _failure(path: Path, message: str) -> dict[str, Any]:
    return {"file": str(path), "ok": False, "error": message}

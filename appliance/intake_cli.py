"""`hamletbox dossier create`: a queued dossier made from the command line as the station would.

For scripted tests of the whole path and for a technician checking a box: the same Intake steps
as the station, with the papers assigned to the photos by a fixed rule (`assign_pages`).
"""

from __future__ import annotations

import argparse
import json
import sys

from appliance.config import Settings
from appliance.domain.catalog import Procedure
from appliance.domain.citizen_id import warning_text
from appliance.domain.dossier import DossierError, clean_name, paper_key
from appliance.domain.phone import normalize_vn_mobile
from appliance.intake import CONSENT_REQUIRED, Intake, Submitted

EXIT_BAD_INPUT = 2


def assign_pages(procedure: Procedure, count: int) -> tuple[list[str], list[str]]:
    """The CLI's rule for which paper each `--page` is: (paper of each page, originals).

    Pages go one to each paper in catalog order, required papers first, then optional ones;
    pages beyond the last paper are further pages of it. Required papers left without a page
    are marked "the resident brings the original".
    """
    ordered = [p for p in procedure.papers if p.required] + [
        p for p in procedure.papers if not p.required
    ]
    names = [paper_key(ordered[min(i, len(ordered) - 1)]) for i in range(count)]
    originals = [paper_key(p) for p in ordered if p.required and paper_key(p) not in names]
    return names, originals


def create_command(settings: Settings, args: argparse.Namespace) -> int:
    """`hamletbox dossier create`: a queued dossier as the station makes one; prints its code.

    The applicant is `--id-qr` (the ID card's QR text) or a typed `--name`. See `assign_pages`
    for which paper each `--page` photo becomes. Nothing is written without `--consent` or when
    any input is refused (exit 2, the reason on stderr in Vietnamese then English).
    """
    if not args.consent:
        return _refuse(CONSENT_REQUIRED)
    try:
        phone = normalize_vn_mobile(args.phone)
        name = None if args.name is None else clean_name(args.name)
        photos = [path.read_bytes() for path in args.page]
    except ValueError as exc:
        return _refuse(str(exc))
    except OSError as exc:
        return _refuse(f"Không đọc được tệp / Could not read the file: {exc}")
    from appliance.services import build

    services = build(settings, devices=False)
    try:
        intake = Intake(services)
        return _create(intake, args, phone, name, photos)
    finally:
        services.close()


def _create(
    intake: Intake, args: argparse.Namespace, phone: str, name: str | None, photos: list[bytes]
) -> int:
    try:
        procedure = intake.procedure(args.procedure)
    except DossierError as exc:
        return _refuse(str(exc))
    uuid = intake.start_draft(procedure.code, "station")
    try:
        done = _fill_and_submit(intake, uuid, procedure, args.id_qr, phone, name, photos)
    except ValueError as exc:
        intake.discard(uuid)
        return _refuse(str(exc))
    except BaseException:
        intake.discard(uuid)
        raise
    if done.print_error:
        print(f"hamletbox: {done.print_error}", file=sys.stderr)
    if args.json:
        print(json.dumps({"uuid": uuid, "receipt_code": done.receipt_code}))
    else:
        print(done.receipt_code)
    return 0


def _fill_and_submit(
    intake: Intake,
    uuid: str,
    procedure: Procedure,
    id_qr: str | None,
    phone: str,
    name: str | None,
    photos: list[bytes],
) -> Submitted:
    """Every step of the station's flow, in order; any refusal stops it (the caller cleans up)."""
    if name is not None:
        intake.set_applicant_typed(uuid, name, phone)
    else:
        card = intake.set_applicant_from_qr(uuid, id_qr or "", phone)
        for code in card.warnings:  # the volunteer at a terminal checks them against the card
            vi, en = warning_text(code, "vi"), warning_text(code, "en")
            print(f"hamletbox: {vi} / {en}", file=sys.stderr)
    papers, originals = assign_pages(procedure, len(photos))
    for paper, data in zip(papers, photos, strict=True):
        intake.add_photo(uuid, paper, data)
    for paper in originals:
        intake.mark_bring_original(uuid, paper)
    return intake.submit(uuid, consent=True, actor="cli")


def _refuse(message: str) -> int:
    print(f"hamletbox: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT

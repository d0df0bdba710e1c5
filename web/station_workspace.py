"""The station's dossier page as the volunteer sees it, and the state it shows beyond the store.

Rendering lives here, the routes in web/station.py. What the store does not keep is in the
session: the ID card's warnings the volunteer has yet to confirm against the card.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, redirect, render_template, session
from flask import url_for as flask_url_for
from werkzeug.wrappers import Response

from appliance.domain.catalog import Procedure
from appliance.domain.citizen_id import warning_text
from appliance.domain.consent import AGREE
from appliance.domain.dossier import DossierError
from appliance.intake import notice
from appliance.store.dossier_records import DossierRecord, PageRecord
from web import station_shutter
from web.context import catalog, services, settings
from web.headers import no_store
from web.i18n import current_lang
from web.page_edit import intake
from web.selfservice_papers import is_id_card

CHECKS = "id_checks"  # session: dossier uuid -> warning codes the volunteer has not confirmed yet


@dataclass(frozen=True)
class DraftRow:
    """One unfinished dossier on the station's home screen."""

    uuid: str
    name: str  # the procedure's
    full_name: str | None
    pages: int
    when: str


def drafts() -> list[DraftRow]:
    """The station's unfinished dossiers, latest first, named for the volunteer."""
    from appliance.receipts import local_time

    lang, current = current_lang(), catalog()
    return [
        DraftRow(
            d.uuid,
            _procedure_name(current.get(d.procedure_code), d.procedure_code, lang),
            d.full_name,
            d.pages,
            local_time(d.updated_at).strftime("%H:%M %d/%m"),
        )
        for d in intake().list_drafts("station")
    ]


def _procedure_name(found: Procedure | None, code: str, lang: str) -> str:
    return found.name.get(lang) if found is not None else code


def url(uuid: str) -> str:
    """The dossier's page: where every step returns."""
    return flask_url_for("station.dossier", uuid=uuid)


def render(
    uuid: str,
    *,
    error: str | None = None,
    missing: set[str] | frozenset[str] = frozenset(),
    typed: dict[str, str] | None = None,
    consent: bool = False,
) -> str:
    """The dossier's one page; `error` and `typed` re-show a refused step with what was sent."""
    work = intake()
    record = found(uuid)
    lang = current_lang()
    pages: dict[str, list[PageRecord]] = {}
    for page in record.pages:
        pages.setdefault(page.paper_name, []).append(page)
    armed = station_shutter.armed_shutter()
    return render_template(
        "station/dossier.html",
        d=record,
        procedure=work.procedure(record.procedure_code),
        papers=work.checklist(uuid),
        pages=pages,
        warnings=[warning_text(code, lang) for code in session.get(CHECKS, {}).get(uuid, [])],
        error=error,
        missing=missing,
        typed=typed or {},
        consent=consent,
        notice=notice(settings(), lang),
        agree=AGREE.get(lang),
        camera=services().camera is not None,
        shutter=armed if armed.present else None,
        armed=armed.target(),
        shutter_problem=armed.problem(uuid),
        id_card=is_id_card,
    )


def found(uuid: str) -> DossierRecord:
    """The dossier, or the not-found page."""
    try:
        return intake().get(uuid)
    except DossierError:
        abort(404)


def pending(uuid: str, codes: list[str]) -> None:
    """Remember (or, empty, forget) the card's warnings the volunteer still has to confirm."""
    checks = dict(session.get(CHECKS, {}))
    if codes:
        checks[uuid] = codes
    else:
        checks.pop(uuid, None)
    session[CHECKS] = checks


def back(uuid: str, anchor: str = "") -> Response:
    return no_store(redirect(url(uuid) + (f"#{anchor}" if anchor else ""), 303))


def unconfirmed(uuid: str) -> bool:
    """Whether the card read for this dossier has warnings the volunteer has not confirmed."""
    return bool(session.get(CHECKS, {}).get(uuid))

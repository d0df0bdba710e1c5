"""The support bundle: how the box is, never whom it served."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence
from datetime import UTC, date, datetime

from appliance.config import Settings
from appliance.doctor import Check
from appliance.domain.dossier import Applicant
from appliance.relay.transport import software_version
from appliance.services import Services
from appliance.store.dossiers import DossierRepo
from appliance.support_bundle import JOURNAL, build_bundle, mask_numbers
from tests.appliance.relay.helpers import APPLICANT, PHONE, queue_dossier
from tests.appliance.test_doctor import all_beats

NOW = datetime.now(UTC)
CHECKS = [Check("services", True, "web, relay, panel đang chạy / are running")]
OTHER = Applicant("Trần Văn Bình", "001099012345", date(1999, 1, 2), "male", "Xóm Mới")
OTHER_PHONE = "0987654321"
PERSONAL = [
    APPLICANT.full_name,
    APPLICANT.id_number or "",
    PHONE,
    OTHER.full_name,
    OTHER.id_number or "",
    OTHER_PHONE,
    "0987 654 321",
    "Xóm Mới",
]


def seed(services: Services) -> None:
    """Two queued dossiers and a draft, with names, ID numbers and phones."""
    queue_dossier(services, "a", NOW)
    queue_dossier(services, "b", NOW)
    repo = DossierRepo(services.sessions, services.blobs)
    uuid = repo.create_draft("1.001193", "station", NOW)
    repo.set_applicant(uuid, OTHER, NOW)
    repo.set_phone(uuid, OTHER_PHONE, NOW)


def journal_with_leaks(argv: Sequence[str]) -> str:
    assert tuple(argv) == JOURNAL
    return (
        "2026-11-22T07:00:00+0700 box hamletbox-relay[812]: INFO delivered 2 dossiers\n"
        "2026-11-22T07:00:05+0700 box hamletbox-relay[812]: WARNING sms to 0987 654 321 failed\n"
        f"2026-11-22T07:00:06+0700 box hamletbox-web[700]: lookup {OTHER.id_number}\n"
    )


def members(data: bytes) -> dict[str, str]:
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        return {name: bundle.read(name).decode("utf-8") for name in bundle.namelist()}


def test_the_bundle_holds_the_boxs_state(settings: Settings, services: Services) -> None:
    seed(services)
    all_beats(settings, NOW, camera="ok")
    found = members(
        build_bundle(settings, services.sessions, CHECKS, NOW, journal=journal_with_leaks)
    )
    assert set(found) == {
        "made_at.txt",
        "version.txt",
        "logs.txt",
        "settings.json",
        "store.json",
        "doctor.json",
        "runtime/relay.json",
        "runtime/panel.json",
        "runtime/web.json",
    }
    assert found["version.txt"].strip() == software_version()
    assert "delivered 2 dossiers" in found["logs.txt"]
    assert json.loads(found["doctor.json"]) == {"checks": [c.as_json() for c in CHECKS]}
    assert json.loads(found["runtime/web.json"])["camera"] == "ok"
    store = json.loads(found["store.json"])
    assert store["dossiers_by_status"] == {"draft": 1, "queued": 2}
    assert store["rows_per_table"]["dossiers"] == 3
    kinds = {(row["kind"], row["state"]) for row in store["outbox"]}
    assert ("manifest", "pending") in kinds and ("blob", "pending") in kinds
    shown = json.loads(found["settings.json"])
    assert shown["box"]["hamlet"] == settings.box.hamlet
    assert shown["hotspot"]["password"] == "********" and shown["web"]["secret_key"] == "********"


def test_no_personal_data_and_no_secret_anywhere_in_the_zip(
    settings: Settings, services: Services
) -> None:
    seed(services)
    all_beats(settings, NOW)
    data = build_bundle(settings, services.sessions, CHECKS, NOW, journal=journal_with_leaks)
    text = "\n".join(members(data).values())
    for secret in [*PERSONAL, settings.hotspot.password, settings.web.secret_key]:
        assert secret and secret not in text, secret
    assert "sms to [số / number] failed" in text


def test_without_journalctl_a_note_says_so(settings: Settings, services: Services) -> None:
    found = members(build_bundle(settings, services.sessions, [], NOW, journal=lambda argv: None))
    assert "logs.txt" not in found and "journalctl" in found["logs-NOTE.txt"]
    assert not any(name.startswith("runtime/") for name in found)


def test_long_digit_runs_are_masked_and_dates_are_not() -> None:
    assert mask_numbers("+84 912 345 678 on 2026-11-22") == "[số / number] on 2026-11-22"
    assert mask_numbers("pid 81234, 12 pages") == "pid 81234, 12 pages"

"""Filing a dossier through the Intake service and `hamletbox dossier create`, as at the station."""

from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from appliance import config
from appliance.capture.images import UploadError, load_upload
from appliance.cli import main
from appliance.config import Settings
from appliance.domain.citizen_id import IdCardError
from appliance.domain.dossier import Applicant, DossierError, PageMeta, paper_key
from appliance.domain.phone import PhoneError
from appliance.intake import Intake, notice
from appliance.intake_cli import assign_pages
from appliance.samples.cards import sample_card_payload
from appliance.samples.documents import make_photo
from appliance.services import Services, build
from tests.conftest import write_settings

NOW = datetime(2025, 6, 5, 8, 0, tzinfo=UTC)
BIRTH = "1.001193"
FRAME = (1200, 900)  # small photos keep the tests quick; the pages helper tests full size


@pytest.fixture(scope="module")
def photo() -> bytes:
    return make_photo(3, frame=FRAME).jpeg


@pytest.fixture
def intake(services: Services) -> Intake:
    return Intake(services, clock=lambda: NOW, rng=random.Random(2))


def required(intake: Intake, code: str = BIRTH) -> list[str]:
    return [paper_key(p) for p in intake.procedure(code).papers if p.required]


def fake_lp(folder: Path, script: str = 'cat > "$HERE/stdin.pdf"') -> Path:
    """An `lp` that records its arguments and what it was sent, first on PATH."""
    folder.mkdir(exist_ok=True)
    lp = folder / "lp"
    lp.write_text(f'#!/bin/sh\nHERE="{folder}"\nprintf "%s\\n" "$@" > "$HERE/args"\n{script}\n')
    lp.chmod(0o755)
    return folder


def test_an_unknown_procedure_is_refused(intake: Intake) -> None:
    with pytest.raises(DossierError, match=r"Không có thủ tục mã 9\.999 / No procedure") as caught:
        intake.start_draft("9.999", "station")
    assert caught.value.code == "unknown_procedure"


def test_applicant_from_the_id_card_qr_keeps_the_warnings_for_the_volunteer(
    intake: Intake,
) -> None:
    uuid = intake.start_draft(BIRTH, "station")
    card = intake.set_applicant_from_qr(uuid, sample_card_payload(4), "0912 345 678")
    assert card.warnings == ()
    stored = intake.get(uuid)
    assert stored.applicant == Applicant(
        card.full_name, card.id_number, card.date_of_birth, card.gender, card.address
    )
    assert stored.phone == "0912345678"
    odd = intake.set_applicant_from_qr(uuid, sample_card_payload(4, inconsistent=True))
    assert odd.warnings  # shown to the volunteer, not silently accepted
    with pytest.raises(IdCardError):
        intake.set_applicant_from_qr(uuid, "not a card")
    assert intake.get(uuid).applicant is not None


def test_bad_input_is_refused_in_vietnamese_and_nothing_saved_is_lost(intake: Intake) -> None:
    uuid = intake.start_draft(BIRTH, "phone")
    intake.set_applicant_typed(uuid, "<b>Trần</b> Văn Bình", "0987 654 321")
    with pytest.raises(PhoneError, match=r"^Số điện thoại chỉ gồm chữ số / "):
        intake.set_applicant_typed(uuid, "Lê Thị Hoa", "09876543ab")
    with pytest.raises(DossierError, match=r"^Cần nhập họ và tên / "):
        intake.set_applicant_typed(uuid, " \u200b ", "0912345678")
    with pytest.raises(PhoneError, match=r"^Đây là số máy bàn"):
        intake.set_phone(uuid, "024 3825 1234")
    stored = intake.get(uuid)
    assert stored.applicant == Applicant("<b>Trần</b> Văn Bình")  # markup kept as plain text
    assert stored.phone == "0987654321"


def test_a_photo_becomes_a_page_whose_blob_is_on_disk(
    intake: Intake, services: Services, photo: bytes
) -> None:
    uuid = intake.start_draft(BIRTH, "phone")
    page = intake.add_photo(uuid, required(intake)[0], photo)
    assert (page.position, page.paper_name, page.mode) == (1, required(intake)[0], "text")
    assert services.blobs.exists(page.sha256)
    assert len(services.blobs.read(page.sha256)) == page.bytes
    assert [s.pages for s in intake.checklist(uuid)][:2] == [1, 0]


def test_a_page_is_turned_in_place_and_pages_reordered(intake: Intake, photo: bytes) -> None:
    uuid = intake.start_draft(BIRTH, "station")
    paper = required(intake)[0]
    first = intake.add_photo(uuid, paper, photo)
    second = intake.add_photo(uuid, paper, photo, mode="color")
    intake.replace_image(uuid, first.id, load_upload(photo, 1 << 24), rotate=90)
    turned = intake.get(uuid).pages[0]
    assert (turned.id, turned.position) == (first.id, 1)
    assert (turned.width, turned.height) == (first.height, first.width)
    intake.move_page(uuid, second.id, 1)
    assert [p.id for p in intake.get(uuid).pages] == [second.id, first.id]
    intake.remove_page(uuid, second.id)
    assert [(p.id, p.position) for p in intake.get(uuid).pages] == [(first.id, 1)]
    assert [d.uuid for d in intake.list_drafts("station")] == [uuid]


def test_a_photo_for_a_paper_the_procedure_lacks_is_refused(intake: Intake, photo: bytes) -> None:
    uuid = intake.start_draft(BIRTH, "phone")
    with pytest.raises(DossierError) as caught:
        intake.add_photo(uuid, "Giấy phép lái xe", photo)
    assert caught.value.code == "unknown_paper"
    assert intake.get(uuid).pages == ()


def test_size_caps_are_enforced(intake: Intake, photo: bytes) -> None:
    uuid = intake.start_draft(BIRTH, "phone")
    paper = required(intake)[0]
    too_big = b"\xff\xd8\xff" + bytes(intake.settings.intake.max_image_mb * 1024 * 1024)
    with pytest.raises(UploadError, match="Ảnh quá lớn"):
        intake.add_photo(uuid, paper, too_big)
    nearly_full = intake.settings.intake.max_dossier_mb * 1024 * 1024 - 100
    sha = intake.repo.add_page(uuid, paper, PageMeta("a" * 64, "text", 1, 1, nearly_full), NOW)
    with pytest.raises(UploadError, match="vượt dung lượng"):
        intake.add_photo(uuid, paper, photo)
    assert [p.id for p in intake.get(uuid).pages] == [sha.id]


def test_submit_needs_consent_and_then_queues(intake: Intake, photo: bytes) -> None:
    uuid = intake.start_draft(BIRTH, "station")
    intake.set_applicant_typed(uuid, "Nguyễn Thị Lan", "0912345678")
    names = required(intake)
    intake.add_photo(uuid, names[0], photo)
    for name in names[1:]:
        intake.mark_bring_original(uuid, name)
    with pytest.raises(DossierError, match=r"^Cần có sự đồng ý của người dân / "):
        intake.submit(uuid, consent=False)
    assert intake.get(uuid).status == "draft"

    done = intake.submit(uuid, consent=True, actor="volunteer:lan")
    assert (done.printed, done.print_error) == (False, None)  # no printer set
    stored = intake.get(uuid)
    assert (stored.status, stored.receipt_code) == ("queued", done.receipt_code)
    assert done.receipt_code.startswith(intake.settings.intake.receipt_prefix + "-")
    assert intake.lookup(done.receipt_code, "5678") is not None
    assert intake.lookup(done.receipt_code, "5679") is None
    assert intake.receipt(uuid).startswith(b"%PDF")


def with_printer(services: Services, printer: str) -> Intake:
    intake_settings = dataclasses.replace(services.settings.intake, printer=printer)
    services.settings = dataclasses.replace(services.settings, intake=intake_settings)
    return Intake(services, clock=lambda: NOW, rng=random.Random(3))


def ready(intake: Intake) -> str:
    uuid = intake.start_draft(BIRTH, "station")
    intake.set_applicant_typed(uuid, "Nguyễn Thị Lan", "0912345678")
    for name in required(intake):
        intake.mark_bring_original(uuid, name)
    return uuid


def test_the_receipt_is_printed_when_a_printer_is_set(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = fake_lp(tmp_path / "bin")
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    intake = with_printer(services, "quay-nha-van-hoa")
    done = intake.submit(ready(intake), consent=True)
    assert (done.printed, done.print_error) == (True, None)
    assert (bin_dir / "args").read_text().split() == [
        "-d",
        "quay-nha-van-hoa",
        "-o",
        "media=A5",
        "-",
    ]
    assert (bin_dir / "stdin.pdf").read_bytes().startswith(b"%PDF")


def test_a_failing_printer_does_not_fail_the_submission(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bin_dir = fake_lp(
        tmp_path / "bin", 'echo "lp: The printer or class does not exist." >&2\nexit 1'
    )
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    intake = with_printer(services, "quay")
    uuid = ready(intake)
    done = intake.submit(uuid, consent=True)
    assert done.printed is False
    assert done.print_error is not None and "does not exist" in done.print_error
    assert intake.get(uuid).status == "queued"


def test_the_consent_notice_says_what_why_and_how_long(settings: Settings) -> None:
    vi, en = notice(settings, "vi"), notice(settings, "en")
    assert "số điện thoại" in vi and "Bộ phận một cửa, UBND xã Xà Bang" in vi and "90 ngày" in vi
    assert "phone number" in en and "90 days" in en and "ID card" in en


def test_assign_pages_gives_one_page_a_paper_required_first(intake: Intake) -> None:
    birth = intake.procedure(BIRTH)
    names = [paper_key(p) for p in birth.papers]
    optional = [paper_key(p) for p in birth.papers if not p.required]
    needed = required(intake)
    assert assign_pages(birth, 0) == ([], needed)
    assert assign_pages(birth, 1) == (needed[:1], needed[1:])
    assert assign_pages(birth, len(needed)) == (needed, [])
    many, originals = assign_pages(birth, len(names) + 2)
    assert many == [*needed, *optional, optional[-1], optional[-1]]
    assert originals == []


def test_the_web_process_does_not_load_opencv_or_fpdf_with_intake() -> None:
    code = (
        "import sys, appliance.intake, appliance.store.dossiers;"
        "print(sorted(m for m in ('cv2', 'fpdf', 'img2pdf') if m in sys.modules))"
    )
    root = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr


# --- hamletbox dossier create -------------------------------------------------------------


@pytest.fixture
def pages(tmp_path: Path, photo: bytes) -> list[str]:
    paths = []
    for i in range(2):
        path = tmp_path / f"trang-{i + 1}.jpg"
        path.write_bytes(photo)
        paths.append(str(path))
    return paths


def dossiers_in(settings_file: Path) -> list[tuple[str, str | None]]:
    path = config.load(settings_file, environ={}).database_path
    if not path.exists():
        return []
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT status, full_name FROM dossiers").fetchall()
    finally:
        conn.close()


def create(settings_file: Path, *args: str) -> int:
    return main(["--config", str(settings_file), "dossier", "create", "--procedure", BIRTH, *args])


def test_cli_creates_a_queued_dossier(
    settings_file: Path, pages: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    qr = sample_card_payload(8)
    code = create(
        settings_file,
        "--id-qr",
        qr,
        "--phone",
        "+84 912 345 678",
        "--page",
        *pages,
        "--consent",
        "--json",
    )
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {"uuid", "receipt_code"}
    settings = config.load(settings_file, environ={})
    services = build(settings, devices=False)
    try:
        stored = Intake(services).get(out["uuid"])
        names = [paper_key(p) for p in Intake(services).procedure(BIRTH).papers if p.required]
        assert (stored.status, stored.receipt_code, stored.phone) == (
            "queued",
            out["receipt_code"],
            "0912345678",
        )
        assert stored.applicant is not None and stored.applicant.full_name == qr.split("|")[2]
        assert [p.paper_name for p in stored.pages] == names[:2]
        assert stored.originals == set(names[2:])
        with sqlite3.connect(settings.database_path) as conn:
            kinds = conn.execute("SELECT kind FROM outbox ORDER BY id").fetchall()
        assert kinds == [("blob",), ("manifest",), ("sms",)]  # the two photos are one picture
    finally:
        services.close()


def test_cli_prints_just_the_code_without_json(
    settings_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert create(settings_file, "--name", "<i>Lan</i>", "--phone", "0912345678", "--consent") == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("HB-") and len(printed) == len("HB-") + 6
    assert dossiers_in(settings_file) == [("queued", "<i>Lan</i>")]


def test_cli_refuses_without_consent_and_writes_nothing(
    settings_file: Path, pages: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert create(settings_file, "--name", "Lan", "--phone", "0912345678", "--page", *pages) == 2
    assert "Cần có sự đồng ý của người dân / The resident's consent is required" in (
        capsys.readouterr().err
    )
    assert dossiers_in(settings_file) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "Lan", "--phone", "09123abc78"], "Số điện thoại chỉ gồm chữ số"),
        (["--name", "\u200b", "--phone", "0912345678"], "Cần nhập họ và tên"),
        (["--id-qr", "123|x", "--phone", "0912345678"], " / "),
        (["--name", "Lan", "--phone", "0912345678", "--page", "/nonexistent.jpg"], "Không đọc"),
    ],
)
def test_cli_bad_input_exits_2_with_a_vietnamese_message(
    settings_file: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert create(settings_file, *args, "--consent") == 2
    err = capsys.readouterr().err
    assert message in err and err.startswith("hamletbox: ")
    assert dossiers_in(settings_file) == []


def test_cli_unknown_procedure_and_unreadable_photo(
    settings_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "--config",
        str(settings_file),
        "dossier",
        "create",
        "--procedure",
        "9.999",
        "--name",
        "Lan",
        "--phone",
        "0912345678",
        "--consent",
    ]
    assert main(argv) == 2
    assert "Không có thủ tục mã 9.999" in capsys.readouterr().err
    broken = tmp_path / "hong.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not really a photo")
    assert (
        create(
            settings_file,
            "--name",
            "Lan",
            "--phone",
            "0912345678",
            "--page",
            str(broken),
            "--consent",
        )
        == 2
    )
    assert " / " in capsys.readouterr().err
    assert dossiers_in(settings_file) == []  # the half-made draft was removed


def test_cli_reports_a_printer_problem_but_keeps_the_dossier(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    settings_file = write_settings(
        tmp_path, '\n[intake]\nprinter = "quay"\nreceipt_prefix = "XB1"\n'
    )
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # no lp on this machine
    assert create(settings_file, "--name", "Lan", "--phone", "0912345678", "--consent") == 0
    out, err = capsys.readouterr()
    assert out.startswith("XB1-")
    assert "cups-client" in err
    assert dossiers_in(settings_file) == [("queued", "Lan")]

"""Accounts without the web: hashing, the name and password rules, throttling, `user add`."""

from __future__ import annotations

import base64
import io
import threading
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from appliance import accounts
from appliance.accounts import (
    DUMMY_HASH,
    AccountError,
    LoginThrottle,
    add_user_command,
    authenticate,
    check_name,
    check_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from appliance.cli import main
from appliance.config import Settings
from appliance.domain import credentials
from appliance.services import Services
from appliance.store.users import UserRecord, UserRepo

PASSWORD = "mat-khau-dai-du"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def record(password_hash: str, disabled: bool = False) -> UserRecord:
    return UserRecord("lan", "volunteer", password_hash, datetime.now(UTC), disabled)


# Hashing


def test_hash_describes_itself() -> None:
    scheme, n, r, p, salt, key = hash_password(PASSWORD).split("$")
    assert (scheme, n, r, p) == ("scrypt", "16384", "8", "1")
    assert len(base64.b64decode(salt)) == 16 and len(base64.b64decode(key)) == 32


def test_each_hash_has_its_own_salt() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second
    assert verify_password(PASSWORD, first) and verify_password(PASSWORD, second)


def test_wrong_password_is_refused() -> None:
    stored = hash_password(PASSWORD)
    assert not verify_password("mat-khau-dai-dU", stored)
    assert not verify_password("", stored)
    assert not verify_password(PASSWORD + " ", stored)


def test_accents_typed_either_way_are_the_same_password() -> None:
    stored = hash_password("Mật khẩu thôn")
    assert verify_password(unicodedata.normalize("NFD", "Mật khẩu thôn"), stored)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plain-text-password",
        "scrypt$16384$8$1$c2FsdA==",
        "bcrypt$16384$8$1$c2FsdA==$a2V5",
        "scrypt$16384$8$1$!!!$a2V5",
        "scrypt$16384$8$1$$a2V5",
        "scrypt$1000$8$1$c2FsdA==$a2V5",  # n not a power of two
        "scrypt$1073741824$8$1$c2FsdA==$a2V5",  # would take 128 GiB: refused, not attempted
        "scrypt$16384$0$1$c2FsdA==$a2V5",
        "scrypt$x$8$1$c2FsdA==$a2V5",
    ],
)
def test_malformed_hashes_never_match(stored: str) -> None:
    assert not verify_password(PASSWORD, stored)
    assert needs_rehash(stored)


def test_old_parameters_are_noticed(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as weaker:
        weaker.setattr(credentials, "SCRYPT_N", 2**12)
        old = hash_password(PASSWORD)
    assert verify_password(PASSWORD, old)
    assert needs_rehash(old)
    assert not needs_rehash(hash_password(PASSWORD))


def test_the_dummy_hash_costs_what_a_real_one_does() -> None:
    assert not needs_rehash(DUMMY_HASH)


def test_authenticate() -> None:
    stored = hash_password(PASSWORD)
    assert authenticate(record(stored), PASSWORD)
    assert not authenticate(record(stored), "wrong-password")
    assert not authenticate(record(stored, disabled=True), PASSWORD)
    assert not authenticate(None, PASSWORD)


def test_an_unknown_name_is_checked_against_the_dummy(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    monkeypatch.setattr(accounts, "verify_password", lambda pw, stored: seen.append(stored) or True)
    assert not authenticate(None, PASSWORD)  # even when the check itself "matches"
    assert seen == [DUMMY_HASH]


# Names and passwords


@pytest.mark.parametrize("name", ["lan", "Nguyễn.Văn-An_2", "a", "x" * 40, "kỹ_thuật"])
def test_good_names(name: str) -> None:
    assert check_name(name) == name


def test_names_are_kept_in_nfc() -> None:
    assert check_name(unicodedata.normalize("NFD", "thảo")) == "thảo"


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "không được để trống"),
        ("x" * 41, "tối đa 40 ký tự"),
        ("lan anh", "không có dấu cách"),
        ("lan@thon", "chỉ gồm chữ, số"),
        ("../etc", "chỉ gồm chữ, số"),
        ("lan\n", "chỉ gồm chữ, số"),
    ],
)
def test_bad_names_are_explained(name: str, message: str) -> None:
    with pytest.raises(AccountError, match=message) as caught:
        check_name(name)
    assert " / " in str(caught.value)  # Vietnamese / English


def test_password_length() -> None:
    check_password("lan", "12345678")
    with pytest.raises(AccountError, match="ít nhất 8 ký tự / The password needs at least 8"):
        check_password("lan", "1234567")
    with pytest.raises(AccountError, match="ít nhất 8"):
        check_password("lan", unicodedata.normalize("NFD", "ệệệệệệệ"))  # 7 letters, 14 points
    with pytest.raises(AccountError, match="tối đa 256"):
        check_password("lan", "x" * 257)


@pytest.mark.parametrize("password", ["volunteer1", "VOLUNTEER1", " volunteer1 "])
def test_password_must_not_be_the_name(password: str) -> None:
    with pytest.raises(AccountError, match=r"trùng với tên tài khoản / .* not be the account name"):
        check_password("volunteer1", password)


# Throttling


def test_five_failures_lock_an_account_for_five_minutes() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    for n in range(4):
        throttle.failed("lan", f"10.42.0.{n}")
    assert throttle.retry_after("lan", "10.42.0.9") == 0
    throttle.failed("lan", "10.42.0.4")
    assert throttle.retry_after("lan", "10.42.0.9") == 300
    clock.now += 299.5
    assert throttle.retry_after("lan", "10.42.0.9") == pytest.approx(0.5)
    clock.now += 0.5
    assert throttle.retry_after("lan", "10.42.0.9") == 0


def test_five_failures_lock_a_client_for_every_account() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    for n in range(5):
        throttle.failed(f"name{n}", "10.42.0.23")
    assert throttle.retry_after("lan", "10.42.0.23") == 300
    assert throttle.retry_after("lan", "10.42.0.24") == 0
    clock.now += 300
    assert throttle.retry_after("lan", "10.42.0.23") == 0


def test_after_a_lock_the_count_starts_again() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    for _ in range(5):
        throttle.failed("lan", "c")
    clock.now += 300
    for _ in range(4):
        throttle.failed("lan", "c")
    assert throttle.retry_after("lan", "c") == 0
    throttle.failed("lan", "c")
    assert throttle.retry_after("lan", "c") == 300


def test_success_resets_the_account_but_not_the_client() -> None:
    throttle = LoginThrottle(FakeClock())
    for _ in range(4):
        throttle.failed("lan", "phone")
    throttle.succeeded("lan")
    for n in range(4):
        throttle.failed("lan", f"other{n}")
    assert throttle.retry_after("lan", "elsewhere") == 0
    throttle.failed("mai", "phone")  # the phone's fifth failure, whatever the account
    assert throttle.retry_after("an", "phone") == 300


def test_failures_far_apart_do_not_add_up() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock)
    for _ in range(4):
        throttle.failed("lan", "c")
    clock.now += 15 * 60
    throttle.failed("lan", "c")
    assert throttle.retry_after("lan", "c") == 0


def test_an_account_is_one_counter_however_its_name_is_typed() -> None:
    throttle = LoginThrottle(FakeClock())
    for n, spelling in enumerate(["Thảo", "thảo", " THẢO", unicodedata.normalize("NFD", "thảo")]):
        throttle.failed(spelling, f"c{n}")
    throttle.failed("thảo ", "c9")
    assert throttle.retry_after("thảo", "new") == 300


def test_memory_stays_bounded_and_locks_survive_a_flood() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(clock, max_keys=50)
    for _ in range(5):
        throttle.failed("lan", "attacker")
    for n in range(1000):
        throttle.failed(f"invented{n}", f"10.1.{n // 256}.{n % 256}")
    assert len(throttle) <= 100
    assert throttle.retry_after("lan", "anyone") > 0
    assert throttle.retry_after("someone", "attacker") > 0


def test_throttle_is_thread_safe() -> None:
    throttle = LoginThrottle(FakeClock(), limit=801)

    def work(n: int) -> None:
        for i in range(100):
            throttle.failed("lan", f"{n}.{i}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert throttle.retry_after("lan", "x") == 0  # 800 failures: none lost, none extra
    throttle.failed("lan", "last")
    assert throttle.retry_after("lan", "x") == 300


# The store


def test_user_repo_round_trip(services: Services) -> None:
    repo = UserRepo(services.sessions)
    repo.add("lan", "volunteer", "scrypt$x")
    found = repo.get("lan")
    assert found is not None
    assert (found.name, found.role, found.password_hash, found.disabled) == (
        "lan",
        "volunteer",
        "scrypt$x",
        False,
    )
    assert found.created_at.tzinfo is UTC
    assert datetime.now(UTC) - found.created_at < timedelta(minutes=1)
    assert repo.get("Lan") is None and repo.get("nobody") is None
    repo.set_password_hash("lan", "scrypt$y")
    assert (repo.get("lan") or found).password_hash == "scrypt$y"


def test_user_repo_refuses_duplicates_and_unknown_roles(services: Services) -> None:
    repo = UserRepo(services.sessions)
    repo.add("lan", "volunteer", "h")
    with pytest.raises(ValueError, match="already exists"):
        repo.add("lan", "technician", "h")
    with pytest.raises(ValueError, match="unknown role"):
        repo.add("mai", "admin", "h")
    assert repo.get("mai") is None


# `hamletbox user add`


def stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def typed(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[str]:
    """Answers to getpass prompts, in turn; returns the prompts shown."""
    prompts: list[str] = []
    queue = list(answers)

    def fake(prompt: str = "") -> str:
        prompts.append(prompt)
        return queue.pop(0)

    monkeypatch.setattr(accounts.getpass, "getpass", fake)
    return prompts


def stored(settings: Settings, name: str) -> UserRecord | None:
    from appliance.services import build

    built = build(settings)
    try:
        return UserRepo(built.sessions).get(name)
    finally:
        built.close()


def test_user_add_from_stdin(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(monkeypatch, PASSWORD + "\r\n")
    assert add_user_command(settings, "lan", "volunteer", True) == 0
    out = capsys.readouterr().out
    assert "đã thêm tài khoản tình nguyện viên “lan”" in out and "added volunteer" in out
    user = stored(settings, "lan")
    assert user is not None and user.role == "volunteer" and not user.disabled
    assert verify_password(PASSWORD, user.password_hash)


def test_user_add_through_the_cli(
    settings_file: Path, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin(monkeypatch, PASSWORD + "\n")
    args = ["--config", str(settings_file), "user", "add", "kt", "--role", "technician"]
    assert main([*args, "--password-stdin"]) == 0
    user = stored(settings, "kt")
    assert user is not None and user.role == "technician"


def test_user_add_asks_twice(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    prompts = typed(monkeypatch, PASSWORD, PASSWORD)
    assert add_user_command(settings, "lan", "technician", False) == 0
    assert prompts == ["Mật khẩu / Password: ", "Nhập lại mật khẩu / Password again: "]
    assert stored(settings, "lan") is not None


def test_user_add_refuses_different_passwords(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typed(monkeypatch, PASSWORD, PASSWORD + "x")
    assert add_user_command(settings, "lan", "volunteer", False) == 2
    assert "không khớp / The two passwords typed do not match" in capsys.readouterr().err
    assert stored(settings, "lan") is None


def test_user_add_refuses_a_taken_name(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stdin(monkeypatch, PASSWORD + "\n")
    assert add_user_command(settings, "lan", "volunteer", True) == 0
    before = stored(settings, "lan")
    typed(monkeypatch)  # no prompt at all: the name is checked first
    assert add_user_command(settings, "lan", "technician", False) == 2
    assert "“lan” đã có" in capsys.readouterr().err
    assert stored(settings, "lan") == before


@pytest.mark.parametrize(
    ("password", "message"),
    [("short", "ít nhất 8 ký tự"), ("", "ít nhất 8 ký tự"), ("lan-anh-01", "trùng với tên")],
)
def test_user_add_refuses_a_weak_password(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    password: str,
    message: str,
) -> None:
    stdin(monkeypatch, password + "\n")
    assert add_user_command(settings, "lan-anh-01", "volunteer", True) == 2
    assert message in capsys.readouterr().err
    assert stored(settings, "lan-anh-01") is None


def test_user_add_refuses_a_bad_name_before_asking(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    typed(monkeypatch)
    assert add_user_command(settings, "lan anh", "volunteer", False) == 2
    assert "không có dấu cách" in capsys.readouterr().err


def test_user_add_without_any_password(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def closed(prompt: str = "") -> str:
        raise EOFError

    monkeypatch.setattr(accounts.getpass, "getpass", closed)
    assert add_user_command(settings, "lan", "volunteer", False) == 2
    assert "Chưa nhập mật khẩu" in capsys.readouterr().err

"""Station accounts in the box's store: the login check and `hamletbox user add`.

The hashing, the name and password rules and the throttle are in `appliance.domain.credentials`,
shared with the upstream's officer accounts; they are re-exported here for the web login.
"""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from appliance.config import Settings, prepare_data_dir
from appliance.domain.credentials import (
    DUMMY_HASH,
    MAX_NAME,
    MAX_PASSWORD,
    MIN_PASSWORD,
    AccountError,
    LoginThrottle,
    check_name,
    check_password,
    hash_password,
    needs_rehash,
    throttle_key,
    typed_name,
    verify_password,
)
from appliance.store.tables import ROLES
from appliance.store.users import UserRecord, UserRepo

__all__ = [
    "DUMMY_HASH",
    "MAX_NAME",
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "AccountError",
    "LoginThrottle",
    "add_user_command",
    "authenticate",
    "check_name",
    "check_password",
    "ensure_user",
    "hash_password",
    "needs_rehash",
    "read_password",
    "throttle_key",
    "typed_name",
    "verify_password",
]

ROLE_LABELS = {
    "volunteer": ("tình nguyện viên", "volunteer"),
    "technician": ("kỹ thuật viên", "technician"),
}


def authenticate(user: UserRecord | None, password: str) -> bool:
    """The login check: the right password of an enabled account.

    An unknown name is checked against DUMMY_HASH and a disabled account's password is checked too,
    so every refusal takes the same time.
    """
    ok = verify_password(password, user.password_hash if user is not None else DUMMY_HASH)
    return ok and user is not None and not user.disabled


def add_user_command(settings: Settings, name: str, role: str, password_stdin: bool) -> int:
    """`hamletbox user add NAME --role …`: the password is typed twice, or one line on stdin."""
    from appliance.cli import EXIT_BAD_INPUT

    try:
        name = check_name(name)
        if role not in ROLES:
            raise AccountError(f"Vai trò không hợp lệ: {role} / Unknown role: {role}")
        with _users(settings) as users:
            _add(users, name, role, password_stdin)
    except AccountError as exc:
        print(f"hamletbox: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    vi, en = ROLE_LABELS[role]
    print(f"đã thêm tài khoản {vi} “{name}” / added {en} account “{name}”")
    return 0


def ensure_user(settings: Settings, name: str, role: str, password: str) -> bool:
    """Create an account unless the name exists (the demo's sample accounts); True if created."""
    name = check_name(name)
    check_password(name, password)
    with _users(settings) as users:
        if users.get(name) is not None:
            return False
        users.add(name, role, hash_password(password))
    return True


def _add(users: UserRepo, name: str, role: str, password_stdin: bool) -> None:
    taken = AccountError(
        f"Tài khoản “{name}” đã có; hãy chọn tên khác / An account named “{name}” already exists"
    )
    if users.get(name) is not None:  # before asking for a password that would be wasted
        raise taken
    password = read_password(password_stdin)
    check_password(name, password)
    try:
        users.add(name, role, hash_password(password))
    except ValueError:  # added by someone else meanwhile
        raise taken from None


def read_password(from_stdin: bool) -> str:
    try:
        if from_stdin:
            return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
        first = getpass.getpass("Mật khẩu / Password: ")
        again = getpass.getpass("Nhập lại mật khẩu / Password again: ")
    except EOFError:
        raise AccountError("Chưa nhập mật khẩu / No password was given") from None
    if first != again:
        raise AccountError(
            "Hai lần nhập mật khẩu không khớp / The two passwords typed do not match"
        )
    return first


@contextmanager
def _users(settings: Settings) -> Iterator[UserRepo]:
    """Just the store, at the current schema: `user add` needs no catalog and no hardware."""
    from appliance.store import migrate
    from appliance.store.db import make_engine, make_sessions

    prepare_data_dir(settings)
    engine = make_engine(settings.database_path)
    try:
        migrate.upgrade(engine)
        yield UserRepo(make_sessions(engine))
    finally:
        engine.dispose()

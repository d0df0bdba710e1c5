"""Station accounts in the `users` table: the only SQL about volunteers and technicians."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from appliance.store.tables import ROLES, User


@dataclass(frozen=True)
class UserRecord:
    """An account as the rest of the box sees it: plain values, no live database row."""

    name: str
    role: str
    password_hash: str
    created_at: datetime
    disabled: bool


class UserRepo:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(self, name: str, role: str, password_hash: str) -> None:
        """Store a new account; ValueError if the name is taken or the role is not one we know."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
        row = User(name=name, role=role, password_hash=password_hash, created_at=datetime.now(UTC))
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise ValueError(f"an account named {name!r} already exists") from None

    def get(self, name: str) -> UserRecord | None:
        with self._sessions() as session:
            row = session.scalars(select(User).where(User.name == name)).one_or_none()
            if row is None:
                return None
            return UserRecord(row.name, row.role, row.password_hash, row.created_at, row.disabled)

    def set_password_hash(self, name: str, password_hash: str) -> None:
        """Replace the stored hash, e.g. with one made with today's stronger parameters."""
        with self._sessions.begin() as session:
            session.execute(
                update(User).where(User.name == name).values(password_hash=password_hash)
            )

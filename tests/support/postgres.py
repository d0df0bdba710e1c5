"""A private PostgreSQL server for the tests: started once per session, one fresh database a test.

The server runs from the Debian binaries in a temporary folder, listens on 127.0.0.1 (and a
private socket folder) on a free port, trusts local connections, and is stopped at the end. Speed
over safety (fsync off): the data is thrown away.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import pytest
from sqlalchemy import MetaData, create_engine

SUPERUSER = "postgres"
FAST = "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"


def find_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian: /usr/lib/postgresql/<version>/bin)."""
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        return None
    newest = max(found, key=lambda path: int(Path(path).parent.parent.name))
    return Path(newest).parent


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class PostgresServer:
    """One server in its own folder; `url` is the base URL without a database name."""

    bindir: Path
    folder: Path
    port: int = 0
    running: bool = False
    _names: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}"

    def start(self) -> None:
        data, sockets = self.folder / "data", self.folder / "sockets"
        sockets.mkdir()
        _give_to_postgres(self.folder, sockets)
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", SUPERUSER, "-E", "UTF8",
                  "--locale=C.UTF-8", "--no-sync")  # fmt: skip
        log = self.folder / "server.log"
        for attempt in range(3):  # the free port may be taken before the server binds it
            self.port = free_port()
            options = f"-c listen_addresses=127.0.0.1 -p {self.port} -k {sockets} {FAST}"
            try:
                self._run("pg_ctl", "-D", str(data), "-l", str(log), "-o", options, "-w", "start")
            except RuntimeError:
                if attempt == 2:
                    raise
                continue
            self.running = True
            return

    def stop(self) -> None:
        self.running = False
        self._run("pg_ctl", "-D", str(self.folder / "data"), "-m", "fast", "-w", "stop")

    @property
    def version(self) -> int:
        return int(self.bindir.parent.name)

    def create_database(self, template: str = "template1") -> str:
        name = f"t_{next(self._names)}"
        # FILE_COPY (PostgreSQL 15+; the only way before) is the fast way for a small template.
        strategy = " STRATEGY FILE_COPY" if self.version >= 15 else ""
        self._sql(f"CREATE DATABASE {name} TEMPLATE {template}{strategy}")
        return name

    def make_template(self, name: str, metadata: MetaData) -> None:
        """A database with `metadata`'s tables, to copy for each test instead of creating them."""
        self._sql(f"CREATE DATABASE {name}")
        engine = create_engine(f"{self.url}/{name}")
        try:
            metadata.create_all(engine)
        finally:
            engine.dispose()

    def drop_database(self, name: str) -> None:
        self._sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def _sql(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(statement.encode())

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bindir / program), *args]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", SUPERUSER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"{program} failed ({done.returncode}):\n{done.stdout}{done.stderr}")


def _give_to_postgres(*paths: Path) -> None:
    """As root, the server runs as the `postgres` user: it must own its folder."""
    if os.geteuid() != 0:
        return
    try:
        account = pwd.getpwnam(SUPERUSER)
    except KeyError:
        pytest.fail("running as root, but there is no 'postgres' user to run PostgreSQL as")
    for path in paths:
        os.chown(path, account.pw_uid, account.pw_gid)


def _missing(reason: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: make test installs postgresql (apt-get install postgresql)")
    pytest.skip(reason)


def _memory_folder() -> str | None:
    """A tmpfs when there is one: creating a database on a disk is ten times slower."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


@contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    """A started server, stopped and removed afterwards; skips (fails on CI) without binaries."""
    bindir = find_bindir()
    if bindir is None:
        _missing("PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb)")
    # Not under pytest's tmp_path: its parent is private to root, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="hb-postgres-", dir=_memory_folder()))
    server = PostgresServer(bindir, folder)
    try:
        server.start()
        yield server
    finally:
        if server.running:
            server.stop()
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def fresh_database(server: PostgresServer, template: str = "template1") -> Iterator[str]:
    """A new database's URL, copied from `template`, dropped afterwards (ending its connections)."""
    name = server.create_database(template)
    try:
        yield f"{server.url}/{name}"
    finally:
        server.drop_database(name)

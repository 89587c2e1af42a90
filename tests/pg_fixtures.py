"""A real PostgreSQL server for the tests (Debian's ``postgresql`` package, installed by scripts/setup.sh).

``pg_server`` (session): the URL of a server's maintenance database. With ``XUNCHA_TEST_DATABASE_URL``
set (``postgresql+psycopg://user:pw@host:port/db``, the user allowed to create databases) that server
is used as it is; otherwise ``initdb``/``pg_ctl`` from /usr/lib/postgresql/*/bin start a throwaway
cluster in a temporary directory (as the ``postgres`` user when running as root: PostgreSQL refuses
to run as root), listening only on a unix socket in that directory, stopped and removed at session
end. Skips only when those binaries are missing.

``pg_url`` (function): a fresh, empty database on that server for one test, dropped afterwards.

Not a conftest.py (see tests/service/api/api_fixtures.py): test modules import the fixtures from here.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ENV_URL = "XUNCHA_TEST_DATABASE_URL"
_names = itertools.count(1)


def pg_bindir() -> Path | None:
    """The newest installed PostgreSQL's bin directory that has initdb and pg_ctl."""
    found = [path for path in Path("/usr/lib/postgresql").glob("*/bin")
             if (path / "initdb").exists() and (path / "pg_ctl").exists()]
    found.sort(key=lambda path: int(path.parent.name) if path.parent.name.isdigit() else 0)
    return found[-1] if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _runner() -> dict:
    """subprocess arguments running the server's commands as ``postgres`` when we are root."""
    if os.geteuid() != 0:
        return {}
    import pwd

    try:
        account = pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no postgres user to run the PostgreSQL server as")
    return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []}


@contextmanager
def local_server() -> Iterator[str]:
    """Start a throwaway PostgreSQL cluster; yields the URL of its ``postgres`` database."""
    bindir = pg_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl under /usr/lib/postgresql; "
                    "scripts/setup.sh installs Debian's postgresql package)")
    run_as = _runner()
    root = Path(tempfile.mkdtemp(prefix="xuncha-pg-"))
    data, log = root / "data", root / "server.log"
    if run_as:
        os.chown(root, run_as["user"], run_as["group"])
    port = _free_port()
    options = (f"-p {port} -k {root} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
               "-c full_page_writes=off -c max_connections=100")
    try:
        subprocess.run([bindir / "initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8",
                        "--no-locale"], check=True, capture_output=True, cwd=root, **run_as)
        subprocess.run([bindir / "pg_ctl", "-D", data, "-l", log, "-o", options, "-w", "-t", "60", "start"],
                       check=True, capture_output=True, cwd=root, **run_as)
    except subprocess.CalledProcessError as error:
        detail = (error.stderr or b"").decode(errors="replace")[-2000:]
        if log.exists():
            detail += log.read_text(errors="replace")[-2000:]
        shutil.rmtree(root, ignore_errors=True)
        raise RuntimeError(f"could not start PostgreSQL: {detail}") from error
    try:
        yield f"postgresql+psycopg://postgres@/postgres?host={root}&port={port}"
    finally:
        subprocess.run([bindir / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop"], capture_output=True,
                       cwd=root, **run_as)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    pytest.importorskip("psycopg", reason="the PostgreSQL driver psycopg is not installed")
    if os.environ.get(ENV_URL):
        yield os.environ[ENV_URL]
        return
    with local_server() as url:
        yield url


def _admin(server_url: str):
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    return create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)


@contextmanager
def fresh_database(server_url: str) -> Iterator[str]:
    """A new empty database on the server of ``server_url``; yields its URL, drops it afterwards."""
    from sqlalchemy.engine import make_url

    name = f"xuncha_test_{os.getpid()}_{next(_names)}"
    admin = _admin(server_url)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}" ENCODING \'UTF8\' TEMPLATE template0')
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    with fresh_database(pg_server) as url:
        yield url

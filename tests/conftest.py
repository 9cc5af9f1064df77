"""Shared fixtures of the core tests: a clean environment, real stores, the CLI, PostgreSQL.

Every test runs in its own working directory with no VULNMARK_* or JIRA_* variable set, so a
``vulnmark.toml`` or a variable on the developer's machine never changes a result.

PostgreSQL: when ``VULNMARK_TEST_PG_URL`` is set (a server where the user may CREATE DATABASE)
it is used; otherwise, when ``initdb`` and ``pg_ctl`` exist (on PATH or under
/usr/lib/postgresql/*/bin), a throwaway cluster is started for the session in a temporary
directory, listening only on 127.0.0.1 on a free port. ``initdb`` refuses to run as root, so as
root the cluster is created and run as the ``postgres`` user (or ``nobody``) via ``runuser``.
Each test gets its own database, dropped afterwards.
"""

from __future__ import annotations

import glob
import os
import pwd
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core_support import Cli, make_ticket
from vulnmark.model import Ticket
from vulnmark.store import Store

# Read before any test clears the environment.
_PG_URL_FROM_ENV = os.environ.get("VULNMARK_TEST_PG_URL")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(os.environ):
        if name.startswith(("VULNMARK_", "JIRA_")):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def ticket_factory() -> Callable[..., Ticket]:
    return make_ticket


# -- the CLI -----------------------------------------------------------------------------------

@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return tmp_path / "x.db"


@pytest.fixture
def vm(tmp_path: Path, db_file: Path) -> Cli:
    """The CLI on an existing, empty store ``sqlite:///{tmp_path}/x.db`` with
    ``--now 2026-11-27T07:00:00Z`` (read commands refuse a --db that points at nothing)."""
    Store.open(f"sqlite:///{db_file}").close()
    return Cli(f"sqlite:///{db_file}", tmp_path)


# -- PostgreSQL --------------------------------------------------------------------------------

def _pg_bin() -> Path | None:
    initdb = shutil.which("initdb")
    pg_ctl = shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(os.path.realpath(initdb)).parent
    for found in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        if Path(found).with_name("pg_ctl").exists():
            return Path(found).parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_as() -> list[str]:
    """The command prefix that runs the cluster as a non-root user when we are root."""
    if os.geteuid() != 0:
        return []
    runuser = shutil.which("runuser")
    if runuser is None:
        pytest.skip(reason="running as root without runuser: initdb cannot run")
    for user in ("postgres", "nobody"):
        try:
            pwd.getpwnam(user)
        except KeyError:
            continue
        return [runuser, "-u", user, "--"]
    pytest.skip(reason="running as root and no postgres/nobody user for initdb")


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """A PostgreSQL URL where databases may be created (VULNMARK_TEST_PG_URL or a throwaway
    cluster on 127.0.0.1)."""
    if _PG_URL_FROM_ENV:
        yield _PG_URL_FROM_ENV
        return
    bindir = _pg_bin()
    if bindir is None:
        pytest.skip(reason="PostgreSQL server binaries (initdb, pg_ctl) not found and "
                    "VULNMARK_TEST_PG_URL not set")
    prefix = _run_as()
    base = Path(tempfile.mkdtemp(prefix="vulnmark-pg-"))
    data = base / "data"
    if prefix:
        os.chmod(base, 0o755)
        shutil.chown(base, user=prefix[2])
    port = _free_port()
    run = lambda *cmd: subprocess.run(  # noqa: E731
        [*prefix, *cmd], check=True, capture_output=True, text=True, cwd=base, timeout=120)
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "vulnmark", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync")
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} "
                   f"-c unix_socket_directories={base} -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(base / "log"),
            "-w", "-t", "60", "start")
    except subprocess.CalledProcessError as e:
        shutil.rmtree(base, ignore_errors=True)
        pytest.fail(f"could not start a PostgreSQL test cluster: {e.stderr or e.stdout}")
    # A watchdog stops the cluster even when pytest is killed (timeout, SIGKILL) before
    # its teardown runs; the normal teardown below makes it exit at once.
    stop = shlex.join([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                       "-w", "stop"])
    subprocess.Popen(
        ["sh", "-c", f"while kill -0 {os.getpid()} 2>/dev/null && [ -d {shlex.quote(str(data))} ];"
                     f" do sleep 2; done; {stop} >/dev/null 2>&1; rm -rf {shlex.quote(str(base))}"],
        start_new_session=True, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    try:
        yield f"postgresql://vulnmark@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, cwd=base, timeout=60)
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def pg_url(pg_admin_url: str) -> Iterator[str]:
    """A fresh, empty database on the test server; dropped after the test."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(pg_admin_url)
    conninfo = admin.set(drivername="postgresql").render_as_string(hide_password=False)
    name = "vm_" + uuid.uuid4().hex[:16]
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        for _ in range(3):
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                break
            except psycopg.Error:
                time.sleep(0.2)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test against a SQLite file and a PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return str(request.getfixturevalue("pg_url"))

"""Store fixtures: a throwaway PostgreSQL server for the session, and a backend parameter.

The server is started with the local ``initdb``/``pg_ctl`` in a temporary directory on a free
loopback port. PostgreSQL refuses to run as root, so as root it runs as the ``postgres`` OS user
(created with ``useradd`` only in CI). Whatever is missing (binaries, user, the psycopg driver),
the PostgreSQL tests are skipped with the reason; the SQLite ones always run.
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
from collections.abc import Iterator
from pathlib import Path

import pytest

from localvpc.store import Store

PG_USER = "postgres"


def _pg_binary(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _run_as_prefix() -> tuple[list[str], pwd.struct_passwd | None]:
    """How to run the server's commands: directly, or (as root) as the postgres user."""
    if os.geteuid() != 0:
        return [], None
    try:
        user = pwd.getpwnam(PG_USER)
    except KeyError:
        if not os.environ.get("CI") or not shutil.which("useradd"):
            pytest.skip(f"running as root and there is no {PG_USER!r} user to run PostgreSQL")
        subprocess.run(
            ["useradd", "--system", "--no-create-home", PG_USER], check=True, capture_output=True
        )
        user = pwd.getpwnam(PG_USER)
    if shutil.which("runuser"):
        return ["runuser", "-u", PG_USER, "--"], user
    if shutil.which("su"):
        return ["su", PG_USER, "-s", "/bin/sh", "-c"], user
    pytest.skip("running as root without runuser or su to switch to the postgres user")


def _as_user(prefix: list[str], command: list[str]) -> list[str]:
    if prefix and prefix[0] == "su":
        return [*prefix, shlex.join(command)]
    return [*prefix, *command]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _stop_orphans(pg_ctl: str, prefix: list[str]) -> None:
    """Stop servers left by test sessions that were killed before their teardown ran."""
    for owner in Path(tempfile.gettempdir()).glob("localvpc-pg-*/owner.pid"):
        try:
            pid = int(owner.read_text())
        except (OSError, ValueError):
            continue
        if _pid_alive(pid):
            continue
        root = owner.parent
        if (root / "data" / "postmaster.pid").exists():
            command = [pg_ctl, "-D", str(root / "data"), "-m", "immediate", "-w", "stop"]
            subprocess.run(_as_user(prefix, command), cwd=root, capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of an empty database on a PostgreSQL server that lives for the test session."""
    pytest.importorskip("psycopg", reason="the psycopg driver is not installed")
    initdb, pg_ctl = _pg_binary("initdb"), _pg_binary("pg_ctl")
    if initdb is None or pg_ctl is None:
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) are not installed")
    sibling = Path(initdb).resolve().parent / "pg_ctl"  # same version as initdb when possible
    if sibling.exists():
        pg_ctl = str(sibling)
    prefix, user = _run_as_prefix()

    _stop_orphans(pg_ctl, prefix)

    root = Path(tempfile.mkdtemp(prefix="localvpc-pg-"))
    (root / "owner.pid").write_text(str(os.getpid()))
    data, log = root / "data", root / "server.log"
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)

    def run(command: list[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _as_user(prefix, command), cwd=root, capture_output=True, text=True, timeout=timeout
        )

    started = False
    try:
        init_options = ["-U", "localvpc", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"]
        init = run([initdb, "-D", str(data), *init_options])
        if init.returncode != 0:
            pytest.skip(f"initdb failed: {(init.stderr or init.stdout).strip()[-400:]}")
        for _attempt in range(3):  # another process may grab the free port before the server
            port = _free_port()
            options = (
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1 "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            start = run([pg_ctl, "-D", str(data), "-l", str(log), "-o", options, "-w", "start"])
            if start.returncode == 0:
                started = True
                break
        if not started:
            tail = log.read_text(errors="replace")[-600:] if log.exists() else start.stderr
            pytest.skip(f"the PostgreSQL server did not start: {tail.strip()}")
        yield f"postgresql+psycopg://localvpc@127.0.0.1:{port}/postgres"
    finally:
        if started:
            run([pg_ctl, "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where to open a fresh, empty store: a SQLite file, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "store.db")
    url: str = request.getfixturevalue("postgres_url")
    with Store.open(url) as store:
        store.reset()
    return url


@pytest.fixture
def store(store_target: str) -> Iterator[Store]:
    with Store.open(store_target) as opened:
        yield opened

"""SQLite durability and bad input: kill -9 loses no acknowledged write; bad files and paths
give StoreError, never a raw driver error."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from localvpc.model.errors import LocalVpcError, StoreError
from localvpc.model.vpc import Vpc
from localvpc.store import Store

WRITER = Path(__file__).with_name("store_writer_proc.py")


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as db:
        result: str = db.execute("PRAGMA integrity_check").fetchone()[0]
    return result


def test_kill_9_loses_no_acknowledged_write(tmp_path: Path) -> None:
    db = tmp_path / "crash.db"
    proc = subprocess.Popen(
        [sys.executable, str(WRITER), str(db), "vpc", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(60, proc.kill)  # never hang the suite on a stuck writer
    watchdog.start()
    acknowledged: list[str] = []
    try:
        assert proc.stdout is not None
        while len(acknowledged) < 300:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"the writer stopped early: {proc.communicate()[1][-2000:]}")
            acknowledged.append(line.rstrip("\n"))
        os.kill(proc.pid, signal.SIGKILL)  # mid-loop: most likely inside a transaction
        rest, _ = proc.communicate()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    # Lines printed before the kill are acknowledged too; a torn last line is not.
    acknowledged += [line for line in rest.split("\n")[:-1] if line]

    assert integrity(db) == "ok"
    with Store.open(db) as store:
        vpcs = store.load_network().vpcs
        meta = store.meta_items("vpc/")
    missing = [vpc_id for vpc_id in acknowledged if vpc_id not in vpcs]
    assert missing == []
    assert all(f"vpc/{vpc_id.split('-')[1]}" in meta for vpc_id in acknowledged)
    # The writer got at most one transaction further than it acknowledged (the one in flight).
    assert len(vpcs) in (len(acknowledged), len(acknowledged) + 1)
    assert integrity(db) == "ok"


def test_sqlite_runs_in_wal_mode_with_full_sync_and_a_busy_timeout(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    with Store.open(db) as store:
        with store._engine.connect() as conn:
            pragma = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout")
            }
        assert pragma == {"journal_mode": "wal", "synchronous": 2, "busy_timeout": 30000}
    with sqlite3.connect(db) as raw:  # WAL mode is a property of the file
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_several_processes_can_write_one_file(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    Store.open(db).close()  # create the schema before the race
    procs = [
        subprocess.Popen(
            [sys.executable, str(WRITER), str(db), prefix, "150"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for prefix in ("p1", "p2")
    ]
    with Store.open(db) as store:
        for n in range(150):
            with store.transaction() as tx:
                tx.put(Vpc(id=f"main-{n}"))
        outputs = [proc.communicate(timeout=60) for proc in procs]
        for proc, (_out, err) in zip(procs, outputs, strict=True):
            assert proc.returncode == 0, err[-2000:]
        assert store.count("vpcs") == 450
        assert len(store.meta_items("p1/")) == len(store.meta_items("p2/")) == 150


def test_missing_directories_are_created(tmp_path: Path) -> None:
    target = tmp_path / "does" / "not" / "exist" / "store.db"
    with Store.open(target) as store, store.transaction() as tx:
        tx.put(Vpc(id="vpc-1"))
    assert target.is_file()
    with Store.open(f"sqlite:///{target}") as store:  # the same file as a URL
        assert set(store.load_network().vpcs) == {"vpc-1"}


def test_unusable_paths_raise_store_error(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the directory"):
        Store.open(blocker / "store.db")
    with pytest.raises(StoreError, match="is a directory"):
        Store.open(tmp_path)


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("", "needs a file path"),
        ("sqlite://", "in-memory"),
        ("sqlite:///:memory:", "in-memory"),
        ("mysql://user@localhost/db", "unsupported database 'mysql'"),
        ("sqlite+aiosqlite:///x.db", "unsupported SQLite driver"),
        ("postgresql://", "cannot create the schema"),  # no server on the default socket
    ],
)
def test_unsupported_targets_raise_store_error(target: str, message: str) -> None:
    if target.startswith("postgresql"):
        pytest.importorskip("psycopg")
    with pytest.raises(StoreError, match=message):
        Store.open(target)


def test_missing_postgresql_driver_is_a_store_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # makes "import psycopg" fail
    with pytest.raises(StoreError, match=r"not installed.*pip install 'psycopg\[binary\]'"):
        Store.open("postgresql://localvpc@127.0.0.1:5432/db")


def test_garbage_file_is_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "garbage.db"
    path.write_bytes(b"this is not a database, just some text\n" * 200)
    with pytest.raises(StoreError, match="not a database") as raised:
        Store.open(path)
    assert isinstance(raised.value, LocalVpcError)
    assert str(path) in str(raised.value)


def test_corrupt_pages_are_a_store_error(tmp_path: Path) -> None:
    path = tmp_path / "corrupt.db"
    with Store.open(path) as store, store.transaction() as tx:
        for n in range(300):
            tx.put(Vpc(id=f"vpc-{n}", tags={"Name": "x" * 200}))
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    size = path.stat().st_size
    assert size > 16 * 4096
    with path.open("r+b") as f:  # keep the header page, scribble over the rest
        f.seek(4096)
        f.write(bytes(range(256)) * ((size - 4096) // 256))
    with pytest.raises(StoreError, match=r"malformed|not a database"), Store.open(path) as store:
        store.load_network()

"""``Store``: durable storage of a ``Network`` in SQLite (the default) or PostgreSQL.

Built on SQLAlchemy Core. Two tables:

* ``resources(kind, id, account, region, body, version)``: one row per resource; ``kind`` is
  the ``Network`` table name (``vpcs``, ``zones``, ...), ``id`` the key in that table (a zone's
  name), ``body`` the codec's JSON and ``version`` a counter bumped by every put;
* ``meta(key, value)``: JSON state that is not a resource (zone-group opt-ins, idempotency
  tokens, ...).

Every write happens inside ``with store.transaction() as tx:`` and is committed, durably, before
the ``with`` block returns: on SQLite the database runs in WAL mode with ``synchronous=FULL``, so
a write that was acknowledged survives ``kill -9`` (and power loss). Writers are serialized: by a
lock within the process and, across processes, by ``BEGIN IMMEDIATE`` on SQLite and an advisory
transaction lock on PostgreSQL, so a read-modify-write inside one transaction is never lost.
Readers run concurrently on pooled connections; one ``Store`` may be shared by a server's
threads.

Every failure of the database or of a stored row is raised as ``StoreError``.
"""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from functools import partial
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from localvpc.model.errors import ModelError, StoreError
from localvpc.model.network import Network, class_of_table, key_of, table_of
from localvpc.store.codec import CodecError, decode, encode

# How long a SQLite writer waits for another process's write lock before giving up.
BUSY_TIMEOUT_S = 30.0
# How long a thread waits for this process's write lock before giving up.
LOCK_TIMEOUT_S = 60.0

# Held for the length of a PostgreSQL write transaction (the key spells "lvpc").
_PG_WRITE_LOCK = sa.text("SELECT pg_advisory_xact_lock(1819701347)")

_dumps = partial(json.dumps, separators=(",", ":"), allow_nan=False)

_metadata = sa.MetaData()

resources_table = sa.Table(
    "resources",
    _metadata,
    sa.Column("kind", sa.Text, primary_key=True),
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("region", sa.Text, nullable=False),
    sa.Column("body", sa.JSON, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
)
sa.Index(
    "ix_resources_kind_account_region",
    resources_table.c.kind,
    resources_table.c.account,
    resources_table.c.region,
)

meta_table = sa.Table(
    "meta",
    _metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value", sa.JSON, nullable=False),  # JSON null for a None value
)


class Store:
    """A persistent ``Network`` plus meta state; create one with ``Store.open``."""

    def __init__(self, engine: Engine, url: URL) -> None:
        self._engine = engine
        self._url = url
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._closed = False

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(cls, target: str | Path, durability: str = "full") -> Store:
        """Open (creating if needed) the store at a file path or SQLAlchemy URL.

        A path, or a ``sqlite:///path`` URL, is a SQLite file; missing parent directories are
        created. ``postgresql://`` (driver psycopg 3), ``postgresql+psycopg://`` and
        ``postgres://`` URLs name a PostgreSQL database, which must exist.

        ``durability`` (SQLite): ``full`` syncs every commit to disk (survives power loss);
        ``process`` leaves the commit in the OS (WAL, ``synchronous=NORMAL``): an
        acknowledged write still survives the process being killed, not a machine crash.
        """
        if durability not in SYNCHRONOUS:
            raise StoreError(f"durability must be one of {sorted(SYNCHRONOUS)}, "
                             f"not {durability!r}")
        url = _resolve(target)
        engine = _create_engine(url, SYNCHRONOUS[durability])
        store = cls(engine, url)
        try:
            store._create_schema()
        except BaseException:
            engine.dispose()
            raise
        return store

    def close(self) -> None:
        """Wait for a running transaction, then release every connection. Idempotent."""
        if self._closed:
            return
        if getattr(self._local, "active", False):
            raise StoreError("cannot close the store inside one of its own transactions")
        with self._write_lock:
            self._closed = True
            self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self._url.get_backend_name()

    @property
    def url(self) -> str:
        """Where the store lives (a file path for SQLite; the URL, password hidden, otherwise)."""
        if self.backend == "sqlite":
            return str(self._url.database)
        return self._url.render_as_string(hide_password=True)

    def __repr__(self) -> str:
        return f"Store({self.url!r})"

    @property
    def engine(self) -> Engine:
        """The SQLAlchemy engine, for tables kept beside the model (``store/logstore.py``
        creates and reads its own; it writes through :meth:`transaction`)."""
        self._check_open()
        return self._engine

    # ------------------------------------------------------------------ reads
    def load_network(self) -> Network:
        """Every stored resource, decoded into its ``Network`` table (one consistent read).

        Rows of a kind this version does not know (written by a newer localvpc) are skipped
        with a warning on the returned network.
        """
        network = Network()
        stmt = sa.select(
            resources_table.c.kind, resources_table.c.id, resources_table.c.body
        ).order_by(resources_table.c.kind, resources_table.c.id)
        with self._reading("load the network") as conn:
            rows = conn.execute(stmt).all()
        for kind, key, body in rows:
            cls = class_of_table(kind)
            if cls is None:
                network.warn(f"store: skipped {key!r}: unknown resource kind {kind!r}")
                continue
            getattr(network, kind)[key] = _decode_row(cls, kind, key, body)
        return network

    def get(self, kind: str, id: str) -> Any | None:
        """One resource by kind (``Network`` table name) and id, or None."""
        with self._reading("read a resource") as conn:
            return _get(conn, kind, id)

    def version(self, kind: str, id: str) -> int | None:
        """How many times the resource has been put (1 after its creation), or None."""
        _class_of(kind)
        stmt = sa.select(resources_table.c.version).where(
            resources_table.c.kind == kind, resources_table.c.id == id
        )
        with self._reading("read a version") as conn:
            value = conn.execute(stmt).scalar_one_or_none()
        return None if value is None else int(value)

    def count(self, kind: str | None = None) -> int:
        """How many resources of ``kind`` (every kind when None) are stored."""
        stmt = sa.select(sa.func.count()).select_from(resources_table)
        if kind is not None:
            _class_of(kind)
            stmt = stmt.where(resources_table.c.kind == kind)
        with self._reading("count resources") as conn:
            return int(conn.execute(stmt).scalar_one())

    def get_meta(self, key: str) -> Any | None:
        """The JSON value stored under ``key``, or None."""
        with self._reading("read meta") as conn:
            return _get_meta(conn, key)

    def meta_items(self, prefix: str = "") -> dict[str, Any]:
        """Every meta entry whose key starts with ``prefix`` (case-sensitive, no wildcards)."""
        stmt = sa.select(meta_table.c.key, meta_table.c.value).order_by(meta_table.c.key)
        if prefix:
            stmt = stmt.where(sa.func.substr(meta_table.c.key, 1, len(prefix)) == prefix)
        with self._reading("read meta") as conn:
            rows = conn.execute(stmt).all()
        return {key: value for key, value in rows if key.startswith(prefix)}

    # ------------------------------------------------------------------ writes
    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """A write transaction: committed (durably) on exit, rolled back on an exception.

        One transaction runs at a time per store; opening a second one in the same thread,
        inside the first, raises ``StoreError`` instead of deadlocking. Reads through the store
        see committed state only; ``tx.get``/``tx.get_meta`` also see the transaction's writes.
        """
        self._check_open()
        if getattr(self._local, "active", False):
            raise StoreError("a store transaction is already open in this thread")
        if not self._write_lock.acquire(timeout=LOCK_TIMEOUT_S):
            raise StoreError(f"timed out after {LOCK_TIMEOUT_S:g}s waiting for the write lock")
        self._local.active = True
        try:
            self._check_open()  # closed while this thread waited for the lock
            with self._errors("begin a transaction"):
                conn = self._engine.connect()
            try:
                with self._errors("begin a transaction"):
                    conn.execution_options(localvpc_write=True)
                    db_tx = conn.begin()
                    if conn.dialect.name == "postgresql":
                        # Serialize writers of every process, as BEGIN IMMEDIATE does on SQLite.
                        conn.execute(_PG_WRITE_LOCK)
                tx = Transaction(conn)
                try:
                    yield tx
                except BaseException:
                    tx._active = False
                    with suppress(SQLAlchemyError, sqlite3.Error):
                        db_tx.rollback()
                    raise
                tx._active = False
                with self._errors("commit"):
                    db_tx.commit()
            finally:
                with suppress(SQLAlchemyError, sqlite3.Error):
                    conn.close()
        finally:
            self._local.active = False
            self._write_lock.release()

    def reset(self) -> None:
        """Delete every resource and every meta entry (the schema stays)."""
        with self.transaction() as tx:
            tx._execute(sa.delete(resources_table))
            tx._execute(sa.delete(meta_table))

    # ------------------------------------------------------------------ internals
    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"the store at {self.url} is closed")

    @contextmanager
    def _errors(self, action: str) -> Iterator[None]:
        """Raise database and I/O failures as ``StoreError`` saying what was being done."""
        try:
            yield
        except (SQLAlchemyError, sqlite3.Error, OSError, json.JSONDecodeError) as exc:
            raise StoreError(f"cannot {action} in the store at {self.url}: {_reason(exc)}") from exc

    @contextmanager
    def _reading(self, action: str) -> Iterator[Connection]:
        self._check_open()
        with self._errors(action), self._engine.connect() as conn:
            yield conn

    def _create_schema(self) -> None:
        with self._errors("create the schema"), self._engine.begin() as conn:
            for table in (resources_table, meta_table):
                conn.execute(sa.schema.CreateTable(table, if_not_exists=True))
            for index in resources_table.indexes:
                conn.execute(sa.schema.CreateIndex(index, if_not_exists=True))


class Transaction:
    """The write half of the store API, valid inside ``with store.transaction() as tx:``."""

    __slots__ = ("_active", "_conn")

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._active = True

    def put(self, resource: Any) -> None:
        """Insert or replace a model resource (its kind comes from its class)."""
        try:
            kind = table_of(resource)
            key = key_of(resource)
        except ModelError as exc:
            raise StoreError(f"cannot store {type(resource).__name__}: {exc}") from exc
        account = str(getattr(resource, "account", ""))
        region = str(getattr(resource, "region", ""))
        for what, text in (("id", key), ("account", account), ("region", region)):
            _check_text(what, text)
        values = {"kind": kind, "id": key, "account": account, "region": region}
        self._upsert(
            resources_table,
            {**values, "body": encode(resource), "version": 1},
            ("account", "region", "body"),
            bump="version",
        )

    def delete(self, kind: str, id: str) -> bool:
        """Delete a resource; True if it existed."""
        _class_of(kind)
        stmt = sa.delete(resources_table).where(
            resources_table.c.kind == kind, resources_table.c.id == id
        )
        return self._execute(stmt).rowcount > 0

    def get(self, kind: str, id: str) -> Any | None:
        """A resource as this transaction sees it (its own writes included), or None."""
        return _get(self._live(), kind, id)

    def put_meta(self, key: str, value: Any) -> None:
        """Store a JSON value (dicts, lists, str, numbers, bools, None) under ``key``."""
        _check_text("meta key", key)
        try:
            _dumps(value)
        except (TypeError, ValueError) as exc:
            raise StoreError(f"meta value for {key!r} is not JSON: {exc}") from exc
        self._upsert(meta_table, {"key": key, "value": value}, ("value",))

    def get_meta(self, key: str) -> Any | None:
        """A meta value as this transaction sees it, or None."""
        return _get_meta(self._live(), key)

    def delete_meta(self, key: str) -> bool:
        """Delete a meta entry; True if it existed."""
        return self._execute(sa.delete(meta_table).where(meta_table.c.key == key)).rowcount > 0

    def execute(self, stmt: sa.Executable, params: Any = None) -> sa.CursorResult[Any]:
        """Run a statement on a table kept beside the model, in this transaction."""
        conn = self._live()
        try:
            return conn.execute(stmt, params) if params is not None else conn.execute(stmt)
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise StoreError(f"cannot write to the store: {_reason(exc)}") from exc

    # ------------------------------------------------------------------ internals
    def _live(self) -> Connection:
        if not self._active:
            raise StoreError("the transaction has ended")
        return self._conn

    def _execute(self, stmt: sa.Executable) -> sa.CursorResult[Any]:
        conn = self._live()
        try:
            return conn.execute(stmt)
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise StoreError(f"cannot write to the store: {_reason(exc)}") from exc

    def _upsert(
        self,
        table: sa.Table,
        values: dict[str, Any],
        replace: tuple[str, ...],
        bump: str | None = None,
    ) -> None:
        stmt = _upsert_statement(self._live().dialect.name, table, replace, bump)
        conn = self._live()
        try:
            conn.execute(stmt, values)
        except (SQLAlchemyError, sqlite3.Error) as exc:
            raise StoreError(f"cannot write to the store: {_reason(exc)}") from exc


@functools.lru_cache(maxsize=16)
def _upsert_statement(backend: str, table: sa.Table, replace: tuple[str, ...],
                      bump: str | None) -> sa.Executable:
    """One insert-or-update statement per table, built once: SQLAlchemy then reuses its
    compiled form, so a write costs the database round trip, not statement construction."""
    insert = sqlite_dialect.insert if backend == "sqlite" else pg_dialect.insert
    stmt = insert(table)
    updates: dict[str, Any] = {name: stmt.excluded[name] for name in replace}
    if bump is not None:
        updates[bump] = table.c[bump] + 1
    keys = [column.name for column in table.primary_key.columns]
    return stmt.on_conflict_do_update(index_elements=keys, set_=updates)


# ---------------------------------------------------------------------------- helpers
def _class_of(kind: str) -> type:
    cls = class_of_table(kind)
    if cls is None:
        raise StoreError(f"unknown resource kind {kind!r} (kinds are Network table names)")
    return cls


def _check_text(what: str, text: str) -> None:
    if not isinstance(text, str):
        raise StoreError(f"{what} must be a string, not {type(text).__name__}")
    if "\x00" in text:
        raise StoreError(f"{what} {text!r} contains a NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise StoreError(f"{what} {text!r} is not valid Unicode text: {exc.reason}") from exc


def _decode_row(cls: type, kind: str, key: str, body: Any) -> Any:
    try:
        return decode(cls, body)
    except CodecError as exc:
        raise StoreError(f"stored {kind} {key!r} cannot be decoded: {exc}") from exc


def _get(conn: Connection, kind: str, id: str) -> Any | None:
    cls = _class_of(kind)
    stmt = sa.select(resources_table.c.body).where(
        resources_table.c.kind == kind, resources_table.c.id == id
    )
    body = conn.execute(stmt).scalar_one_or_none()
    return None if body is None else _decode_row(cls, kind, id, body)


def _get_meta(conn: Connection, key: str) -> Any | None:
    stmt = sa.select(meta_table.c.value).where(meta_table.c.key == key)
    return conn.execute(stmt).scalar_one_or_none()


def _reason(exc: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's statement dump and links."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(exc.orig).strip() or type(exc.orig).__name__
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _resolve(target: str | Path) -> URL:
    """The SQLAlchemy URL of a store target (``StoreError`` for unsupported ones)."""
    if isinstance(target, Path) or "://" not in target:
        if str(target) in ("", ":memory:"):
            raise StoreError(f"a store needs a file path or a database URL, not {target!r}")
        return _sqlite_file(Path(target), sa.make_url("sqlite+pysqlite://"))
    try:
        url = sa.make_url(target)
    except ArgumentError as exc:
        raise StoreError(f"not a database URL: {target!r}") from exc
    backend = url.get_backend_name()
    if backend in ("postgres", "postgresql"):
        if url.drivername in ("postgres", "postgresql"):
            url = url.set(drivername="postgresql+psycopg")
        return url
    if backend == "sqlite":
        if url.get_driver_name() != "pysqlite":
            raise StoreError(f"unsupported SQLite driver {url.get_driver_name()!r}: use sqlite://")
        database = url.database or ""
        if database in ("", ":memory:") or url.query.get("mode") == "memory":
            raise StoreError("an in-memory SQLite store cannot be shared or persisted; use a file")
        return _sqlite_file(Path(database), url)
    raise StoreError(f"unsupported database {backend!r}: use a SQLite file or PostgreSQL")


def _sqlite_file(path: Path, url: URL) -> URL:
    path = path.expanduser().absolute()
    if path.is_dir():
        raise StoreError(f"store path {path} is a directory, not a database file")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"cannot create the directory of store {path}: {exc}") from exc
    return url.set(database=str(path))


SYNCHRONOUS = {"full": "FULL", "process": "NORMAL"}


def _create_engine(url: URL, synchronous: str = "FULL") -> Engine:
    try:
        if url.get_backend_name() == "sqlite":
            engine = sa.create_engine(
                url,
                connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_S},
                json_serializer=_dumps,
                # SQLite connections are cheap: enough for a server's whole thread pool to read.
                pool_size=5,
                max_overflow=40,
            )
            sa.event.listen(engine, "connect", functools.partial(_sqlite_connect,
                                                                 synchronous=synchronous))
            sa.event.listen(engine, "begin", _sqlite_begin)
            return engine
        return sa.create_engine(url, json_serializer=_dumps, pool_pre_ping=True)
    except ImportError as exc:
        raise StoreError(
            f"the driver for {url.drivername} is not installed ({exc}); "
            "for PostgreSQL: pip install 'psycopg[binary]'"
        ) from exc
    except (SQLAlchemyError, ValueError, TypeError) as exc:
        raise StoreError(f"cannot use database URL {url!r}: {exc}") from exc


def _sqlite_connect(dbapi_conn: Any, _record: Any, synchronous: str = "FULL") -> None:
    """Per connection: WAL commits synced as asked, a busy timeout, and BEGIN left to
    ``_sqlite_begin``."""
    dbapi_conn.isolation_level = None  # the driver must not start transactions on its own
    cursor = dbapi_conn.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute(f"PRAGMA synchronous = {synchronous}")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the database write lock up front (waiting out other processes for the busy
    # timeout) instead of failing when a read turns into a write; readers begin deferred.
    write = conn.get_execution_options().get("localvpc_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

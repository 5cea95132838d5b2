"""``LogStore``: CloudWatch Logs groups, streams and events in the SQL store's database.

Events are rows, not meta entries: a flow log writes thousands of them, and reads need them
by stream and time. The tables live beside the model's (same SQLite file or PostgreSQL
database) and are written through the store's transactions, so an acknowledged PutLogEvents
survives ``kill -9`` like any other write. Both the Logs API and the flow-log publisher use
this class; nothing here knows about the HTTP API.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from localvpc.store.sqlstore import Store

_metadata = sa.MetaData()

log_groups = sa.Table(
    "log_groups", _metadata,
    sa.Column("account", sa.Text, primary_key=True),
    sa.Column("region", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("created", sa.BigInteger, nullable=False),
    sa.Column("retention", sa.Integer, nullable=True),
    sa.Column("kms_key", sa.Text, nullable=True),
    sa.Column("log_class", sa.Text, nullable=False),
)
log_streams = sa.Table(
    "log_streams", _metadata,
    sa.Column("account", sa.Text, primary_key=True),
    sa.Column("region", sa.Text, primary_key=True),
    sa.Column("group_name", sa.Text, primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("created", sa.BigInteger, nullable=False),
)
log_events = sa.Table(
    "log_events", _metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True,
              autoincrement=True),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("region", sa.Text, nullable=False),
    sa.Column("group_name", sa.Text, nullable=False),
    sa.Column("stream", sa.Text, nullable=False),
    sa.Column("timestamp", sa.BigInteger, nullable=False),
    sa.Column("ingestion", sa.BigInteger, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
)
sa.Index("ix_log_events_stream_time", log_events.c.account, log_events.c.region,
         log_events.c.group_name, log_events.c.stream, log_events.c.timestamp)


class LogStoreError(Exception):
    """A CloudWatch Logs error: ``code`` is the API's exception name."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


@dataclass(slots=True)
class LogGroup:
    name: str
    created: int
    retention: int | None
    kms_key: str | None
    log_class: str
    stored_bytes: int = 0


@dataclass(slots=True)
class LogStream:
    name: str
    created: int
    first_event: int | None
    last_event: int | None
    last_ingestion: int | None
    stored_bytes: int


@dataclass(slots=True)
class LogEvent:
    seq: int
    stream: str
    timestamp: int
    ingestion: int
    message: str


def now_ms() -> int:
    return int(time.time() * 1000)


class LogStore:
    """Groups, streams and events of every account and region."""

    def __init__(self, store: Store) -> None:
        self.store = store
        with store.engine.begin() as conn:
            _metadata.create_all(conn, checkfirst=True)

    # ------------------------------------------------------------------ groups
    def create_group(self, account: str, region: str, name: str, *, kms_key: str | None = None,
                     log_class: str = "STANDARD") -> LogGroup:
        with self.store.transaction() as tx:
            if self._group_row(tx.execute, account, region, name) is not None:
                raise LogStoreError("ResourceAlreadyExistsException",
                                    "The specified log group already exists")
            group = LogGroup(name, now_ms(), None, kms_key, log_class)
            tx.execute(sa.insert(log_groups).values(
                account=account, region=region, name=name, created=group.created,
                retention=None, kms_key=kms_key, log_class=log_class))
            return group

    def ensure_group(self, account: str, region: str, name: str) -> None:
        """Create the group unless it exists (flow-log delivery creates missing groups)."""
        with contextlib.suppress(LogStoreError):
            self.create_group(account, region, name)

    @staticmethod
    def _group_row(run: Any, account: str, region: str, name: str) -> Any:
        return run(sa.select(log_groups).where(
            log_groups.c.account == account, log_groups.c.region == region,
            log_groups.c.name == name)).first()

    def group(self, account: str, region: str, name: str) -> LogGroup | None:
        with self.store.engine.connect() as conn:
            row = self._group_row(conn.execute, account, region, name)
        return None if row is None else LogGroup(row.name, row.created, row.retention,
                                                 row.kms_key, row.log_class)

    def require_group(self, account: str, region: str, name: str) -> LogGroup:
        group = self.group(account, region, name)
        if group is None:
            raise LogStoreError("ResourceNotFoundException",
                                "The specified log group does not exist.")
        return group

    def groups(self, account: str, region: str, prefix: str = "",
               pattern: str = "") -> list[LogGroup]:
        """Groups in name order, with the bytes their events hold."""
        sizes = (sa.select(log_events.c.group_name,
                           sa.func.sum(sa.func.length(log_events.c.message)).label("size"))
                 .where(log_events.c.account == account, log_events.c.region == region)
                 .group_by(log_events.c.group_name).subquery())
        stmt = (sa.select(log_groups, sizes.c.size)
                .outerjoin(sizes, sizes.c.group_name == log_groups.c.name)
                .where(log_groups.c.account == account, log_groups.c.region == region)
                .order_by(log_groups.c.name))
        with self.store.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [LogGroup(r.name, r.created, r.retention, r.kms_key, r.log_class,
                         int(r.size or 0))
                for r in rows if r.name.startswith(prefix) and pattern in r.name]

    def set_retention(self, account: str, region: str, name: str, days: int | None) -> None:
        with self.store.transaction() as tx:
            result = tx.execute(sa.update(log_groups).where(
                log_groups.c.account == account, log_groups.c.region == region,
                log_groups.c.name == name).values(retention=days))
            if result.rowcount == 0:
                raise LogStoreError("ResourceNotFoundException",
                                    "The specified log group does not exist.")

    def delete_group(self, account: str, region: str, name: str) -> None:
        with self.store.transaction() as tx:
            result = tx.execute(sa.delete(log_groups).where(
                log_groups.c.account == account, log_groups.c.region == region,
                log_groups.c.name == name))
            if result.rowcount == 0:
                raise LogStoreError("ResourceNotFoundException",
                                    "The specified log group does not exist.")
            for table in (log_streams, log_events):
                tx.execute(sa.delete(table).where(
                    table.c.account == account, table.c.region == region,
                    table.c.group_name == name))

    # ------------------------------------------------------------------ streams
    def create_stream(self, account: str, region: str, group: str, name: str) -> None:
        with self.store.transaction() as tx:
            if self._group_row(tx.execute, account, region, group) is None:
                raise LogStoreError("ResourceNotFoundException",
                                    "The specified log group does not exist.")
            if self._stream_exists(tx.execute, account, region, group, name):
                raise LogStoreError("ResourceAlreadyExistsException",
                                    "The specified log stream already exists")
            tx.execute(sa.insert(log_streams).values(
                account=account, region=region, group_name=group, name=name,
                created=now_ms()))

    @staticmethod
    def _stream_exists(run: Any, account: str, region: str, group: str, name: str) -> bool:
        return run(sa.select(log_streams.c.name).where(
            log_streams.c.account == account, log_streams.c.region == region,
            log_streams.c.group_name == group, log_streams.c.name == name)).first() is not None

    def streams(self, account: str, region: str, group: str, prefix: str = ""
                ) -> list[LogStream]:
        """The group's streams in name order, with their event statistics."""
        stats = (sa.select(log_events.c.stream,
                           sa.func.min(log_events.c.timestamp).label("first"),
                           sa.func.max(log_events.c.timestamp).label("last"),
                           sa.func.max(log_events.c.ingestion).label("ingested"),
                           sa.func.sum(sa.func.length(log_events.c.message)).label("size"))
                 .where(log_events.c.account == account, log_events.c.region == region,
                        log_events.c.group_name == group)
                 .group_by(log_events.c.stream).subquery())
        stmt = (sa.select(log_streams, stats.c.first, stats.c.last, stats.c.ingested,
                          stats.c.size)
                .outerjoin(stats, stats.c.stream == log_streams.c.name)
                .where(log_streams.c.account == account, log_streams.c.region == region,
                       log_streams.c.group_name == group)
                .order_by(log_streams.c.name))
        with self.store.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [LogStream(r.name, r.created, r.first, r.last, r.ingested, int(r.size or 0))
                for r in rows if r.name.startswith(prefix)]

    def delete_stream(self, account: str, region: str, group: str, name: str) -> None:
        with self.store.transaction() as tx:
            result = tx.execute(sa.delete(log_streams).where(
                log_streams.c.account == account, log_streams.c.region == region,
                log_streams.c.group_name == group, log_streams.c.name == name))
            if result.rowcount == 0:
                raise LogStoreError("ResourceNotFoundException",
                                    "The specified log stream does not exist.")
            tx.execute(sa.delete(log_events).where(
                log_events.c.account == account, log_events.c.region == region,
                log_events.c.group_name == group, log_events.c.stream == name))

    # ------------------------------------------------------------------ events
    def put_events(self, account: str, region: str, group: str, stream: str,
                   events: Iterable[tuple[int, str]], *, create: bool = False) -> int:
        """Append ``(timestamp ms, message)`` events; returns how many. With ``create`` the
        group and stream are created when missing (delivery), else they must exist."""
        ingestion = now_ms()
        rows = [{"account": account, "region": region, "group_name": group, "stream": stream,
                 "timestamp": int(ts), "ingestion": ingestion, "message": message}
                for ts, message in events]
        with self.store.transaction() as tx:
            if self._group_row(tx.execute, account, region, group) is None:
                if not create:
                    raise LogStoreError("ResourceNotFoundException",
                                        "The specified log group does not exist.")
                tx.execute(sa.insert(log_groups).values(
                    account=account, region=region, name=group, created=ingestion,
                    retention=None, kms_key=None, log_class="STANDARD"))
            if not self._stream_exists(tx.execute, account, region, group, stream):
                if not create:
                    raise LogStoreError("ResourceNotFoundException",
                                        "The specified log stream does not exist.")
                tx.execute(sa.insert(log_streams).values(
                    account=account, region=region, group_name=group, name=stream,
                    created=ingestion))
            if rows:
                tx.execute(sa.insert(log_events), rows)
        return len(rows)

    def events(self, account: str, region: str, group: str, streams: Sequence[str] | None,
               *, start: int | None = None, end: int | None = None,
               after: tuple[int, int] | None = None, before: tuple[int, int] | None = None,
               descending: bool = False, limit: int | None = None) -> list[LogEvent]:
        """Events of ``streams`` (every stream when None) with ``start <= timestamp < end``,
        ordered by (timestamp, seq); ``after``/``before`` resume a page at a position."""
        c = log_events.c
        stmt = sa.select(log_events).where(c.account == account, c.region == region,
                                           c.group_name == group)
        if streams is not None:
            stmt = stmt.where(c.stream.in_(list(streams)))
        if start is not None:
            stmt = stmt.where(c.timestamp >= start)
        if end is not None:
            stmt = stmt.where(c.timestamp < end)
        if after is not None:
            stmt = stmt.where(sa.tuple_(c.timestamp, c.seq) > sa.tuple_(*after))
        if before is not None:
            stmt = stmt.where(sa.tuple_(c.timestamp, c.seq) < sa.tuple_(*before))
        order = (c.timestamp.desc(), c.seq.desc()) if descending else (c.timestamp, c.seq)
        stmt = stmt.order_by(*order)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.store.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return [LogEvent(r.seq, r.stream, r.timestamp, r.ingestion, r.message) for r in rows]

    def reset(self) -> None:
        with self.store.transaction() as tx:
            for table in (log_events, log_streams, log_groups):
                tx.execute(sa.delete(table))

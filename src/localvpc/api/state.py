"""The server's state: the model in memory, persisted through the store on every write.

Reads use the in-memory ``Network``; a write runs under one lock, changes the model and
commits the changed resources to the store before the API call is acknowledged. The gateway
holds the same (re-entrant) lock for the whole of every API call, reads included, so no
handler iterates a table another thread is changing or acts on a check another call has
since made stale. The compiled forwarding plane and the read indexes (``derived``) are
cached and rebuilt only after a write.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from localvpc.cloudwan.live import compile_live
from localvpc.dataplane import ForwardingPlane, compile_network
from localvpc.model.network import Network
from localvpc.store import Store

if TYPE_CHECKING:
    from localvpc.api.delivery import Delivery
    from localvpc.flowlogs.firehose import LambdaRegistry

T = TypeVar("T")


class Changes:
    """What one write changed: resources to upsert and (table, id) pairs to delete."""

    def __init__(self) -> None:
        self.put: dict[int, Any] = {}
        self.deleted: list[tuple[str, str]] = []
        self.meta: dict[str, Any] = {}

    def save(self, resource: Any) -> Any:
        self.put[id(resource)] = resource
        return resource


def default_data_dir(store: Store) -> Path:
    """Where objects live when ``--data-dir`` is not given: ``<state file stem>-data/`` next
    to a SQLite file, ``./localvpc-data`` for a database server."""
    if store.backend == "sqlite":
        db = Path(store.url)
        return db.with_name(f"{db.stem}-data")
    return Path("localvpc-data").absolute()


class ServerState:
    def __init__(self, store: Store, data_dir: str | Path | None = None,
                 lambdas: LambdaRegistry | None = None) -> None:
        self.store = store
        # S3 objects (and other file data) of the delivery services; see api/delivery.py.
        self.data_dir = Path(data_dir) if data_dir is not None else default_data_dir(store)
        self.lambdas = lambdas
        self._delivery: Delivery | None = None
        self.network: Network = store.load_network()
        self.lock = threading.RLock()
        self.generation = 0
        # Bumped by every write of meta state (and a reset): lets readers of meta records
        # (RAM shares, for VPC sharing) cache what they computed from them.
        self.meta_generation = 0
        self._plane: tuple[int, ForwardingPlane] | None = None
        self._meta: dict[str, Any] = {}
        self._derived: dict[str, tuple[int, Any]] = {}

    @contextmanager
    def write(self) -> Iterator[Changes]:
        """Change the model; on success the changes are committed before returning."""
        with self.lock:
            changes = Changes()
            try:
                yield changes
                with self.store.transaction() as tx:
                    for resource in changes.put.values():
                        tx.put(resource)
                    for table, rid in changes.deleted:
                        tx.delete(table, rid)
                    for key, value in changes.meta.items():
                        if value is None:
                            tx.delete_meta(key)
                        else:
                            tx.put_meta(key, value)
            except BaseException:
                if changes.put or changes.deleted:
                    # The handler changed the model and then failed, or the commit did: the
                    # store still holds the last acknowledged state, so take the model from
                    # there again (an unacknowledged change must not be seen by reads).
                    self.network = self.store.load_network()
                self.generation += 1
                raise
            self._meta.update(changes.meta)
            if changes.meta:
                self.meta_generation += 1
            if changes.put or changes.deleted:
                # The model changed: what was computed from it (the plane, ``derived``
                # indexes) is stale. A write of meta state alone (a client token, an
                # analysis record) leaves them be.
                self.generation += 1

    def derived(self, name: str, build: Callable[[Network], T]) -> T:
        """``build(network)``, computed once and reused until a write changes the model:
        indexes that let a read find what it needs without scanning every resource. For
        reads only (not inside a ``write`` that has already changed the model)."""
        with self.lock:
            cached = self._derived.get(name)
            if cached is None or cached[0] != self.generation:
                cached = (self.generation, build(self.network))
                self._derived[name] = cached
            value: T = cached[1]
            return value

    def meta(self, key: str) -> Any:
        """Non-resource state (zone opt-in, idempotency tokens), cached from the store."""
        if key not in self._meta:
            self._meta[key] = self.store.get_meta(key)
        return self._meta[key]

    def plane(self) -> ForwardingPlane:
        """The compiled network for traces, rebuilt after writes."""
        with self.lock:
            if self._plane is None or self._plane[0] != self.generation:
                # Cloud WAN core networks route by their LIVE policy (cloudwan/ is above
                # the data plane, so their routing is compiled here and passed in).
                self._plane = (self.generation, compile_network(
                    self.network, core_networks=compile_live(self.network)))
            return self._plane[1]

    @property
    def delivery(self) -> Delivery:
        """The object store, log store and Firehose engine, created on first use."""
        with self.lock:
            if self._delivery is None:
                from localvpc.api.delivery import Delivery

                self._delivery = Delivery(self)
            return self._delivery

    def close(self) -> None:
        """On shutdown: deliver what the Firehose buffers still hold."""
        if self._delivery is not None:
            self._delivery.close()

    # Imported price lists are reference data, not account state: a reset keeps them.
    KEEP_ON_RESET = ("pricing/",)

    def reset(self, network: Network | None = None) -> None:
        """Forget every resource and account setting (optionally load ``network``)."""
        with self.lock:
            kept = {k: v for prefix in self.KEEP_ON_RESET
                    for k, v in self.store.meta_items(prefix).items()}
            self.store.reset()
            self._meta.clear()
            self.meta_generation += 1
            self.network = Network()
            with self.store.transaction() as tx:
                for key, value in kept.items():
                    tx.put_meta(key, value)
                for table in (network.tables().values() if network is not None else ()):
                    for resource in table.values():
                        tx.put(resource)
            if network is not None:
                self.network = self.store.load_network()
            self.delivery.reset()  # objects, log events, delivery streams
            self.generation += 1

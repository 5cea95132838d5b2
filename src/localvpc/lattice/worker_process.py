"""One proxy worker process: a read-only replica of the serve process's HTTP/HTTPS
listeners (workers.py says why and how they talk).

The worker routes with the same ``ModelRouter`` as the serve process, over a model it
loads from the store; it never writes. The serve process's ``sync`` messages say when to
load again (a new generation: an API write, a health check flip), when the address map
moved (meta generation) and which listening sockets to serve. Access-log lines are
buffered and shipped back every second, so delivery (S3 objects, CloudWatch Logs,
Firehose) happens in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn

from localvpc.dns.listener_loop import new_loop
from localvpc.dns.source import ChangeSink
from localvpc.flowlogs.firehose import LambdaRegistry
from localvpc.lattice.access_logs import AccessLogWriter
from localvpc.lattice.auth import Authorizer
from localvpc.lattice.proxy import UpstreamPool
from localvpc.lattice.server import ModelRouter, ProxyListener, http_server
from localvpc.lattice.targets import TargetMap
from localvpc.lattice.tls import LocalCA
from localvpc.lattice.workers import chunked, recv_message, send_message
from localvpc.model.elb import LoadBalancer
from localvpc.model.network import Network
from localvpc.store import Store

log = logging.getLogger("localvpc.lattice.worker")


class ReplicaSource:
    """The model as the store held it at ``generation``; replaced whole, never written."""

    def __init__(self, network: Network, generation: int) -> None:
        self.network = network
        self.generation = generation
        self._lock = threading.RLock()

    @property
    def lock(self) -> threading.RLock:
        return self._lock

    @contextlib.contextmanager
    def write(self) -> Iterator[ChangeSink]:
        raise RuntimeError("a proxy worker's model is read-only")
        yield  # pragma: no cover

    def replace(self, network: Network, generation: int) -> None:
        with self._lock:
            self.network, self.generation = network, generation


class StoreMeta:
    """The address map's meta rows, read from the store; the serve process says when
    they changed (``generation``)."""

    def __init__(self, store: Store, generation: int) -> None:
        self.store = store
        self.gen = generation

    def items(self, prefix: str) -> dict[str, Any]:
        return dict(self.store.meta_items(prefix))

    def put(self, key: str, value: Any | None) -> NoReturn:
        raise RuntimeError("a proxy worker does not change the address map")

    def generation(self) -> int:
        return self.gen


class ShippedLogs(AccessLogWriter):
    """Access-log lines built here and delivered by the serve process: ``flush`` ships
    what is buffered (and the connection count) instead of writing it."""

    def __init__(self, ship: Callable[[dict[str, Any]], None],
                 status: Callable[[], dict[str, Any]]) -> None:
        super().__init__(interval=1.0)
        self._ship = ship
        self._status = status
        self._lattice: list[list[Any]] = []
        self._alb: list[list[Any]] = []

    def add(self, destination: str, resource_id: str, line: str, when: float,
            owner_account: str, owner_region: str) -> None:
        with self._lock:
            self._lattice.append([destination, resource_id, line, when, owner_account,
                                  owner_region])

    def add_alb(self, lb: LoadBalancer, line: str, ip: str) -> None:
        with self._lock:
            self._alb.append([lb.id, line, ip])

    def flush(self, force_s3: bool = True) -> int:
        with self._lock:
            lattice, self._lattice = self._lattice, []
            alb, self._alb = self._alb, []
        sent = 0
        runs = [("lattice", run) for run in chunked(lattice)] + \
            [("alb", run) for run in chunked(alb)]
        for kind, run in runs:
            try:
                self._ship({"op": "report", kind: run})
                sent += len(run)
            except (OSError, ValueError) as exc:  # too big, or the serve process is gone
                log.warning("access logs: %d lines not handed over: %s", len(run), exc)
                self.dropped += len(run)
        with contextlib.suppress(OSError, ValueError):
            self._ship({"op": "report", **self._status()})  # after the lines it counts
        self.delivered += sent
        return sent


class Worker:
    """The worker's loop: control messages in, listeners opened and closed, model
    reloaded; ``run`` returns when the serve process says stop or goes away."""

    def __init__(self, ctl: socket.socket, store: Store, data_dir: Path, *,
                 lambdas: LambdaRegistry | None = None,
                 authorizer: Authorizer | None = None,
                 target_timeout: float = 60.0) -> None:
        self.ctl = ctl
        self.store = store
        self.ca = LocalCA(Path(data_dir) / "lattice-ca")
        self.lambdas = lambdas
        self.authorizer = authorizer
        self.target_timeout = target_timeout
        self.connections = 0
        self.servers: dict[tuple[Any, ...], tuple[ProxyListener, asyncio.base_events.Server]
                           ] = {}
        self._send_lock = threading.Lock()
        self._loading: asyncio.Task[None] | None = None
        self._wanted_generation = -1

    def _ship(self, message: dict[str, Any]) -> None:
        with self._send_lock:  # from the log thread; the control socket has a timeout
            send_message(self._sender, message)

    def _count(self) -> None:
        self.connections += 1

    def _status(self) -> dict[str, Any]:
        """What the serve process shows in its workers table: connections accepted, the
        listeners open here and the model generation this worker routes with (it may lag a
        sync while reloading)."""
        return {"connections": self.connections, "generation": self.source.generation,
                "meta": self.meta.gen, "listeners": len(self.servers)}

    def run(self) -> None:
        self.ctl.setblocking(True)
        hello, fds = recv_message(self.ctl)
        if hello is None or hello.get("op") != "hello":
            raise RuntimeError("no hello from the serve process")
        self.slot = int(hello.get("slot", 0))
        self._sender = self.ctl.dup()
        self._sender.settimeout(5.0)
        self.ctl.setblocking(False)
        for fd in fds:
            socket.socket(fileno=fd).close()
        # loaded after the serve process named these generations: at least as new
        network = self.store.load_network()
        self.source = ReplicaSource(network, int(hello.get("generation", -1)))
        self.meta = StoreMeta(self.store, int(hello.get("meta", -1)))
        self.pool = UpstreamPool(timeout=self.target_timeout)
        self.logs = ShippedLogs(self._ship, self._status)
        self.router = ModelRouter(self.source, TargetMap(self.meta), self.pool,
                                  lambdas=self.lambdas, logs=self.logs,
                                  authorizer=self.authorizer,
                                  cookie_key=bytes.fromhex(hello["cookie_key"]))
        loop = new_loop()
        asyncio.set_event_loop(loop)
        self.loop = loop
        self.logs.start()
        loop.add_reader(self.ctl.fileno(), self._readable)
        try:
            loop.run_forever()
        finally:
            loop.remove_reader(self.ctl.fileno())
            for _lst, server in self.servers.values():
                server.close()
            self.pool.close()
            self.router.close()
            with contextlib.suppress(Exception):
                loop.run_until_complete(asyncio.sleep(0))
            loop.close()
            self.logs.close()  # the last lines go to the serve process
            self._sender.close()
            self.ctl.close()

    def _readable(self) -> None:
        while True:
            try:
                message, fds = recv_message(self.ctl)
            except BlockingIOError:
                return
            except (OSError, ValueError) as exc:  # the channel is broken: nobody to serve for
                log.error("proxy worker: control channel failed: %s", exc)
                message, fds = None, []
            if message is None or message.get("op") == "stop":
                self.loop.stop()
                return
            if message.get("op") == "sync":
                try:
                    self._sync(message, fds)
                except Exception:  # a bad sync must not end the worker's serving
                    log.exception("proxy worker: sync failed")
            else:
                for fd in fds:
                    socket.socket(fileno=fd).close()

    def _sync(self, message: dict[str, Any], fds: list[int]) -> None:
        socks = [socket.socket(fileno=fd) for fd in fds]
        used: set[int] = set()
        generation = int(message["generation"])
        if generation != self.source.generation and generation != self._wanted_generation:
            self._wanted_generation = generation
            if self._loading is None or self._loading.done():
                self._loading = self.loop.create_task(self._reload())
        self.meta.gen = int(message["meta"])
        wanted: dict[tuple[Any, ...], dict[str, Any]] = {
            tuple(row["key"]): row for row in message["listeners"]}
        for key in [k for k in self.servers if k not in wanted]:
            self.servers.pop(key)[1].close()
        for key, row in wanted.items():
            held = self.servers.get(key)
            if held is not None:
                held[0].refresh(ProxyListener.from_json(row))
                continue
            index = int(row.get("fd", -1))
            if not 0 <= index < len(socks):
                continue
            used.add(index)
            lst = ProxyListener.from_json(row)
            sock = socks[index]
            sock.setblocking(False)
            self.loop.create_task(self._open(key, lst, sock))
        for i, sock in enumerate(socks):
            if i not in used:
                sock.close()

    async def _open(self, key: tuple[Any, ...], lst: ProxyListener,
                    sock: socket.socket) -> None:
        try:
            server = await http_server(lst, self.router.route, self.ca, sock, self._count)
        except Exception as exc:
            sock.close()
            log.error("proxy worker: listener %s:%d not opened: %s", lst.host, lst.port, exc)
            return
        self.servers[key] = (lst, server)

    async def _reload(self) -> None:
        """Load the model again until it is at least as new as the last sync asked."""
        while self.source.generation != self._wanted_generation:
            generation = self._wanted_generation
            network = await self.loop.run_in_executor(None, self.store.load_network)
            self.source.replace(network, generation)


def serve_worker(control_fd: int, store: Store, data_dir: Path, **options: Any) -> None:
    """Run one worker on the inherited control socket until the serve process stops it."""
    ctl = socket.socket(fileno=control_fd)
    Worker(ctl, store, data_dir, **options).run()

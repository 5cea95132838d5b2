"""Proxy worker processes, seen from ``localvpc serve``: more CPUs for the HTTP listeners.

One Python process forwards at most one CPU's worth of requests (decision 0008). With
``--proxy-workers N`` the HTTP and HTTPS listeners of the L7 proxies (VPC Lattice, ALB) are
served by N processes: the serve process and N-1 workers. Every process holds its own
listening socket on each port, all bound with ``SO_REUSEPORT``, so the kernel spreads new
connections over them as it does for nginx's ``reuseport`` workers.

The serve process stays the only writer and keeps everything that must happen once: the
layer-4 listeners (NLB, TLS passthrough), target health checks, access-log delivery and
the API. A worker (``worker_process.py``) is a read-only replica: it loads the model from
the store and reloads it when the serve process says the generation moved.

The two talk over a ``SOCK_SEQPACKET`` Unix socket pair, one JSON object per message:

- serve -> worker: ``hello`` (the sticky-cookie key), then ``sync`` (model and meta
  generations and the listeners the worker must serve; the listening sockets of new ones
  ride along as ``SCM_RIGHTS``), and ``stop``;
- worker -> serve: ``report``: its connection count and its access-log lines, which the
  serve process delivers as its own.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from localvpc.dns.source import ModelSource
from localvpc.lattice.access_logs import AccessLogWriter

log = logging.getLogger("localvpc.lattice.workers")

MESSAGE_LIMIT = 256 * 1024  # one control message at most (a sync, a batch of log lines)
MAX_FDS = 64  # listening sockets passed in one sync message at most
RESPAWN_AFTER = 1.0  # seconds between two starts of the same worker slot
Key = tuple[str, str, int, str]


class Served(Protocol):
    """What the pool needs of a proxy listener (``server.ProxyListener``)."""

    host: str
    port: int

    @property
    def key(self) -> Key: ...

    def to_json(self) -> dict[str, Any]: ...


def send_message(sock: socket.socket, message: dict[str, Any], fds: Sequence[int] = ()
                 ) -> None:
    """One message (and the file descriptors riding with it) on a SEQPACKET socket."""
    data = json.dumps(message, separators=(",", ":")).encode()
    if len(data) > MESSAGE_LIMIT:
        raise ValueError(f"control message of {len(data)} bytes (limit {MESSAGE_LIMIT})")
    socket.send_fds(sock, [data], list(fds))


def recv_message(sock: socket.socket) -> tuple[dict[str, Any] | None, list[int]]:
    """The next message and its descriptors; ``None`` when the peer has gone."""
    data, fds, _flags, _addr = socket.recv_fds(sock, MESSAGE_LIMIT, MAX_FDS)
    if not data:
        for fd in fds:
            os.close(fd)
        return None, []
    return json.loads(data), fds


def reuseport_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` that other ``SO_REUSEPORT`` sockets of this
    user may share (port 0: a free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind((host, port))
        sock.listen(1024)
    except BaseException:
        sock.close()
        raise
    sock.setblocking(False)
    return sock


def chunked(items: list[Any], limit: int = MESSAGE_LIMIT // 2) -> Iterable[list[Any]]:
    """``items`` in runs whose JSON stays under ``limit`` bytes (one item may exceed it
    alone and is sent alone)."""
    run: list[Any] = []
    size = 0
    for item in items:
        n = len(json.dumps(item)) + 1
        if run and size + n > limit:
            yield run
            run, size = [], 0
        run.append(item)
        size += n
    if run:
        yield run


@dataclass(eq=False)
class _Worker:
    slot: int
    proc: subprocess.Popen[bytes]
    ctl: socket.socket
    started: float
    listeners: set[Key] = field(default_factory=set)
    generation: int | None = None  # sent in the last sync
    meta: int | None = None
    loaded: int | None = None  # what the worker last reported routing with
    serving: int = 0  # listeners it reported open
    connections: int = 0
    alive: bool = True


class WorkerPool:
    """``count`` worker processes started with ``command`` (plus ``--control-fd FD``) and
    ``env``; driven from the proxy's loop thread by ``tend``."""

    def __init__(self, command: Sequence[str], count: int, source: ModelSource, *,
                 meta_generation: Callable[[], int], cookie_key: bytes,
                 logs: AccessLogWriter | None = None,
                 env: dict[str, str] | None = None) -> None:
        self.command = list(command)
        self.count = count
        self.source = source
        self.meta_generation = meta_generation
        self.cookie_key = cookie_key
        self.logs = logs
        self.env = env
        self._workers: dict[int, _Worker] = {}
        self._last_start: dict[int, float] = {}
        self.restarts = 0
        self.dropped = 0  # log lines whose load balancer had gone when they arrived

    # ------------------------------------------------------------------ processes
    def _spawn(self, slot: int) -> _Worker:
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            proc = subprocess.Popen(
                [*self.command, "--control-fd", str(theirs.fileno())],
                pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                env={**os.environ, **(self.env or {})})
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()
        mine.setblocking(False)
        send_message(mine, {"op": "hello", "slot": slot, "cookie_key": self.cookie_key.hex(),
                            "generation": self.source.generation,
                            "meta": self.meta_generation()})
        log.info("proxy worker %d started (pid %d)", slot, proc.pid)
        return _Worker(slot, proc, mine, time.monotonic())

    def tend(self, listeners: Iterable[Served], add_reader: Callable[..., Any],
             remove_reader: Callable[[int], Any]) -> None:
        """Start missing workers, then bring each up to date: the model and meta
        generations, and one listening socket of its own on every port it lacks."""
        now = time.monotonic()
        for slot in range(self.count):
            worker = self._workers.get(slot)
            if worker is not None and worker.alive and worker.proc.poll() is None:
                continue
            if worker is not None:
                self._drop(worker, remove_reader)
                self.restarts += 1
            if now - self._last_start.get(slot, -RESPAWN_AFTER) < RESPAWN_AFTER:
                continue  # a worker that dies at once is not restarted in a tight loop
            self._last_start[slot] = now
            try:
                worker = self._spawn(slot)
            except OSError as exc:
                log.error("proxy worker %d cannot start: %s", slot, exc)
                continue
            self._workers[slot] = worker
            add_reader(worker.ctl.fileno(), self._readable, worker, remove_reader)
        wanted = {lst.key: lst for lst in listeners}
        generation, meta = self.source.generation, self.meta_generation()
        for worker in list(self._workers.values()):
            if not worker.alive:
                continue
            new = [lst for key, lst in wanted.items() if key not in worker.listeners]
            if (not new and worker.generation == generation and worker.meta == meta
                    and worker.listeners == set(wanted)):
                continue
            try:
                self._sync(worker, wanted, new, generation, meta)
            except OSError as exc:  # its queue is full or it has gone: start it again
                log.warning("proxy worker %d does not take updates (%s): restarting",
                            worker.slot, exc)
                self._drop(worker, remove_reader)
            except ValueError as exc:  # more listeners than one message holds
                log.error("proxy worker %d not updated: %s", worker.slot, exc)

    def _sync(self, worker: _Worker, wanted: dict[Key, Served], new: list[Served],
              generation: int, meta: int) -> None:
        socks: list[socket.socket] = []
        rows: list[dict[str, Any]] = []
        sent: set[Key] = set()
        new_keys = {lst.key for lst in new}
        try:
            for lst in wanted.values():
                row = lst.to_json()
                row["key"] = list(lst.key)
                row["fd"] = -1
                if lst.key in new_keys and len(socks) < MAX_FDS:
                    try:
                        socks.append(reuseport_socket(lst.host, lst.port))
                    except OSError as exc:
                        log.warning("proxy worker %d: no socket for %s:%d: %s",
                                    worker.slot, lst.host, lst.port, exc)
                        continue
                    row["fd"] = len(socks) - 1
                elif lst.key not in worker.listeners:
                    continue  # more new listeners than one message carries: next sync
                rows.append(row)
                sent.add(lst.key)
            send_message(worker.ctl, {"op": "sync", "generation": generation, "meta": meta,
                                      "listeners": rows}, [s.fileno() for s in socks])
        finally:
            for s in socks:  # the worker has its own copies; ours must not hold the port
                s.close()
        worker.listeners = sent
        worker.generation, worker.meta = generation, meta

    def _take(self, worker: _Worker) -> bool:
        """Receive one message from ``worker`` and apply it; False once it has gone.
        Raises what the socket raises (BlockingIOError: nothing waiting)."""
        message, fds = recv_message(worker.ctl)
        for fd in fds:  # a worker sends none
            os.close(fd)
        if message is None:
            return False
        if message.get("op") == "report":
            self._report(worker, message)
        return True

    def _readable(self, worker: _Worker, remove_reader: Callable[[int], Any]) -> None:
        while worker.alive:
            try:
                if self._take(worker):
                    continue
            except BlockingIOError:
                return
            except (OSError, ValueError) as exc:
                log.warning("proxy worker %d: bad control message: %s", worker.slot, exc)
            log.warning("proxy worker %d (pid %d) has gone", worker.slot, worker.proc.pid)
            self._drop(worker, remove_reader)
            return

    def _report(self, worker: _Worker, message: dict[str, Any]) -> None:
        if "connections" in message:
            worker.connections = int(message["connections"])
            worker.loaded = int(message["generation"])
            worker.serving = int(message.get("listeners", 0))
        logs = self.logs
        if logs is None:
            return
        for item in message.get("lattice", []):
            destination, resource_id, line, when, account, region = item
            logs.add(destination, resource_id, line, float(when), account, region)
        albs = message.get("alb", [])
        if albs:
            with self.source.lock:
                balancers = self.source.network.load_balancers
                for lb_id, line, ip in albs:
                    lb = balancers.get(lb_id)
                    if lb is None:
                        self.dropped += 1
                        continue
                    logs.add_alb(lb, line, ip)

    def _drop(self, worker: _Worker, remove_reader: Callable[[int], Any]) -> None:
        if worker.alive:
            worker.alive = False
            remove_reader(worker.ctl.fileno())
            worker.ctl.close()
        if worker.proc.poll() is None:
            worker.proc.kill()
        worker.proc.wait(5)

    def stop(self, remove_reader: Callable[[int], Any], timeout: float = 5.0) -> None:
        """Ask every worker to stop, take what it still reports (its last access-log
        lines), then end it (on the loop thread, as the proxies close)."""
        workers = [w for w in self._workers.values() if w.alive]
        for worker in workers:
            remove_reader(worker.ctl.fileno())
        for worker in workers:
            try:
                send_message(worker.ctl, {"op": "stop"})
            except OSError:
                continue
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.ctl.settimeout(max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(OSError, ValueError):
                while self._take(worker):
                    pass
            worker.alive = False
            worker.ctl.close()
            try:
                worker.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.proc.kill()
                worker.proc.wait(5)
        self._workers.clear()

    def table(self) -> list[dict[str, Any]]:
        """The workers, for ``GET /_localvpc/proxy/endpoints`` (``workers``)."""
        return [{"slot": w.slot, "pid": w.proc.pid, "alive": w.alive,
                 "connections": w.connections, "listeners": w.serving,
                 "generation": w.loaded}
                for w in sorted(self._workers.values(), key=lambda w: w.slot)]

"""WebSockets through the ALB proxies: an HTTP/1.1 ``Upgrade: websocket`` request is routed like
any other (rules, weights, auth), sent to the chosen target with its Upgrade and Connection
headers, and when the target answers 101 the client and target connections are spliced,
bytes untouched, until either side closes or the load balancer's idle timeout passes.

What AWS documents, and what is ASSUMED here:

- ALB (Listeners for your Application Load Balancers, "WebSockets"): native WebSocket
  support, ws and wss, on HTTP and HTTPS listeners, by upgrading an HTTP/1.1 connection;
  once upgraded, the client's and the target's TCP connections become one persistent
  connection through the load balancer. Documented.
- ALB connection idle timeout (``idle_timeout.timeout_seconds``, default 60): a client or
  target connection with no data sent or received for that long is closed. Documented for
  every connection; applied here to the upgraded pair as a whole, any byte either way
  (WebSocket pings included, since frames are not parsed) keeping it open. That the
  load balancer closes both TCP connections without a WebSocket close frame is ASSUMED.
- ALB access logs: the entry's ``type`` is ``ws`` or ``wss`` and its ``time`` is when the
  connection closed. Documented. Status 101 and byte counts over the whole connection
  (handshake and frames, both ways) are ASSUMED to be what the counters hold.
- VPC Lattice (Listeners for your VPC Lattice service): "VPC Lattice does not support
  WebSockets". Documented; an Upgrade request to a Lattice listener is served as plain
  HTTP/1.1 (the Upgrade and Connection headers are dropped), ASSUMED to be what it does.
- A non-101 answer goes back as an ordinary response and the client connection closes after
  it (ASSUMED; AWS may keep it). The target connection of an upgrade attempt is never
  pooled: it was opened for that request only.
- Only ``GET`` with ``Upgrade: websocket`` and ``Connection: upgrade`` over HTTP/1.1 is an
  upgrade (RFC 6455 4.1); other upgrades (``h2c``) are answered as plain HTTP/1.1, as before.
  An HTTP2/GRPC target group is still spoken to in HTTP/1.1 for the upgrade (ASSUMED).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, cast

import httptools

from localvpc.lattice.proxy import (
    Body,
    ProxyRequest,
    UpstreamError,
    UpstreamResponse,
    response_framing,
    set_reading,
)

if TYPE_CHECKING:
    from localvpc.lattice.proxy import Frontend, UpstreamPool

log = logging.getLogger("localvpc.lattice.upgrade")

DEFAULT_IDLE_TIMEOUT = 60.0  # ALB's idle_timeout.timeout_seconds default
SWITCHING = b"HTTP/1.1 101 Switching Protocols\r\n"


def _tokens(value: str | None) -> set[str]:
    return {t.strip().lower() for t in (value or "").split(",") if t.strip()}


def is_websocket(req: ProxyRequest) -> bool:
    """An HTTP/1.1 WebSocket opening handshake (RFC 6455 4.1): GET, ``Upgrade: websocket``
    and ``Connection`` naming ``upgrade``."""
    return (req.version == "HTTP/1.1" and req.method == "GET"
            and "websocket" in _tokens(req.header("upgrade"))
            and "upgrade" in _tokens(req.header("connection")))


def upgrade_headers(req: ProxyRequest) -> list[tuple[str, str]]:
    """The hop-by-hop headers an upgrade needs at the target (``forward_headers`` drops
    them for every other request)."""
    return [("connection", "Upgrade"), ("upgrade", req.header("upgrade") or "websocket")]


def idle_timeout(attributes: dict[str, str] | None) -> float:
    """The load balancer's ``idle_timeout.timeout_seconds`` (1-4000, default 60)."""
    try:
        value = float((attributes or {}).get("idle_timeout.timeout_seconds", ""))
    except ValueError:
        return DEFAULT_IDLE_TIMEOUT
    return value if value > 0 else DEFAULT_IDLE_TIMEOUT


# ---------------------------------------------------------------------- the target side
class _Target(asyncio.Protocol):
    """The connection to the target for one upgrade attempt: parses the answer's head;
    after a 101 every byte goes to the tunnel; any other answer's body streams as a
    ``Body`` and the connection closes after it."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.head: asyncio.Future[UpstreamResponse] = self.loop.create_future()
        self.headers: list[tuple[str, str]] = []
        self.body: Body | None = None
        self.close_delimited = False
        self.upgraded = False
        self.early = b""  # bytes after the 101 head, before the tunnel runs
        self.tunnel: Tunnel | None = None
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self.upgraded:
            if self.tunnel is not None:
                self.tunnel.from_target(data)
            else:
                self.early += data
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            self.upgraded = True  # the 101 head ended; what follows is the new protocol
            offset = int(exc.args[0]) if exc.args else len(data)
            self.early += data[offset:]
        except httptools.HttpParserError as exc:
            self._fail(UpstreamError("protocol", f"bad response from target: {exc}"))
            self.close()

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self.headers = []  # an interim response: wait for the real one
            return
        length, chunked = response_framing(self.headers)
        if status == 101:
            body: Body = Tunnel(self)
        else:
            self.close_delimited = length is None and not chunked and status not in (204, 304)
            body = Body(None if chunked or self.close_delimited else length, self._pressure)
            if status in (204, 304) or length == 0:
                body.finish()
            self.body = body
        if not self.head.done():
            self.head.set_result(UpstreamResponse(status, self.headers, body))

    def on_body(self, data: bytes) -> None:
        if self.body is not None:
            self.body.feed(data)

    def on_message_complete(self) -> None:
        if self.upgraded or self.parser.get_status_code() == 101:
            return
        if self.body is not None:
            self.body.finish()
        self.close()  # an upgrade attempt's connection is never reused

    def _pressure(self, paused: bool) -> None:
        self.pause(paused)

    def pause(self, paused: bool) -> None:
        set_reading(self.transport, paused)

    def _fail(self, exc: UpstreamError) -> None:
        if not self.head.done():
            self.head.set_exception(exc)
        elif self.body is not None and not self.body.finished:
            self.body.fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.tunnel is not None:
            self.tunnel.end("target closed")
        if self.close_delimited and self.body is not None and not self.body.finished:
            self.body.finish()  # the close ends a body without a length
        else:
            self._fail(UpstreamError("reset", "the target closed the connection"
                                     f"{': ' + str(exc) if exc else ''}"))

    def pause_writing(self) -> None:
        if self.tunnel is not None:
            self.tunnel.target_full(True)

    def resume_writing(self) -> None:
        if self.tunnel is not None:
            self.tunnel.target_full(False)

    def write(self, data: bytes) -> None:
        t = self.transport
        if t is not None and not t.is_closing():
            t.write(data)

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


# ---------------------------------------------------------------------- the tunnel
class Tunnel(Body):
    """A 101 answer's body: the upgraded target connection. ``_H1`` (proxy.py) runs it once
    it has the client connection; read as a body it is empty."""

    __slots__ = ("_done", "_draining", "_timer", "client", "client_bytes", "idle", "last", "sent",
                 "target")

    def __init__(self, target: _Target) -> None:
        super().__init__(0)
        self.finish()
        self.target = target
        self.idle = DEFAULT_IDLE_TIMEOUT
        self.client: Frontend | None = None
        self.client_bytes = 0  # bytes from the client after the 101
        self.sent = 0  # bytes to the client, the 101 head included
        self.last = 0.0
        self._done: asyncio.Future[str] | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._draining = False

    async def run(self, client: Frontend, early: bytes,
                  headers: list[tuple[str, str]]) -> int:
        """Send the 101 head with ``headers`` (the target's, Upgrade and Connection
        included, plus any the load balancer adds), then splice until either side closes
        or nothing moves for ``idle`` seconds; ``early`` is what the client sent after its
        request head. The target connection is closed at the end (the client's by the
        caller); returns the bytes sent to the client."""
        loop = asyncio.get_running_loop()
        self._done = loop.create_future()
        self.client = client
        self.last = loop.time()
        target = self.target
        try:
            head = [SWITCHING, *(f"{k}: {v}\r\n".encode("latin-1")
                                 for k, v in headers), b"\r\n"]
            self._to_client(b"".join(head))
            target.tunnel = self
            if target.early:
                data, target.early = target.early, b""
                self._to_client(data)
            if early:
                self.from_client(early)
            if target.closed:
                self.end("target closed")
            client.pause_reading(False)
            self._timer = loop.call_at(self.last + self.idle, self._check)
            reason = await self._done
            log.debug("websocket %s:%d ended: %s", *client.client, reason)
        finally:
            self.end("closed")
            if self._timer is not None:
                self._timer.cancel()
            target.tunnel = None
            target.close()
        return self.sent

    def end(self, reason: str) -> None:
        done = self._done
        if done is not None and not done.done():
            done.set_result(reason)

    def close(self) -> None:
        """Never run (the client went away first): drop the target connection."""
        self.target.close()

    def _check(self) -> None:
        if self._done is None or self._done.done():
            return
        now = asyncio.get_running_loop().time()
        if now - self.last >= self.idle:
            self.end(f"idle for {self.idle:g} s")
        else:
            self._timer = asyncio.get_running_loop().call_at(self.last + self.idle,
                                                             self._check)

    # data both ways
    def from_client(self, data: bytes) -> None:
        self.client_bytes += len(data)
        self.last = asyncio.get_running_loop().time()
        self.target.write(data)

    def from_target(self, data: bytes) -> None:
        self.last = asyncio.get_running_loop().time()
        self._to_client(data)

    def _to_client(self, data: bytes) -> None:
        client = self.client
        if client is None or client.closed:
            self.end("client closed")
            return
        client.write(data)
        self.sent += len(data)
        t = client.transport
        if not self._draining and t is not None and t.get_write_buffer_size() > 0:
            # The client reads slower than the target writes: stop reading the target
            # until the client's buffer has drained.
            self._draining = True
            self.target.pause(True)
            task = asyncio.get_running_loop().create_task(client.drain())
            task.add_done_callback(self._drained)

    def _drained(self, task: asyncio.Task[None]) -> None:
        self._draining = False
        if task.cancelled() or task.exception() is not None:
            self.end("client closed")
        else:
            self.target.pause(False)

    def target_full(self, full: bool) -> None:
        """The target reads slower than the client writes: pause the client."""
        if self.client is not None:
            self.client.pause_reading(full)

    def client_gone(self) -> None:
        self.end("client closed")


# ---------------------------------------------------------------------- opening one
async def open_upgrade(pool: UpstreamPool, host: str, port: int, req: ProxyRequest,
                       headers: list[tuple[str, str]], *, tls: bool = False,
                       idle: float = DEFAULT_IDLE_TIMEOUT) -> UpstreamResponse:
    """Send the upgrade request on a new connection (never a pooled one) and return the
    target's answer: a ``Tunnel`` body for 101, else the answer's own body. Raises
    ``UpstreamError`` as ``UpstreamPool.request`` does (502/504 to the client)."""
    loop = asyncio.get_running_loop()
    target = _Target()
    try:
        await asyncio.wait_for(loop.create_connection(
            lambda: target, host, port, ssl=pool.client_tls if tls else None,
            server_hostname=host if tls else None), pool.connect_timeout)
    except TimeoutError:
        raise UpstreamError("timeout", f"connecting to {host}:{port} timed out") from None
    except ConnectionRefusedError:
        raise UpstreamError("refused", f"{host}:{port} refused the connection") from None
    except OSError as exc:  # ssl.SSLError is an OSError
        raise UpstreamError("reset", f"cannot connect to {host}:{port}: {exc}") from None
    lines = [f"{req.method} {req.target} HTTP/1.1\r\n", *(f"{k}: {v}\r\n" for k, v in headers),
             "\r\n"]
    target.write("".join(lines).encode("latin-1"))
    try:
        resp = await asyncio.wait_for(target.head, pool.timeout)
    except TimeoutError:
        target.close()
        raise UpstreamError("timeout", f"no response within {pool.timeout:g} s") from None
    except BaseException:
        target.close()
        raise
    if isinstance(resp.body, Tunnel):
        resp.body.idle = idle
    return resp

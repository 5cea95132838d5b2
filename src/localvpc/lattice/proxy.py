"""The proxy's two HTTP sides on asyncio: a front end that accepts HTTP/1.1 (httptools, the C
parser uvicorn uses) and HTTP/2 (h2: by ALPN over TLS, or h2c with prior knowledge), and a
pooled keep-alive HTTP/1.1 client to targets. Routing is not here: the front end hands each
``ProxyRequest`` to a handler and writes back the ``ProxyResponse`` it returns.

Bodies stream both ways as ``Body`` objects (pieces in order, reading paused while too much
waits). A request the parser rejects gets 400 and the connection closes; a handler that
raises gets 502; nothing a client sends can stop the listener (decision 0006).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import TYPE_CHECKING, Any, cast

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import httptools

if TYPE_CHECKING:
    from localvpc.lattice.upgrade import Tunnel

log = logging.getLogger("localvpc.lattice.proxy")

HOP_BY_HOP = frozenset({"connection", "keep-alive", "proxy-connection", "transfer-encoding",
                        "te", "trailer", "upgrade", "http2-settings", "proxy-authenticate"})
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
HIGH_WATER = 1 << 20  # bytes of unread body before the sender is paused
MAX_HEAD = 64 * 1024  # request line + headers (ALB: 64 KB ASSUMED)
# Fields a trailer section must not carry (RFC 9110 6.5.1: framing, routing, control).
_NOT_TRAILERS = frozenset({"content-length", "content-type", "content-encoding", "host",
                           "cache-control", "expect", "max-forwards", "pragma", "range",
                           "authorization", "set-cookie", "content-range", "trailer"})


# ---------------------------------------------------------------------- bodies
class Body:
    """A body arriving in pieces. ``feed``/``finish``/``fail`` from the producer; iterate
    (or ``read``) from the consumer. ``pressure(True|False)`` asks the producer to pause or
    resume when more than ``HIGH_WATER`` bytes wait unread."""

    __slots__ = ("_buffered", "_chunks", "_error", "_finished", "_paused", "_waiter",
                 "discard", "length", "pressure", "received", "trailers")

    def __init__(self, length: int | None = None,
                 pressure: Callable[[bool], None] | None = None) -> None:
        self.length = length  # None: unknown (chunked / HTTP/2 without content-length)
        self.pressure = pressure
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._finished = False
        self._error: BaseException | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._paused = False
        self.discard = False
        self.received = 0
        # Trailer fields the producer read after the last piece (set before ``finish``):
        # a target's gRPC status travels here, since it is known only at the body's end.
        self.trailers: list[tuple[str, str]] | None = None

    @classmethod
    def of(cls, data: bytes) -> Body:
        body = cls(len(data))
        if data:
            body.feed(data)
        body.finish()
        return body

    @property
    def finished(self) -> bool:
        return self._finished

    @property
    def failed(self) -> bool:
        """The producer gave up (a malformed chunk, a client gone mid-body)."""
        return self._error is not None

    def feed(self, data: bytes) -> None:
        self.received += len(data)
        if self.discard or self._finished:
            return
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > HIGH_WATER and not self._paused and self.pressure is not None:
            self._paused = True
            self.pressure(True)
        self._wake()

    def finish(self) -> None:
        self._finished = True
        self._wake()

    def fail(self, exc: BaseException) -> None:
        if not self._finished:
            self._error = exc
            self._finished = True
        self._wake()

    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    async def read(self) -> bytes | None:
        """The next piece, or None at the end; raises what ``fail`` was given."""
        while not self._chunks:
            if self._finished:
                if self._error is not None:
                    raise self._error
                return None
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        data = self._chunks.popleft()
        self._buffered -= len(data)
        if self._paused and self._buffered < HIGH_WATER // 2 and self.pressure is not None:
            self._paused = False
            self.pressure(False)
        return data

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while True:
            data = await self.read()
            if data is None:
                return
            yield data

    async def read_all(self, limit: int | None = None) -> bytes:
        """Everything (a Lambda event needs the whole body); ValueError past ``limit``."""
        parts: list[bytes] = []
        size = 0
        async for piece in self:
            size += len(piece)
            if limit is not None and size > limit:
                raise ValueError(f"body larger than {limit} bytes")
            parts.append(piece)
        return b"".join(parts)

    def take_ready(self) -> bytes | None:
        """The whole body at once when it has already arrived (the common small case: no
        await, no iteration); None when it is still coming."""
        if not self._finished or self._error is not None:
            return None
        data = b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        return data


# ---------------------------------------------------------------------- requests
@dataclass(slots=True)
class TlsInfo:
    sni: str | None
    version: str | None
    cipher: str | None
    alpn: str | None


@dataclass(slots=True)
class ProxyRequest:
    """One request as the client sent it. ``target`` is the raw path and query; header
    names keep the client's case (HTTP/2: lower case); ``host`` is Host or :authority."""

    method: str
    target: str
    version: str  # HTTP/1.0 | HTTP/1.1 | HTTP/2.0
    headers: list[tuple[str, str]]
    body: Body
    client: tuple[str, int]
    local: tuple[str, int]
    scheme: str  # http | https
    tls: TlsInfo | None = None
    head_bytes: int = 0
    started: float = 0.0

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]

    def header(self, name: str) -> str | None:
        lname = name.lower()
        for k, v in self.headers:
            if k.lower() == lname:
                return v
        return None

    @property
    def host(self) -> str:
        return self.header("host") or ""


@dataclass(slots=True)
class ProxyResponse:
    """What to send back. ``done(bytes_sent, error)`` runs once the body is written (or
    the client went away): access logs record sizes and durations there."""

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | Body = b""
    done: Callable[[int, BaseException | None], None] | None = None
    trailers: Sequence[tuple[str, str]] = ()

    def trailer_fields(self) -> list[tuple[str, str]]:
        """What follows the body: ``trailers`` and those the body brought from the target
        (gRPC's ``grpc-status``). Call it once the body has ended; hop-by-hop fields and
        fields that frame the message never pass."""
        extra = self.body.trailers if isinstance(self.body, Body) else None
        if not self.trailers and not extra:
            return []
        return [(k, v) for k, v in (*self.trailers, *(extra or ()))
                if k.lower() not in HOP_BY_HOP and k.lower() not in _NOT_TRAILERS
                and not k.startswith(":")]


Handler = Callable[[ProxyRequest], Awaitable[ProxyResponse]]


def simple_response(status: int, text: str = "", server: str | None = None,
                    content_type: str = "text/plain; charset=utf-8") -> ProxyResponse:
    """A response the proxy makes itself (errors, fixed responses)."""
    body = text.encode()
    headers = [("content-type", content_type)] if body else []
    if server:
        headers.append(("server", server))
    return ProxyResponse(status, headers, body)


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


_STATUS_LINES: dict[int, bytes] = {}


def _status_line(status: int) -> bytes:
    """``HTTP/1.1 <status> <phrase>`` and CRLF, made once per status (an enum lookup and
    formatting per response showed in profiles)."""
    line = _STATUS_LINES.get(status)
    if line is None:
        line = b"HTTP/1.1 %d %s\r\n" % (status, _reason(status).encode())
        if 100 <= status < 1000:
            _STATUS_LINES[status] = line
    return line


def set_reading(transport: asyncio.Transport | None, paused: bool) -> None:
    """Pause or resume reading from ``transport`` (back pressure); nothing once it is
    closing (uvloop raises on a closed transport)."""
    if transport is not None and not transport.is_closing():
        with contextlib.suppress(RuntimeError):
            if paused:
                transport.pause_reading()
            else:
                transport.resume_reading()


def response_framing(headers: list[tuple[str, str]]) -> tuple[int | None, bool]:
    """A response head's ``(content-length or None, chunked)``: how its body ends."""
    length: int | None = None
    chunked = False
    for k, v in headers:
        lk = k.lower()
        if lk == "content-length" and v.strip().isdigit():
            length = int(v)
        elif lk == "transfer-encoding" and "chunked" in v.lower():
            chunked = True
    return length, chunked


def _no_body(method: str, status: int) -> bool:
    return method == "HEAD" or status in (204, 304) or 100 <= status < 200


# ---------------------------------------------------------------------- front end
class Frontend(asyncio.Protocol):
    """One client connection: HTTP/1.1, or HTTP/2 when ALPN chose h2 or the client opened
    with the HTTP/2 preface (h2c prior knowledge)."""

    def __init__(self, handler: Handler, scheme: str, on_error: Handler | None = None) -> None:
        self.handler = handler
        self.scheme = scheme
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        self.impl: _H1 | _H2 | None = None
        self.client: tuple[str, int] = ("", 0)
        self.local: tuple[str, int] = ("", 0)
        self.tls: TlsInfo | None = None
        self._start = b""
        self._can_write = asyncio.Event()
        self._can_write.set()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's TLS transport does not subclass asyncio.Transport, though it is one.
        self.transport = cast(asyncio.Transport, transport)
        peer = transport.get_extra_info("peername") or ("", 0)
        sock = transport.get_extra_info("sockname") or ("", 0)
        self.client, self.local = (str(peer[0]), int(peer[1])), (str(sock[0]), int(sock[1]))
        ssl_object = transport.get_extra_info("ssl_object")
        if isinstance(ssl_object, ssl.SSLObject | ssl.SSLSocket):
            cipher = ssl_object.cipher()
            self.tls = TlsInfo(getattr(ssl_object, "server_hostname", None) or
                               getattr(ssl_object, "localvpc_sni", None),
                               ssl_object.version(), cipher[0] if cipher else None,
                               ssl_object.selected_alpn_protocol())
            self.impl = _H2(self) if self.tls.alpn == "h2" else _H1(self)

    def data_received(self, data: bytes) -> None:
        if self.impl is None:
            self._start += data
            probe = self._start[:len(H2_PREFACE)]
            if H2_PREFACE.startswith(probe) and len(self._start) < len(H2_PREFACE):
                return  # could still be the HTTP/2 preface: wait for more
            data, self._start = self._start, b""
            self.impl = _H2(self) if probe == H2_PREFACE else _H1(self)
        try:
            self.impl.data_received(data)
        except Exception:  # never let one connection's bug reach the loop
            log.exception("proxy connection failed")
            self.close()

    def eof_received(self) -> bool | None:
        if self.impl is not None:
            self.impl.eof()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._can_write.set()
        if self.impl is not None:
            self.impl.lost()

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    async def drain(self) -> None:
        if not self._can_write.is_set():
            await self._can_write.wait()
        if self.closed:
            raise ConnectionResetError("client went away")

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.closed:
            self.transport.write(data)

    def pause_reading(self, paused: bool) -> None:
        if not self.closed:
            set_reading(self.transport, paused)

    def close(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.close()

    async def run_handler(self, req: ProxyRequest) -> ProxyResponse:
        try:
            return await self.handler(req)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("proxy handler failed for %s %s", req.method, req.target)
            return simple_response(502, "Bad Gateway")


class _H1:
    """HTTP/1.x on one connection: requests are answered in order (pipelining allowed)."""

    def __init__(self, conn: Frontend) -> None:
        self.conn = conn
        self.parser = httptools.HttpRequestParser(self)
        self.url = b""
        self.headers: list[tuple[str, str]] = []
        self.head_size = 0
        self.body: Body | None = None
        self.queue: deque[tuple[ProxyRequest, bool]] = deque()
        self.task: asyncio.Task[None] | None = None
        self.broken = False
        # After an Upgrade request's head: what the client sent after it (None: no upgrade
        # pending), and the tunnel splicing the connection once a target answered 101.
        self.upgrade_rest: bytes | None = None
        self.tunnel: Tunnel | None = None

    # httptools callbacks
    def on_message_begin(self) -> None:
        self.url, self.headers, self.head_size = b"", [], 0

    def on_url(self, url: bytes) -> None:
        self.url += url
        self.head_size += len(url)
        if self.head_size > MAX_HEAD:
            raise ValueError("request head too large")

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1"), value.decode("latin-1")))
        self.head_size += len(name) + len(value) + 4
        if self.head_size > MAX_HEAD:
            raise ValueError("request head too large")

    def on_headers_complete(self) -> None:
        p = self.parser
        method = p.get_method().decode("latin-1")
        version = f"HTTP/{p.get_http_version()}"
        length: int | None = None
        chunked = False
        for k, v in self.headers:
            lk = k.lower()
            if lk == "content-length":
                length = int(v)  # llhttp has already rejected a bad or conflicting one
            elif lk == "transfer-encoding":
                chunked = "chunked" in v.lower()
        if chunked:
            length = None
        elif length is None:
            length = 0
        body = Body(length, self.conn.pause_reading)
        if length == 0:
            body.finish()
        self.body = body
        conn = self.conn
        req = ProxyRequest(method, self.url.decode("latin-1"), version, self.headers, body,
                           conn.client, conn.local, conn.scheme, conn.tls,
                           self.head_size + len(method) + 12, conn.loop.time())
        self.queue.append((req, bool(p.should_keep_alive())))
        self._next()

    def on_body(self, data: bytes) -> None:
        if self.body is not None:
            self.body.feed(data)

    def on_message_complete(self) -> None:
        if self.body is not None:
            self.body.finish()
            self.body = None

    # connection events
    def data_received(self, data: bytes) -> None:
        if self.tunnel is not None:
            self.tunnel.from_client(data)
            return
        if self.broken:
            if self.upgrade_rest is not None and len(self.upgrade_rest) < HIGH_WATER:
                self.upgrade_rest += data  # kept for the target if the upgrade succeeds
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as exc:
            # An Upgrade (h2c, websocket) request, the last one parsed here. The handler
            # may answer 101 with a tunnel (upgrade.py: WebSockets through an ALB), which
            # then gets what follows the head; any other answer is plain HTTP/1.1, which
            # the client must accept (RFC 9110 7.8), and the connection closes after it.
            self.broken = True
            self.upgrade_rest = data[int(exc.args[0]) if exc.args else len(data):]
            self.conn.pause_reading(True)  # until the target has answered
        except (httptools.HttpParserError, ValueError, UnicodeDecodeError) as exc:
            self.broken = True
            if self.body is not None:
                self.body.fail(ConnectionAbortedError(f"malformed request body: {exc}"))
            if self.task is None and not self.queue:
                self._reply_and_close(400)

    def _reply_and_close(self, status: int) -> None:
        text = f"{status} {_reason(status)}".encode()
        self.conn.write(b"HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d"
                        b"\r\nConnection: close\r\n\r\n%s"
                        % (status, _reason(status).encode(), len(text), text))
        self.conn.close()

    def eof(self) -> None:
        if self.tunnel is not None:
            self.tunnel.client_gone()
            return
        if self.body is not None:
            self.body.fail(ConnectionAbortedError("client closed mid-body"))
        if self.task is None and not self.queue:
            self.conn.close()

    def lost(self) -> None:
        if self.tunnel is not None:  # the splice ends (and logs) on its own
            self.tunnel.client_gone()
            return
        if self.body is not None:
            self.body.fail(ConnectionResetError("client went away"))
        if self.task is not None:
            self.task.cancel()

    def _next(self) -> None:
        if self.task is None and self.queue:
            req, keep_alive = self.queue.popleft()
            self.task = self.conn.loop.create_task(self._serve(req, keep_alive))

    async def _serve(self, req: ProxyRequest, keep_alive: bool) -> None:
        resp: ProxyResponse | None = None
        sent, error = 0, cast(BaseException | None, None)
        try:
            try:
                resp = await self.conn.handler(req)
            except (asyncio.CancelledError, ConnectionError):
                raise
            except Exception:
                log.exception("proxy handler failed for %s %s", req.method, req.target)
                resp = simple_response(502, "Bad Gateway")
            if not req.body.finished:  # the body was not read: the stream is out of step
                req.body.discard = True
                keep_alive = False
            sent = (await self._switch(req, resp) if resp.status == 101
                    else await self._send(req, resp, keep_alive))
        except asyncio.CancelledError:
            error = ConnectionResetError("client went away")
            keep_alive = False
        except Exception as exc:
            error = exc
            keep_alive = False
            if not isinstance(exc, ConnectionError):
                log.exception("sending a response failed")
        finally:
            if resp is not None and resp.done is not None:
                try:
                    resp.done(sent, error)
                except Exception:
                    log.exception("response completion callback failed")
            self.task = None
        if not keep_alive or (self.broken and not self.queue):
            self.conn.close()
            return
        self._next()

    async def _switch(self, req: ProxyRequest, resp: ProxyResponse) -> int:
        """A 101 from the handler: the tunnel it holds (upgrade.py) splices this connection
        to the target until either side closes or the idle timeout passes; returns the
        bytes sent to the client. The connection closes afterwards (``broken``)."""
        from localvpc.lattice.upgrade import Tunnel  # deferred: upgrade.py imports this

        tunnel, rest = resp.body, self.upgrade_rest
        if not isinstance(tunnel, Tunnel) or rest is None or self.conn.closed:
            if isinstance(tunnel, Tunnel):
                tunnel.close()
            if self.conn.closed:
                return 0
            # a 101 with nothing to splice, or to a request that asked for no upgrade
            return await self._send(req, simple_response(502, "Bad Gateway"), False)
        self.upgrade_rest = None
        self.tunnel = tunnel
        try:
            return await tunnel.run(self.conn, rest, resp.headers)
        finally:
            self.tunnel = None

    async def _send(self, req: ProxyRequest, resp: ProxyResponse, keep_alive: bool) -> int:
        conn = self.conn
        status = resp.status
        bodyless = _no_body(req.method, status)
        length: int | None = None
        body = resp.body
        if isinstance(body, bytes):
            length = len(body)
        elif body.length is not None:
            length = body.length
        upstream_length = None
        passed: list[str] = []
        for k, v in resp.headers:
            lk = k.lower()
            if lk == "content-length":
                upstream_length = v
                continue
            if lk in HOP_BY_HOP:
                continue
            passed.append(f"{k}: {v}\r\n")
        lines = [_status_line(status), "".join(passed).encode("latin-1")]
        chunked = False
        if req.method == "HEAD" and upstream_length is not None:
            lines.append(b"content-length: %s\r\n" % upstream_length.encode())
        elif not bodyless or (status not in (204, 304) and status >= 200):
            if length is not None:
                lines.append(b"content-length: %d\r\n" % length)
            elif req.version == "HTTP/1.1":
                chunked = True
                lines.append(b"transfer-encoding: chunked\r\n")
            else:
                keep_alive = False  # HTTP/1.0 without a length: the end is the close
        if not keep_alive:
            lines.append(b"connection: close\r\n")
        elif req.version == "HTTP/1.0":
            lines.append(b"connection: keep-alive\r\n")
        lines.append(b"\r\n")
        head = b"".join(lines)
        if bodyless:
            conn.write(head)
            if isinstance(body, Body):
                body.discard = True
            return len(head)
        if isinstance(body, bytes):
            conn.write(head + body)
            return len(head) + len(body)
        sent = len(head)
        ready = body.take_ready()
        if ready is not None:
            if chunked:
                end = _last_chunk(req, resp)
                ready = (b"%x\r\n%s\r\n%s" % (len(ready), ready, end)) if ready else end
            conn.write(head + ready)
            return sent + len(ready)
        conn.write(head)
        async for piece in body:
            if not piece:
                continue
            out = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
            conn.write(out)
            sent += len(out)
            await conn.drain()
        if chunked:
            end = _last_chunk(req, resp)
            conn.write(end)
            sent += len(end)
        return sent


def _last_chunk(req: ProxyRequest, resp: ProxyResponse) -> bytes:
    """The chunked body's end, with the trailer section when the client said it accepts
    one (``TE: trailers``); otherwise trailers are dropped, as RFC 9110 6.5.1 allows."""
    trailers = resp.trailer_fields()
    if not trailers:
        return b"0\r\n\r\n"
    te = req.header("te") or ""
    if "trailers" not in (t.split(";", 1)[0].strip().lower() for t in te.split(",")):
        return b"0\r\n\r\n"
    return b"0\r\n%s\r\n" % "".join(f"{k}: {v}\r\n" for k, v in trailers).encode("latin-1")


class _H2Stream:
    __slots__ = ("body", "headers", "task", "window")

    def __init__(self, headers: list[tuple[str, str]], body: Body) -> None:
        self.headers = headers
        self.body = body
        self.task: asyncio.Task[None] | None = None
        self.window = asyncio.Event()


class _H2:
    """HTTP/2 on one connection (h2's state machine; each stream is one task)."""

    def __init__(self, conn: Frontend) -> None:
        self.conn = conn
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=False, header_encoding=None, validate_inbound_headers=True))
        self.h2.initiate_connection()
        self.streams: dict[int, _H2Stream] = {}
        self.flush()

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data:
            self.conn.write(data)

    def data_received(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(data)
        except (h2.exceptions.ProtocolError, ValueError):
            self.flush()  # h2 has queued a GOAWAY
            self.conn.close()
            return
        for ev in events:
            if isinstance(ev, h2.events.RequestReceived):
                self._request(ev)
            elif isinstance(ev, h2.events.DataReceived):
                stream = self.streams.get(ev.stream_id)
                if stream is not None and ev.data:
                    stream.body.feed(ev.data)
                # ASSUMED fine for a local proxy: credit at once (no per-stream back
                # pressure beyond the connection's own socket buffers).
                with contextlib.suppress(h2.exceptions.ProtocolError, KeyError):
                    self.h2.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            elif isinstance(ev, h2.events.StreamEnded):
                stream = self.streams.get(ev.stream_id)
                if stream is not None:
                    stream.body.finish()
            elif isinstance(ev, h2.events.StreamReset):
                stream = self.streams.pop(ev.stream_id, None)
                if stream is not None:
                    stream.body.fail(ConnectionResetError("stream reset by the client"))
                    if stream.task is not None:
                        stream.task.cancel()
            elif isinstance(ev, h2.events.WindowUpdated):
                for s in self.streams.values():
                    s.window.set()
            elif isinstance(ev, h2.events.ConnectionTerminated):
                self.flush()
                self.conn.close()
                return
        self.flush()

    def _request(self, ev: h2.events.RequestReceived) -> None:
        pseudo: dict[str, str] = {}
        headers: list[tuple[str, str]] = []
        size = 0
        for name, value in ev.headers or []:
            k = name.decode("latin-1") if isinstance(name, bytes) else name
            v = value.decode("latin-1") if isinstance(value, bytes) else value
            size += len(k) + len(v)
            if k.startswith(":"):
                pseudo[k] = v
            else:
                headers.append((k, v))
        if ":authority" in pseudo and not any(k == "host" for k, _ in headers):
            headers.insert(0, ("host", pseudo[":authority"]))
        length: int | None = None
        for k, v in headers:
            if k == "content-length" and v.isdigit():
                length = int(v)
        body = Body(length)
        if ev.stream_ended is not None:
            body.finish()
        conn = self.conn
        req = ProxyRequest(pseudo.get(":method", "GET"), pseudo.get(":path", "/"), "HTTP/2.0",
                           headers, body, conn.client, conn.local, conn.scheme, conn.tls, size,
                           asyncio.get_running_loop().time())
        stream = _H2Stream(headers, body)
        self.streams[ev.stream_id] = stream
        if req.method == "CONNECT" or not req.target.startswith(("/", "*")):
            stream.task = asyncio.get_running_loop().create_task(
                self._serve(ev.stream_id, req, simple_response(400, "Bad Request")))
        else:
            stream.task = asyncio.get_running_loop().create_task(
                self._serve(ev.stream_id, req, None))

    async def _serve(self, sid: int, req: ProxyRequest, fixed: ProxyResponse | None) -> None:
        resp: ProxyResponse | None = fixed
        sent, error = 0, cast(BaseException | None, None)
        try:
            if resp is None:
                resp = await self.conn.run_handler(req)
            sent = await self._send(sid, req, resp)
        except asyncio.CancelledError:
            error = ConnectionResetError("stream reset")
        except (h2.exceptions.ProtocolError, h2.exceptions.StreamClosedError,
                ConnectionError) as exc:
            error = exc
        finally:
            if resp is not None and resp.done is not None:
                try:
                    resp.done(sent, error)
                except Exception:
                    log.exception("response completion callback failed")
            self.streams.pop(sid, None)

    async def _send(self, sid: int, req: ProxyRequest, resp: ProxyResponse) -> int:
        headers: list[tuple[bytes, bytes]] = [(b":status", str(resp.status).encode())]
        for k, v in resp.headers:
            lk = k.lower()
            if lk in HOP_BY_HOP or lk == "host":
                continue
            headers.append((lk.encode("latin-1"), v.encode("latin-1")))
        body = resp.body
        bodyless = _no_body(req.method, resp.status)
        empty = bodyless or (isinstance(body, bytes) and not body and not resp.trailers)
        if isinstance(body, bytes) and not bodyless and not any(
                k == b"content-length" for k, _ in headers):
            headers.append((b"content-length", str(len(body)).encode()))
        self.h2.send_headers(sid, headers, end_stream=empty)
        self.flush()
        sent = sum(len(k) + len(v) for k, v in headers)
        if empty:
            if isinstance(body, Body):
                body.discard = True
            return sent
        if isinstance(body, bytes):
            sent += await self._data(sid, body)
        else:
            async for piece in body:
                sent += await self._data(sid, piece)
        trailers = resp.trailer_fields()
        if trailers:  # a trailing HEADERS frame ends the stream (gRPC's grpc-status)
            fields = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in trailers]
            self.h2.send_headers(sid, fields, end_stream=True)
            sent += sum(len(k) + len(v) for k, v in fields)
        else:
            self.h2.end_stream(sid)
        self.flush()
        return sent

    async def _data(self, sid: int, data: bytes) -> int:
        view = memoryview(data)
        while view:
            stream = self.streams.get(sid)
            if stream is None or self.conn.closed:
                raise ConnectionResetError("stream gone")
            window = min(self.h2.local_flow_control_window(sid),
                         self.h2.max_outbound_frame_size)
            if window <= 0:
                stream.window.clear()
                await stream.window.wait()
                continue
            piece = view[:window]
            self.h2.send_data(sid, bytes(piece))
            self.flush()
            view = view[window:]
            await self.conn.drain()
        return len(data)

    def eof(self) -> None:
        self.conn.close()

    def lost(self) -> None:
        for stream in list(self.streams.values()):
            stream.body.fail(ConnectionResetError("client went away"))
            if stream.task is not None:
                stream.task.cancel()
            stream.window.set()


# ---------------------------------------------------------------------- upstream
class UpstreamError(Exception):
    """A target did not answer: ``kind`` ``refused`` / ``reset`` / ``protocol`` (the
    service answers 502) or ``timeout`` (504)."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail


@dataclass(slots=True)
class UpstreamResponse:
    status: int
    headers: list[tuple[str, str]]
    body: Body
    reused: bool = False


class _UpConn(asyncio.Protocol):
    """One keep-alive connection to a target; parses one response at a time."""

    def __init__(self, pool: UpstreamPool, key: tuple[str, int, bool]) -> None:
        self.pool = pool
        self.key = key
        self.transport: asyncio.Transport | None = None
        self.loop = asyncio.get_running_loop()
        self.parser = httptools.HttpResponseParser(self)
        self.head: asyncio.Future[UpstreamResponse] | None = None
        self.headers: list[tuple[str, str]] = []
        self.body: Body | None = None
        self.alive = False
        self.in_use = False
        self.head_only = False
        self.close_delimited = False
        self.got_bytes = False
        self._can_write = asyncio.Event()
        self._can_write.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.alive = True

    def begin(self, head_only: bool) -> asyncio.Future[UpstreamResponse]:
        self.head = self.loop.create_future()
        self.headers = []
        self.body = None
        self.head_only = head_only
        self.got_bytes = False
        self.in_use = True
        return self.head

    def data_received(self, data: bytes) -> None:
        self.got_bytes = True
        try:
            self.parser.feed_data(data)
        except (httptools.HttpParserError, httptools.HttpParserUpgrade) as exc:
            # (an unasked-for 101 Switching Protocols is as unusable as a malformed answer)
            self._fail(UpstreamError("protocol", f"bad response from target: {exc!r}"))
            self.alive = False
            if self.transport is not None:
                self.transport.close()

    # httptools callbacks
    def on_header(self, name: bytes, value: bytes) -> None:
        pair = (name.decode("latin-1"), value.decode("latin-1"))
        body = self.body
        if body is not None:  # after the head: httptools reports a chunked trailer field
            if body.trailers is None:
                body.trailers = []
            body.trailers.append(pair)
            return
        self.headers.append(pair)

    def on_headers_complete(self) -> None:
        status = self.parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            self.headers = []  # an interim response (100 Continue): wait for the real one
            return
        length, chunked = response_framing(self.headers)
        self.close_delimited = length is None and not chunked and not (
            self.head_only or status in (204, 304))
        body = Body(None if chunked or self.close_delimited else length, self._pressure)
        if self.head_only or status in (204, 304) or length == 0:
            body.finish()
        self.body = body
        if self.head is not None and not self.head.done():
            self.head.set_result(UpstreamResponse(status, self.headers, body))
        if self.head_only:
            # httptools cannot be told the response is to HEAD: do not reuse the
            # connection, its parser would wait for a body that never comes.
            self.alive = False
            self._release()

    def on_body(self, data: bytes) -> None:
        if self.body is not None:
            self.body.feed(data)

    def on_message_complete(self) -> None:
        if self.head_only:
            return
        if self.body is not None:
            self.body.finish()
        if not self.parser.should_keep_alive():
            self.alive = False
        self._release()

    def _pressure(self, paused: bool) -> None:
        set_reading(self.transport, paused)

    def _release(self) -> None:
        if not self.in_use:
            return
        self.in_use = False
        self.pool.release(self)

    def _fail(self, exc: UpstreamError) -> None:
        if self.head is not None and not self.head.done():
            self.head.set_exception(exc)
        elif self.body is not None and not self.body.finished:
            self.body.fail(exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        self._can_write.set()
        if self.close_delimited and self.body is not None and not self.body.finished:
            self.body.finish()  # the close ends a body without a length
        else:
            self._fail(UpstreamError("reset", f"the target closed the connection"
                                     f"{': ' + str(exc) if exc else ''}"))
        self.in_use = False
        self.pool.forget(self)

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    async def drain(self) -> None:
        if not self._can_write.is_set():
            await self._can_write.wait()
        if not self.alive:
            raise UpstreamError("reset", "the target closed the connection")

    def close(self) -> None:
        self.alive = False
        if self.transport is not None:
            self.transport.close()


class UpstreamPool:
    """Keep-alive HTTP/1.1 connections to targets, by (host, port, TLS). ``timeout`` bounds
    the wait for a response head (the service's idle timeout: 504 after it)."""

    def __init__(self, *, connect_timeout: float = 10.0, timeout: float = 60.0,
                 max_idle: int = 256) -> None:
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self.max_idle = max_idle
        self._idle: dict[tuple[str, int, bool], list[_UpConn]] = {}
        self._all: set[_UpConn] = set()
        self._client_tls = ssl.create_default_context()
        # ALB and Lattice do not validate target certificates (self-signed is fine).
        self._client_tls.check_hostname = False
        self._client_tls.verify_mode = ssl.CERT_NONE

    @property
    def client_tls(self) -> ssl.SSLContext:
        """The TLS settings for targets, for connections made outside the pool (an
        upgraded WebSocket's, upgrade.py)."""
        return self._client_tls

    def release(self, conn: _UpConn) -> None:
        if conn.alive and conn.transport is not None and not conn.transport.is_closing():
            idle = self._idle.setdefault(conn.key, [])
            if len(idle) < self.max_idle:
                idle.append(conn)
                return
        conn.close()

    def forget(self, conn: _UpConn) -> None:
        self._all.discard(conn)
        idle = self._idle.get(conn.key)
        if idle and conn in idle:
            idle.remove(conn)

    def close(self) -> None:
        for conn in list(self._all):
            conn.close()
        self._idle.clear()

    async def _connect(self, key: tuple[str, int, bool]) -> _UpConn:
        host, port, tls = key
        loop = asyncio.get_running_loop()
        conn = _UpConn(self, key)
        try:
            await asyncio.wait_for(loop.create_connection(
                lambda: conn, host, port, ssl=self._client_tls if tls else None,
                server_hostname=host if tls else None), self.connect_timeout)
        except TimeoutError:
            raise UpstreamError("timeout", f"connecting to {host}:{port} timed out") from None
        except ConnectionRefusedError:
            raise UpstreamError("refused", f"{host}:{port} refused the connection") from None
        except (OSError, ssl.SSLError) as exc:
            raise UpstreamError("reset", f"cannot connect to {host}:{port}: {exc}") from None
        self._all.add(conn)
        return conn

    async def request(self, host: str, port: int, method: str, target: str,
                      headers: list[tuple[str, str]], body: bytes | Body, *,
                      tls: bool = False) -> UpstreamResponse:
        """Send one request and return once the response head has arrived; the body
        follows in ``UpstreamResponse.body``."""
        key = (host, port, tls)
        if isinstance(body, Body):
            ready = body.take_ready()
            if ready is not None:
                body = ready
        replayable = isinstance(body, bytes)
        idle = self._idle.get(key)
        while idle:
            conn = idle.pop()
            if not conn.alive or conn.transport is None or conn.transport.is_closing():
                continue
            try:
                return await self._exchange(conn, method, target, headers, body, True)
            except UpstreamError as exc:
                # A kept connection the target had closed: try a fresh one when nothing
                # was answered and the request can be sent again.
                if exc.kind != "reset" or conn.got_bytes or not replayable:
                    raise
        conn = await self._connect(key)
        return await self._exchange(conn, method, target, headers, body, False)

    async def _exchange(self, conn: _UpConn, method: str, target: str,
                        headers: list[tuple[str, str]], body: bytes | Body,
                        reused: bool) -> UpstreamResponse:
        head_future = conn.begin(method == "HEAD")
        lines = [f"{method} {target} HTTP/1.1\r\n"]
        lines.extend(f"{k}: {v}\r\n" for k, v in headers)
        chunked = False
        if isinstance(body, bytes):
            if body or method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
                lines.append(f"content-length: {len(body)}\r\n")
        elif body.length is not None:
            lines.append(f"content-length: {body.length}\r\n")
        else:
            chunked = True
            lines.append("transfer-encoding: chunked\r\n")
        lines.append("\r\n")
        head = "".join(lines).encode("latin-1")
        transport = conn.transport
        assert transport is not None
        loop = conn.loop
        timer = loop.call_later(self.timeout, _expire, head_future, self.timeout)
        try:
            if isinstance(body, bytes):
                transport.write(head + body if body else head)
            else:
                transport.write(head)
                sender = loop.create_task(self._send_body(conn, body, chunked))
                head_future.add_done_callback(lambda _f: None)
                try:
                    resp = await head_future
                except BaseException:
                    sender.cancel()
                    raise
                if not sender.done():
                    # The target answered before reading the whole body (an early error):
                    # the rest is not sent and the connection is not reused.
                    sender.cancel()
                    conn.alive = False
                resp.reused = reused
                return resp
            resp = await head_future
        except UpstreamError:
            conn.close()
            raise
        except asyncio.CancelledError:
            conn.close()
            raise
        finally:
            timer.cancel()
        resp.reused = reused
        return resp

    @staticmethod
    async def _send_body(conn: _UpConn, body: Body, chunked: bool) -> None:
        transport = conn.transport
        assert transport is not None
        try:
            async for piece in body:
                if not piece:
                    continue
                transport.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
                await conn.drain()
            if chunked:
                transport.write(b"0\r\n\r\n")
        except (ConnectionError, UpstreamError):
            conn.close()


def _expire(future: asyncio.Future[Any], timeout: float) -> None:
    if not future.done():
        future.set_exception(UpstreamError("timeout", f"no response within {timeout:g} s"))

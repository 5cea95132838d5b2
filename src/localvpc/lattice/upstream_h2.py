"""HTTP/2 to targets, for target groups whose protocol version is HTTP2 or GRPC (Lattice
``protocolVersion``, ALB ``ProtocolVersion``): prior-knowledge h2c to plain-HTTP targets,
TLS with ALPN ``h2`` to HTTPS ones. One multiplexed connection per (host, port, TLS) carries
every concurrent request, as ALB and Lattice do; the answer has the same shape as
``UpstreamPool.request``'s so the router does not care which pool served it.

Response trailers (gRPC's ``grpc-status``/``grpc-message``) ride on the response ``Body``,
set before it ends, so the front end can send them on. Limit: received data is acknowledged
as it arrives (no back-pressure to the target beyond the proxy's own buffering)."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from dataclasses import dataclass, field
from typing import Any, cast

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from localvpc.lattice.proxy import HOP_BY_HOP, Body, UpstreamError, UpstreamResponse

H2_VERSIONS = frozenset({"HTTP2", "GRPC"})


def wants_h2(group: Any) -> bool:
    """True when a (Lattice or ELB) target group talks HTTP/2 to its targets."""
    return (getattr(group, "protocol_version", None) or "").upper() in H2_VERSIONS


@dataclass(slots=True)
class _Stream:
    head: asyncio.Future[UpstreamResponse]
    body: Body | None = None
    window: asyncio.Event = field(default_factory=asyncio.Event)


class _H2Conn(asyncio.Protocol):
    """One client-side HTTP/2 connection to a target."""

    def __init__(self, pool: H2Pool, key: tuple[str, int, bool]) -> None:
        self.pool = pool
        self.key = key
        self.h2 = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding=None))
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, _Stream] = {}
        self.alive = False
        self._can_write = asyncio.Event()
        self._can_write.set()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.alive = True
        self.h2.initiate_connection()
        self.flush()

    def flush(self) -> None:
        data = self.h2.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def data_received(self, data: bytes) -> None:
        try:
            events = self.h2.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            self._fail_all(UpstreamError("protocol", f"bad HTTP/2 from target: {exc}"))
            self.close()
            return
        for event in events:
            self._event(event)
        self.flush()

    def _event(self, event: Any) -> None:
        stream = self.streams.get(getattr(event, "stream_id", 0) or 0)
        if isinstance(event, h2.events.ResponseReceived) and stream is not None:
            status = 502
            headers: list[tuple[str, str]] = []
            for k, v in event.headers:
                name, value = bytes(k).decode("latin-1"), bytes(v).decode("latin-1")
                if name == ":status":
                    status = int(value)
                elif not name.startswith(":"):
                    headers.append((name, value))
            if 100 <= status < 200:
                return  # interim (100 Continue): the real head follows
            body = Body(None)
            stream.body = body
            if event.stream_ended is not None:
                body.finish()
            if not stream.head.done():
                stream.head.set_result(UpstreamResponse(status, headers, body))
        elif isinstance(event, h2.events.DataReceived):
            if event.flow_controlled_length:
                with contextlib.suppress(h2.exceptions.ProtocolError):
                    self.h2.acknowledge_received_data(event.flow_controlled_length,
                                                      event.stream_id)
            if stream is not None and stream.body is not None and event.data:
                stream.body.feed(event.data)
        elif isinstance(event, h2.events.TrailersReceived) and stream is not None:
            if stream.body is not None:  # h2 reports them before StreamEnded
                stream.body.trailers = [
                    (bytes(k).decode("latin-1"), bytes(v).decode("latin-1"))
                    for k, v in event.headers if not bytes(k).startswith(b":")]
        elif isinstance(event, h2.events.StreamEnded) and stream is not None:
            if stream.body is not None:
                stream.body.finish()
            self.streams.pop(event.stream_id, None)
        elif isinstance(event, h2.events.StreamReset) and stream is not None:
            self._fail(stream, UpstreamError("reset", f"the target reset the stream "
                                             f"(error {event.error_code})"))
            self.streams.pop(event.stream_id, None)
        elif isinstance(event, h2.events.WindowUpdated):
            targets = self.streams.values() if not event.stream_id else (
                [stream] if stream is not None else [])
            for s in targets:
                s.window.set()
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.alive = False
            self._fail_all(UpstreamError("reset", "the target closed the HTTP/2 connection"))

    @staticmethod
    def _fail(stream: _Stream, exc: UpstreamError) -> None:
        if not stream.head.done():
            stream.head.set_exception(exc)
        elif stream.body is not None and not stream.body.finished:
            stream.body.fail(exc)
        stream.window.set()

    def _fail_all(self, exc: UpstreamError) -> None:
        for stream in list(self.streams.values()):
            self._fail(stream, exc)
        self.streams.clear()

    def connection_lost(self, exc: Exception | None) -> None:
        self.alive = False
        self._can_write.set()
        self._fail_all(UpstreamError("reset", "the target closed the connection"
                                     + (f": {exc}" if exc else "")))
        self.pool.forget(self)

    def pause_writing(self) -> None:
        self._can_write.clear()

    def resume_writing(self) -> None:
        self._can_write.set()

    def close(self) -> None:
        self.alive = False
        if self.transport is not None:
            self.transport.close()

    # ------------------------------------------------------------------ one request
    def open_stream(self, headers: list[tuple[str, str]], end: bool) -> tuple[int, _Stream]:
        sid = self.h2.get_next_available_stream_id()
        stream = _Stream(asyncio.get_running_loop().create_future())
        self.streams[sid] = stream
        self.h2.send_headers(sid, headers, end_stream=end)
        self.flush()
        return sid, stream

    async def send_data(self, sid: int, stream: _Stream, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if not self.alive or sid not in self.streams:
                raise UpstreamError("reset", "the target closed the stream")
            window = min(self.h2.local_flow_control_window(sid), self.h2.max_outbound_frame_size)
            if window <= 0:
                stream.window.clear()
                await stream.window.wait()
                continue
            self.h2.send_data(sid, bytes(view[:window]))
            self.flush()
            view = view[window:]
            if not self._can_write.is_set():
                await self._can_write.wait()

    def end_stream(self, sid: int) -> None:
        if sid in self.streams:
            self.h2.end_stream(sid)
            self.flush()


class H2Pool:
    """HTTP/2 connections to targets by (host, port, TLS); ``timeout`` bounds the wait for
    a response head (504 after it), as ``UpstreamPool``'s does."""

    def __init__(self, *, connect_timeout: float = 10.0, timeout: float = 60.0) -> None:
        self.connect_timeout = connect_timeout
        self.timeout = timeout
        self._conns: dict[tuple[str, int, bool], _H2Conn] = {}
        self._connecting: dict[tuple[str, int, bool], asyncio.Future[_H2Conn]] = {}
        self._tls = ssl.create_default_context()
        # ALB and Lattice do not validate target certificates (self-signed is fine).
        self._tls.check_hostname = False
        self._tls.verify_mode = ssl.CERT_NONE
        self._tls.set_alpn_protocols(["h2"])

    def forget(self, conn: _H2Conn) -> None:
        if self._conns.get(conn.key) is conn:
            del self._conns[conn.key]

    def close(self) -> None:
        for conn in list(self._conns.values()):
            conn.close()
        self._conns.clear()

    async def _connection(self, key: tuple[str, int, bool]) -> _H2Conn:
        conn = self._conns.get(key)
        if conn is not None and conn.alive:
            return conn
        pending = self._connecting.get(key)
        if pending is not None:  # one connection for concurrent first requests
            return await asyncio.shield(pending)
        future: asyncio.Future[_H2Conn] = asyncio.get_running_loop().create_future()
        self._connecting[key] = future
        try:
            conn = await self._connect(key)
            self._conns[key] = conn
            future.set_result(conn)
            return conn
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning
            raise
        finally:
            del self._connecting[key]

    async def _connect(self, key: tuple[str, int, bool]) -> _H2Conn:
        host, port, tls = key
        loop = asyncio.get_running_loop()
        conn = _H2Conn(self, key)
        try:
            transport, _ = await asyncio.wait_for(loop.create_connection(
                lambda: conn, host, port, ssl=self._tls if tls else None,
                server_hostname=host if tls else None), self.connect_timeout)
        except TimeoutError:
            raise UpstreamError("timeout", f"connecting to {host}:{port} timed out") from None
        except ConnectionRefusedError:
            raise UpstreamError("refused", f"{host}:{port} refused the connection") from None
        except (OSError, ssl.SSLError) as exc:
            raise UpstreamError("reset", f"cannot connect to {host}:{port}: {exc}") from None
        if tls:
            ssl_object = transport.get_extra_info("ssl_object")
            alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
            if alpn != "h2":
                transport.close()
                raise UpstreamError("protocol", f"{host}:{port} did not accept HTTP/2 "
                                    f"(ALPN {alpn!r})")
        return conn

    async def request(self, host: str, port: int, method: str, target: str,
                      headers: list[tuple[str, str]], body: bytes | Body, *,
                      tls: bool = False) -> UpstreamResponse:
        """Send one request on a stream; return once the response head arrived."""
        conn = await self._connection((host, port, tls))
        authority = host
        out: list[tuple[str, str]] = []
        for k, v in headers:
            lk = k.lower()
            if lk == "host":
                authority = v
            elif lk not in HOP_BY_HOP and lk != "content-length":
                out.append((lk, v))
        if any(k == "content-type" and v.startswith("application/grpc") for k, v in out):
            out.append(("te", "trailers"))  # gRPC needs it; HTTP/2 allows only this value
        if isinstance(body, Body):
            ready = body.take_ready()
            if ready is not None:
                body = ready
        if isinstance(body, bytes) and (body or method not in ("GET", "HEAD", "DELETE",
                                                                "OPTIONS")):
            out.append(("content-length", str(len(body))))
        elif isinstance(body, Body) and body.length is not None:
            out.append(("content-length", str(body.length)))
        pseudo = [(":method", method), (":scheme", "https" if tls else "http"),
                  (":authority", authority), (":path", target or "/")]
        empty = isinstance(body, bytes) and not body
        try:
            sid, stream = conn.open_stream(pseudo + out, empty)
        except h2.exceptions.ProtocolError as exc:
            raise UpstreamError("protocol", f"cannot open a stream: {exc}") from None
        loop = asyncio.get_running_loop()
        sender = None if empty else loop.create_task(self._send(conn, sid, stream, body))
        try:
            return await asyncio.wait_for(asyncio.shield(stream.head), self.timeout)
        except TimeoutError:
            with contextlib.suppress(Exception):
                conn.h2.reset_stream(sid)
                conn.flush()
            raise UpstreamError("timeout", f"no response within {self.timeout:g} s") from None
        finally:
            head = stream.head
            if sender is not None and not sender.done() and head.done() and (
                    head.cancelled() or head.exception() is not None):
                sender.cancel()

    @staticmethod
    async def _send(conn: _H2Conn, sid: int, stream: _Stream, body: bytes | Body) -> None:
        try:
            if isinstance(body, bytes):
                await conn.send_data(sid, stream, body)
            else:
                async for piece in body:
                    if piece:
                        await conn.send_data(sid, stream, piece)
            conn.end_stream(sid)
        except (UpstreamError, ConnectionError, h2.exceptions.ProtocolError) as exc:
            with contextlib.suppress(Exception):
                conn.h2.reset_stream(sid)
                conn.flush()
            _H2Conn._fail(stream, exc if isinstance(exc, UpstreamError)
                          else UpstreamError("reset", str(exc)))

"""Target health checks that really probe the processes behind VPC Lattice and ELB target
groups, and write what they find into the model (Lattice ``LatticeTarget.status``, ELB
``Target.set_health``) so ListTargets and DescribeTargetHealth show it and the proxy skips
unhealthy targets.

Each target is probed every ``interval`` seconds on the group's health-check path, port and
protocol (reached through the target address map: a target's VPC address is not on this
machine); the state flips after ``unhealthy_threshold`` consecutive failures or
``healthy_threshold`` consecutive successes. A target still INITIAL becomes healthy at its
first success (ASSUMED: AWS documents that a new target must pass one check). The model is
written only when a state changes. ``interval_override`` and the clock exist for tests and
local development (``localvpc serve --dev-health-interval``), as in dns/health.py.

Target groups that talk HTTP/2 to their targets are probed in HTTP/2 (h2c with prior
knowledge over HTTP, ALPN ``h2`` over HTTPS), as the services do: a target that only speaks
HTTP/1.1 fails them. An ELB target group of protocol version GRPC gets gRPC health checks:
a unary call on the health-check path whose ``grpc-status`` must match ``GrpcCode``
(default 12, UNIMPLEMENTED, which any gRPC server answers for the default path
``/AWS.ALB/healthcheck``). Lattice has no gRPC health checks (LTG-3).

An NLB target group with ``proxy_protocol_v2.enabled`` gets a PROXY protocol v2 LOCAL
header (no addresses) first on every probe connection, before the HTTP request and before
the TLS handshake of an HTTPS one, as AWS does: a target that requires the header would
otherwise fail its checks while serving traffic fine.
"""

from __future__ import annotations

import contextlib
import functools
import http.client
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from localvpc.dns.source import ModelSource
from localvpc.lattice import proxy_protocol
from localvpc.lattice.targets import join_host_port
from localvpc.model.elb import Target, TargetGroup
from localvpc.model.lattice import LatticeTarget, LatticeTargetGroup
from localvpc.model.network import Network

log = logging.getLogger("localvpc.lattice.health")

Clock = Callable[[], float]
#: (VPC id, target id, port) -> the (host, port) on this machine, or None when unmapped.
Locate = Callable[[str, str, int], "tuple[str, int] | None"]
USER_AGENT = "localvpc-HealthChecker/1.0"
#: One gRPC message with an empty payload (flag 0, length 0): the request of a health
#: check call (ASSUMED: what ALB sends; an empty message is any method's default input).
GRPC_EMPTY_MESSAGE = b"\x00\x00\x00\x00\x00"
#: gRPC's mapping of an HTTP status without a grpc-status to a gRPC code
#: (grpc/doc/http-grpc-status-mapping.md); anything else is UNKNOWN (2).
_GRPC_FROM_HTTP = {400: 13, 401: 16, 403: 7, 404: 12, 429: 14, 502: 14, 503: 14, 504: 14}


def matches(matcher: str, status: int) -> bool:
    """ALB-style success codes: ``"200"``, ``"200-299"``, ``"200,204"``."""
    for part in (matcher or "200").split(","):
        low, _, high = part.strip().partition("-")
        try:
            if (high and int(low) <= status <= int(high)) or (not high and status == int(low)):
                return True
        except ValueError:
            continue
    return False


@dataclass(slots=True, frozen=True)
class Check:
    """One target's health check, flattened from either service's model."""

    kind: str  # lattice | elb
    group_id: str
    target_id: str
    traffic_port: int
    vpc_id: str
    protocol: str  # HTTP | HTTPS | TCP
    port: int
    path: str
    matcher: str
    interval: float
    timeout: float
    healthy_threshold: int
    unhealthy_threshold: int
    # HTTP1 | HTTP2 | GRPC: how an HTTP/HTTPS probe speaks (GRPC: ``matcher`` holds gRPC
    # codes, e.g. "12" or "0-5")
    version: str = "HTTP1"
    # NLB TCP/TLS group with proxy_protocol_v2.enabled: a LOCAL header opens each probe
    proxy_v2: bool = False

    @property
    def key(self) -> tuple[str, str, str, int]:
        return (self.kind, self.group_id, self.target_id, self.traffic_port)


@dataclass(slots=True)
class Result:
    ok: bool
    reason: str | None = None  # ELB reason code when failed
    description: str | None = None


def probe(check: Check, where: tuple[str, int] | None) -> Result:
    """One probe, as one load balancer node makes it."""
    if where is None:
        return Result(False, "Target.FailedHealthChecks",
                      f"{check.target_id} has no address on this machine (localvpc lattice "
                      "targets set ...)")
    host, port = where
    if check.protocol == "TCP":
        try:
            with socket.create_connection((host, port), timeout=check.timeout) as sock:
                if check.proxy_v2:
                    # The handshake is the verdict; a target that resets once it has the
                    # header has still answered the check.
                    with contextlib.suppress(OSError):
                        sock.sendall(proxy_protocol.local())
                return Result(True)
        except TimeoutError:
            return Result(False, "Target.Timeout", "Request timed out")
        except OSError:
            return Result(False, "Target.FailedHealthChecks", "Health checks failed")
    if check.version in ("HTTP2", "GRPC"):
        return _probe_h2(check, host, port)
    conn: http.client.HTTPConnection
    if check.protocol == "HTTPS":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False  # load balancers do not validate target certificates
        ctx.verify_mode = ssl.CERT_NONE
        https = _ProxiedHTTPS if check.proxy_v2 else http.client.HTTPSConnection
        conn = https(host, port, timeout=check.timeout, context=ctx)
    else:
        plain = _ProxiedHTTP if check.proxy_v2 else http.client.HTTPConnection
        conn = plain(host, port, timeout=check.timeout)
    try:
        conn.request("GET", check.path or "/", headers={"User-Agent": USER_AGENT,
                                                        "Connection": "close"})
        response = conn.getresponse()
        response.read(64 * 1024)
        return _by_code(check, response.status)
    except TimeoutError:
        return Result(False, "Target.Timeout", "Request timed out")
    except (OSError, http.client.HTTPException):
        return Result(False, "Target.FailedHealthChecks", "Health checks failed")
    finally:
        conn.close()


class _ProxiedHTTP(http.client.HTTPConnection):
    """Sends the PROXY v2 LOCAL header right after the TCP connect."""

    def connect(self) -> None:
        super().connect()
        assert self.sock is not None
        self.sock.sendall(proxy_protocol.local())


class _ProxiedHTTPS(http.client.HTTPSConnection, _ProxiedHTTP):
    """HTTPSConnection.connect wraps what ``super().connect()`` opened, and that is
    _ProxiedHTTP's (by the MRO): the header goes on the bare TCP stream before TLS."""


def _probe_h2(check: Check, host: str, port: int) -> Result:
    """An HTTP/2 probe, or a gRPC one when the group's protocol version is GRPC."""
    try:
        status, fields = h2_exchange(check, host, port)
    except TimeoutError:
        return Result(False, "Target.Timeout", "Request timed out")
    except (OSError, h2.exceptions.H2Error, ValueError):
        # refused, reset, not HTTP/2 (an HTTP/1.1-only target answers the preface with
        # something h2 cannot parse, or closes), a bad frame
        return Result(False, "Target.FailedHealthChecks", "Health checks failed")
    except Exception:  # whatever a broken target sends, it fails its check, not the tick
        log.debug("HTTP/2 probe of %s:%d failed", host, port, exc_info=True)
        return Result(False, "Target.FailedHealthChecks", "Health checks failed")
    # gRPC: the matcher holds gRPC codes (ASSUMED wording on a mismatch: the HTTP one's)
    return _by_code(check, grpc_status(status, fields) if check.version == "GRPC" else status)


def _by_code(check: Check, code: int) -> Result:
    """Healthy when the matcher accepts ``code``; else AWS's mismatch reason."""
    if matches(check.matcher, code):
        return Result(True)
    return Result(False, "Target.ResponseCodeMismatch",
                  f"Health checks failed with these codes: [{code}]")


def grpc_status(http_status: int, fields: dict[str, str]) -> int:
    """The call's gRPC status: ``grpc-status`` from the trailers (or from the headers of a
    trailers-only answer); without one, gRPC's mapping of the HTTP status (a 200 without a
    status is INTERNAL, 13, as gRPC clients report it)."""
    value = fields.get("grpc-status", "").strip()
    if value.isdigit():
        return int(value)
    if http_status == 200:
        return 13
    return _GRPC_FROM_HTTP.get(http_status, 2)


@functools.cache
def _h2_tls() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False  # load balancers do not validate target certificates
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols(["h2"])
    return ctx


def h2_exchange(check: Check, host: str, port: int) -> tuple[int, dict[str, str]]:
    """One HTTP/2 request on a fresh connection, on blocking sockets (the probes run in a
    thread pool): the ``:status`` and the response's fields (trailers after headers, so a
    trailer wins). A GET returns at the response head; a gRPC call waits for the end of
    the stream, whose trailers carry the status. All within ``check.timeout``."""
    deadline = time.monotonic() + check.timeout
    raw = socket.create_connection((host, port), timeout=check.timeout)
    sock: socket.socket = raw
    try:
        if check.proxy_v2:
            raw.sendall(proxy_protocol.local())
        if check.protocol == "HTTPS":
            sock = _h2_tls().wrap_socket(raw)
            if sock.selected_alpn_protocol() != "h2":
                raise ConnectionRefusedError("the target did not accept HTTP/2 by ALPN")
        conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=True, header_encoding=None))
        conn.initiate_connection()
        sid = conn.get_next_available_stream_id()
        grpc = check.version == "GRPC"
        conn.send_headers(sid, [
            (":method", "POST" if grpc else "GET"),
            (":scheme", "https" if check.protocol == "HTTPS" else "http"),
            (":authority", join_host_port(host, port)), (":path", check.path or "/"),
            ("user-agent", USER_AGENT),
            *((("content-type", "application/grpc"), ("te", "trailers")) if grpc else ())],
            end_stream=not grpc)
        if grpc:
            conn.send_data(sid, GRPC_EMPTY_MESSAGE, end_stream=True)
        sock.sendall(conn.data_to_send())
        status = 0
        fields: dict[str, str] = {}
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer in time")
            sock.settimeout(left)
            data = sock.recv(65536)
            if not data:
                raise ConnectionResetError("the target closed the connection")
            ended = False
            for ev in conn.receive_data(data):
                if isinstance(ev, h2.events.ResponseReceived | h2.events.TrailersReceived) \
                        and ev.stream_id == sid:
                    for k, v in ev.headers or ():
                        name, value = bytes(k).decode("latin-1"), bytes(v).decode("latin-1")
                        if name == ":status":
                            status = int(value)
                        else:
                            fields[name] = value
                    if not grpc and status:
                        ended = True  # the status is all an HTTP/2 check reads
                elif isinstance(ev, h2.events.DataReceived):
                    conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                elif isinstance(ev, h2.events.StreamEnded) and ev.stream_id == sid:
                    ended = True
                elif isinstance(ev, h2.events.StreamReset) and ev.stream_id == sid:
                    raise ConnectionResetError(f"the target reset the stream ({ev.error_code})")
                elif isinstance(ev, h2.events.ConnectionTerminated) and not ended:
                    raise ConnectionResetError("the target ended the HTTP/2 connection")
            if ended:
                with contextlib.suppress(OSError, h2.exceptions.H2Error):
                    conn.close_connection()
                    sock.sendall(conn.data_to_send())
                return status, fields
            pending = conn.data_to_send()
            if pending:
                sock.sendall(pending)
    finally:
        sock.close()
        raw.close()


def lattice_checks(network: Network) -> list[Check]:
    out: list[Check] = []
    for tg in network.lattice_target_groups.values():
        hc = tg.health_check
        if hc is None or not hc.enabled or tg.tg_type not in ("INSTANCE", "IP"):
            continue
        # The health check's own protocolVersion (HTTP1 | HTTP2: the API takes no GRPC,
        # Lattice has no gRPC health checks, LTG-3).
        version = "HTTP2" if (hc.protocol_version or "").upper() == "HTTP2" else "HTTP1"
        for t in tg.targets:
            traffic = t.port or tg.port or 80
            out.append(Check("lattice", tg.id, t.id, traffic, tg.vpc_id or "",
                             hc.protocol or "HTTP", hc.port or traffic, hc.path or "/",
                             hc.matcher or "200", float(hc.interval_seconds),
                             float(hc.timeout_seconds), hc.healthy_threshold,
                             hc.unhealthy_threshold, version))
    return out


def elb_checks(network: Network) -> list[Check]:
    out: list[Check] = []
    for tg in network.target_groups.values():
        if not tg.health_check_enabled or tg.target_type not in ("instance", "ip") \
                or not tg.load_balancer_arns:
            continue
        protocol = tg.health_check_protocol or tg.protocol
        protocol = protocol if protocol in ("HTTP", "HTTPS") else "TCP"
        # An ALB checks in the group's protocol version: HTTP/2, or gRPC with GrpcCode.
        version = (tg.protocol_version or "HTTP1").upper()
        version = version if version in ("HTTP2", "GRPC") else "HTTP1"
        grpc = version == "GRPC"
        path = tg.health_check_path or ("/AWS.ALB/healthcheck" if grpc else "/")
        matcher = (tg.matcher_grpc or "12") if grpc else (tg.matcher_http or "200")
        # As the NLB data path (nlb.py) decides it: only TCP and TLS groups take the header.
        proxy_v2 = (tg.protocol in ("TCP", "TLS")
                    and tg.attributes.get("proxy_protocol_v2.enabled") == "true")
        for t in tg.targets:
            traffic = t.port or tg.port or 80
            port = (traffic if tg.health_check_port in ("traffic-port", "", None)
                    else int(tg.health_check_port))
            out.append(Check("elb", tg.id, t.id, traffic, tg.vpc_id, protocol, port,
                             path, matcher, float(tg.health_check_interval),
                             float(tg.health_check_timeout), tg.healthy_threshold,
                             tg.unhealthy_threshold, version, proxy_v2))
    return out


@dataclass(slots=True)
class _Track:
    next_due: float
    ok_run: int = 0
    fail_run: int = 0


class TargetHealthChecker:
    """``tick`` probes what is due and writes flips; ``start`` runs ticks on a thread."""

    def __init__(self, source: ModelSource, locate: Locate, *, clock: Clock = time.monotonic,
                 interval_override: float | None = None, workers: int = 8) -> None:
        self.source = source
        self.locate = locate
        self.clock = clock
        self.interval_override = interval_override
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="localvpc-thc")
        self._tracks: dict[tuple[str, str, str, int], _Track] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> list[tuple[str, str, str]]:
        """Probe what is due; returns (group, target, new state) for every flip."""
        now = self.clock()
        with self.source.lock:
            checks = lattice_checks(self.source.network) + elb_checks(self.source.network)
        keys = {c.key for c in checks}
        for gone in set(self._tracks) - keys:
            del self._tracks[gone]
        due: list[Check] = []
        for check in checks:
            track = self._tracks.setdefault(check.key, _Track(now))
            if track.next_due <= now:
                track.next_due = now + (self.interval_override
                                        if self.interval_override is not None
                                        else check.interval)
                due.append(check)
        if not due:
            return []
        wheres = [self.locate(c.vpc_id, c.target_id, c.port) for c in due]
        if self.interval_override is not None:  # probes must not outlast the interval
            due = [_shorter(c, self.interval_override) for c in due]
        results = list(self.pool.map(probe, due, wheres))
        return self._apply(list(zip(due, results, strict=True)))

    def _apply(self, outcomes: list[tuple[Check, Result]]) -> list[tuple[str, str, str]]:
        flips: list[tuple[str, str, str]] = []
        with self.source.lock:
            network = self.source.network
            pending: list[tuple[Check, Result, str]] = []
            for check, result in outcomes:
                current = _current(network, check)
                if current is None:
                    continue
                new = self._judge(check, result, current)
                if new != current:
                    pending.append((check, result, new))
            if not pending:
                return flips
            with self.source.write() as w:
                for check, result, new in pending:
                    group = _set(network, check, result, new)
                    if group is not None:
                        w.save(group)
                        flips.append((check.group_id, check.target_id, new))
                        log.info("target %s:%d of %s is now %s", check.target_id,
                                 check.traffic_port, check.group_id, new)
        return flips

    def _judge(self, check: Check, result: Result, current: str) -> str:
        track = self._tracks[check.key]
        healthy = "healthy" if check.kind == "elb" else "HEALTHY"
        unhealthy = "unhealthy" if check.kind == "elb" else "UNHEALTHY"
        if result.ok:
            track.ok_run, track.fail_run = track.ok_run + 1, 0
            if current.lower() in ("initial", "unknown") or (
                    current.lower() != "healthy"
                    and track.ok_run >= max(1, check.healthy_threshold)):
                return healthy
        else:
            track.fail_run, track.ok_run = track.fail_run + 1, 0
            if current.lower() != "unhealthy" and \
                    track.fail_run >= max(1, check.unhealthy_threshold):
                return unhealthy
        return current

    # ------------------------------------------------------------------ thread
    def start(self, step: float = 0.2) -> TargetHealthChecker:
        def loop() -> None:
            while not self._stop.wait(step):
                try:
                    self.tick()
                except Exception:  # one bad group must not end health checking
                    log.exception("target health tick failed")

        self._thread = threading.Thread(target=loop, name="localvpc-target-health",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        self.pool.shutdown(wait=False, cancel_futures=True)


def _shorter(check: Check, interval: float) -> Check:
    from dataclasses import replace

    return replace(check, timeout=max(0.2, min(check.timeout, interval)))


def _lattice_target(network: Network, check: Check
                    ) -> tuple[LatticeTargetGroup, LatticeTarget] | None:
    ltg = network.lattice_target_groups.get(check.group_id)
    if ltg is None:
        return None
    target = next((t for t in ltg.targets if t.id == check.target_id
                   and (t.port or ltg.port or 80) == check.traffic_port), None)
    return (ltg, target) if target is not None else None


def _elb_target(network: Network, check: Check) -> tuple[TargetGroup, Target] | None:
    etg = network.target_groups.get(check.group_id)
    target = etg.find_target(check.target_id, check.traffic_port) if etg else None
    return (etg, target) if etg is not None and target is not None else None


def _current(network: Network, check: Check) -> str | None:
    if check.kind == "lattice":
        found = _lattice_target(network, check)
        return found[1].status if found else None
    elb = _elb_target(network, check)
    return elb[1].health if elb else None


def _set(network: Network, check: Check, result: Result, new: str
         ) -> LatticeTargetGroup | TargetGroup | None:
    if check.kind == "lattice":
        found = _lattice_target(network, check)
        if found is None:
            return None
        found[1].status = new
        # ASSUMED reason code (Lattice documents the field, not its values).
        found[1].reason_code = None if result.ok else "HealthCheckFailed"
        return found[0]
    elb = _elb_target(network, check)
    if elb is None:
        return None
    elb[1].set_health(new, None if result.ok else result.reason,
                      None if result.ok else result.description)
    return elb[0]

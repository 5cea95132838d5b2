"""Route 53 health checks that really probe: HTTP(S) (with string matching) and TCP
endpoints every ``RequestInterval`` seconds, flipping after ``FailureThreshold``
consecutive opposite results (RP-4); CALCULATED checks follow their children. The result
goes into the model (``HealthCheck.healthy``), so failover and weighted records switch.

Route 53 allows intervals of 10 or 30 s only. ``interval_override`` shortens every check's
interval and exists for tests and local development only (``localvpc serve
--dev-health-interval``); the clock is injectable so tests can step time themselves.
"""

from __future__ import annotations

import http.client
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from localvpc.dns.source import ModelSource
from localvpc.model.dns import HealthCheck

log = logging.getLogger("localvpc.dns.health")

Clock = Callable[[], float]

CONNECT_TIMEOUT = 4.0  # HTTP(S): TCP connect within 4 s ...
RESPONSE_TIMEOUT = 2.0  # ... then a status line within 2 s
TCP_TIMEOUT = 10.0
MATCH_WINDOW = 5120  # *_STR_MATCH: the search string in the first 5,120 bytes
PROBED = ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP")


@dataclass(slots=True)
class Probe:
    ok: bool
    report: str


def probe(check: HealthCheck, connect_timeout: float = CONNECT_TIMEOUT,
          response_timeout: float = RESPONSE_TIMEOUT, tcp_timeout: float = TCP_TIMEOUT
          ) -> Probe:
    """One probe of an endpoint check, as one Route 53 checker makes it."""
    host = check.ip_address or check.fqdn
    if not host:
        return Probe(False, "Failure: no IP address or domain name to check")
    kind = check.type
    tls = kind.startswith("HTTPS")
    port = check.port or (443 if tls else 80)
    if kind == "TCP":
        try:
            with socket.create_connection((host, port), timeout=tcp_timeout):
                return Probe(True, "Success: TCP connection established")
        except OSError as exc:
            return Probe(False, f"Failure: TCP connection to {host}:{port} failed: {exc}")
    conn: http.client.HTTPConnection
    if tls:
        # Route 53 does not validate certificates.
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        conn = http.client.HTTPSConnection(host, port, timeout=connect_timeout,
                                           context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=connect_timeout)
    try:
        conn.connect()
        if conn.sock is not None:
            conn.sock.settimeout(response_timeout)
        conn.putrequest("GET", check.resource_path or "/", skip_host=True)
        conn.putheader("Host", check.fqdn or host)
        conn.putheader("User-Agent", "Amazon-Route53-Health-Check-Service (localvpc)")
        conn.endheaders()
        response = conn.getresponse()
        status = response.status
        if not 200 <= status < 400:
            return Probe(False, f"Failure: HTTP Status Code {status}, {response.reason}")
        if kind.endswith("STR_MATCH"):
            body = response.read(MATCH_WINDOW)
            needle = (check.search_string or "").encode()
            if needle not in body:
                return Probe(False, f"Failure: search string '{check.search_string}' not "
                                    f"found in the first {MATCH_WINDOW} bytes of the body")
        return Probe(True, f"Success: HTTP Status Code {status}, {response.reason}")
    except (OSError, http.client.HTTPException) as exc:
        return Probe(False, f"Failure: {type(exc).__name__}: {exc}")
    finally:
        conn.close()


@dataclass(slots=True)
class _Track:
    next_due: float
    ok_run: int = 0
    fail_run: int = 0


class HealthChecker:
    """Probes every endpoint health check when due (``tick``) and writes flips to the
    model. ``start`` runs ticks on a thread; tests call ``tick`` with their own clock."""

    def __init__(self, source: ModelSource, *, clock: Clock = time.monotonic,
                 interval_override: float | None = None, workers: int = 4) -> None:
        self.source = source
        self.clock = clock
        self.interval_override = interval_override
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="localvpc-hc")
        self._tracks: dict[str, _Track] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def interval(self, check: HealthCheck) -> float:
        return (self.interval_override if self.interval_override is not None
                else float(check.request_interval))

    def tick(self) -> list[str]:
        """Probe what is due now, update the model; returns the ids whose status flipped."""
        now = self.clock()
        with self.source.lock:
            checks = {c.id: c for c in self.source.network.health_checks.values()}
        for gone in set(self._tracks) - set(checks):
            del self._tracks[gone]
        due = []
        for check in checks.values():
            if check.type not in PROBED or check.disabled:
                continue
            track = self._tracks.setdefault(check.id, _Track(now))
            if track.next_due <= now:
                track.next_due = now + self.interval(check)
                due.append(check)
        results = list(self.pool.map(probe, due))
        updates: dict[str, tuple[bool | None, str]] = {}
        for check, result in zip(due, results, strict=True):
            updates[check.id] = (self._judge(check, result), result.report)
        return self._apply(checks, updates, now)

    def _judge(self, check: HealthCheck, result: Probe) -> bool | None:
        """The status after one more result: it flips after ``failure_threshold``
        consecutive opposite results; an unchecked endpoint becomes healthy at its first
        success (AWS considers new checks healthy)."""
        track = self._tracks[check.id]
        threshold = max(1, check.failure_threshold)
        if result.ok:
            track.ok_run, track.fail_run = track.ok_run + 1, 0
            if check.healthy is None or (not check.healthy and track.ok_run >= threshold):
                return True
        else:
            track.fail_run, track.ok_run = track.fail_run + 1, 0
            if check.healthy is not False and track.fail_run >= threshold:
                return False
        return check.healthy

    def _apply(self, checks: dict[str, HealthCheck],
               updates: dict[str, tuple[bool | None, str]], now: float) -> list[str]:
        flipped: list[str] = []
        with self.source.lock:
            network = self.source.network
            changed = []
            for cid, (healthy, report) in updates.items():
                check = network.health_checks.get(cid)
                if check is None:
                    continue
                # The report and time are observations, kept in memory between flips
                # (persisting every probe would rewrite the store every few seconds).
                check.status_report, check.checked_at = report, time.time()
                if healthy != check.healthy:
                    changed.append((check, healthy))
            for check, healthy in self._calculated(network.health_checks, changed):
                changed.append((check, healthy))
            if changed:
                with self.source.write() as w:
                    for check, healthy in changed:
                        live = network.health_checks.get(check.id)
                        if live is None:
                            continue
                        live.healthy = healthy
                        w.save(live)
                        flipped.append(live.id)
                        log.info("health check %s is now %s (%s)", live.id,
                                 "healthy" if healthy else "unhealthy", live.status_report)
        return flipped

    @staticmethod
    def _calculated(all_checks: dict[str, HealthCheck],
                    pending: list[tuple[HealthCheck, bool | None]]
                    ) -> list[tuple[HealthCheck, bool | None]]:
        """CALCULATED checks: healthy when at least ``health_threshold`` children are
        (all of them when unset); CLOUDWATCH_METRIC checks take
        ``InsufficientDataHealthStatus`` (no alarms are emulated)."""
        new = {c.id: h for c, h in pending}

        def effective(c: HealthCheck) -> bool:
            if c.disabled:
                return True
            base = new.get(c.id, c.healthy)
            base = True if base is None else base
            return not base if c.inverted else base

        out: list[tuple[HealthCheck, bool | None]] = []
        for c in all_checks.values():
            kids: list[HealthCheck] = []
            if c.type == "CALCULATED":
                kids = [all_checks[k] for k in c.child_health_checks if k in all_checks]
                need = c.health_threshold if c.health_threshold is not None else len(kids)
                healthy = sum(effective(k) for k in kids) >= need
            elif c.type == "CLOUDWATCH_METRIC":
                status = (c.insufficient_data_health_status or "LastKnownStatus").lower()
                healthy = (True if status == "healthy" else False if status == "unhealthy"
                           else c.healthy if c.healthy is not None else True)
            else:
                continue
            if healthy != c.healthy:
                c.status_report = (f"Success: {sum(effective(k) for k in kids)} healthy "
                                   "children" if c.type == "CALCULATED" else
                                   "Insufficient data (no CloudWatch alarm emulated)")
                out.append((c, healthy))
        return out

    # ------------------------------------------------------------------ thread
    def start(self, step: float = 0.2) -> HealthChecker:
        def loop() -> None:
            while not self._stop.wait(step):
                try:
                    self.tick()
                except Exception:  # a bad check must not end health checking
                    log.exception("health check tick failed")

        self._thread = threading.Thread(target=loop, name="localvpc-health", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)
        self.pool.shutdown(wait=False, cancel_futures=True)

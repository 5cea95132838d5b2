"""Access logs: VPC Lattice's JSON records (AL-1..AL-3) and ALB's space-separated lines,
delivered where the subscription or load balancer attributes say, through the same objects
flow logs use (``state.delivery``: S3 objects, CloudWatch Logs, Firehose).

The proxy calls ``AccessLogWriter.lattice``/``.alb`` once per request (both for a request
Lattice sends through an ALB target group), the TLS_PASSTHROUGH proxy ``.lattice_connection``
once per connection; those only build the record and append it to a buffer, so the event
loop never waits for SQLite or the disk. A flusher thread (``start``) or an explicit
``flush`` delivers: CloudWatch Logs and Firehose every second, S3 objects per
``s3_interval`` (AWS: about 5-6 minutes; shorter here so users see them) and on ``close``.
"""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import json
import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from localvpc.flowlogs.firehose import FirehoseEngine
from localvpc.lattice.request import Request
from localvpc.lattice.routing import Decision, vpc_arn
from localvpc.model.elb import LoadBalancer
from localvpc.model.lattice import AccessLogSubscription
from localvpc.model.network import Network
from localvpc.store.logstore import LogStore
from localvpc.store.objects import ObjectStore

log = logging.getLogger("localvpc.lattice.access_logs")

#: AL-3, in the order records are written. AWS page: "Access logs for Amazon VPC Lattice",
#: section "Access log contents" (docs.aws.amazon.com/vpc-lattice/latest/ug/
#: monitoring-access-logs.html#monitoring-access-logs-contents). Its field table was not
#: in the stored copies we could search, so names follow AL-3, which one record AWS
#: delivered (an HTTP listener, 2024, quoted in a sample's README) matches key for key: 35
#: keys, the six LATTICE_NUMBERS as JSON numbers, ``"-"`` for what does not apply. The
#: order is ours (JSON consumers do not depend on it).
LATTICE_FIELDS = (
    "startTime", "sourceIpPort", "targetIpPort", "serviceNetworkArn", "serviceArn",
    "targetGroupArn", "sourceVpcArn", "sourceVpcId", "destinationVpcId", "listenerId",
    "listenerType", "protocol", "requestMethod", "requestPath", "hostHeader", "userAgent",
    "serverNameIndication", "sslCipher", "tlsVersion", "responseCode", "bytesReceived",
    "bytesSent", "duration", "requestToTargetDuration", "responseFromTargetDuration",
    "callerPrincipal", "callerPrincipalOrgID", "callerX509IssuerOU", "callerX509SubjectCN",
    "callerX509SANNameCN", "callerX509SANDNS", "callerX509SANURI", "resolvedUser",
    "authDeniedReason", "failureReason")
LATTICE_NUMBERS = frozenset({"responseCode", "bytesReceived", "bytesSent", "duration",
                             "requestToTargetDuration", "responseFromTargetDuration"})

#: ALB access log entry fields, in AWS's order.
ALB_FIELDS = (
    "type", "time", "elb", "client:port", "target:port", "request_processing_time",
    "target_processing_time", "response_processing_time", "elb_status_code",
    "target_status_code", "received_bytes", "sent_bytes", "request", "user_agent",
    "ssl_cipher", "ssl_protocol", "target_group_arn", "trace_id", "domain_name",
    "chosen_cert_arn", "matched_rule_priority", "request_creation_time", "actions_executed",
    "redirect_url", "error_reason", "target:port_list", "target_status_code_list",
    "classification", "classification_reason", "conn_trace_id")
_ALB_QUOTED = frozenset({"request", "user_agent", "trace_id", "domain_name", "chosen_cert_arn",
                         "actions_executed", "redirect_url", "error_reason", "target:port_list",
                         "target_status_code_list", "classification",
                         "classification_reason"})


@dataclass(slots=True)
class Exchange:
    """What the proxy measured about one request. Times are epoch seconds: ``end`` when
    the last response byte was written, ``target_sent``/``target_answered`` when the request
    went to the target and its response head came back (None when no target was asked).
    ``target_address`` is the target's VPC address ``ip:port`` (not the loopback one)."""

    status: int
    bytes_received: int = 0
    bytes_sent: int = 0
    end: float = field(default_factory=time.time)
    target_sent: float | None = None
    target_answered: float | None = None
    target_status: int | None = None
    target_address: str | None = None
    failure_reason: str | None = None
    error_reason: str | None = None  # ALB's error_reason, e.g. TargetConnectionErrorCode


@dataclass(slots=True)
class Connection:
    """What the TLS_PASSTHROUGH proxy measured about one TCP connection (LI-5). Times are
    epoch seconds; bytes are counted at the client's socket: ``bytes_received`` from the
    client (its ClientHello included), ``bytes_sent`` to it. ``target_address`` is the
    target's VPC address ``ip:port``, None when no target was reached."""

    start: float
    client_ip: str
    client_port: int
    client_vpc_id: str | None
    sni: str
    end: float = field(default_factory=time.time)
    bytes_received: int = 0
    bytes_sent: int = 0
    target_address: str | None = None
    failure_reason: str | None = None


def _iso(ts: float, micro: bool = False) -> str:
    when = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if micro else "%Y-%m-%dT%H:%M:%SZ")


def _ms(a: float | None, b: float | None) -> int | None:
    return None if a is None or b is None else max(0, round((b - a) * 1000))


def _where(network: Network, decision: Decision, client_vpc_id: str | None
           ) -> dict[str, Any]:
    """The AL-3 fields that say where a request or connection went: the same for both."""
    svc, sn = decision.service, decision.service_network
    region = svc.region if svc is not None else ""
    return {
        "serviceNetworkArn": sn.arn if sn is not None else None,
        "serviceArn": svc.arn if svc is not None else None,
        "targetGroupArn": decision.target_group_arn,
        "sourceVpcArn": vpc_arn(network, client_vpc_id, region) if client_vpc_id else None,
        "sourceVpcId": client_vpc_id,
        "destinationVpcId": decision.target_vpc_id,
        "listenerId": decision.listener_id,
        "listenerType": "protocol",
        "authDeniedReason": decision.auth_denied_reason,
    }


def _record(values: dict[str, Any]) -> dict[str, Any]:
    """Every AL-3 field, in order, ``"-"`` for unknown strings and numbers."""
    return {name: "-" if values.get(name) is None else values[name] for name in LATTICE_FIELDS}


def lattice_record(network: Network, decision: Decision, req: Request,
                   ex: Exchange) -> dict[str, Any]:
    """One AL-3 record: every field present, ``"-"`` for unknown strings and numbers."""
    caller = decision.caller
    authenticated = caller is not None and caller.authenticated
    values: dict[str, Any] = {
        **_where(network, decision, req.client_vpc_id),
        "startTime": _iso(req.received),
        "sourceIpPort": f"{req.client_ip}:{req.client_port}",
        "targetIpPort": ex.target_address,
        "protocol": req.version,
        "requestMethod": req.method,
        "requestPath": req.target,
        "hostHeader": req.host or None,
        "userAgent": req.header("user-agent"),
        "serverNameIndication": req.sni,
        "sslCipher": req.tls_cipher,
        "tlsVersion": req.tls_version,
        "responseCode": ex.status,
        "bytesReceived": ex.bytes_received,
        "bytesSent": ex.bytes_sent,
        "duration": _ms(req.received, ex.end),
        "requestToTargetDuration": _ms(req.received, ex.target_sent),
        "responseFromTargetDuration": _ms(ex.target_sent, ex.target_answered),
        "callerPrincipal": caller.principal if authenticated and caller else None,
        "callerPrincipalOrgID": caller.org_id if authenticated and caller else None,
        "resolvedUser": caller.principal if authenticated and caller else None,
        "failureReason": ex.failure_reason or decision.failure_reason,
    }
    return _record(values)


def lattice_connection_record(network: Network, decision: Decision,
                              conn: Connection) -> dict[str, Any]:
    """One AL-3 record for a TLS_PASSTHROUGH connection: the same fields as a request's, in
    the same order, written when the connection ends. Lattice never sees the HTTP inside
    (nor the TLS parameters the two ends agree on), so the request, response, TLS and
    caller fields are ``"-"``; the server name is the ClientHello's SNI, the bytes and the
    duration are the whole connection's. The AWS page ("Access logs for Amazon VPC
    Lattice", monitoring-access-logs.html) lists in its contents one record format for
    services ("Access log contents"; "Resource access log contents" is for resource
    configurations) and no TCP / TLS passthrough section, so this writes that field set.
    ASSUMED (unknown): which fields AWS fills for a passthrough connection, e.g. whether
    ``protocol`` says ``TCP``, and whether the bytes and duration cover the connection."""
    values: dict[str, Any] = {
        **_where(network, decision, conn.client_vpc_id),
        "startTime": _iso(conn.start),
        "sourceIpPort": f"{conn.client_ip}:{conn.client_port}",
        "targetIpPort": conn.target_address,
        "serverNameIndication": conn.sni,
        "bytesReceived": conn.bytes_received,
        "bytesSent": conn.bytes_sent,
        "duration": _ms(conn.start, conn.end),
        "failureReason": conn.failure_reason or decision.failure_reason,
    }
    return _record(values)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def alb_id(lb: LoadBalancer) -> str:
    """``app/<name>/<hex id>`` from the load balancer's ARN."""
    return lb.id.split(":loadbalancer/", 1)[-1]


def alb_line(decision: Decision, req: Request, ex: Exchange) -> str:
    """One ALB access log entry (space-separated, AWS's field order; ``-`` for none and
    ``-1`` for times that do not apply)."""
    lb = decision.load_balancer
    forwarded = ex.target_sent is not None
    kind = "h2" if req.version == "HTTP/2.0" and req.tls else ("https" if req.tls else "http")
    if ex.status == 101:  # an upgraded WebSocket (lattice/upgrade.py): ws / wss, documented
        kind = "wss" if req.tls else "ws"
    host = req.hostname or (lb.dns_name if lb is not None else "")
    url = f"{req.scheme}://{host}:{req.port}{req.target}"
    trace = next((v for k, v in decision.forward_headers if k == "x-amzn-trace-id"), None)
    target = ex.target_address or "-"
    tstatus = str(ex.target_status) if ex.target_status is not None else "-"
    values: dict[str, str] = {
        "type": kind,
        "time": _iso(ex.end, micro=True),
        "elb": alb_id(lb) if lb is not None else "-",
        "client:port": f"{req.client_ip}:{req.client_port}",
        "target:port": target,
        "request_processing_time": f"{(ex.target_sent - req.received):.3f}"
        if forwarded and ex.target_sent is not None else "-1",
        "target_processing_time": f"{(ex.target_answered - ex.target_sent):.3f}"
        if ex.target_answered is not None and ex.target_sent is not None else "-1",
        "response_processing_time": f"{max(0.0, ex.end - ex.target_answered):.3f}"
        if ex.target_answered is not None else "-1",
        "elb_status_code": str(ex.status),
        "target_status_code": tstatus,
        "received_bytes": str(ex.bytes_received),
        "sent_bytes": str(ex.bytes_sent),
        "request": f"{req.method} {url} {req.version}",
        "user_agent": req.header("user-agent") or "-",
        "ssl_cipher": req.tls_cipher or "-",
        "ssl_protocol": req.tls_version or "-",
        "target_group_arn": decision.target_group_arn or "-",
        "trace_id": trace or "-",
        "domain_name": req.sni or "-",
        "chosen_cert_arn": "-",
        "matched_rule_priority": "0" if decision.rule_priority is None
        else str(decision.rule_priority),
        "request_creation_time": _iso(req.received, micro=True),
        "actions_executed": ",".join(decision.actions_executed) or "-",
        "redirect_url": decision.redirect_url or "-",
        "error_reason": ex.error_reason or "-",
        "target:port_list": target,
        "target_status_code_list": tstatus,
        "classification": "-",
        "classification_reason": "-",
        "conn_trace_id": "-",
    }
    return " ".join(_quote(values[f]) if f in _ALB_QUOTED else values[f] for f in ALB_FIELDS)


# ====================================================================== delivery
def lattice_s3_key(prefix: str, account: str, region: str, when: dt.datetime,
                   body: bytes) -> str:
    """AL-2 (ASSUMED tail): ``[prefix/]AWSLogs/<acct>/VpcLattice/AccessLogs/<region>/
    yyyy/mm/dd/hh/<acct>_vpclatticeaccesslogs_<region>_<yyyymmddTHHmmZ>_<hash>.json.gz``."""
    base = f"{prefix.strip('/')}/AWSLogs/" if prefix.strip("/") else "AWSLogs/"
    digest = hashlib.sha256(body).hexdigest()[:8]
    return (f"{base}{account}/VpcLattice/AccessLogs/{region}/{when:%Y/%m/%d/%H}/"
            f"{account}_vpclatticeaccesslogs_{region}_{when:%Y%m%dT%H%MZ}_{digest}.json.gz")


def alb_s3_key(prefix: str, lb: LoadBalancer, when: dt.datetime, ip: str) -> str:
    """``[prefix/]AWSLogs/<acct>/elasticloadbalancing/<region>/yyyy/mm/dd/<acct>_
    elasticloadbalancing_<region>_app.<name>.<id>_<end yyyymmddTHHmmZ>_<ip>_<random>.log.gz``."""
    base = f"{prefix.strip('/')}/AWSLogs/" if prefix.strip("/") else "AWSLogs/"
    lb_part = alb_id(lb).replace("/", ".")
    return (f"{base}{lb.account}/elasticloadbalancing/{lb.region}/{when:%Y/%m/%d}/"
            f"{lb.account}_elasticloadbalancing_{lb.region}_{lb_part}_{when:%Y%m%dT%H%MZ}_"
            f"{ip}_{secrets.token_hex(4)}.log.gz")


def _arn_parts(arn: str) -> tuple[str, str, str, str]:
    """(service, region, account, resource) of an ARN."""
    parts = arn.split(":", 5)
    parts += [""] * (6 - len(parts))
    return parts[2], parts[3], parts[4], parts[5]


@dataclass(slots=True)
class _S3Batch:
    bucket: str
    key_of: Callable[[dt.datetime, bytes], str]
    lines: list[str] = field(default_factory=list)
    opened: float = field(default_factory=time.time)


class AccessLogWriter:
    """Buffers access log records per destination and delivers them. Never raises into
    the proxy: a destination that cannot take records (no bucket, no stream) is logged and
    its records dropped, as AWS drops what it cannot deliver."""

    def __init__(self, objects: ObjectStore | None = None, logs: LogStore | None = None,
                 firehose: FirehoseEngine | Callable[[], FirehoseEngine] | None = None, *,
                 s3_interval: float = 60.0, interval: float = 1.0,
                 clock: Callable[[], float] = time.time) -> None:
        self.objects, self.logs = objects, logs
        self._firehose = firehose
        self.s3_interval, self.interval, self.clock = s3_interval, interval, clock
        self._lock = threading.Lock()
        self._cw: dict[tuple[str, str, str, str], list[tuple[int, str]]] = {}
        self._fh: dict[tuple[str, str, str], list[bytes]] = {}
        self._s3: dict[tuple[str, str], _S3Batch] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.delivered = 0
        self.dropped = 0

    @property
    def firehose(self) -> FirehoseEngine | None:
        fh = self._firehose
        if fh is None or isinstance(fh, FirehoseEngine):
            return fh
        return fh()  # created on first use, like state.delivery.firehose

    # ------------------------------------------------------------------ per request
    def lattice(self, network: Network, decision: Decision, req: Request,
                ex: Exchange) -> dict[str, Any] | None:
        """Record one Lattice request for every subscription of its service and service
        network (AL-1); returns the record (None when nothing subscribes)."""
        subs = self._subscriptions(network, decision)
        if not subs:
            return None
        record = lattice_record(network, decision, req, ex)
        self._deliver(subs, record, req.received)
        return record

    def lattice_connection(self, network: Network, decision: Decision,
                           conn: Connection) -> dict[str, Any] | None:
        """Record one TLS_PASSTHROUGH connection, when it has ended, for the same
        subscriptions a request to its service would go to; returns the record."""
        subs = self._subscriptions(network, decision)
        if not subs:
            return None
        record = lattice_connection_record(network, decision, conn)
        self._deliver(subs, record, conn.start)
        return record

    @staticmethod
    def _subscriptions(network: Network, decision: Decision) -> list[AccessLogSubscription]:
        """AL-1: the subscriptions of the decision's service and service network."""
        owners = {o.id for o in (decision.service, decision.service_network) if o is not None}
        return [s for s in network.lattice_access_log_subscriptions.values()
                if s.resource_id in owners]

    def _deliver(self, subs: list[AccessLogSubscription], record: dict[str, Any],
                 when: float) -> None:
        line = json.dumps(record, separators=(",", ":"))
        for sub in subs:
            self.add(sub.destination_arn, sub.resource_id, line, when, sub.account,
                     sub.region)

    def alb(self, decision: Decision, req: Request, ex: Exchange) -> str | None:
        """Record one ALB request when its load balancer has ``access_logs.s3.enabled``."""
        lb = decision.load_balancer
        if lb is None or lb.attributes.get("access_logs.s3.enabled") != "true":
            return None
        bucket = lb.attributes.get("access_logs.s3.bucket", "")
        if not bucket:
            return None
        line = alb_line(decision, req, ex)
        self.add_alb(lb, line, req.server_ip or "127.0.0.1")
        return line

    def add_alb(self, lb: LoadBalancer, line: str, ip: str) -> None:
        """Buffer one ALB access-log ``line`` for ``lb``'s bucket (``ip``: the node's
        address in the object key). Proxy workers' lines arrive here too (workers.py)."""
        bucket = lb.attributes.get("access_logs.s3.bucket", "")
        if not bucket:
            return
        prefix = lb.attributes.get("access_logs.s3.prefix", "")
        with self._lock:
            batch = self._s3.get(("alb:" + lb.id, bucket))
            if batch is None:
                def key_of(when: dt.datetime, _body: bytes, lb: LoadBalancer = lb,
                           prefix: str = prefix, ip: str = ip) -> str:
                    return alb_s3_key(prefix, lb, when, ip)

                batch = _S3Batch(bucket, key_of, opened=self.clock())
                self._s3[("alb:" + lb.id, bucket)] = batch
            batch.lines.append(line)

    def add(self, destination: str, resource_id: str, line: str, when: float,
            owner_account: str, owner_region: str) -> None:
        """Buffer ``line`` for ``destination``; S3 ARNs carry no account or Region, so the
        subscription's (the logged resource's) name the key's folders."""
        service, region, account, resource = _arn_parts(destination)
        with self._lock:
            if service == "logs":
                group = resource.removeprefix("log-group:").split(":", 1)[0]
                # ASSUMED stream naming: one stream per logged resource.
                self._cw.setdefault((account, region, group, resource_id), []).append(
                    (int(when * 1000), line))
            elif service == "firehose":
                self._fh.setdefault((account, region, resource.split("/", 1)[-1]),
                                    []).append(line.encode() + b"\n")
            elif service == "s3":
                bucket, _, prefix = resource.partition("/")
                key = (destination, bucket)
                batch = self._s3.get(key)
                if batch is None:
                    def key_of(at: dt.datetime, body: bytes, prefix: str = prefix,
                               acct: str = owner_account, reg: str = owner_region) -> str:
                        return lattice_s3_key(prefix, acct, reg, at, body)

                    batch = _S3Batch(bucket, key_of, opened=self.clock())
                    self._s3[key] = batch
                batch.lines.append(line)
            else:
                self.dropped += 1

    # ------------------------------------------------------------------ delivery
    def flush(self, force_s3: bool = True) -> int:
        """Deliver what is buffered (S3 batches only when older than ``s3_interval``
        unless ``force_s3``); returns how many records went out."""
        now = self.clock()
        with self._lock:
            cw, self._cw = self._cw, {}
            fh, self._fh = self._fh, {}
            ready = {k: b for k, b in self._s3.items()
                     if b.lines and (force_s3 or now - b.opened >= self.s3_interval)}
            for k in ready:
                del self._s3[k]
        sent = 0
        for (account, region, group, stream), events in cw.items():
            sent += self._guard(len(events), self._put_logs, account, region, group, stream,
                                events)
        for (account, region, name), payloads in fh.items():
            sent += self._guard(len(payloads), self._put_firehose, account, region, name,
                                payloads)
        for batch in ready.values():
            sent += self._guard(len(batch.lines), self._put_s3, batch, now)
        self.delivered += sent
        return sent

    def _guard(self, n: int, deliver: Callable[..., None], *args: Any) -> int:
        try:
            deliver(*args)
            return n
        except Exception as exc:  # a destination's trouble must not reach the proxy
            log.warning("access logs: %d records dropped: %s", n, exc)
            self.dropped += n
            return 0

    def _put_logs(self, account: str, region: str, group: str, stream: str,
                  events: list[tuple[int, str]]) -> None:
        if self.logs is None:
            raise RuntimeError("CloudWatch Logs is not available")
        events.sort(key=lambda e: e[0])
        self.logs.put_events(account, region, group, stream, events, create=True)

    def _put_firehose(self, account: str, region: str, name: str,
                      payloads: list[bytes]) -> None:
        engine = self.firehose
        if engine is None:
            raise RuntimeError("Firehose is not available")
        for i in range(0, len(payloads), 500):
            engine.put(account, region, name, payloads[i:i + 500])

    def _put_s3(self, batch: _S3Batch, now: float) -> None:
        if self.objects is None or self.objects.bucket(batch.bucket) is None:
            raise RuntimeError(f"bucket {batch.bucket} does not exist")
        body = gzip.compress(("\n".join(batch.lines) + "\n").encode())
        when = dt.datetime.fromtimestamp(now, tz=dt.UTC)
        self.objects.put(batch.bucket, batch.key_of(when, body), body,
                         content_type="application/x-gzip")

    # ------------------------------------------------------------------ thread
    def start(self) -> AccessLogWriter:
        """Flush every ``interval`` seconds in a daemon thread until ``close``."""
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="localvpc-access-logs",
                                            daemon=True)
            self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush(force_s3=False)

    def close(self) -> None:
        """Stop the thread and deliver everything still buffered."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.flush(force_s3=True)

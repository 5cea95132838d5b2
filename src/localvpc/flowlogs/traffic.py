"""Traffic specs and their runner: drive flows through the trace engine into flow logs.

A spec (YAML, docs/traffic-format.md) lists explicit flows and generators (internet clients
to a load balancer, app to database, port scans, NAT-ed egress, a random mesh) with counts,
sizes, durations and TCP flag patterns. The runner draws every connection from a seeded RNG
over simulated time (an hour takes seconds) or paces them in real time, traces each distinct
5-tuple once (both directions) and hands the packets to a :class:`FlowLogCollector`.

Spec errors name ``file:line: field: problem`` like the topology loader, whose line-aware YAML
reader (``snapshot.topology_schema``) this module reuses.
"""

from __future__ import annotations

import bisect
import heapq
import ipaddress
import random
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from localvpc.dataplane.compiled import KIND_INSTANCE, ForwardingPlane
from localvpc.dataplane.engine import INTERNET, Tracer
from localvpc.dataplane.filters import CompiledNacl, CompiledSecurityGroup
from localvpc.dataplane.flow import Flow, Trace
from localvpc.flowlogs.records import FIN, RST, SYN, SYN_ACK, FlowLogCollector
from localvpc.model.base import IPAddress
from localvpc.model.errors import LocalVpcError, TraceInputError
from localvpc.snapshot.topology_schema import (
    Obj,
    Problems,
    TopologyValidationError,
    compose,
    parse_ports,
    parse_protocol,
    type_name,
)

DEFAULT_START = 1717200000  # 2024-06-01T00:00:00Z: a fixed, window-aligned default
DEFAULT_DURATION = 3600.0
LINUX_EPHEMERAL = (32768, 60999)
CLIENT_EPHEMERAL = (1024, 65535)
DEFAULT_CLIENTS = "203.0.113.0/24"  # RFC 5737 documentation space
SCANNER = ipaddress.ip_address("192.0.2.66")
# Well-known egress destinations: public resolvers and a CDN (not AWS), an S3 address.
EGRESS_DESTINATIONS = ("8.8.8.8", "1.1.1.1", "151.101.1.69", "52.216.0.1")

# Client and server flags of each pattern, in flow-log terms (FORMAT.md §6).
TCP_PATTERNS: dict[str, tuple[int, int]] = {
    "handshake": (SYN | FIN, SYN_ACK | FIN),  # open and close: 3 and 19
    "open": (SYN, SYN_ACK),  # still open when the run ends
    "reset": (SYN | RST, SYN_ACK),  # the client aborts: 6 and 18
    "scan": (SYN, RST),  # a SYN probe answered by a reset from a closed port
    "data": (0, 0),  # mid-connection: ACK/PSH only, reported as 0
}
GENERATOR_KINDS = ("internet-to-lb", "app-to-db", "port-scan", "nat-egress", "mesh")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT = {None: 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


class TrafficSpecError(LocalVpcError):
    """A traffic spec is invalid; the message lists every ``file:line: field: problem``."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


IntRange = tuple[int, int]
FloatRange = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Shape:
    """What one connection looks like: sizes both ways, how long it lasts, its flags."""

    packets: IntRange = (10, 10)
    bytes: IntRange = (5000, 5000)
    reply_packets: IntRange | None = None  # None: like ``packets``
    reply_bytes: IntRange | None = None
    lasts: FloatRange = (1.0, 1.0)
    tcp_flags: str = "handshake"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a flow starts: an engine start node and the source address (None: primary)."""

    node: str
    ip: IPAddress | None = None
    own: IPAddress | None = None  # the ENI's primary address (a mesh skips talking to itself)


@dataclass(frozen=True, slots=True)
class Port:
    protocol: int
    port: int | None  # None for protocols without ports


@dataclass(slots=True)
class FlowSpec:
    """An explicit flow, repeated ``count`` times ``every`` seconds from ``at``."""

    line: int
    source: Endpoint
    dst: IPAddress
    port: Port
    src_port: int | None
    at: float
    count: int
    every: float | None
    shape: Shape


@dataclass(slots=True)
class GeneratorSpec:
    """Connections at ``rate`` per second (Poisson arrivals) from random sources to random
    targets and ports, active from ``at`` for ``duration`` seconds (None: to the end)."""

    line: int
    kind: str
    rate: float
    at: float
    duration: float | None
    sources: list[Endpoint]
    targets: list[IPAddress]
    ports: list[Port]
    shape: Shape
    sequential_ports: bool = False  # port scans walk the ports in order
    peers: int | None = None  # each source talks to this many fixed targets (None: any)


@dataclass(slots=True)
class TrafficSpec:
    source: str
    seed: int = 0
    start: float = DEFAULT_START
    duration: float = DEFAULT_DURATION
    interval: int | None = None
    flows: list[FlowSpec] = field(default_factory=list)
    generators: list[GeneratorSpec] = field(default_factory=list)


@dataclass(slots=True)
class Connection:
    """One connection the runner plays: a start time, a header, sizes and flags."""

    time: float
    source: Endpoint
    dst: IPAddress
    port: Port
    src_port: int | None
    packets: int
    bytes: int
    reply_packets: int
    reply_bytes: int
    lasts: float
    pattern: str

    def __lt__(self, other: Connection) -> bool:
        return self.time < other.time


@dataclass(slots=True)
class RunStats:
    connections: int = 0
    traced: int = 0  # distinct 5-tuples sent through the engine
    accepted: int = 0  # connections whose request reached its destination
    rejected: int = 0
    errors: int = 0  # connections the engine could not start (bad source, ...)
    seconds: float = 0.0
    error_messages: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------- parsing
def _duration_of(obj: Obj, key: str) -> float | None:
    node = obj.present(key)
    if node is None:
        return None
    value = node.value
    if isinstance(value, bool):
        obj.err_at(node, f"expected a duration like 90, '10m' or '1h', got {type_name(value)}")
        return None
    if isinstance(value, int | float):
        seconds = float(value)
    else:
        m = _DURATION.match(str(value))
        if m is None:
            obj.err_at(node, f"expected a duration like 90, '10m' or '1h', got "
                             f"{type_name(value)}")
            return None
        seconds = float(m.group(1)) * _UNIT[m.group(2)]
    if seconds < 0:
        obj.err_at(node, "a duration cannot be negative")
        return None
    return seconds


def _float_of(obj: Obj, key: str, low: float = 0.0) -> float | None:
    node = obj.present(key)
    if node is None:
        return None
    value = node.value
    if isinstance(value, bool) or not isinstance(value, int | float):
        obj.err_at(node, f"expected a number, got {type_name(value)}")
        return None
    if value < low:
        obj.err_at(node, f"{value} is below {low}")
        return None
    return float(value)


def _range_of(obj: Obj, key: str, low: int = 0) -> IntRange | None:
    """``10``, ``"5-20"`` or ``[5, 20]``: a whole number or an inclusive range."""
    node = obj.present(key)
    if node is None:
        return None
    value = node.value
    lo = hi = None
    if isinstance(value, int) and not isinstance(value, bool):
        lo = hi = value
    elif isinstance(value, str) and re.fullmatch(r"\s*\d+\s*(-\s*\d+\s*)?", value):
        parts = [int(p) for p in value.split("-")]
        lo, hi = parts[0], parts[-1]
    elif isinstance(value, list) and len(value) == 2 and all(
            isinstance(v.value, int) and not isinstance(v.value, bool) for v in value):
        lo, hi = value[0].value, value[1].value
    if lo is None or hi is None:
        obj.err_at(node, f"expected a number or a range like '5-20', got {type_name(value)}")
        return None
    if lo < low or hi < lo:
        obj.err_at(node, f"range {lo}-{hi} must be ordered and at least {low}")
        return None
    return lo, hi


def _time_of(obj: Obj, key: str) -> float | None:
    node = obj.present(key)
    if node is None:
        return None
    value = node.value
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp()
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            pass
        else:
            return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp()
    obj.err_at(node, f"expected Unix seconds or an ISO 8601 time like "
                     f"2024-06-01T00:00:00Z, got {type_name(value)}")
    return None


class _Resolver:
    """Names in a spec (ids, Name tags, load balancer names, addresses) -> network things."""

    def __init__(self, fp: ForwardingPlane) -> None:
        self.fp = fp
        net = fp.network
        self.by_name: dict[str, list[str]] = {}
        for table in (net.instances, net.network_interfaces, net.subnets, net.vpcs):
            for rid, res in table.items():
                name = res.tags.get("Name")
                if name:
                    self.by_name.setdefault(name, []).append(rid)

    def ids(self, ref: str) -> list[str]:
        net = self.fp.network
        if ref in net.instances or ref in self.fp.devices or ref in net.subnets \
                or ref in net.vpcs:
            return [ref]
        return self.by_name.get(ref, [])

    def enis(self, ref: str) -> list[str] | None:
        """Instance ENIs a reference covers (an instance, ENI, subnet or VPC)."""
        found = self.ids(ref)
        if not found:
            return None
        out: list[str] = []
        net = self.fp.network
        for rid in found:
            if rid in net.instances:
                out.extend(self.fp.instance_enis.get(rid, [])[:1])
            elif rid in self.fp.devices:
                out.append(rid)
            else:
                out.extend(e for e, d in self.fp.devices.items() if d.kind == KIND_INSTANCE
                           and d.running and (d.subnet_id == rid or d.vpc_id == rid))
        return sorted(set(out))

    def lb_addresses(self, ref: str, public: bool) -> list[IPAddress] | None:
        nodes = [(eni, node) for eni, node in self.fp.lb_by_eni.items()
                 if ref in (node.lb.lb_name, node.lb.id, node.lb.dns_name)]
        if not nodes:
            return None
        out: list[IPAddress] = []
        for eni, node in sorted(nodes, key=lambda en: en[0]):
            device = self.fp.devices[eni]
            pub = [p.public_ip for p in device.eni.private_ips if p.public_ip is not None]
            out.extend(pub if public and pub else node.zone.addresses)
        return out

    def listener_ports(self, ref: str) -> list[int]:
        for node in self.fp.lb_by_eni.values():
            if ref in (node.lb.lb_name, node.lb.id, node.lb.dns_name):
                return sorted({li.port for li in node.lb.listeners})
        return []

    def address(self, ref: str, public: bool) -> IPAddress | None:
        """An IP, or the primary address (public one if asked and present) of a named ENI."""
        try:
            return ipaddress.ip_address(ref)
        except ValueError:
            pass
        lb = self.lb_addresses(ref, public)
        if lb:
            return lb[0]
        enis = self.enis(ref)
        if not enis:
            return None
        device = self.fp.devices[enis[0]]
        if public:
            pub = next((p.public_ip for p in device.eni.private_ips if p.public_ip), None)
            if pub is not None:
                return pub
        return device.eni.primary_ip


class _SpecReader:
    def __init__(self, problems: Problems, fp: ForwardingPlane, seed_rng: random.Random
                 ) -> None:
        self.p = problems
        self.r = _Resolver(fp)
        self.rng = seed_rng

    def shape(self, obj: Obj, defaults: Shape) -> Shape:
        pattern = obj.opt_str("tcp_flags", tuple(TCP_PATTERNS))
        lasts_node = obj.present("lasts")
        lasts = defaults.lasts
        if lasts_node is not None:
            if isinstance(lasts_node.value, str) and "-" in lasts_node.value:
                rng = _range_of(obj, "lasts")
                lasts = (float(rng[0]), float(rng[1])) if rng else lasts
            else:
                d = _duration_of(obj, "lasts")
                lasts = (d, d) if d is not None else lasts
        return Shape(
            packets=_range_of(obj, "packets", 1) or defaults.packets,
            bytes=_range_of(obj, "bytes", 1) or defaults.bytes,
            reply_packets=_range_of(obj, "reply_packets") or defaults.reply_packets,
            reply_bytes=_range_of(obj, "reply_bytes") or defaults.reply_bytes,
            lasts=lasts,
            tcp_flags=pattern or defaults.tcp_flags,
        )

    def ports(self, obj: Obj, protocol: int) -> list[Port]:
        """``port: 443`` or ``ports: [443, "53/udp", "1-1024"]``."""
        out: list[Port] = []
        key = "ports" if obj.has("ports") else "port"
        for item in obj.items(key, single_ok=True):
            value = item.value
            proto = protocol
            if isinstance(value, str) and "/" in value:
                value, _, pname = value.partition("/")
                try:
                    proto = parse_protocol(pname)
                except ValueError as e:
                    obj.err_at(item, str(e))
                    continue
            try:
                span = parse_ports(value)
            except ValueError as e:
                obj.err_at(item, str(e))
                continue
            if proto not in (6, 17):
                out.append(Port(proto, None))
                continue
            if span is None:
                obj.err_at(item, "give a port or a range, not all ports")
                continue
            out.extend(Port(proto, n) for n in range(span[0], span[1] + 1))
        return out

    def protocol(self, obj: Obj) -> int:
        node = obj.present("protocol")
        if node is None:
            return 6
        try:
            number = parse_protocol(node.value)
        except ValueError as e:
            obj.err_at(node, str(e))
            return 6
        if number < 0:
            obj.err_at(node, "a flow has one protocol, not all")
            return 6
        return number

    def source(self, obj: Obj, key: str = "from") -> Endpoint | None:
        ref = obj.req_str(key)
        if ref is None:
            return None
        src_ip = obj.opt_ip("src_ip")
        if ref == INTERNET:
            return Endpoint(INTERNET, src_ip or ipaddress.ip_address("198.51.100.1"))
        enis = self.r.enis(ref)
        if not enis:
            obj.err(key, f"'{ref}' is not 'internet' or an instance, ENI, subnet or VPC of "
                         "the network")
            return None
        return Endpoint(enis[0], src_ip)

    def sources(self, obj: Obj, key: str = "from") -> list[Endpoint]:
        out: list[Endpoint] = []
        for ref, node in obj.str_items(key):
            if ref == INTERNET:
                out.append(Endpoint(INTERNET, obj.opt_ip("src_ip") or SCANNER))
                continue
            enis = self.r.enis(ref)
            if not enis:
                obj.err_at(node, f"'{ref}' is not an instance, ENI, subnet or VPC of the "
                                 "network")
                continue
            out.extend(self.endpoint(e) for e in enis)
        return out

    def endpoint(self, eni_id: str) -> Endpoint:
        return Endpoint(eni_id, None, self.r.fp.devices[eni_id].eni.primary_ip)

    def targets(self, obj: Obj, key: str, public: bool) -> list[IPAddress]:
        out: list[IPAddress] = []
        for ref, node in obj.str_items(key):
            ip = self.r.address(ref, public)
            if ip is None:
                obj.err_at(node, f"'{ref}' is not an IP address, a load balancer or an "
                                 "instance, ENI, subnet or VPC of the network")
            else:
                out.append(ip)
        return out

    # -------------------------------------------------------------- sections
    def flow(self, obj: Obj) -> FlowSpec | None:
        source = self.source(obj)
        dst_ref = obj.req_str("to")
        protocol = self.protocol(obj)
        public = source is not None and source.node == INTERNET
        dst = self.r.address(dst_ref, public) if dst_ref is not None else None
        if dst_ref is not None and dst is None:
            obj.err("to", f"'{dst_ref}' is not an IP address, a load balancer or an "
                          "instance or ENI of the network")
        ports = self.ports(obj, protocol) if (obj.has("port") or obj.has("ports")) else [
            Port(protocol, 80 if protocol in (6, 17) else None)]
        if len(ports) > 1:
            obj.err("ports", "an explicit flow has one port; use a generator for several")
        src_port = obj.opt_int("src_port", 0, 65535)
        shape = self.shape(obj, Shape())
        at = _duration_of(obj, "at") or 0.0
        count = obj.opt_int("count", 1) or 1
        every = _duration_of(obj, "every")
        if source is None or dst is None or not ports:
            return None
        if source.ip is not None and source.ip.version != dst.version:
            obj.err("to", f"source {source.ip} and destination {dst} are different IP versions")
            return None
        return FlowSpec(obj.line, source, dst, ports[0], src_port, at, count, every, shape)

    def generator(self, obj: Obj) -> GeneratorSpec | None:
        kind = obj.req_str("type", GENERATOR_KINDS)
        rate = _float_of(obj, "rate", 0.0)
        if rate is None and obj.present("rate") is None:
            obj.missing("rate")
        at = _duration_of(obj, "at") or 0.0
        duration = _duration_of(obj, "duration")
        protocol = self.protocol(obj)
        if kind is None:
            return None
        has_ports = obj.has("port") or obj.has("ports")
        sources: list[Endpoint] = []
        targets: list[IPAddress] = []
        ports: list[Port] = self.ports(obj, protocol) if has_ports else []
        shape_default = Shape()
        sequential = False
        if kind == "internet-to-lb":
            lb = obj.req_str("lb")
            addrs = self.r.lb_addresses(lb, public=True) if lb else None
            if lb is not None and not addrs:
                obj.err("lb", f"'{lb}' is not a load balancer name, ARN or DNS name")
            targets = addrs or []
            if not has_ports and lb is not None:
                ports = [Port(6, p) for p in self.r.listener_ports(lb)]
            count = obj.opt_int("clients", 1) or 100
            cidr = obj.opt_cidr("client_cidr") or ipaddress.ip_network(DEFAULT_CLIENTS)
            hosts = max(1, cidr.num_addresses - 2)
            picks = sorted({self.rng.randrange(hosts) + 1 for _ in range(count)})
            # Clients are strangers: never an address the network itself owns.
            sources = [Endpoint(INTERNET, ip) for k in picks
                       if (ip := cidr.network_address + k) not in self.r.fp.public_ips]
        elif kind == "port-scan":
            sources = self.sources(obj) if obj.has("from") else [
                Endpoint(INTERNET, obj.opt_ip("src_ip") or SCANNER)]
            public = all(s.node == INTERNET for s in sources)
            targets = self.targets(obj, "to", public)
            if not has_ports:
                ports = [Port(6, n) for n in range(1, 1025)]
            shape_default = Shape((1, 1), (44, 44), (1, 1), (40, 40), (0.0, 0.0), "scan")
            sequential = True
        elif kind == "nat-egress":
            sources = self.sources(obj)
            targets = self.targets(obj, "to", False) if obj.has("to") else [
                ipaddress.ip_address(a) for a in EGRESS_DESTINATIONS]
            if not has_ports:
                ports = [Port(6, 443), Port(6, 80), Port(17, 53)]
        else:  # app-to-db, mesh
            sources = self.sources(obj) if obj.has("from") else [
                self.endpoint(e) for e, d in sorted(self.r.fp.devices.items())
                if d.kind == KIND_INSTANCE and d.running]
            if kind == "app-to-db" and not obj.has("to"):
                obj.missing("to")
            targets = self.targets(obj, "to", False) if obj.has("to") else [
                s.own for s in sources if s.own is not None]
            if not has_ports:
                ports = [Port(6, 5432)] if kind == "app-to-db" else [
                    Port(6, 443), Port(6, 8080), Port(6, 5432), Port(6, 22)]
        if not sources:
            obj.err("from" if obj.has("from") else None, "the generator has no sources")
        if not targets:
            obj.err("to" if obj.has("to") else None, "the generator has no targets")
        if not ports:
            obj.err("ports" if obj.has("ports") else None, "the generator has no ports")
        shape = self.shape(obj, shape_default)
        if not sources or not targets or not ports or rate is None:
            return None
        peer_count = obj.opt_int("peers", 1)
        return GeneratorSpec(obj.line, kind, rate, at, duration, sources, targets, ports,
                             shape, sequential, peer_count)


_TOP = ("seed", "start", "duration", "interval", "flows", "generators")
_SHAPE = ("packets", "bytes", "reply_packets", "reply_bytes", "lasts", "tcp_flags")
_FLOW = ("from", "src_ip", "to", "protocol", "port", "ports", "src_port", "at", "count",
         "every", *_SHAPE)
_GENERATOR = ("type", "rate", "at", "duration", "from", "src_ip", "to", "lb", "protocol",
              "port", "ports", "clients", "client_cidr", "peers", *_SHAPE)


def parse_traffic_spec(text: str, fp: ForwardingPlane, source: str = "<string>"
                       ) -> TrafficSpec:
    """Read a traffic spec against a compiled network (names resolve to its resources)."""
    problems = Problems(source)
    try:
        root = compose(text, problems)
        if root is None or not isinstance(root.value, dict):
            if root is not None:
                problems.add(root.line, "", "the top level must be a mapping (seed:, flows:, "
                                            f"generators:, ...), got {type_name(root.value)}")
            problems.raise_if_any()
            raise TrafficSpecError([f"{source}: unreadable YAML"])
        top = Obj(problems, root, _TOP, "a traffic spec")
        seed = top.opt_int("seed", 0) or 0
        spec = TrafficSpec(source, seed)
        spec.start = _time_of(top, "start") or DEFAULT_START
        spec.duration = _duration_of(top, "duration") or DEFAULT_DURATION
        interval = top.opt_int("interval")
        if interval is not None and interval not in (60, 600):
            top.err("interval", f"{interval} is not an aggregation interval: use 60 or 600")
        spec.interval = interval
        reader = _SpecReader(problems, fp, random.Random(seed))
        for obj in top.objs("flows", _FLOW, "a flow"):
            f = reader.flow(obj)
            if f is not None:
                spec.flows.append(f)
        for obj in top.objs("generators", _GENERATOR, "a generator"):
            g = reader.generator(obj)
            if g is not None:
                spec.generators.append(g)
        if not top.has("flows") and not top.has("generators"):
            top.err(None, "a traffic spec needs flows: or generators:")
        problems.raise_if_any()
    except TopologyValidationError as e:
        raise TrafficSpecError(e.problems) from None
    return spec


def load_traffic_spec(path: str | Path, fp: ForwardingPlane) -> TrafficSpec:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise TrafficSpecError([f"{p}: cannot read the traffic spec: {exc}"]) from exc
    return parse_traffic_spec(text, fp, str(p))


# ---------------------------------------------------------------------------- playing
def _pick(rng: random.Random, span: IntRange) -> int:
    return span[0] if span[0] == span[1] else rng.randint(span[0], span[1])


def _connection(rng: random.Random, t: float, source: Endpoint, dst: IPAddress, port: Port,
                src_port: int | None, shape: Shape) -> Connection:
    packets = _pick(rng, shape.packets)
    nbytes = max(_pick(rng, shape.bytes), packets)
    rp = _pick(rng, shape.reply_packets) if shape.reply_packets else packets
    rb = _pick(rng, shape.reply_bytes) if shape.reply_bytes else nbytes
    lo, hi = shape.lasts
    lasts = lo if lo == hi else rng.uniform(lo, hi)
    if src_port is None and port.port is not None:
        span = CLIENT_EPHEMERAL if source.node == INTERNET else LINUX_EPHEMERAL
        src_port = rng.randint(*span)
    return Connection(t, source, dst, port, src_port, packets, nbytes, rp, max(rb, rp), lasts,
                      shape.tcp_flags)


def _flow_connections(spec: TrafficSpec, f: FlowSpec, rng: random.Random
                      ) -> Iterator[Connection]:
    every = f.every if f.every is not None else (
        (spec.duration - f.at) / f.count if f.count > 1 else 0.0)
    for k in range(f.count):
        t = f.at + k * every
        if t >= spec.duration:
            break
        yield _connection(rng, spec.start + t, f.source, f.dst, f.port, f.src_port, f.shape)


def _generator_connections(spec: TrafficSpec, g: GeneratorSpec, rng: random.Random
                           ) -> Iterator[Connection]:
    if g.rate <= 0:
        return
    end = spec.duration if g.duration is None else min(spec.duration, g.at + g.duration)
    t = g.at
    k = 0
    sources, targets, ports = g.sources, g.targets, g.ports
    peers: dict[str, list[IPAddress]] = {}
    while True:
        t += rng.expovariate(g.rate)
        if t >= end:
            return
        source = sources[rng.randrange(len(sources))]
        dst = targets[rng.randrange(len(targets))]
        if g.peers is not None:
            mine = peers.get(source.node)
            if mine is None:
                pool = [t for t in targets if t != source.own] or targets
                mine = peers[source.node] = rng.sample(pool, min(g.peers, len(pool)))
            dst = mine[rng.randrange(len(mine))]
        elif dst == source.own and len(targets) > 1:
            dst = targets[rng.randrange(len(targets))]  # not to itself: redraw once
        if g.sequential_ports:
            port = ports[k % len(ports)]
            dst = targets[(k // len(ports)) % len(targets)]
        else:
            port = ports[rng.randrange(len(ports))]
        k += 1
        yield _connection(rng, spec.start + t, source, dst, port, None, g.shape)


def connections(spec: TrafficSpec) -> Iterator[Connection]:
    """Every connection of the spec, in time order (deterministic for a seed)."""
    streams: list[Iterator[Connection]] = []
    for i, f in enumerate(spec.flows):
        streams.append(_flow_connections(spec, f, random.Random(f"{spec.seed}/flow/{i}")))
    for i, g in enumerate(spec.generators):
        streams.append(_generator_connections(spec, g, random.Random(f"{spec.seed}/gen/{i}")))
    return heapq.merge(*streams)


class _PortEdges:
    """Where the TCP/UDP port ranges of filters begin and end.

    Filters compare only *destination* ports with their ranges, so a client's (source) port
    matters to a connection only in its reply, and only to the security groups and network
    ACLs that reply meets. Two client ports between the same edges of those filters get
    exactly the same verdicts at every step, so one trace stands for both.
    """

    def __init__(self, fp: ForwardingPlane) -> None:
        self.fp = fp
        self._sg: dict[str, frozenset[int]] = {}
        self._acl: dict[str, frozenset[int]] = {}

    def _sg_edges(self, sg: CompiledSecurityGroup) -> frozenset[int]:
        hit = self._sg.get(sg.id)
        if hit is None:
            hit = self._sg[sg.id] = frozenset(
                e for r in (*sg.ingress, *sg.egress) if r.proto in (6, 17, -1)
                for e in (r.lo, r.hi + 1))
        return hit

    def _acl_edges(self, acl: CompiledNacl) -> frozenset[int]:
        hit = self._acl.get(acl.id)
        if hit is None:
            hit = self._acl[acl.id] = frozenset(
                x for e in (*acl.ingress, *acl.egress) if e.proto in (6, 17, -1)
                for x in (e.lo, e.hi + 1))
        return hit

    def of_reply(self, reply: Trace | None) -> list[int]:
        """Edges of every filter the reply may have consulted (a superset is still exact)."""
        if reply is None:
            return []
        edges: set[int] = set()
        fp = self.fp
        subnets = {h.node for h in reply.hops if h.type == "subnet"}
        for c in reply.crossings:
            if c.subnet_id:
                subnets.add(c.subnet_id)
            device = fp.devices.get(c.point)
            if device is not None:
                for sg in device.groups:
                    edges |= self._sg_edges(sg)
        for sid in subnets:
            acl = fp.nacls.get(sid)
            if acl is not None:
                edges |= self._acl_edges(acl)
        return sorted(edges)


@dataclass(slots=True)
class _Template:
    """A traced connection standing for every client port in its class."""

    edges: list[int]
    port_class: int
    trace: Trace
    port: int | None


class TrafficRunner:
    """Plays a spec through the engine into a collector.

    Each distinct 5-tuple is traced once, and tuples whose client ports no filter on their
    path can tell apart share one trace (see :class:`_PortEdges`): the trace is replayed with
    the real port written into the records (``FlowLogCollector.observe(rewrite_port=...)``).
    """

    def __init__(self, fp: ForwardingPlane, collector: FlowLogCollector | None = None) -> None:
        self.fp = fp
        self.tracer = Tracer(fp)
        self.collector = collector if collector is not None else FlowLogCollector(fp)
        self._templates: dict[tuple[Any, ...], list[_Template]] = {}
        self._sources: dict[tuple[str, IPAddress | None], IPAddress] = {}
        self._edges = _PortEdges(fp)
        self.traced = 0

    def trace(self, c: Connection) -> tuple[Trace, int | None]:
        """The bidirectional trace standing for a connection (cached) and the client port it
        was traced with. Raises TraceInputError if the engine cannot start it."""
        port = c.src_port if c.src_port is not None else -1
        # 1024 is the NAT gateway's source port and the server port may reappear in replies:
        # those are traced exactly, so that a rewritten port is never ambiguous.
        shared = c.src_port is not None and port not in (1024, c.port.port)
        key = (c.source.node, c.source.ip, c.dst, c.port.protocol, c.port.port,
               None if shared else c.src_port)
        templates = self._templates.get(key)
        if templates is not None:
            for t in templates:
                if not shared or bisect.bisect_right(t.edges, port) == t.port_class:
                    return t.trace, t.port
        src = self._sources.get((c.source.node, c.source.ip))
        if src is None:
            start = self.tracer.resolve(c.source.node, c.source.ip)
            src = c.source.ip or self.tracer.default_source(start)
            self._sources[(c.source.node, c.source.ip)] = src
        proto = c.port.protocol
        if src.version != c.dst.version:
            raise TraceInputError(f"source {src} and destination {c.dst} are different IP "
                                  "versions")
        if proto in (6, 17):
            flow = Flow(src, c.dst, proto, c.src_port, c.port.port)
        elif proto in (1, 58):
            flow = Flow(src, c.dst, proto, icmp_type=8 if proto == 1 else 128, icmp_code=0)
        else:
            flow = Flow(src, c.dst, proto)
        trace = self.tracer.trace(c.source.node, flow, bidirectional=True)[0]
        self.traced += 1
        edges = self._edges.of_reply(trace.return_trace) if shared else []
        cls = bisect.bisect_right(edges, port) if shared else 0
        self._templates.setdefault(key, []).append(_Template(edges, cls, trace, c.src_port))
        return trace, c.src_port

    def play(self, c: Connection, stats: RunStats) -> None:
        try:
            trace, traced_port = self.trace(c)
        except TraceInputError as e:
            stats.errors += 1
            if len(stats.error_messages) < 20:
                stats.error_messages.append(str(e))
            return
        stats.connections += 1
        fwd = back = None
        if traced_port is not None and c.src_port is not None and traced_port != c.src_port:
            fwd, back = (4, traced_port, c.src_port), (5, traced_port, c.src_port)
        client, server = TCP_PATTERNS.get(c.pattern, (0, 0))
        tcp = c.port.protocol == 6
        end = c.time + c.lasts
        observe = self.collector.observe
        reply = trace.return_trace
        if trace.disposition.is_success:
            stats.accepted += 1
            observe(trace, c.packets, c.bytes, c.time, end, client if tcp else 0,
                    rewrite_port=fwd)
            if reply is not None:  # None: it left the network (internet, VPN), unseen back
                observe(reply, c.reply_packets, c.reply_bytes, c.time, end,
                        server if tcp else 0, rewrite_port=back)
            return
        stats.rejected += 1
        if tcp:
            # Nothing answers: the client retries its SYN (up to three packets) and gives up.
            packets = min(c.packets, 3)
            observe(trace, packets, 60 * packets, c.time, c.time + packets - 1, client & SYN,
                    rewrite_port=fwd)
        else:
            observe(trace, c.packets, c.bytes, c.time, end, rewrite_port=fwd)

    def run(self, spec: TrafficSpec, real_time: bool = False) -> RunStats:
        """Play every connection; in real time the spec's clock starts now."""
        stats = RunStats()
        began = time.perf_counter()
        offset = 0.0
        if real_time:
            offset = time.time() - spec.start
        span_start = spec.start + offset
        self.collector.span.cover(span_start, span_start + spec.duration)
        for c in connections(spec):
            if real_time:
                c.time += offset
                delay = c.time - time.time()
                if delay > 0:
                    time.sleep(delay)
            self.play(c, stats)
        stats.traced = self.traced
        stats.seconds = time.perf_counter() - began
        return stats

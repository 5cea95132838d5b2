"""Aggregating observations into flow-log records the way AWS writes them.

One record per observation point (ENI or transit gateway attachment), per flow (addresses,
ports, protocol, direction, action) and per aggregation interval, with the packets and bytes
of the interval, the first and last packet times, the TCP flags OR-ed over the interval, and
``NODATA`` for a subscribed ENI with no traffic in an interval (FORMAT.md §1, §5, §6, §10).

Traffic is kept in 60-second capture windows aligned to the Unix epoch (multiples of 60 s;
AWS does not document its window boundaries, aligned windows are what its samples look
like); a 600-second subscription merges ten of them, which is exact because the windows nest.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from localvpc.dataplane.compiled import ForwardingPlane
from localvpc.dataplane.flow import Trace
from localvpc.flowlogs.fields import TGW_FIELDS, VPC_FIELDS, record_version
from localvpc.flowlogs.format import DEFAULT_FIELDS, TGW_DEFAULT_FIELDS, format_record
from localvpc.flowlogs.observe import Observation, ObservationKey, Observer
from localvpc.model.errors import LocalVpcError

BASE_WINDOW = 60
INTERVALS = (60, 600)
TRAFFIC_TYPES = ("ACCEPT", "REJECT", "ALL")

# FORMAT.md §6: the flags AWS reports; SYN-ACK is written as 18 (SYN 2 + ACK 16).
FIN, SYN, RST, ACK = 1, 2, 4, 16
SYN_ACK = SYN | ACK
OPENING = SYN_ACK  # the bits of a connection's first packets
CLOSING = FIN | RST  # the bits of its last packets

RESOURCE_TYPES = {
    "vpc-": "VPC",
    "subnet-": "Subnet",
    "eni-": "NetworkInterface",
    "tgw-attach-": "TransitGatewayAttachment",
    "tgw-": "TransitGateway",
}
TGW_RESOURCE_TYPES = ("TransitGateway", "TransitGatewayAttachment")


class SubscriptionError(LocalVpcError):
    """A flow-log subscription names an unknown resource type, interval or traffic type."""


def packet_flags(raw: int) -> int:
    """One packet's TCP flags as a flow log reports them (FORMAT.md §6): FIN, SYN and RST
    are kept, ACK only as part of SYN-ACK; PSH, URG, ECE, CWR and a lone ACK are dropped."""
    out = raw & (FIN | SYN | RST)
    if raw & SYN and raw & ACK:
        out |= ACK
    return out


def resource_type_of(resource_id: str) -> str:
    for prefix, kind in RESOURCE_TYPES.items():
        if resource_id.startswith(prefix):
            return kind
    raise SubscriptionError(f"cannot tell the resource type of {resource_id!r}: give a VPC, "
                            "subnet, network interface, transit gateway or attachment id")


@dataclass(frozen=True, slots=True)
class Subscription:
    """What one flow log asks for: which resource, which traffic, how often, which fields.

    ``max_flows`` models AWS's capacity limit: past that many flows of one ENI in one
    interval the rest are dropped and one SKIPDATA record says so (None: no limit).
    """

    resource_id: str
    traffic_type: str = "ALL"
    interval: int = 600
    fields: tuple[str, ...] = ()
    resource_type: str = ""
    flow_log_id: str = ""
    max_flows: int | None = None

    def __post_init__(self) -> None:
        kind = self.resource_type or resource_type_of(self.resource_id)
        object.__setattr__(self, "resource_type", kind)
        tgw = kind in TGW_RESOURCE_TYPES
        if not self.fields:
            object.__setattr__(self, "fields", TGW_DEFAULT_FIELDS if tgw else DEFAULT_FIELDS)
        if self.interval not in INTERVALS:
            raise SubscriptionError(f"aggregation interval {self.interval}: use 60 or 600")
        if tgw and self.interval != 60:
            # FORMAT.md §10: transit gateway flow logs aggregate over 60 s only.
            object.__setattr__(self, "interval", 60)
        if self.traffic_type not in TRAFFIC_TYPES:
            raise SubscriptionError(f"traffic type {self.traffic_type!r}: use ACCEPT, REJECT "
                                    "or ALL")

    @property
    def is_tgw(self) -> bool:
        return self.resource_type in TGW_RESOURCE_TYPES


@dataclass(slots=True)
class _Cell:
    """One flow at one point in one 60-s window."""

    packets: int
    bytes: int
    start: int
    end: int
    flags: int


@dataclass(slots=True)
class _Segment:
    window: int
    packets: int
    bytes: int
    start: int
    end: int
    flags: int


@dataclass(slots=True)
class _Span:
    start: float | None = None
    end: float | None = None

    def cover(self, start: float, end: float) -> None:
        self.start = start if self.start is None else min(self.start, start)
        self.end = end if self.end is None else max(self.end, end)


def split(packets: int, nbytes: int, start: float, end: float, flags: int,
          window: int = BASE_WINDOW) -> list[_Segment]:
    """Spread a flow's packets and bytes over the capture windows it spans, in proportion to
    time; the windows of its first and last packet get at least one packet each.
    SYN/SYN-ACK are counted in the first window, FIN/RST in the last."""
    if end < start:
        start, end = end, start
    first, last = int(start // window), int(end // window)
    if first == last or packets <= 1:
        w = first * window
        return [_Segment(w, packets, nbytes, int(start), int(end), flags)]
    duration = end - start
    alloc: list[list[int]] = []
    done_p = done_b = 0
    for k in range(first, last + 1):
        frac = (min(end, (k + 1) * window) - start) / duration
        cum_p, cum_b = round(packets * frac), round(nbytes * frac)
        alloc.append([cum_p - done_p, cum_b - done_b])
        done_p, done_b = cum_p, cum_b
    for edge, donor_order in ((0, range(1, len(alloc))), (-1, range(len(alloc) - 2, -1, -1))):
        if alloc[edge][0] == 0:
            donor = next((d for d in donor_order if alloc[d][0] > 1), None)
            if donor is not None:
                share = alloc[donor][1] // alloc[donor][0]
                alloc[donor][0] -= 1
                alloc[donor][1] -= share
                alloc[edge][0] += 1
                alloc[edge][1] += share
    segments: list[_Segment] = []
    for k, (p, b) in zip(range(first, last + 1), alloc, strict=True):
        if p > 0:
            lo = max(start, k * window)
            # The last packet inside a window that the flow outlives is in its last second.
            hi = int(end) if end < (k + 1) * window else (k + 1) * window - 1
            segments.append(_Segment(k * window, p, b, int(lo), hi, 0))
    segments[0].flags |= flags & OPENING
    segments[-1].flags |= flags & CLOSING
    return segments


class FlowLogCollector:
    """Accumulates traced traffic and answers each subscription with its records.

    ``observe(trace, ...)`` counts one direction of a flow at every point that direction
    crosses; call it again with ``trace.return_trace`` for the reply's packets.
    ``start``/``end`` set the time range NODATA records cover (default: the traffic's span).
    """

    def __init__(self, fp: ForwardingPlane, start: float | None = None,
                 end: float | None = None) -> None:
        self.fp = fp
        self.observer = Observer(fp)
        self.span = _Span(start, end)
        self._cache: dict[int, tuple[Trace, list[Observation]]] = {}
        self._windows: dict[int, dict[ObservationKey, _Cell]] = {}
        # key -> (observation, port field to rewrite or "", its value)
        self._obs: dict[ObservationKey, tuple[Observation, str, int]] = {}

    # ------------------------------------------------------------------ input
    def observations(self, trace: Trace) -> list[Observation]:
        """The observations of a trace, computed once per trace object."""
        hit = self._cache.get(id(trace))
        if hit is not None and hit[0] is trace:
            return hit[1]
        obs = self.observer.observe(trace)
        self._cache[id(trace)] = (trace, obs)  # keeping the trace alive keeps its id unique
        return obs

    def observe(self, trace: Trace, packets: int, bytes: int, start: float, end: float,
                tcp_flags: int = 0, *, rewrite_port: tuple[int, int, int] | None = None
                ) -> None:
        """Count ``packets``/``bytes`` sent between ``start`` and ``end`` (Unix seconds) along
        ``trace`` (one direction). ``tcp_flags``: the OR of the packets' reported flags
        (see :func:`packet_flags`).

        ``rewrite_port`` = (slot, traced, actual): the trace stands for every client port its
        filters cannot tell apart; it was traced with port ``traced`` and counts here for
        port ``actual``, in the source port (slot 4, requests) or the destination port
        (slot 5, replies) wherever ``traced`` appears there."""
        if packets <= 0:
            return
        obs = self.observations(trace)
        self.span.cover(start, end)
        if not obs:
            return
        segments = split(packets, bytes, start, end, tcp_flags)
        windows = self._windows
        known = self._obs
        slot, traced, actual = rewrite_port if rewrite_port else (0, 0, 0)
        for o in obs:
            key = o.key
            if slot and key[slot] == traced:
                key = (*key[:slot], actual, *key[slot + 1:])
                if key not in known:
                    known[key] = (o, "srcport" if slot == 4 else "dstport", actual)
            elif key not in known:
                known[key] = (o, "", 0)
            tcp = o.tcp
            for seg in segments:
                cells = windows.get(seg.window)
                if cells is None:
                    cells = windows[seg.window] = {}
                cell = cells.get(key)
                if cell is None:
                    cells[key] = _Cell(seg.packets, seg.bytes, seg.start, seg.end,
                                       seg.flags if tcp else 0)
                else:
                    cell.packets += seg.packets
                    cell.bytes += seg.bytes
                    if seg.start < cell.start:
                        cell.start = seg.start
                    if seg.end > cell.end:
                        cell.end = seg.end
                    if tcp:
                        cell.flags |= seg.flags

    # ------------------------------------------------------------------ scope
    def points(self, sub: Subscription) -> list[str]:
        """The ENIs (or TGW attachments) a subscription covers, sorted."""
        rid, kind = sub.resource_id, sub.resource_type
        if kind == "NetworkInterface":
            return [rid] if rid in self.fp.devices else []
        if kind == "VPC":
            return sorted(e for e, d in self.fp.devices.items() if d.vpc_id == rid)
        if kind == "Subnet":
            return sorted(e for e, d in self.fp.devices.items() if d.subnet_id == rid)
        atts = self.fp.network.transit_gateway_attachments
        if kind == "TransitGatewayAttachment":
            return [rid] if rid in atts else []
        return sorted(a.id for a in atts.values() if a.transit_gateway_id == rid)

    # ------------------------------------------------------------------ output
    def windows(self, interval: int) -> list[int]:
        """Start times of the aggregation intervals the run covers."""
        if self.span.start is None or self.span.end is None:
            return []
        first = int(self.span.start // interval) * interval
        last = math.ceil(self.span.end / interval) * interval
        spans = set(range(first, max(last, first + interval), interval))
        # A packet at the very end of the span lies in the window the span ends on.
        spans.update(w // interval * interval for w in self._windows)
        return sorted(spans)

    def records(self, sub: Subscription) -> Iterator[dict[str, Any]]:
        """Every record of the subscription, interval by interval, ENI by ENI."""
        points = self.points(sub)
        scope = set(points)
        version = record_version(sub.fields)
        want = "tgw" if sub.is_tgw else "eni"
        action = None if sub.traffic_type == "ALL" or sub.is_tgw else sub.traffic_type
        for w in self.windows(sub.interval):
            merged: dict[ObservationKey, _Cell] = {}
            for base in range(w, w + sub.interval, BASE_WINDOW):
                for key, cell in self._windows.get(base, {}).items():
                    if key[0] not in scope:
                        continue
                    o = self._obs[key][0]
                    if o.kind != want or (action is not None and o.fields["action"] != action):
                        continue
                    have = merged.get(key)
                    if have is None:
                        merged[key] = _Cell(cell.packets, cell.bytes, cell.start, cell.end,
                                            cell.flags)
                    else:
                        have.packets += cell.packets
                        have.bytes += cell.bytes
                        have.start = min(have.start, cell.start)
                        have.end = max(have.end, cell.end)
                        have.flags |= cell.flags
            by_point: dict[str, list[tuple[ObservationKey, _Cell]]] = {}
            for key, cell in merged.items():
                by_point.setdefault(key[0], []).append((key, cell))
            for point in points:
                flows = by_point.get(point)
                if not flows:
                    yield self._status(sub, version, point, w, "NODATA")
                    continue
                flows.sort(key=lambda kc: kc[1].start)
                skipped = sub.max_flows is not None and len(flows) > sub.max_flows
                if skipped:
                    flows = flows[: sub.max_flows]
                for key, cell in flows:
                    o, port_field, port = self._obs[key]
                    rec = self._record(sub, version, o, cell)
                    if port_field:
                        rec[port_field] = port
                    yield rec
                if skipped:
                    yield self._status(sub, version, point, w, "SKIPDATA")

    def _record(self, sub: Subscription, version: int, o: Observation, cell: _Cell
                ) -> dict[str, Any]:
        rec = dict(o.fields)
        rec["version"] = version
        rec["packets"] = cell.packets
        rec["bytes"] = cell.bytes
        rec["start"] = cell.start
        rec["end"] = cell.end
        rec["tcp-flags"] = cell.flags
        rec["log-status"] = "OK"
        if o.kind == "tgw":
            rec["resource-type"] = sub.resource_type
            rec["packets-lost-no-route"] = cell.packets if o.lost == "no-route" else 0
            rec["packets-lost-blackhole"] = cell.packets if o.lost == "blackhole" else 0
            rec["packets-lost-mtu-exceeded"] = 0
            rec["packets-lost-ttl-expired"] = 0
        return rec

    def _status(self, sub: Subscription, version: int, point: str, window: int,
                status: str) -> dict[str, Any]:
        """A NODATA/SKIPDATA line: who and when, everything else '-' (FORMAT.md §5)."""
        rec: dict[str, Any] = dict.fromkeys(TGW_FIELDS if sub.is_tgw else VPC_FIELDS)
        rec.update({"version": version, "start": window, "end": window + sub.interval - 1,
                    "log-status": status})
        if sub.is_tgw:
            att = self.fp.network.transit_gateway_attachments.get(point)
            tgw = self.fp.network.transit_gateways.get(att.transit_gateway_id) if att else None
            rec.update({"resource-type": sub.resource_type, "tgw-attachment-id": point,
                        "tgw-id": att.transit_gateway_id if att else None,
                        "account-id": tgw.account if tgw else None})
        else:
            meta = self.observer.eni_fields(point)
            rec.update({"account-id": meta["account-id"], "interface-id": point})
        return rec

    def lines(self, sub: Subscription, records: Iterable[dict[str, Any]] | None = None
              ) -> Iterator[str]:
        """The records as log lines in the subscription's format (no header line)."""
        for rec in self.records(sub) if records is None else records:
            yield format_record(rec, sub.fields)

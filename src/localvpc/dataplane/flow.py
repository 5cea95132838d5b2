"""Flows, hops, traces and dispositions: the vocabulary of the trace engine's answers."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from localvpc.model.base import IPAddress

PROTOCOL_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58}
PROTOCOL_NAMES = {v: k for k, v in PROTOCOL_NUMBERS.items()}


class Disposition(StrEnum):
    """Final fate of a packet; meanings as in Batfish (see shared/acceptance/README.md)."""

    ACCEPTED = "ACCEPTED"
    DELIVERED_TO_SUBNET = "DELIVERED_TO_SUBNET"
    EXITS_NETWORK = "EXITS_NETWORK"
    DENIED_IN = "DENIED_IN"
    DENIED_OUT = "DENIED_OUT"
    NO_ROUTE = "NO_ROUTE"
    NULL_ROUTED = "NULL_ROUTED"
    NEIGHBOR_UNREACHABLE = "NEIGHBOR_UNREACHABLE"
    LOOP = "LOOP"

    @property
    def is_success(self) -> bool:
        return self in (Disposition.ACCEPTED, Disposition.EXITS_NETWORK,
                        Disposition.DELIVERED_TO_SUBNET)


@dataclass(frozen=True, slots=True)
class Flow:
    """One packet header. Ports apply to TCP/UDP; ``icmp_type``/``icmp_code`` to ICMP."""

    src_ip: IPAddress
    dst_ip: IPAddress
    protocol: int = 6
    src_port: int | None = None
    dst_port: int | None = None
    icmp_type: int | None = None
    icmp_code: int | None = None

    @property
    def has_ports(self) -> bool:
        return self.protocol in (6, 17)

    def reversed(self) -> Flow:
        """The reply's header: addresses and ports swapped, echo request becomes echo reply."""
        icmp_type = self.icmp_type
        if self.protocol == 1 and icmp_type == 8:
            icmp_type = 0
        elif self.protocol == 58 and icmp_type == 128:
            icmp_type = 129
        return replace(self, src_ip=self.dst_ip, dst_ip=self.src_ip, src_port=self.dst_port,
                       dst_port=self.src_port, icmp_type=icmp_type)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "src_ip": str(self.src_ip),
            "dst_ip": str(self.dst_ip),
            "protocol": PROTOCOL_NAMES.get(self.protocol, str(self.protocol)),
        }
        if self.has_ports:
            out["src_port"] = self.src_port
            out["dst_port"] = self.dst_port
        if self.protocol in (1, 58):
            out["icmp_type"] = self.icmp_type
            out["icmp_code"] = self.icmp_code
        return out


@dataclass(slots=True)
class Hop:
    """One step of a trace: the node the packet is at, what happened, and why."""

    node: str
    type: str
    action: str
    detail: str = ""
    # For a drop: the AWS Reachability Analyzer explanation code (ENI_SG_RULES_MISMATCH, ...).
    code: str = ""

    def to_json(self) -> dict[str, str]:
        out = {"node": self.node, "type": self.type, "action": self.action,
               "detail": self.detail}
        if self.code:
            out["code"] = self.code
        return out


@dataclass(slots=True)
class Crossing:
    """The packet passing one observation point: an ENI, or a transit gateway attachment.

    Flow logs are written per ENI from what that ENI saw, so the walk records, next to its
    hops, every ENI the packet left or reached, the header on the wire there, and whether that
    ENI's security groups or its subnet's network ACL rejected it. Not part of the JSON
    output; ``localvpc.flowlogs`` reads it.
    """

    point: str  # ENI id, or TGW attachment id when ``tgw_id`` is set
    direction: str  # "ingress" (reaching the point) or "egress" (leaving it)
    flow: Flow  # the header on the wire at the point
    subnet_id: str = ""  # the ENI's subnet, or the attachment subnet the packet used
    action: str = "ACCEPT"  # REJECT: this ENI's security groups or subnet NACL dropped it
    hop_index: int = 0  # index in ``Trace.hops`` of the hop where the crossing happened
    # Egress only: the route target kind the packet took after leaving (a ``TargetType``
    # value, or "local" for delivery in the same subnet) and the target's id.
    via: str = ""
    via_id: str = ""
    tgw_id: str = ""  # set for transit gateway attachments
    lost: str = ""  # TGW: why the gateway dropped the packet (no-route, blackhole)
    reject_reason: str = ""  # flow logs' reject-reason: "BPA" (Block Public Access)


@dataclass(slots=True)
class Trace:
    """A forward path with its disposition, the final header, and optionally the reply's trace."""

    disposition: Disposition
    hops: list[Hop] = field(default_factory=list)
    final_flow: Flow | None = None
    return_trace: Trace | None = None
    crossings: list[Crossing] = field(default_factory=list)

    @property
    def reason(self) -> str:
        """The detail of the deciding (last) hop, in words."""
        return self.hops[-1].detail if self.hops else ""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "disposition": self.disposition.value,
            "hops": [h.to_json() for h in self.hops],
        }
        if self.final_flow is not None:
            out["final_flow"] = self.final_flow.to_json()
        out["return"] = self.return_trace.to_json() if self.return_trace is not None else None
        return out

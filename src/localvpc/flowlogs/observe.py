"""What each ENI (and transit gateway attachment) sees of a traced packet: flow-log fields.

The trace engine records every observation point a packet passes (``Trace.crossings``): the
ENI, the direction, the header on the wire there and whether that ENI's security groups or
its subnet's network ACL rejected it. This module turns those into the per-flow fields of a
flow-log record as AWS fills them (FORMAT.md §4, §8, §9, §12); counters, times, TCP flags and
log-status are added when records are aggregated (``records.py``).

Address rule (FORMAT.md §4): on an ENI, ``srcaddr`` of outgoing traffic and ``dstaddr`` of
incoming traffic is the ENI's own primary private address whatever the packet carried;
``pkt-srcaddr``/``pkt-dstaddr`` are the addresses in the packet. That is what makes a NAT
gateway, a load balancer or a middlebox visible in the logs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from localvpc.dataplane.compiled import KIND_INSTANCE, KIND_NAT, Device, ForwardingPlane
from localvpc.dataplane.flow import Crossing, Trace
from localvpc.flowlogs.encryption import encryption_status, neighbour
from localvpc.flowlogs.fields import TGW_FIELDS, VPC_FIELDS
from localvpc.model import instance_types
from localvpc.model.aws_prefixes import service_of
from localvpc.model.base import DEFAULT_ACCOUNT, IPAddress
from localvpc.model.catalog import default_catalog
from localvpc.model.vpc import TargetType
from localvpc.model.zones import ZoneType

ObservationKey = tuple[Any, ...]

# FORMAT.md §9. Resources that put an ENI in the VPC (NAT gateway, appliance, transit gateway
# attachment, GWLB endpoint) count as "another resource in the same VPC" (code 1).
_PATH_CODE: dict[str, int] = {
    "local": 1,
    TargetType.LOCAL: 1,
    TargetType.NAT_GATEWAY: 1,
    TargetType.INSTANCE: 1,
    TargetType.NETWORK_INTERFACE: 1,
    TargetType.TRANSIT_GATEWAY: 1,
    TargetType.GWLB_ENDPOINT: 1,
    TargetType.VPN_GATEWAY: 3,
    TargetType.LOCAL_GATEWAY: 6,
}
# Every field starts as '-' (None): ECS and the v11 next-hop and tag fields are
# not modelled (reject-reason is set for Block Public Access drops only), so they stay '-'
# as AWS writes them when they do not apply.
_BLANK_VPC: dict[str, Any] = dict.fromkeys(VPC_FIELDS)
_BLANK_TGW: dict[str, Any] = dict.fromkeys(TGW_FIELDS)
_SUBLOCATION = {ZoneType.LOCAL_ZONE: "localzone", ZoneType.WAVELENGTH_ZONE: "wavelength"}


@dataclass(frozen=True, slots=True)
class Observation:
    """One observation point's view of one packet header.

    ``key`` identifies the flow as AWS aggregates it (point, direction, addresses, ports,
    protocol, action); ``fields`` holds every per-flow record field (no counters or times).
    """

    point: str  # ENI id, or TGW attachment id
    kind: str  # "eni" or "tgw"
    key: ObservationKey
    fields: dict[str, Any]
    tcp: bool
    lost: str = ""  # TGW: why the gateway dropped the packet


@lru_cache(maxsize=65536)
def _text(address: IPAddress) -> str:
    return str(address)  # ipaddress's __str__ is slow and the same addresses recur


@lru_cache(maxsize=65536)
def aws_service(address: IPAddress) -> str | None:
    """FORMAT.md §8: the ip-ranges subset an address belongs to (None: not AWS)."""
    if address.is_private:
        return None
    return service_of(address)


class Observer:
    """Turns traces of one compiled network into observations; caches per-ENI metadata."""

    def __init__(self, fp: ForwardingPlane) -> None:
        self.fp = fp
        self._eni_fields: dict[str, dict[str, Any]] = {}
        self._own_ips: dict[str, tuple[IPAddress | None, tuple[IPAddress, ...]]] = {}
        self._nitro: dict[str, bool] = {}
        self._zone_ids: dict[tuple[str, str], tuple[str | None, str | None, str | None]] = {}

    # ------------------------------------------------------------------ per-ENI metadata
    def zone_info(self, region: str, zone: str, outpost_arn: str | None,
                  zone_id: str | None = None) -> tuple[str | None, str | None, str | None]:
        """(az-id, sublocation-type, sublocation-id) of a subnet's zone."""
        if outpost_arn:
            return None, "outpost", outpost_arn.rsplit("/", 1)[-1]
        cache_key = (region, zone)
        hit = self._zone_ids.get(cache_key)
        if hit is not None:
            return hit
        ztype = ZoneType.AVAILABILITY_ZONE
        known = self.fp.network.zones.get(zone)
        if known is not None:
            ztype, zone_id = known.zone_type, zone_id or known.zone_id
        else:
            entry = next((e for e in default_catalog().zone_entries(region) if e.name == zone),
                         None)
            if entry is not None:
                ztype, zone_id = entry.zone_type, zone_id or entry.zone_id
        sub = _SUBLOCATION.get(ztype)
        out = (None, sub, zone_id) if sub is not None else (zone_id, None, None)
        self._zone_ids[cache_key] = out
        return out

    def eni_fields(self, eni_id: str) -> dict[str, Any]:
        """The fields that depend only on the ENI (account, VPC, subnet, zone ...)."""
        cached = self._eni_fields.get(eni_id)
        if cached is not None:
            return cached
        device = self.fp.devices.get(eni_id)
        subnet = self.fp.subnets.get(device.subnet_id) if device is not None else None
        eni = device.eni if device is not None else None
        account = eni.account if eni is not None else DEFAULT_ACCOUNT
        if account == DEFAULT_ACCOUNT and subnet is not None:
            account = subnet.account  # an ENI without an owner of its own: the subnet's
        region = subnet.region if subnet is not None else (eni.region if eni else None)
        az_id = sub_type = sub_id = None
        if subnet is not None:
            az_id, sub_type, sub_id = self.zone_info(subnet.region, subnet.availability_zone,
                                                     subnet.outpost_arn,
                                                     subnet.availability_zone_id)
        instance_id = None
        if device is not None and device.kind == KIND_INSTANCE:
            instance_id = device.owner_id  # requester-managed ENIs (NAT, LB, TGW) show '-'
        out: dict[str, Any] = {
            "account-id": account,
            "interface-id": eni_id,
            "vpc-id": device.vpc_id if device is not None else None,
            "subnet-id": device.subnet_id if device is not None else None,
            "instance-id": instance_id,
            "region": region,
            "az-id": az_id,
            "sublocation-type": sub_type,
            "sublocation-id": sub_id,
            "interface-type": eni.interface_type if eni is not None else None,
        }
        self._eni_fields[eni_id] = out
        return out

    def _own(self, device: Device | None) -> tuple[IPAddress | None, tuple[IPAddress, ...]]:
        """(primary private IPv4, IPv6 addresses) of an ENI."""
        if device is None:
            return None, ()
        hit = self._own_ips.get(device.eni.id)
        if hit is not None:
            return hit
        primary = device.eni.primary_ip
        if primary is not None and primary.version != 4:
            primary = None
        if primary is None and device.kind == KIND_NAT and device.owner_id:
            nat = self.fp.network.nat_gateways.get(device.owner_id)
            if nat is not None and nat.private_ip is not None:
                primary = nat.private_ip  # a NAT gateway ENI missing from the snapshot
        out = (primary, tuple(device.eni.ipv6_addresses))
        self._own_ips[device.eni.id] = out
        return out

    def _own_address(self, device: Device | None, packet_addr: IPAddress) -> IPAddress:
        """The address an ENI writes for its own side of a flow (FORMAT.md §4)."""
        v4, v6 = self._own(device)
        if packet_addr.version == 4:
            return v4 if v4 is not None else packet_addr
        if packet_addr in v6 or not v6:
            return packet_addr
        return v6[0]

    def is_nitro(self, device: Device | None) -> bool:
        """Nitro instances report traffic paths 7 and 8. Unknown instance types and
        AWS-managed ENIs are taken as Nitro, the platform of every current generation."""
        if device is None or device.kind != KIND_INSTANCE or device.owner_id is None:
            return True
        hit = self._nitro.get(device.owner_id)
        if hit is None:
            inst = self.fp.network.instances.get(device.owner_id)
            info = instance_types.get(inst.instance_type) if inst and inst.instance_type \
                else None
            hit = info is None or info.hypervisor in (None, "nitro")
            self._nitro[device.owner_id] = hit
        return hit

    def traffic_path(self, crossing: Crossing, device: Device | None) -> int | None:
        """FORMAT.md §9, for egress only: where the packet went after leaving the ENI."""
        if crossing.direction != "egress" or not crossing.via:
            return None
        via = crossing.via
        code = _PATH_CODE.get(via)
        if code is not None:
            return code
        if via == TargetType.INTERNET_GATEWAY:
            return 8 if self.is_nitro(device) else 2
        if via == TargetType.EGRESS_ONLY_INTERNET_GATEWAY:
            # Not listed by AWS; an egress-only IGW is an internet gateway for IPv6.
            return 8 if self.is_nitro(device) else 2
        if via == TargetType.GATEWAY_ENDPOINT:
            return 7 if self.is_nitro(device) else 2
        if via == TargetType.VPC_PEERING:
            pcx = self.fp.network.peering_connections.get(crossing.via_id)
            if pcx is None:
                return 4
            a = self.fp.network.vpcs.get(pcx.requester_vpc_id)
            b = self.fp.network.vpcs.get(pcx.accepter_vpc_id)
            return 5 if a is not None and b is not None and a.region != b.region else 4
        return None  # carrier gateway, Cloud WAN, ...: none of the documented paths

    # ------------------------------------------------------------------ observations
    def observe(self, trace: Trace) -> list[Observation]:
        """Observations of one direction of a flow (``trace.return_trace`` is not read)."""
        out: list[Observation] = []
        crossings = trace.crossings
        for i, c in enumerate(crossings):
            if c.tgw_id:
                tgw = self._tgw_observation(crossings, i)
                if tgw is not None:
                    out.append(tgw)
            else:
                out.append(self._eni_observation(c, neighbour(crossings, i)))
        return out

    def _eni_observation(self, c: Crossing, other: Crossing | None = None) -> Observation:
        device = self.fp.devices.get(c.point)
        flow = c.flow
        egress = c.direction == "egress"
        src = self._own_address(device, flow.src_ip) if egress else flow.src_ip
        dst = flow.dst_ip if egress else self._own_address(device, flow.dst_ip)
        sport, dport = (flow.src_port or 0, flow.dst_port or 0) if flow.has_ports else (0, 0)
        eni_type = device.eni.interface_type if device is not None else ""
        fields = dict(_BLANK_VPC)
        fields.update(self.eni_fields(c.point))
        fields.update({
            "srcaddr": _text(src),
            "dstaddr": _text(dst),
            "srcport": sport,
            "dstport": dport,
            "protocol": flow.protocol,
            "action": c.action,
            "type": "EFA" if eni_type == "efa" else f"IPv{flow.src_ip.version}",
            "pkt-srcaddr": _text(flow.src_ip),
            "pkt-dstaddr": _text(flow.dst_ip),
            "pkt-src-aws-service": aws_service(flow.src_ip),
            "pkt-dst-aws-service": aws_service(flow.dst_ip),
            "flow-direction": c.direction,
            "traffic-path": self.traffic_path(c, device),
            "reject-reason": c.reject_reason or None,  # BPA, else '-'
            "encryption-status": encryption_status(self.fp, c, device, other),
        })
        key = (c.point, c.direction, fields["srcaddr"], fields["dstaddr"], sport, dport,
               flow.protocol, fields["pkt-srcaddr"], fields["pkt-dstaddr"], c.action,
               c.reject_reason)
        return Observation(c.point, "eni", key, fields, flow.protocol == 6)

    def _tgw_side(self, attachment_id: str, subnet_id: str
                  ) -> tuple[str | None, str | None, str | None, str | None]:
        """(account, VPC, subnet, az-id) of a transit gateway attachment's side."""
        att = self.fp.network.transit_gateway_attachments.get(attachment_id)
        if att is None or att.resource_type != "vpc":
            return None, None, None, None
        vpc = self.fp.network.vpcs.get(att.resource_id)
        account = att.resource_owner or (vpc.account if vpc is not None else None)
        subnet = self.fp.subnets.get(subnet_id)
        az = None
        if subnet is not None:
            az = self.zone_info(subnet.region, subnet.availability_zone, subnet.outpost_arn,
                                subnet.availability_zone_id)[0]
        return account, att.resource_id, subnet_id or None, az

    def _tgw_observation(self, crossings: list[Crossing], i: int) -> Observation | None:
        c = crossings[i]
        src_c: Crossing | None
        dst_c: Crossing | None
        # The other attachment of the flow on the same gateway: the next egress after an
        # ingress, the previous ingress before an egress.
        if c.direction == "ingress":
            pair = next((x for x in crossings[i + 1:] if x.tgw_id == c.tgw_id
                         and x.direction == "egress"), None)
            src_c, dst_c = c, pair
        else:
            pair = next((x for x in reversed(crossings[:i]) if x.tgw_id == c.tgw_id
                         and x.direction == "ingress"), None)
            src_c, dst_c = pair, c
        src = self._tgw_side(src_c.point, src_c.subnet_id) if src_c else (None,) * 4
        dst = self._tgw_side(dst_c.point, dst_c.subnet_id) if dst_c else (None,) * 4
        tgw = self.fp.network.transit_gateways.get(c.tgw_id)
        flow = c.flow
        sport, dport = (flow.src_port or 0, flow.dst_port or 0) if flow.has_ports else (0, 0)
        fields = dict(_BLANK_TGW)
        fields.update({
            "account-id": tgw.account if tgw is not None else None,
            "tgw-id": c.tgw_id,
            "tgw-attachment-id": c.point,
            "tgw-src-vpc-account-id": src[0],
            "tgw-dst-vpc-account-id": dst[0],
            "tgw-src-vpc-id": src[1],
            "tgw-dst-vpc-id": dst[1],
            "tgw-src-subnet-id": src[2],
            "tgw-dst-subnet-id": dst[2],
            # The attachment ENIs are requester-managed and not part of the model.
            "tgw-src-eni": None,
            "tgw-dst-eni": None,
            "tgw-src-az-id": src[3],
            "tgw-dst-az-id": dst[3],
            "tgw-pair-attachment-id": pair.point if pair is not None else None,
            "srcaddr": _text(flow.src_ip),
            "dstaddr": _text(flow.dst_ip),
            "srcport": sport,
            "dstport": dport,
            "protocol": flow.protocol,
            "type": f"IPv{flow.src_ip.version}",
            "region": tgw.region if tgw is not None else None,
            "flow-direction": c.direction,
            # TGW logs compute the service names from srcaddr/dstaddr (FORMAT.md §12).
            "pkt-src-aws-service": aws_service(flow.src_ip),
            "pkt-dst-aws-service": aws_service(flow.dst_ip),
        })
        key = (c.point, c.direction, fields["srcaddr"], fields["dstaddr"], sport, dport,
               flow.protocol, c.lost)
        return Observation(c.point, "tgw", key, fields, flow.protocol == 6, c.lost)

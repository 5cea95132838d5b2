"""Subnet CIDR reservations (``scr-...``) and what they do to automatic address picking.

AWS's rules (VPC User Guide, "Subnet CIDR reservations"): a reservation is an IPv4 or IPv6
range inside one subnet; reservations in one VPC never overlap; a range may include addresses
already in use (they stay assigned), and deleting a reservation unassigns nothing.

* ``explicit``: AWS never picks these addresses itself. Only a caller naming them
  (``PrivateIpAddress``, ``PrivateIpAddresses``, ``Ipv4Prefixes``) gets them.
* ``prefix``: set aside for prefix delegation. Automatic prefix assignment
  (``Ipv4PrefixCount`` / ``Ipv6PrefixCount``) takes its prefixes from these ranges first.
  Single addresses are not picked from them either: the point of the range is to keep
  whole prefixes free. When the prefix ranges are full, prefixes come from the unreserved
  rest of the subnet (AWS does not document that case; refusing would surprise users more).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    error,
    new_id,
    owned,
    paginate,
    persist_new,
    tags_list,
)
from localvpc.model.base import IPAddress, IPNetwork
from localvpc.model.network import Network
from localvpc.model.vpc import Subnet, SubnetCidrReservation

RESERVATION_TYPES = ("prefix", "explicit")


# ------------------------------------------------------------------ address picking
def reservations_of(net: Network, subnet: Subnet, kind: str | None = None
                    ) -> list[SubnetCidrReservation]:
    return [r for r in net.subnet_cidr_reservations.values()
            if r.subnet_id == subnet.id and r.cidr is not None
            and (kind is None or r.reservation_type == kind)]


def reserved_ranges(net: Network, subnet: Subnet) -> list[IPNetwork]:
    """Every reserved range of the subnet: automatic single-address picking skips them."""
    return [r.cidr for r in reservations_of(net, subnet) if r.cidr is not None]


def is_reserved(ranges: Iterable[IPNetwork], ip: IPAddress) -> bool:
    return any(ip in r for r in ranges)


def unused_reserved_count(net: Network, subnet: Subnet, used: set[IPAddress]) -> int:
    """How many IPv4 hosts of the subnet the reservations keep from automatic picking
    (ranges never overlap, so they add up)."""
    if subnet.cidr is None:
        return 0
    total = 0
    for r in reserved_ranges(net, subnet):
        if r.version == 4:
            total += r.num_addresses - sum(1 for ip in used if ip in r) - sum(
                1 for ip in _aws_reserved(subnet.cidr) if ip in r)
    return total


def _aws_reserved(cidr: IPNetwork) -> list[IPAddress]:
    """The four first and the last address of a subnet block, which AWS keeps."""
    base = int(cidr.network_address)
    return [ipaddress.ip_address(base + n) for n in range(4)] + [cidr.broadcast_address]


def reserved_prefixes(net: Network, subnet: Subnet, used: set[IPAddress],
                      taken: list[IPNetwork], count: int, length: int) -> list[IPNetwork]:
    """Up to ``count`` free aligned ``/length`` prefixes inside the subnet's ``prefix``
    reservations (lowest first; AWS picks at random, any free one is as good)."""
    out: list[IPNetwork] = []
    version = 4 if length <= 32 else 6
    for r in sorted(reservations_of(net, subnet, "prefix"),
                    key=lambda r: int(r.cidr.network_address) if r.cidr else 0):
        cidr = r.cidr
        if cidr is None or cidr.version != version or cidr.prefixlen > length:
            continue
        block = next((b for b in subnet.all_cidrs if b.version == version
                      and int(b.network_address) <= int(cidr.network_address)
                      and int(cidr.broadcast_address) <= int(b.broadcast_address)), None)
        keep = _aws_reserved(block) if block is not None else []
        for candidate in cidr.subnets(new_prefix=length):
            if len(out) == count:
                return out
            if any(candidate.overlaps(t) for t in [*taken, *out]) \
                    or any(ip in candidate for ip in keep) \
                    or any(ip in candidate for ip in used):
                continue
            out.append(candidate)
    return out


# ------------------------------------------------------------------ API
def reservation_view(r: SubnetCidrReservation) -> dict[str, Any]:
    return {"SubnetCidrReservationId": r.id, "SubnetId": r.subnet_id, "Cidr": str(r.cidr),
            "ReservationType": r.reservation_type, "OwnerId": r.account,
            "Description": r.description or None, "Tags": tags_list(r.tags)}


FILTERS = {
    "reservationType": lambda r: [r.reservation_type],
    "subnet-id": lambda r: [r.subnet_id],
    "owner-id": lambda r: [r.account],
}


def _inside(subnet: Subnet, cidr: IPNetwork) -> bool:
    return any(b.version == cidr.version
               and int(b.network_address) <= int(cidr.network_address)
               and int(cidr.broadcast_address) <= int(b.broadcast_address)
               for b in subnet.all_cidrs)


class ReservationOperations:
    def CreateSubnetCidrReservation(self, ctx: RequestContext, params: dict[str, Any]
                                    ) -> dict[str, Any]:
        net = ctx.state.network
        subnet: Subnet = owned(ctx, "subnets", params["SubnetId"], "InvalidSubnetID.NotFound",
                               "subnet")
        kind = params["ReservationType"]
        if kind not in RESERVATION_TYPES:
            raise error("InvalidParameterValue", f"Value ({kind}) for parameter "
                        "reservationType is invalid. Valid values: prefix, explicit.")
        text = params["Cidr"]
        try:
            cidr = ipaddress.ip_network(text.strip())
        except ValueError:  # malformed, or host bits set
            raise error("InvalidParameterValue", f"Value ({text}) for parameter cidr is "
                        "invalid. This is not a valid CIDR block.") from None
        if not _inside(subnet, cidr):
            raise error("InvalidParameterValue", f"The CIDR {text} is not within the CIDR "
                        f"ranges of subnet {subnet.id}.")
        clash = next((r for r in net.subnet_cidr_reservations.values()
                      if r.vpc_id == subnet.vpc_id and r.cidr is not None
                      and r.subnet_id in net.subnets  # a deleted subnet's go with it
                      and r.cidr.version == cidr.version and r.cidr.overlaps(cidr)), None)
        if clash is not None:  # AWS: reservations in one VPC cannot overlap
            raise error("InvalidParameterValue", f"The CIDR {text} overlaps the subnet CIDR "
                        f"reservation {clash.id} ({clash.cidr}) in {subnet.vpc_id}.")
        r = SubnetCidrReservation(new_id("scr"), ctx.account, ctx.region, subnet_id=subnet.id,
                                  vpc_id=subnet.vpc_id, cidr=cidr, reservation_type=kind,
                                  description=params.get("Description") or "")
        apply_tag_specs(r, params, "subnet-cidr-reservation")
        persist_new(ctx, r)
        return {"SubnetCidrReservation": reservation_view(r)}

    def GetSubnetCidrReservations(self, ctx: RequestContext, params: dict[str, Any]
                                  ) -> dict[str, Any]:
        net = ctx.state.network
        subnet: Subnet = owned(ctx, "subnets", params["SubnetId"], "InvalidSubnetID.NotFound",
                               "subnet")
        found = apply_filters(reservations_of(net, subnet), params.get("Filters"), FILTERS)
        page, token = paginate(found, params, lambda r: r.id, minimum=5, maximum=1000)
        return {"SubnetIpv4CidrReservations": [reservation_view(r) for r in page
                                               if r.cidr is not None and r.cidr.version == 4],
                "SubnetIpv6CidrReservations": [reservation_view(r) for r in page
                                               if r.cidr is not None and r.cidr.version == 6],
                "NextToken": token}

    def DeleteSubnetCidrReservation(self, ctx: RequestContext, params: dict[str, Any]
                                    ) -> dict[str, Any]:
        # Addresses already assigned from the range stay assigned (AWS's rule).
        rid = params["SubnetCidrReservationId"]
        r: SubnetCidrReservation = owned(
            ctx, "subnet_cidr_reservations", rid, "InvalidSubnetCidrReservationID.NotFound",
            message=f"The subnet CIDR reservation ID '{rid}' does not exist")
        with ctx.state.write() as w:
            del ctx.state.network.subnet_cidr_reservations[r.id]
            w.deleted.append(("subnet_cidr_reservations", r.id))
        return {"DeletedSubnetCidrReservation": reservation_view(r)}

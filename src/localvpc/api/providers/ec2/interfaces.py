"""Network interface addressing (secondary IPv4, IPv6, delegated prefixes), attributes and
cross-account permissions. Creating, attaching and deleting ENIs is in ``instances.py``."""

from __future__ import annotations

import ipaddress
import re
import secrets
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    error,
    new_id,
    owned,
    paginate,
    select_ids,
)
from localvpc.api.providers.ec2.instances import (
    _sg_pairs,
    attachment_view,
    check_private_ip,
    free_address,
    used_addresses,
)
from localvpc.api.providers.ec2.reservations import reserved_prefixes, reserved_ranges
from localvpc.api.state import Changes
from localvpc.model import instance_types as types_model
from localvpc.model.base import IPAddress, IPNetwork
from localvpc.model.interfaces import NetworkInterface, NetworkInterfacePermission, PrivateIp
from localvpc.model.network import Network
from localvpc.model.vpc import Subnet

IPV4_PREFIX_LEN = 28  # AWS delegates IPv4 /28 and IPv6 /80 prefixes
IPV6_PREFIX_LEN = 80
ACCOUNT_ID = re.compile(r"^\d{12}$")


def _eni(ctx: RequestContext, eni_id: str) -> NetworkInterface:
    eni: NetworkInterface = owned(ctx, "network_interfaces", eni_id,
                                  "InvalidNetworkInterfaceID.NotFound", "networkInterface")
    return eni


def _subnet_of(ctx: RequestContext, eni: NetworkInterface) -> Subnet:
    subnet = ctx.state.network.subnets.get(eni.subnet_id)
    if subnet is None:
        raise error("InvalidSubnetID.NotFound", f"The subnet ID '{eni.subnet_id}' does not "
                    "exist")
    return subnet


def _one_of(params: dict[str, Any], names: tuple[str, ...]) -> str:
    """AWS takes exactly one way of saying what to assign."""
    given = [n for n in names if params.get(n) not in (None, [])]
    if not given:
        raise error("MissingParameter", f"The request must contain one of the parameters: "
                    f"{', '.join(names)}")
    if len(given) > 1:
        raise error("InvalidParameterCombination", f"The parameters {' and '.join(given)} "
                    "cannot be specified together")
    return given[0]


def _count(params: dict[str, Any], name: str) -> int:
    value = int(params[name])
    if value < 1:
        raise error("InvalidParameterValue", f"Value ({value}) for parameter {name} is "
                    "invalid. Expected a positive integer.")
    return value


def _limit(net: Network, eni: NetworkInterface, v6: bool) -> int | None:
    """Addresses per interface for the attached instance's type; None when unknown."""
    inst = net.instances.get(eni.instance_id or "")
    spec = types_model.get(inst.instance_type) if inst is not None else None
    if spec is None:
        return None
    return spec.ipv6_addresses_per_interface if v6 else spec.ipv4_addresses_per_interface


def _check_limit(net: Network, eni: NetworkInterface, adding: int, v6: bool) -> None:
    limit = _limit(net, eni, v6)
    held = (len(eni.ipv6_addresses) + len(eni.ipv6_prefixes)) if v6 else \
        (len(eni.private_ips) + len(eni.ipv4_prefixes))  # a prefix takes one address slot
    if limit is not None and held + adding > limit:  # AWS names no IPv6 code for this
        raise error("PrivateIpAddressLimitExceeded" if not v6 else "InvalidParameterValue",
                    f"Number of {'IPv6' if v6 else 'private'} addresses will exceed limit "
                    f"of {limit} per interface for the instance's type.")


def _owner_of(net: Network, subnet: Subnet, ip: IPAddress) -> NetworkInterface | None:
    return next((e for e in net.network_interfaces.values() if e.subnet_id == subnet.id
                 and (ip in (p.address for p in e.private_ips) or ip in e.ipv6_addresses
                      or any(ip in p for p in e.ipv4_prefixes))), None)


def _movable(net: Network, subnet: Subnet, eni: NetworkInterface, text: str,
             wanted: set[IPAddress]) -> NetworkInterface | None:
    """With AllowReassignment: the other ENI whose secondary address ``text`` is. A primary
    address, or one inside a delegated prefix, never moves."""
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    owner = _owner_of(net, subnet, ip)
    if owner is None or owner.id == eni.id or ip in wanted:
        return None
    secondary = any(p.address == ip and not p.primary for p in owner.private_ips)
    return owner if secondary else None


def _reserved(cidr: IPNetwork, ip: IPAddress) -> bool:
    """The first four and the last address of a subnet CIDR are AWS's (IPv4 and IPv6)."""
    offset = int(ip) - int(cidr.network_address)
    return offset < 4 or offset == cidr.num_addresses - 1


def _move_address(net: Network, source: NetworkInterface, target: NetworkInterface,
                  ip: IPAddress, w: Changes) -> PrivateIp:
    """AllowReassignment: the secondary address moves with its Elastic IP, if any."""
    pip = next(p for p in source.private_ips if p.address == ip)
    source.private_ips.remove(pip)
    w.save(source)
    if pip.allocation_id:
        eip = net.elastic_ips.get(pip.allocation_id)
        if eip is not None:
            eip.network_interface_id = target.id
            w.save(eip)
    return pip


def _free_prefixes(subnet: Subnet, used: set[IPAddress], taken: list[IPNetwork],
                   count: int, length: int) -> list[IPNetwork]:
    """IPv4: the first aligned /28s with no address in use or reserved. IPv6: random /80s
    of the subnet's first /64 (AWS picks them; any free one is as good)."""
    out: list[IPNetwork] = []
    if length == IPV4_PREFIX_LEN:
        assert subnet.cidr is not None
        for candidate in subnet.cidr.subnets(new_prefix=length):
            if len(out) == count:
                break
            if any(_reserved(subnet.cidr, ip) or ip in used for ip in candidate) or any(
                    candidate.overlaps(t) for t in taken):
                continue
            out.append(candidate)
    else:
        base = subnet.ipv6_cidrs[0]
        span = 1 << (length - base.prefixlen)  # how many /80s the /64 holds
        tries = 0
        while len(out) < count and tries < 1000:
            tries += 1  # neither the first nor the last /80: they hold reserved addresses
            index = secrets.randbelow(span - 2) + 1
            start = int(base.network_address) + (index << (base.max_prefixlen - length))
            candidate = ipaddress.ip_network((start, length))
            if not any(candidate.overlaps(t) for t in [*taken, *out]) and not any(
                    ip in candidate for ip in used):
                out.append(candidate)
    if len(out) < count:
        raise error("InsufficientCidrBlocks", f"There are not enough free cidr blocks in the "
                    f"specified subnet '{subnet.id}' to satisfy the request.")
    return out


def _auto_prefixes(net: Network, subnet: Subnet, used: set[IPAddress],
                   taken: list[IPNetwork], count: int, length: int) -> list[IPNetwork]:
    """Automatic prefix delegation: from the subnet's ``prefix`` CIDR reservations first,
    then from the rest of the subnet outside every reservation (``reservations.py``)."""
    out = reserved_prefixes(net, subnet, used, taken, count, length)
    if len(out) < count:
        out += _free_prefixes(subnet, used, [*taken, *out, *reserved_ranges(net, subnet)],
                              count - len(out), length)
    return out


def _prefix_param(text: str, subnet: Subnet, length: int) -> IPNetwork:
    try:
        prefix = ipaddress.ip_network(text.strip())
    except ValueError:
        raise error("InvalidParameterValue", f"Value ({text}) for parameter prefix is "
                    "invalid. This is not a valid prefix (host bits set or malformed).") \
            from None
    within = [c for c in subnet.all_cidrs if c.version == prefix.version]
    inside = any(int(c.network_address) <= int(prefix.network_address)
                 and int(prefix.broadcast_address) <= int(c.broadcast_address) for c in within)
    if prefix.prefixlen != length or not inside:
        raise error("InvalidParameterValue", f"The prefix {text} is not a /{length} within the "
                    f"address range of subnet {subnet.id}.")
    return prefix


def _all_prefixes(net: Network, subnet: Subnet, v6: bool) -> list[IPNetwork]:
    return [p for e in net.network_interfaces.values() if e.subnet_id == subnet.id
            for p in (e.ipv6_prefixes if v6 else e.ipv4_prefixes)]


def _used_ipv6(net: Network, subnet: Subnet) -> set[IPAddress]:
    return {a for e in net.network_interfaces.values() if e.subnet_id == subnet.id
            for a in e.ipv6_addresses}


def permission_view(p: NetworkInterfacePermission) -> dict[str, Any]:
    return {"NetworkInterfacePermissionId": p.id, "NetworkInterfaceId": p.network_interface_id,
            "AwsAccountId": p.aws_account_id, "AwsService": p.aws_service,
            "Permission": p.permission, "PermissionState": {"State": p.state}}


PERMISSION_FILTERS = {
    "network-interface-permission.network-interface-permission-id": lambda p: [p.id],
    "network-interface-permission.network-interface-id":
        lambda p: [p.network_interface_id],
    "network-interface-permission.aws-account-id":
        lambda p: [p.aws_account_id] if p.aws_account_id else [],
    "network-interface-permission.aws-service":
        lambda p: [p.aws_service] if p.aws_service else [],
    "network-interface-permission.permission": lambda p: [p.permission],
}


class InterfaceOperations:
    # ------------------------------------------------------------------ IPv4
    def AssignPrivateIpAddresses(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        net = ctx.state.network
        eni = _eni(ctx, params["NetworkInterfaceId"])
        subnet = _subnet_of(ctx, eni)
        how = _one_of(params, ("PrivateIpAddresses", "SecondaryPrivateIpAddressCount",
                               "Ipv4Prefixes", "Ipv4PrefixCount"))
        added: list[PrivateIp] = []
        moves: list[tuple[NetworkInterface, IPAddress]] = []
        prefixes: list[IPNetwork] = []
        if how == "PrivateIpAddresses":
            wanted: set[IPAddress] = set()
            for text in params["PrivateIpAddresses"]:
                owner = _movable(net, subnet, eni, text, wanted) \
                    if params.get("AllowReassignment") else None
                if owner is not None:  # another ENI's secondary address moves here
                    ip = ipaddress.ip_address(text.strip())
                    moves.append((owner, ip))
                else:  # inside the subnet, not reserved, not in use
                    ip = check_private_ip(net, subnet, text, wanted)
                    added.append(PrivateIp(ip))
                wanted.add(ip)
            _check_limit(net, eni, len(wanted), v6=False)
        elif how == "SecondaryPrivateIpAddressCount":
            count = _count(params, how)
            _check_limit(net, eni, count, v6=False)
            fresh: set[IPAddress] = set()
            for _ in range(count):
                ip = free_address(net, subnet, fresh)
                fresh.add(ip)
                added.append(PrivateIp(ip))
        else:
            taken = _all_prefixes(net, subnet, v6=False)
            used = used_addresses(net, subnet)
            if how == "Ipv4Prefixes":
                for text in params["Ipv4Prefixes"]:
                    prefix = _prefix_param(text, subnet, IPV4_PREFIX_LEN)
                    assert subnet.cidr is not None
                    if any(prefix.overlaps(t) for t in [*taken, *prefixes]) or any(
                            ip in used or _reserved(subnet.cidr, ip) for ip in prefix):
                        raise error("InvalidParameterValue", f"The prefix {text} overlaps "
                                    "addresses or prefixes already in use in the subnet.")
                    prefixes.append(prefix)
            else:
                prefixes = _auto_prefixes(net, subnet, used, taken, _count(params, how),
                                          IPV4_PREFIX_LEN)
            _check_limit(net, eni, len(prefixes), v6=False)
        with ctx.state.write() as w:
            for owner, ip in moves:
                added.append(_move_address(net, owner, eni, ip, w))
                added[-1].primary = False
            eni.private_ips.extend(added)
            eni.ipv4_prefixes.extend(prefixes)
            w.save(eni)
        return {"NetworkInterfaceId": eni.id,
                "AssignedPrivateIpAddresses": [{"PrivateIpAddress": str(p.address)}
                                               for p in added],
                "AssignedIpv4Prefixes": [{"Ipv4Prefix": str(p)} for p in prefixes]}

    def UnassignPrivateIpAddresses(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        net = ctx.state.network
        eni = _eni(ctx, params["NetworkInterfaceId"])
        texts = params.get("PrivateIpAddresses") or []
        prefix_texts = params.get("Ipv4Prefixes") or []
        if not texts and not prefix_texts:
            raise error("MissingParameter", "The request must contain the parameter "
                        "PrivateIpAddresses or Ipv4Prefixes")
        mine = {str(p.address): p for p in eni.private_ips}
        missing = [t for t in texts if t.strip() not in mine]
        if missing:
            raise error("InvalidParameterValue", f"Some of the specified addresses are not "
                        f"assigned to interface {eni.id}: {', '.join(missing)}")
        gone = [mine[t.strip()] for t in texts]
        primary = next((p for p in gone if p.primary), None)
        if primary is not None:
            raise error("InvalidParameterValue", f"The primary private IP address "
                        f"{primary.address} of {eni.id} cannot be unassigned.")
        my_prefixes = {str(p): p for p in eni.ipv4_prefixes}
        missing = [t for t in prefix_texts if t.strip() not in my_prefixes]
        if missing:
            raise error("InvalidParameterValue", f"Some of the specified prefixes are not "
                        f"assigned to interface {eni.id}: {', '.join(missing)}")
        with ctx.state.write() as w:
            for pip in gone:
                eni.private_ips.remove(pip)
                eip = net.elastic_ips.get(pip.allocation_id or "")
                if eip is not None:  # its Elastic IP is disassociated
                    eip.network_interface_id = eip.private_ip = eip.association_id = None
                    w.save(eip)
            for text in prefix_texts:
                eni.ipv4_prefixes.remove(my_prefixes[text.strip()])
            w.save(eni)
        return {}

    # ------------------------------------------------------------------ IPv6
    def AssignIpv6Addresses(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        net = ctx.state.network
        eni = _eni(ctx, params["NetworkInterfaceId"])
        subnet = _subnet_of(ctx, eni)
        how = _one_of(params, ("Ipv6Addresses", "Ipv6AddressCount", "Ipv6Prefixes",
                               "Ipv6PrefixCount"))
        if not subnet.ipv6_cidrs:
            # Not documented as a distinct code; InvalidParameterValue names the subnet.
            raise error("InvalidParameterValue", f"The subnet {subnet.id} of {eni.id} has no "
                        "IPv6 CIDR block; associate one before assigning IPv6 addresses.")
        used = _used_ipv6(net, subnet)
        added: list[IPAddress] = []
        prefixes: list[IPNetwork] = []
        taken = _all_prefixes(net, subnet, v6=True)
        if how == "Ipv6Addresses":
            for text in params["Ipv6Addresses"]:
                try:
                    ip = ipaddress.ip_address(text.strip())
                except ValueError:
                    ip = None
                if ip is None or ip.version != 6:
                    raise error("InvalidParameterValue", f"Value ({text}) for parameter "
                                "ipv6Address is invalid. This is not a valid IPv6 address.")
                cidr = next((c for c in subnet.ipv6_cidrs if ip in c), None)
                if cidr is None:
                    raise error("InvalidParameterValue", f"Address {text} does not fall within "
                                "the subnet's IPv6 address range")
                if _reserved(cidr, ip):
                    raise error("InvalidParameterValue", f"Address {text} is in subnet's "
                                "reserved address range")
                if ip in used or ip in added or any(ip in t for t in taken):
                    raise error("InvalidIPAddress.InUse", f"Address {text} is in use.")
                added.append(ip)
            _check_limit(net, eni, len(added), v6=True)
        elif how == "Ipv6AddressCount":
            count = _count(params, how)
            _check_limit(net, eni, count, v6=True)
            base = subnet.ipv6_cidrs[0]
            held = reserved_ranges(net, subnet)  # CIDR reservations are never picked
            while len(added) < count:  # AWS picks addresses at random across the /64
                ip = base.network_address + 4 + secrets.randbelow(base.num_addresses - 5)
                if ip not in used and ip not in added and not any(ip in t for t in taken) \
                        and not any(ip in r for r in held):
                    added.append(ip)
        elif how == "Ipv6Prefixes":
            for text in params["Ipv6Prefixes"]:
                prefix = _prefix_param(text, subnet, IPV6_PREFIX_LEN)
                if any(prefix.overlaps(t) for t in [*taken, *prefixes]) or any(
                        ip in prefix for ip in used):
                    raise error("InvalidParameterValue", f"The prefix {text} overlaps "
                                "addresses or prefixes already in use in the subnet.")
                prefixes.append(prefix)
            _check_limit(net, eni, len(prefixes), v6=True)
        else:
            count = _count(params, how)
            _check_limit(net, eni, count, v6=True)
            prefixes = _auto_prefixes(net, subnet, used, taken, count, IPV6_PREFIX_LEN)
        with ctx.state.write() as w:
            eni.ipv6_addresses.extend(added)
            eni.ipv6_prefixes.extend(prefixes)
            w.save(eni)
        return {"NetworkInterfaceId": eni.id,
                "AssignedIpv6Addresses": [str(a) for a in added],
                "AssignedIpv6Prefixes": [str(p) for p in prefixes]}

    def UnassignIpv6Addresses(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        eni = _eni(ctx, params["NetworkInterfaceId"])
        texts = params.get("Ipv6Addresses") or []
        prefix_texts = params.get("Ipv6Prefixes") or []
        if not texts and not prefix_texts:
            raise error("MissingParameter", "The request must contain the parameter "
                        "Ipv6Addresses or Ipv6Prefixes")

        def parsed(text: str) -> IPAddress | None:
            try:
                return ipaddress.ip_address(text.strip())
            except ValueError:
                return None

        gone = [parsed(t) for t in texts]
        missing = [t for t, ip in zip(texts, gone, strict=True)
                   if ip is None or ip not in eni.ipv6_addresses]
        prefixes = {str(p): p for p in eni.ipv6_prefixes}
        missing += [t for t in prefix_texts if t.strip() not in prefixes]
        if missing:
            raise error("InvalidParameterValue", f"Some of the specified addresses are not "
                        f"assigned to interface {eni.id}: {', '.join(missing)}")
        with ctx.state.write() as w:
            for ip in gone:
                if ip in eni.ipv6_addresses:
                    eni.ipv6_addresses.remove(ip)
            for text in prefix_texts:
                eni.ipv6_prefixes.remove(prefixes[text.strip()])
            w.save(eni)
        return {"NetworkInterfaceId": eni.id,
                "UnassignedIpv6Addresses": [str(ip) for ip in gone],
                "UnassignedIpv6Prefixes": [t.strip() for t in prefix_texts]}

    # ------------------------------------------------------------------ attributes
    def DescribeNetworkInterfaceAttribute(self, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
        net = ctx.state.network
        eni = _eni(ctx, params["NetworkInterfaceId"])
        attr = params.get("Attribute")
        values: dict[str, Any] = {
            "description": {"Description": {"Value": eni.description}},
            "groupSet": {"Groups": _sg_pairs(net, eni.security_group_ids)},
            "sourceDestCheck": {"SourceDestCheck": {"Value": eni.source_dest_check}},
            "attachment": {"Attachment": attachment_view(eni, net)} if eni.instance_id
            else {},
            "associatePublicIpAddress": {"AssociatePublicIpAddress": any(
                p.public_ip is not None and p.allocation_id is None
                for p in eni.private_ips)},
        }
        out: dict[str, Any] = {"NetworkInterfaceId": eni.id}
        if attr is None:  # AWS asks for one; without it every attribute is the kind answer
            for part in values.values():
                out.update(part)
            return out
        if attr not in values:
            raise error("InvalidParameterValue", f"Value ({attr}) for parameter attribute is "
                        "invalid. Unknown network interface attribute")
        out.update(values[attr])
        return out

    def ResetNetworkInterfaceAttribute(self, ctx: RequestContext, params: dict[str, Any]
                                       ) -> dict[str, Any]:
        net = ctx.state.network
        eni = _eni(ctx, params["NetworkInterfaceId"])
        if params.get("SourceDestCheck") is None:  # the only attribute AWS resets
            raise error("MissingParameter", "The request must contain the parameter "
                        "SourceDestCheck")
        inst = net.instances.get(eni.instance_id or "") if eni.device_index in (None, 0) \
            else None
        with ctx.state.write() as w:
            eni.source_dest_check = True
            w.save(eni)
            if inst is not None:  # the primary interface and its instance agree
                inst.source_dest_check = True
                w.save(inst)
        return {}

    # ------------------------------------------------------------------ permissions
    def CreateNetworkInterfacePermission(self, ctx: RequestContext, params: dict[str, Any]
                                         ) -> dict[str, Any]:
        net = ctx.state.network
        eni = _eni(ctx, params["NetworkInterfaceId"])
        account, service = params.get("AwsAccountId"), params.get("AwsService")
        if account and service:
            raise error("InvalidParameterCombination", "Only one of AwsAccountId or "
                        "AwsService can be specified.")
        if service:  # the API reference: AwsService is "currently not supported"
            raise error("InvalidParameterValue", "The parameter AwsService is not supported; "
                        "specify AwsAccountId.")
        if not account:
            raise error("MissingParameter", "The request must contain the parameter "
                        "AwsAccountId")
        if not ACCOUNT_ID.match(account):
            raise error("InvalidParameterValue", f"Value ({account}) for parameter "
                        "awsAccountId is invalid. Expected a 12-digit AWS account ID.")
        permission = params["Permission"]
        # Granting the same right twice answers with the existing grant (not documented).
        existing = next((p for p in net.network_interface_permissions.values()
                         if p.network_interface_id == eni.id and p.aws_account_id == account
                         and p.permission == permission), None)
        if existing is not None:
            return {"InterfacePermission": permission_view(existing)}
        perm = NetworkInterfacePermission(new_id("eni-perm"), eni.account, eni.region,
                                          network_interface_id=eni.id, aws_account_id=account,
                                          permission=permission, state="granted")
        with ctx.state.write() as w:
            net.add(perm)
            w.save(perm)
        return {"InterfacePermission": permission_view(perm)}

    def _visible_permissions(self, ctx: RequestContext
                             ) -> dict[str, NetworkInterfacePermission]:
        """The grants on the caller's interfaces and the grants made to the caller."""
        return {k: p for k, p in ctx.state.network.network_interface_permissions.items()
                if p.region == ctx.region
                and ctx.account in (p.account, p.aws_account_id)}

    def DescribeNetworkInterfacePermissions(self, ctx: RequestContext, params: dict[str, Any]
                                            ) -> dict[str, Any]:
        found = select_ids(self._visible_permissions(ctx),
                           params.get("NetworkInterfacePermissionIds"),
                           "network interface permission",
                           "InvalidNetworkInterfacePermissionID.NotFound")
        found = apply_filters(found, params.get("Filters"), PERMISSION_FILTERS)
        page, token = paginate(found, params, lambda p: p.id, minimum=5, maximum=255)
        return {"NetworkInterfacePermissions": [permission_view(p) for p in page],
                "NextToken": token}

    def DeleteNetworkInterfacePermission(self, ctx: RequestContext, params: dict[str, Any]
                                         ) -> dict[str, Any]:
        net = ctx.state.network
        perm_id = params["NetworkInterfacePermissionId"]
        perm = net.network_interface_permissions.get(perm_id)
        if perm is None or perm.account != ctx.account or perm.region != ctx.region:
            raise error("InvalidNetworkInterfacePermissionID.NotFound", f"The network "
                        f"interface permission ID '{perm_id}' does not exist")
        eni = net.network_interfaces.get(perm.network_interface_id)
        inst = net.instances.get(eni.instance_id or "") if eni is not None else None
        in_use = perm.permission == "INSTANCE-ATTACH" and inst is not None \
            and inst.account == perm.aws_account_id
        if in_use and not params.get("Force"):
            raise error("InvalidNetworkInterface.InUse", f"The permission {perm_id} is in use: "
                        f"{perm.network_interface_id} is attached to {inst.id if inst else ''}"
                        f" of account {perm.aws_account_id}. Use Force to remove it.")
        with ctx.state.write() as w:
            del net.network_interface_permissions[perm.id]
            w.deleted.append(("network_interface_permissions", perm.id))
        return {"Return": True}

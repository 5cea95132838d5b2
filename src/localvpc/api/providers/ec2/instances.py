"""Instances (their networking side), network interfaces and Elastic IPs."""

from __future__ import annotations

import ipaddress
import secrets
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.addresses import border_group
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    error,
    new_id,
    owned,
    paginate,
    persist_new,
    scoped,
    select_ids,
    tags_list,
    usable,
    visible,
)
from localvpc.api.providers.ec2.encryption_controls import refuse_if_enforced
from localvpc.api.providers.ec2.reservations import reserved_ranges, unused_reserved_count
from localvpc.api.providers.ec2.routing import refresh_route_states
from localvpc.api.providers.ec2.sharing import check_own_default_group
from localvpc.api.state import Changes
from localvpc.model.base import IPAddress
from localvpc.model.gateways import ElasticIp
from localvpc.model.interfaces import Instance, NetworkInterface, PrivateIp
from localvpc.model.network import Network
from localvpc.model.vpc import Subnet

STATE_CODES = {"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48,
               "stopping": 64, "stopped": 80}


def _sg_pairs(network: Network, ids: list[str]) -> list[dict[str, str]]:
    return [{"GroupId": g, "GroupName": network.security_groups[g].group_name
             if g in network.security_groups else ""} for g in ids]


def eni_view(e: NetworkInterface, network: Network) -> dict[str, Any]:
    def association(p: PrivateIp) -> dict[str, Any] | None:
        if p.public_ip is None:
            return None
        return {"PublicIp": str(p.public_ip), "AllocationId": p.allocation_id,
                "IpOwnerId": "amazon" if p.allocation_id is None else e.account}

    primary = next((p for p in e.private_ips if p.primary), e.private_ips[0]
                   if e.private_ips else None)
    out: dict[str, Any] = {
        "NetworkInterfaceId": e.id, "SubnetId": e.subnet_id, "VpcId": e.vpc_id,
        "AvailabilityZone": e.availability_zone, "OwnerId": e.account,
        "Description": e.description, "InterfaceType": e.interface_type,
        "Status": e.status, "SourceDestCheck": e.source_dest_check,
        "RequesterManaged": e.requester_id is not None,
        "PrivateIpAddress": str(primary.address) if primary else None,
        "PrivateIpAddresses": [{"PrivateIpAddress": str(p.address), "Primary": p.primary,
                                "Association": association(p)} for p in e.private_ips],
        "Ipv6Addresses": [{"Ipv6Address": str(a)} for a in e.ipv6_addresses],
        "Ipv4Prefixes": [{"Ipv4Prefix": str(p)} for p in e.ipv4_prefixes],
        "Ipv6Prefixes": [{"Ipv6Prefix": str(p)} for p in e.ipv6_prefixes],
        "Groups": _sg_pairs(network, e.security_group_ids),
        "TagSet": tags_list(e.tags),
        "Association": association(primary) if primary else None,
    }
    if e.instance_id:
        out["Attachment"] = attachment_view(e, network)
    return out


def attachment_view(e: NetworkInterface, network: Network) -> dict[str, Any]:
    inst = network.instances.get(e.instance_id or "")
    return {"AttachmentId": f"eni-attach-{e.id[4:]}", "InstanceId": e.instance_id,
            "DeviceIndex": e.device_index or 0, "NetworkCardIndex": 0, "Status": "attached",
            "InstanceOwnerId": inst.account if inst is not None else e.account,
            "DeleteOnTermination": e.deleted_on_termination()}


def instance_view(i: Instance, network: Network) -> dict[str, Any]:
    enis = [network.network_interfaces[e] for e in i.network_interface_ids
            if e in network.network_interfaces]
    primary = enis[0] if enis else None
    pip = primary.private_ips[0] if primary and primary.private_ips else None
    nics = []
    for e in enis:
        view = eni_view(e, network)
        nics.append({k: view[k] for k in ("NetworkInterfaceId", "SubnetId", "VpcId",
                                          "OwnerId", "Description", "Status",
                                          "SourceDestCheck", "PrivateIpAddress",
                                          "PrivateIpAddresses", "Ipv6Addresses", "Groups",
                                          "Association", "InterfaceType", "Ipv4Prefixes",
                                          "Ipv6Prefixes")}
                    | {"Attachment": {"AttachmentId": f"eni-attach-{e.id[4:]}",
                                      "DeviceIndex": e.device_index or 0,
                                      "Status": "attached",
                                      "DeleteOnTermination": e.deleted_on_termination()}})
    dns = f"ip-{str(pip.address).replace('.', '-')}.{_dns_suffix(i.region)}" \
        if pip and pip.address.version == 4 else ""
    # Only user-initiated stops and terminations exist here (no Spot, no health events).
    reason = {"Code": "Client.UserInitiatedShutdown",
              "Message": "Client.UserInitiatedShutdown: User initiated shutdown"} \
        if i.state in ("stopping", "stopped", "shutting-down", "terminated") else None
    return {
        "InstanceId": i.id, "ImageId": i.image_id, "InstanceType": i.instance_type,
        "PrivateDnsName": dns, "PublicDnsName": "",
        "State": {"Code": STATE_CODES.get(i.state, 16), "Name": i.state},
        "StateReason": reason, "StateTransitionReason": "User initiated" if reason else "",
        "Monitoring": {"State": i.monitoring},
        "SubnetId": i.subnet_id, "VpcId": i.vpc_id,
        "Placement": {"AvailabilityZone": i.availability_zone, "Tenancy": "default"},
        "PrivateIpAddress": str(pip.address) if pip else None,
        "PublicIpAddress": str(pip.public_ip) if pip and pip.public_ip else None,
        "SourceDestCheck": i.source_dest_check,
        "SecurityGroups": _sg_pairs(network, i.security_group_ids),
        "NetworkInterfaces": nics, "Tags": tags_list(i.tags),
        "Architecture": "x86_64", "RootDeviceType": "ebs", "Hypervisor": "xen",
        "VirtualizationType": "hvm", "AmiLaunchIndex": 0,
    }


def _launch_key(instance_id: str) -> str:
    return f"instance-launch/{instance_id}"


def _dns_suffix(region: str) -> str:
    return "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"


ENI_FILTERS = {
    "network-interface-id": lambda e: [e.id],
    "subnet-id": lambda e: [e.subnet_id],
    "vpc-id": lambda e: [e.vpc_id],
    "availability-zone": lambda e: [e.availability_zone],
    "private-ip-address": lambda e: [str(p.address) for p in e.private_ips],
    "addresses.private-ip-address": lambda e: [str(p.address) for p in e.private_ips],
    "association.public-ip": lambda e: [str(p.public_ip) for p in e.private_ips
                                        if p.public_ip],
    "group-id": lambda e: list(e.security_group_ids),
    "attachment.instance-id": lambda e: [e.instance_id] if e.instance_id else [],
    "interface-type": lambda e: [e.interface_type],
    "status": lambda e: [e.status],
    "requester-managed": lambda e: [e.requester_id is not None],
    "attachment.status": lambda e: ["attached"] if e.instance_id else [],
    "source-dest-check": lambda e: [e.source_dest_check],
    "owner-id": lambda e: [e.account],
    "description": lambda e: [e.description],
    "ipv6-addresses.ipv6-address": lambda e: [str(a) for a in e.ipv6_addresses],
    "ipv6-address": lambda e: [str(a) for a in e.ipv6_addresses],
    "addresses.primary": lambda e: [p.primary for p in e.private_ips],
    "attachment.attachment-id": lambda e: [f"eni-attach-{e.id[4:]}"] if e.instance_id else [],
    "attachment.device-index": lambda e: [e.device_index or 0] if e.instance_id else [],
    "attachment.delete-on-termination": lambda e: [e.deleted_on_termination()]
    if e.instance_id else [],
}

def _instance_ips(network: Network, i: Instance, public: bool) -> list[str]:
    out = []
    for eid in i.network_interface_ids:
        eni = network.network_interfaces.get(eid)
        for p in eni.private_ips if eni else []:
            value = p.public_ip if public else p.address
            if value is not None:
                out.append(str(value))
    return out


INSTANCE_FILTERS = {
    "instance-id": lambda i: [i.id],
    "instance-state-code": lambda i: [STATE_CODES.get(i.state, 16)],
    "instance-type": lambda i: [i.instance_type],
    "instance-state-name": lambda i: [i.state],
    "subnet-id": lambda i: [i.subnet_id],
    "vpc-id": lambda i: [i.vpc_id],
    "availability-zone": lambda i: [i.availability_zone],
    "image-id": lambda i: [i.image_id or ""],
    "instance.group-id": lambda i: list(i.security_group_ids),
    "group-id": lambda i: list(i.security_group_ids),
    "owner-id": lambda i: [i.account],
    "network-interface.network-interface-id": lambda i: list(i.network_interface_ids),
    "monitoring-state": lambda i: [i.monitoring],
}


def used_addresses(network: Network, subnet: Subnet) -> set[IPAddress]:
    return {a for e in network.network_interfaces.values() if e.subnet_id == subnet.id
            for a in [*(p.address for p in e.private_ips), *e.prefix_addresses()]}


def free_address(network: Network, subnet: Subnet,
                 also_used: set[IPAddress] | None = None) -> IPAddress:
    """The first unused host from base + 4 (AWS reserves the first four and the last),
    outside the subnet's CIDR reservations (``reservations.py``)."""
    assert subnet.cidr is not None
    used = used_addresses(network, subnet) | (also_used or set())
    held = reserved_ranges(network, subnet)
    base = int(subnet.cidr.network_address)
    for offset in range(4, subnet.cidr.num_addresses - 1):
        candidate = ipaddress.ip_address(base + offset)
        if candidate not in used and not any(candidate in r for r in held):
            return candidate
    raise error("InsufficientFreeAddressesInSubnet", f"There are not enough free addresses "
                f"in subnet '{subnet.id}' to satisfy the requested number of instances.")


def free_ipv6(network: Network, subnet: Subnet, also_used: set[IPAddress]) -> IPAddress:
    """An unused address of the subnet's first /64, picked at random as AWS does, outside
    the first four and the last address and the CIDR reservations."""
    base = subnet.ipv6_cidrs[0]
    used = {a for e in network.network_interfaces.values() if e.subnet_id == subnet.id
            for a in e.ipv6_addresses} | also_used
    held = reserved_ranges(network, subnet)
    while True:
        ip = base.network_address + 4 + secrets.randbelow(base.num_addresses - 5)
        if ip not in used and not any(ip in r for r in held):
            return ip


def public_address(network: Network, also_taken: set[IPAddress] | None = None
                   ) -> IPAddress:
    """A public IPv4 from the documentation ranges, never a real AWS address (``also_taken``:
    given to interfaces not in the network yet, as the other instances of one launch)."""
    taken = {p.public_ip for e in network.network_interfaces.values() for p in e.private_ips}
    taken |= {a.public_ip for a in network.elastic_ips.values()}
    taken |= also_taken or set()
    for base in ("203.0.113.0", "198.51.100.0", "192.0.2.0"):
        start = int(ipaddress.ip_address(base))
        for n in range(1, 255):
            candidate = ipaddress.ip_address(start + n)
            if candidate not in taken:
                return candidate
    raise error("AddressLimitExceeded", "localvpc has no more documentation-range addresses")


def check_private_ip(network: Network, subnet: Subnet, text: str,
                     also_used: set[IPAddress] | None = None) -> IPAddress:
    """A requested private IPv4: inside the subnet, not one of the five addresses AWS
    reserves (network, +1 router, +2 DNS, +3 future, broadcast), not in use in the subnet."""
    assert subnet.cidr is not None
    try:
        ip = ipaddress.ip_address(text.strip())
    except ValueError:
        raise error("InvalidParameterValue", f"Value ({text}) for parameter privateIpAddress "
                    "is invalid. This is not a valid IP address.") from None
    if ip not in subnet.cidr:
        raise error("InvalidParameterValue", f"Address {text} does not fall within the "
                    f"subnet's address range")
    offset = int(ip) - int(subnet.cidr.network_address)
    if offset < 4 or offset == subnet.cidr.num_addresses - 1:
        raise error("InvalidParameterValue", f"Address {text} is in subnet's reserved "
                    "address range")
    if ip in used_addresses(network, subnet) | (also_used or set()):
        raise error("InvalidIPAddress.InUse", f"Address {text} is in use.")
    return ip


def release_enis(network: Network, eni_ids: list[str], w: Changes) -> None:
    """What deleting ENIs takes with them: their Elastic IP associations and the
    permissions granted on them."""
    for eip in network.elastic_ips.values():
        if eip.network_interface_id in eni_ids:
            eip.network_interface_id = eip.private_ip = eip.association_id = None
            w.save(eip)
    for perm in list(network.network_interface_permissions.values()):
        if perm.network_interface_id in eni_ids:
            del network.network_interface_permissions[perm.id]
            w.deleted.append(("network_interface_permissions", perm.id))


def release_public_ips(eni: NetworkInterface) -> bool:
    """Stopping gives back the auto-assigned public IPv4 (Elastic IPs stay associated)."""
    released = False
    for p in eni.private_ips:
        if p.public_ip is not None and p.allocation_id is None:
            p.public_ip, released = None, True
    if released:
        eni.associate_public_ip = True
    return released


def _state(name: str) -> dict[str, Any]:
    return {"Code": STATE_CODES[name], "Name": name}


class InstanceOperations:
    def _subnet(self, ctx: RequestContext, subnet_id: str) -> Subnet:
        subnet: Subnet = usable(ctx, "subnets", subnet_id, "InvalidSubnetID.NotFound",
                                "subnet")  # the caller's or shared with it (VPC sharing)
        return subnet

    def _groups(self, ctx: RequestContext, ids: list[str] | None, vpc_id: str,
                names: list[str] | None = None) -> list[str]:
        net = ctx.state.network
        if names:  # by name: groups of the subnet's VPC
            ids = list(ids or [])
            for name in names:
                gid = next((g.id for g in net.security_groups.values()
                            if g.vpc_id == vpc_id and g.group_name == name
                            and g.account == ctx.account), None)
                if gid is None:
                    raise error("InvalidGroup.NotFound", f"The security group '{name}' does "
                                f"not exist in VPC '{vpc_id}'")
                ids.append(gid)
        if not ids:  # SG-2: the VPC's default group
            default = next((g.id for g in net.security_groups.values()
                            if g.vpc_id == vpc_id and g.group_name == "default"), None)
            if default:
                check_own_default_group(ctx, net.security_groups[default].account, vpc_id)
            return [default] if default else []
        for gid in ids:
            g = net.security_groups.get(gid)
            if g is None or g.account != ctx.account or g.region != ctx.region:
                raise error("InvalidGroup.NotFound", f"The security group '{gid}' does not "
                            "exist")
            if g.vpc_id != vpc_id and vpc_id not in g.associated_vpc_ids:
                raise error("InvalidParameter", f"Security group {gid} and subnet belong to "
                            "different networks.")
        return list(dict.fromkeys(ids))

    def _new_eni(self, ctx: RequestContext, subnet: Subnet, groups: list[str],
                 private_ip: str | None, public: bool, pending: list[NetworkInterface]
                 ) -> NetworkInterface:
        net = ctx.state.network
        if subnet.cidr is None:  # an IPv6-only subnet: one IPv6 address, no IPv4
            if private_ip or public:
                raise error("InvalidParameterCombination", f"Subnet {subnet.id} is IPv6-only:"
                            " instances in it get no private or public IPv4 address.")
            taken = {a for e in pending for a in e.ipv6_addresses}
            return NetworkInterface(new_id("eni"), ctx.account, ctx.region, subnet_id=subnet.id,
                                    vpc_id=subnet.vpc_id,
                                    availability_zone=subnet.availability_zone,
                                    ipv6_addresses=[free_ipv6(net, subnet, taken)],
                                    security_group_ids=groups)
        pending_ips = {p.address for e in pending for p in e.private_ips}
        if private_ip:
            ip = check_private_ip(net, subnet, private_ip, pending_ips)
        else:
            ip = free_address(net, subnet, pending_ips)
        pip = PrivateIp(ip, primary=True)
        if public:
            pip.public_ip = public_address(net, {p.public_ip for e in pending
                                                 for p in e.private_ips if p.public_ip})
        return NetworkInterface(new_id("eni"), ctx.account, ctx.region, subnet_id=subnet.id,
                                vpc_id=subnet.vpc_id,
                                availability_zone=subnet.availability_zone,
                                private_ips=[pip], security_group_ids=groups,
                                associate_public_ip=public)

    def RunInstances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        low = params.get("MinCount", 1)
        high = params.get("MaxCount", low)
        if low < 1 or high < low:
            raise error("InvalidParameterValue", "MinCount and MaxCount must be at least 1 and "
                        "MaxCount at least MinCount")
        specs = params.get("NetworkInterfaces") or []
        primary_spec: dict[str, Any] = next((s for s in specs if s.get("DeviceIndex", 0) == 0),
                                            {})
        subnet_id = primary_spec.get("SubnetId") or params.get("SubnetId")
        if not subnet_id:
            default_subnets = [s for s in scoped(net.subnets, ctx.account, ctx.region).values()
                               if net.vpcs.get(s.vpc_id) and net.vpcs[s.vpc_id].is_default]
            if not default_subnets:
                raise error("VPCIdNotSpecified", "No default VPC for this user. GroupName is "
                            "only supported for EC2-Classic and default VPC.")
            subnet_id = sorted(default_subnets, key=lambda s: s.availability_zone)[0].id
        subnet = self._subnet(ctx, subnet_id)
        refuse_if_enforced(net, subnet.vpc_id,
                           instance_type=params.get("InstanceType") or "m1.small")
        groups = self._groups(ctx, primary_spec.get("Groups") or params.get("SecurityGroupIds"),
                              subnet.vpc_id, params.get("SecurityGroups"))
        public = primary_spec.get("AssociatePublicIpAddress", subnet.map_public_ip_on_launch)
        private_ip = primary_spec.get("PrivateIpAddress") or params.get("PrivateIpAddress")
        if private_ip and low > 1:
            raise error("InvalidParameterCombination", "Cannot specify a private IP address "
                        "when launching more than one instance")
        room = high  # an IPv6-only subnet's /64 never runs out
        if subnet.cidr is not None:
            used = used_addresses(net, subnet)
            room = subnet.cidr.num_addresses - 5 - len(used) - unused_reserved_count(
                net, subnet, used)
        if room < low:
            raise error("InsufficientFreeAddressesInSubnet", f"There are not enough free "
                        f"addresses in subnet '{subnet.id}' to satisfy the requested number of "
                        "instances.")
        count = 1 if private_ip else min(high, room)  # as many as MaxCount, if there is room
        created: list[Instance] = []
        enis: list[NetworkInterface] = []
        for _ in range(count):
            eni = self._new_eni(ctx, subnet, groups, private_ip, bool(public), enis)
            inst = Instance(new_id("i"), ctx.account, ctx.region, subnet_id=subnet.id,
                            vpc_id=subnet.vpc_id, availability_zone=subnet.availability_zone,
                            instance_type=params.get("InstanceType") or "m1.small",
                            image_id=params.get("ImageId"), state="running",
                            network_interface_ids=[eni.id], security_group_ids=groups)
            eni.instance_id, eni.device_index, eni.status = inst.id, 0, "in-use"
            apply_tag_specs(inst, params, "instance")
            apply_tag_specs(eni, params, "network-interface")
            enis.append(eni)
            created.append(inst)
        reservation = "r-" + secrets.token_hex(9)[:17]
        with ctx.state.write() as w:
            for r in (*enis, *created):
                net.add(r)
                w.save(r)
            for n, inst in enumerate(created):  # not part of the model: kept beside it
                w.meta[_launch_key(inst.id)] = {"reservation": reservation, "index": n}
        views = [instance_view(i, net) | {"AmiLaunchIndex": n} for n, i in enumerate(created)]
        return {"ReservationId": reservation, "OwnerId": ctx.account,
                "Groups": [], "Instances": views}

    def DescribeInstances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        items = scoped(net.instances, ctx.account, ctx.region)
        found = select_ids(items, params.get("InstanceIds"), "instance",
                           "InvalidInstanceID.NotFound")
        fields = {**INSTANCE_FILTERS,
                  "private-ip-address": lambda i: _instance_ips(net, i, public=False),
                  "network-interface.addresses.private-ip-address":
                      lambda i: _instance_ips(net, i, public=False),
                  "ip-address": lambda i: _instance_ips(net, i, public=True),
                  "private-dns-name": lambda i: [instance_view(i, net)["PrivateDnsName"]]}
        found = apply_filters(found, params.get("Filters"), fields)
        page, token = paginate(found, params, lambda i: i.id)
        reservations: dict[str, dict[str, Any]] = {}
        for i in page:  # instances launched together share their reservation
            launch = ctx.state.meta(_launch_key(i.id)) or {}
            rid = launch.get("reservation") or "r-" + i.id[2:]
            group = reservations.setdefault(rid, {"ReservationId": rid, "OwnerId": i.account,
                                                  "Groups": [], "Instances": []})
            group["Instances"].append(instance_view(i, net)
                                      | {"AmiLaunchIndex": launch.get("index", 0)})
        return {"Reservations": list(reservations.values()), "NextToken": token}

    def TerminateInstances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        items = select_ids(scoped(net.instances, ctx.account, ctx.region),
                           params.get("InstanceIds"), "instance", "InvalidInstanceID.NotFound")
        changes = []
        with ctx.state.write() as w:
            for inst in items:
                before = inst.state
                inst.state = "terminated"
                w.save(inst)
                gone = []
                for eni_id in inst.network_interface_ids:
                    eni = net.network_interfaces.get(eni_id)
                    if eni is None:
                        continue
                    if eni.deleted_on_termination():  # deleted with the instance
                        del net.network_interfaces[eni_id]
                        w.deleted.append(("network_interfaces", eni_id))
                        gone.append(eni_id)
                    else:
                        eni.instance_id, eni.attached, eni.status = None, False, "available"
                        eni.device_index = eni.delete_on_termination = None
                        w.save(eni)
                release_enis(net, gone, w)
                changes.append({"InstanceId": inst.id,
                                "PreviousState": {"Code": STATE_CODES[before], "Name": before},
                                "CurrentState": {"Code": 48, "Name": "terminated"}})
            refresh_route_states(net, w)  # ST-2: routes to the instance or its ENIs
        return {"TerminatingInstances": changes}

    # ------------------------------------------------------------------ states
    # The emulator settles a transition at once: the answer names the transitional state
    # AWS reports (pending, stopping), DescribeInstances already shows the settled one.
    def _instances(self, ctx: RequestContext, params: dict[str, Any], allowed: set[str],
                   verb: str) -> list[Instance]:
        net = ctx.state.network
        items = select_ids(scoped(net.instances, ctx.account, ctx.region),
                           params.get("InstanceIds"), "instance", "InvalidInstanceID.NotFound")
        for inst in items:  # every instance is checked before any one changes
            if inst.state not in allowed:
                raise error("IncorrectInstanceState", f"This instance '{inst.id}' is not in "
                            f"a state from which it can be {verb}.")
        return items

    def StartInstances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        items = self._instances(ctx, params, {"pending", "running", "stopped"}, "started")
        changes = []
        with ctx.state.write() as w:
            for inst in items:
                before = inst.state
                if before == "stopped":
                    inst.state = "running"
                    w.save(inst)
                    primary = net.network_interfaces.get(inst.primary_eni_id or "")
                    pip = next((p for p in primary.private_ips if p.primary), None) \
                        if primary is not None else None
                    if primary is not None and pip is not None and \
                            primary.associate_public_ip and pip.public_ip is None:
                        pip.public_ip = public_address(net)  # a new one, as AWS does
                        w.save(primary)
                now = "pending" if before == "stopped" else before
                changes.append({"InstanceId": inst.id, "PreviousState": _state(before),
                                "CurrentState": _state(now)})
        return {"StartingInstances": changes}

    def StopInstances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        items = self._instances(ctx, params, {"pending", "running", "stopping", "stopped"},
                                "stopped")
        changes = []
        with ctx.state.write() as w:
            for inst in items:
                before = inst.state
                if before != "stopped":
                    inst.state = "stopped"
                    w.save(inst)
                    for eni_id in inst.network_interface_ids:  # private IPs and EIPs stay
                        eni = net.network_interfaces.get(eni_id)
                        if eni is not None and release_public_ips(eni):
                            w.save(eni)
                now = "stopped" if before == "stopped" else "stopping"
                changes.append({"InstanceId": inst.id, "PreviousState": _state(before),
                                "CurrentState": _state(now)})
        return {"StoppingInstances": changes}

    def RebootInstances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        # A reboot keeps the instance, its state and every address; only validation shows.
        self._instances(ctx, params, {"pending", "running"}, "rebooted")
        return {}

    def _monitoring(self, ctx: RequestContext, params: dict[str, Any], value: str,
                    answer: str) -> dict[str, Any]:
        items = self._instances(ctx, params, {"pending", "running", "stopping", "stopped"},
                                "monitored" if value == "enabled" else "unmonitored")
        with ctx.state.write() as w:
            for inst in items:
                inst.monitoring = value
                w.save(inst)
        return {"InstanceMonitorings": [{"InstanceId": i.id, "Monitoring": {"State": answer}}
                                        for i in items]}

    def MonitorInstances(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return self._monitoring(ctx, params, "enabled", "pending")

    def UnmonitorInstances(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        return self._monitoring(ctx, params, "disabled", "disabling")

    def DescribeInstanceAttribute(self, ctx: RequestContext, params: dict[str, Any]
                                  ) -> dict[str, Any]:
        net = ctx.state.network
        inst = self._instance(ctx, params["InstanceId"])
        attr = params["Attribute"]
        out: dict[str, Any] = {"InstanceId": inst.id}
        if attr == "sourceDestCheck":
            out["SourceDestCheck"] = {"Value": inst.source_dest_check}
        elif attr == "groupSet":
            out["Groups"] = _sg_pairs(net, inst.security_group_ids)
        elif attr == "instanceType":
            out["InstanceType"] = {"Value": inst.instance_type}
        else:
            raise error("InvalidParameterValue", f"Value ({attr}) for parameter attribute is "
                        "not supported by localvpc (sourceDestCheck, groupSet, instanceType).")
        return out

    def _instance(self, ctx: RequestContext, instance_id: str) -> Instance:
        inst: Instance = owned(
            ctx, "instances", instance_id, "InvalidInstanceID.NotFound", "instance")
        return inst

    def ModifyInstanceAttribute(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        net = ctx.state.network
        inst = self._instance(ctx, params["InstanceId"])
        groups = self._groups(ctx, params["Groups"], inst.vpc_id) if params.get("Groups") \
            else None
        with ctx.state.write() as w:
            if params.get("SourceDestCheck") is not None:
                value = bool(params["SourceDestCheck"]["Value"])
                inst.source_dest_check = value
                for eni_id in inst.network_interface_ids[:1]:
                    net.network_interfaces[eni_id].source_dest_check = value
                    w.save(net.network_interfaces[eni_id])
            if groups is not None:
                inst.security_group_ids = groups
                for eni_id in inst.network_interface_ids[:1]:
                    net.network_interfaces[eni_id].security_group_ids = list(groups)
                    w.save(net.network_interfaces[eni_id])
            w.save(inst)
        return {}

    # ------------------------------------------------------------------ ENIs
    def _eni(self, ctx: RequestContext, eni_id: str) -> NetworkInterface:
        eni: NetworkInterface = owned(
            ctx, "network_interfaces", eni_id, "InvalidNetworkInterfaceID.NotFound",
            "networkInterface")
        return eni

    def _permitted_eni(self, ctx: RequestContext, eni_id: str, permission: str
                       ) -> NetworkInterface:
        """The caller's ENI, or another account's that granted the caller ``permission``
        (CreateNetworkInterfacePermission)."""
        eni = ctx.state.network.network_interfaces.get(eni_id)
        if eni is not None and eni.region == ctx.region and eni.account != ctx.account and any(
                p.network_interface_id == eni.id and p.aws_account_id == ctx.account
                and p.permission == permission and p.state == "granted"
                for p in ctx.state.network.network_interface_permissions.values()):
            return eni
        return self._eni(ctx, eni_id)

    def CreateNetworkInterface(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        subnet = self._subnet(ctx, params["SubnetId"])
        groups = self._groups(ctx, params.get("Groups"), subnet.vpc_id)
        eni = self._new_eni(ctx, subnet, groups, params.get("PrivateIpAddress"), False, [])
        eni.description = params.get("Description") or ""
        eni.status, eni.attached = "available", False
        apply_tag_specs(eni, params, "network-interface")
        persist_new(ctx, eni)
        return {"NetworkInterface": eni_view(eni, ctx.state.network)}

    def DescribeNetworkInterfaces(self, ctx: RequestContext, params: dict[str, Any]
                                  ) -> dict[str, Any]:
        net = ctx.state.network
        items = visible(ctx, "network_interfaces")  # + participants' in the caller's subnets
        found = select_ids(items, params.get("NetworkInterfaceIds"), "networkInterface",
                           "InvalidNetworkInterfaceID.NotFound")
        found = apply_filters(found, params.get("Filters"), ENI_FILTERS)
        page, token = paginate(found, params, lambda e: e.id)
        return {"NetworkInterfaces": [eni_view(e, net) for e in page], "NextToken": token}

    def DeleteNetworkInterface(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        eni = self._eni(ctx, params["NetworkInterfaceId"])
        if eni.instance_id or eni.status == "in-use":  # attached, or owned by a service
            raise error("InvalidNetworkInterface.InUse", f"Interface: [{eni.id}] in use.")
        net = ctx.state.network
        with ctx.state.write() as w:
            del net.network_interfaces[eni.id]
            w.deleted.append(("network_interfaces", eni.id))
            release_enis(net, [eni.id], w)
            refresh_route_states(net, w)  # ST-2
        return {}

    def AttachNetworkInterface(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        net = ctx.state.network
        eni = self._permitted_eni(ctx, params["NetworkInterfaceId"], "INSTANCE-ATTACH")
        inst = owned(
            ctx, "instances", params["InstanceId"], "InvalidInstanceID.NotFound", "instance")
        if eni.instance_id or eni.status == "in-use":
            raise error("InvalidNetworkInterface.InUse", f"Interface: [{eni.id}] in use.")
        if inst.state not in ("pending", "running", "stopping", "stopped"):
            raise error("IncorrectInstanceState", f"The instance '{inst.id}' is "
                        f"{inst.state}; interfaces cannot be attached to it.")
        if eni.availability_zone != inst.availability_zone:
            raise error("InvalidParameterCombination", "You may not attach a network interface "
                        "to an instance if they are not in the same availability zone")
        index = params["DeviceIndex"]
        taken = {net.network_interfaces[e].device_index or 0 for e in inst.network_interface_ids
                 if e in net.network_interfaces}
        if index in taken:
            raise error("InvalidParameterValue", f"Instance '{inst.id}' already has an "
                        f"interface attached at device index '{index}'.")
        with ctx.state.write() as w:
            eni.instance_id, eni.attached, eni.status = inst.id, True, "in-use"
            eni.device_index, eni.delete_on_termination = index, None
            inst.network_interface_ids.append(eni.id)
            w.save(eni)
            w.save(inst)
            refresh_route_states(net, w)  # ST-2: routes to the ENI work again
        return {"AttachmentId": f"eni-attach-{eni.id[4:]}", "NetworkCardIndex": 0}

    def DetachNetworkInterface(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        net = ctx.state.network
        attachment = params["AttachmentId"]

        def mine(e: NetworkInterface) -> bool:  # the ENI's owner or the instance's owner
            inst = net.instances.get(e.instance_id or "")
            return e.account == ctx.account or (inst is not None
                                                and inst.account == ctx.account)

        eni = next((e for e in net.network_interfaces.values()
                    if f"eni-attach-{e.id[4:]}" == attachment and e.instance_id
                    and e.region == ctx.region and mine(e)), None)
        if eni is None:
            raise error("InvalidAttachmentID.NotFound", f"Interface attachment {attachment} "
                        "does not exist")
        if eni.device_index in (None, 0):
            raise error("OperationNotPermitted", "The network interface at device index 0 "
                        "cannot be detached.")
        with ctx.state.write() as w:
            inst = net.instances.get(eni.instance_id or "")
            if inst is not None and eni.id in inst.network_interface_ids:
                inst.network_interface_ids.remove(eni.id)
                w.save(inst)
            eni.instance_id, eni.attached, eni.status, eni.device_index = (
                None, False, "available", None)
            eni.delete_on_termination = None
            w.save(eni)
            refresh_route_states(net, w)  # ST-2: routes to a detached ENI are blackholes
        return {}

    def ModifyNetworkInterfaceAttribute(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        net = ctx.state.network
        eni = self._eni(ctx, params["NetworkInterfaceId"])
        groups = self._groups(ctx, params["Groups"], eni.vpc_id) if params.get("Groups") \
            else None
        change = params.get("Attachment")
        if change is not None and (not eni.instance_id or change.get("AttachmentId")
                                   != f"eni-attach-{eni.id[4:]}"):
            raise error("InvalidAttachmentID.NotFound", f"Interface attachment "
                        f"{change.get('AttachmentId')} does not exist")
        # The primary interface and its instance show one value (DescribeInstanceAttribute).
        inst = net.instances.get(eni.instance_id or "") if eni.device_index in (None, 0) \
            else None
        with ctx.state.write() as w:
            if params.get("SourceDestCheck") is not None:
                eni.source_dest_check = bool(params["SourceDestCheck"]["Value"])
                if inst is not None:
                    inst.source_dest_check = eni.source_dest_check
            if groups is not None:
                eni.security_group_ids = groups
                if inst is not None:
                    inst.security_group_ids = list(groups)
            if params.get("Description") is not None:
                eni.description = params["Description"].get("Value") or ""
            if change is not None and change.get("DeleteOnTermination") is not None:
                eni.delete_on_termination = bool(change["DeleteOnTermination"])
            if params.get("AssociatePublicIpAddress") is not None:
                self._public_ip_setting(ctx, eni, bool(params["AssociatePublicIpAddress"]))
            if inst is not None:
                w.save(inst)
            w.save(eni)
        return {}

    def _public_ip_setting(self, ctx: RequestContext, eni: NetworkInterface, on: bool
                           ) -> None:
        """Turn the auto-assigned public IPv4 of the primary address on or off; an Elastic
        IP on it stays as it is."""
        pip = next((p for p in eni.private_ips if p.primary), None)
        if on and pip is not None and pip.public_ip is None:
            pip.public_ip = public_address(ctx.state.network)
        elif not on:
            release_public_ips(eni)
        eni.associate_public_ip = on

    # ------------------------------------------------------------------ Elastic IPs
    def AllocateAddress(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        eip = ElasticIp(new_id("eipalloc"), ctx.account, ctx.region,
                        public_ip=public_address(net),
                        network_border_group=border_group(ctx, params.get("NetworkBorderGroup")))
        apply_tag_specs(eip, params, "elastic-ip")
        persist_new(ctx, eip)
        return {"AllocationId": eip.id, "PublicIp": str(eip.public_ip), "Domain": "vpc",
                "NetworkBorderGroup": eip.network_border_group,
                "PublicIpv4Pool": "amazon"}

    def _eip(self, ctx: RequestContext, allocation_id: str | None,
             public_ip: str | None = None) -> ElasticIp:
        eips = scoped(ctx.state.network.elastic_ips, ctx.account, ctx.region)
        if allocation_id:
            eip = eips.get(allocation_id)
            if eip is None:
                raise error("InvalidAllocationID.NotFound",
                            f"The allocation ID '{allocation_id}' does not exist")
            return eip
        if public_ip:
            found = next((e for e in eips.values() if str(e.public_ip) == public_ip), None)
            if found is None:
                raise error("InvalidAddress.NotFound", f"Address '{public_ip}' not found.")
            return found
        raise error("MissingParameter", "Either AllocationId or PublicIp must be specified.")

    def AssociateAddress(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        eip = self._eip(ctx, params.get("AllocationId"), params.get("PublicIp"))
        eni_id = params.get("NetworkInterfaceId")
        if not eni_id and params.get("InstanceId"):
            inst = self._instance(ctx, params["InstanceId"])
            if inst.state not in ("pending", "running", "stopping", "stopped") \
                    or not inst.network_interface_ids:
                raise error("IncorrectInstanceState", f"The instance '{inst.id}' is not in a "
                            "valid state for this operation.")
            eni_id = inst.network_interface_ids[0]
        if not eni_id:
            raise error("MissingParameter", "Either InstanceId or NetworkInterfaceId must be "
                        "specified.")
        eni = self._eni(ctx, eni_id)
        wanted = params.get("PrivateIpAddress")
        target = next((p for p in eni.private_ips if (wanted is None and p.primary) or
                       (wanted is not None and str(p.address) == wanted)), None)
        if target is None:
            raise error("InvalidParameterValue", f"Private IP {wanted} is not on {eni.id}")
        if net.internet_gateway_of(eni.vpc_id) is None:
            raise error("Gateway.NotAttached", f"Network {eni.vpc_id} is not attached to any "
                        "internet gateway")
        here = eip.network_interface_id == eni.id and eip.private_ip == target.address
        if eip.network_interface_id and not here and not params.get("AllowReassociation"):
            raise error("Resource.AlreadyAssociated", f"resource {eip.id} is already "
                        "associated with associate-id " + str(eip.association_id))
        with ctx.state.write() as w:
            self._release_association(ctx, eip, w)
            previous = net.elastic_ips.get(target.allocation_id or "")
            if previous is not None and previous.id != eip.id:  # the EIP it replaces
                self._release_association(ctx, previous, w)
                w.save(previous)
            target.public_ip, target.allocation_id = eip.public_ip, eip.id
            eip.network_interface_id, eip.private_ip = eni.id, target.address
            eip.association_id = "eipassoc-" + new_id("x")[2:]
            w.save(eni)
            w.save(eip)
        return {"AssociationId": eip.association_id}

    def _release_association(self, ctx: RequestContext, eip: ElasticIp, w: Any) -> None:
        eni = ctx.state.network.network_interfaces.get(eip.network_interface_id or "")
        if eni is not None:
            for p in eni.private_ips:
                if p.allocation_id == eip.id:
                    p.public_ip, p.allocation_id = None, None
            w.save(eni)
        eip.network_interface_id = eip.private_ip = eip.association_id = None

    def DisassociateAddress(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        eips = scoped(ctx.state.network.elastic_ips, ctx.account, ctx.region).values()
        assoc, public_ip = params.get("AssociationId"), params.get("PublicIp")
        if assoc:
            eip = next((e for e in eips if e.association_id == assoc), None)
            if eip is None:
                raise error("InvalidAssociationID.NotFound", f"The association ID '{assoc}' "
                            "does not exist")
        else:
            eip = self._eip(ctx, None, public_ip)
            if eip.association_id is None:
                return {}
        if any(eip.id == a.allocation_id for n in ctx.state.network.nat_gateways.values()
               if n.state not in ("deleted", "failed") for a in n.addresses):
            raise error("InvalidIPAddress.InUse", f"Address {eip.public_ip} is used by a NAT "
                        "gateway; delete the NAT gateway instead.")
        with ctx.state.write() as w:
            self._release_association(ctx, eip, w)
            w.save(eip)
        return {}

    def ReleaseAddress(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        eip = self._eip(ctx, params.get("AllocationId"), params.get("PublicIp"))
        if eip.network_interface_id:
            raise error("InvalidIPAddress.InUse", f"Address {eip.public_ip} is in use.")
        with ctx.state.write() as w:
            del ctx.state.network.elastic_ips[eip.id]
            w.deleted.append(("elastic_ips", eip.id))
        return {}

    def DescribeAddresses(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        eips = scoped(net.elastic_ips, ctx.account, ctx.region)
        found = select_ids(eips, params.get("AllocationIds"), "allocation",
                           "InvalidAllocationID.NotFound")
        if params.get("PublicIps"):
            wanted = params["PublicIps"]
            found = [a for a in found if str(a.public_ip) in wanted]
            missing = set(wanted) - {str(a.public_ip) for a in found}
            if missing:
                raise error("InvalidAddress.NotFound", f"Address '{sorted(missing)[0]}' not "
                            "found.")

        def instance_of(a: ElasticIp) -> str | None:
            eni = net.network_interfaces.get(a.network_interface_id or "")
            return eni.instance_id if eni is not None else None

        fields = {"allocation-id": lambda a: [a.id],
                  "public-ip": lambda a: [str(a.public_ip)],
                  "network-interface-id": lambda a: [a.network_interface_id or ""],
                  "association-id": lambda a: [a.association_id or ""],
                  "private-ip-address": lambda a: [str(a.private_ip)] if a.private_ip else [],
                  "instance-id": lambda a: [i] if (i := instance_of(a)) else [],
                  "network-border-group": lambda a: [a.network_border_group],
                  "domain": lambda a: ["vpc"]}
        found = apply_filters(found, params.get("Filters"), fields)
        return {"Addresses": [{
            "AllocationId": a.id, "PublicIp": str(a.public_ip), "Domain": "vpc",
            "NetworkInterfaceId": a.network_interface_id,
            "NetworkInterfaceOwnerId": a.account if a.network_interface_id else None,
            "InstanceId": instance_of(a),
            "PrivateIpAddress": str(a.private_ip) if a.private_ip else None,
            "AssociationId": a.association_id, "NetworkBorderGroup": a.network_border_group,
            "PublicIpv4Pool": "amazon",
            "Tags": tags_list(a.tags)} for a in sorted(found, key=lambda a: a.id)]}

"""Parsers of Elastic Load Balancing (v2) records: load balancers, listeners, attributes,
target groups and target health; and the step that gives each load balancer zone the
addresses of its ``ELB <type>/<name>/<id>`` network interfaces."""

from __future__ import annotations

from collections import defaultdict

from localvpc.model.base import IPAddress
from localvpc.model.elb import Listener, LoadBalancer, LoadBalancerZone, Target, TargetGroup
from localvpc.model.interfaces import NetworkInterface
from localvpc.snapshot.awsjson import (
    JsonDict,
    RecordError,
    dicts,
    opt_dict,
    opt_int,
    opt_ip,
    opt_str,
    req_str,
    state_of,
    str_or,
    strs,
    tags_of,
    to_int,
)
from localvpc.snapshot.loadstate import LoadState, SourceContext

_CROSS_ZONE = "load_balancing.cross_zone.enabled"


def _arn_account(arn: str) -> JsonDict:
    """``{"OwnerId": account}`` from an ARN (``arn:aws:service:region:account:...``)."""
    parts = arn.split(":")
    return {"OwnerId": parts[4]} if len(parts) > 5 and parts[4] else {}


def _zone(rec: JsonDict, internal: bool) -> LoadBalancerZone:
    addresses: list[IPAddress] = []
    for entry in dicts(rec, "LoadBalancerAddresses"):
        private = opt_ip(entry, "PrivateIPv4Address")
        if private is not None:
            addresses.append(private)
        elif internal:
            # Internet-facing NLBs list their Elastic IP here; only internal ones list the
            # private address as IpAddress.
            address = opt_ip(entry, "IpAddress")
            if address is not None:
                addresses.append(address)
        ipv6 = opt_ip(entry, "IPv6Address")
        if ipv6 is not None:
            addresses.append(ipv6)
    return LoadBalancerZone(
        zone_name=str_or(rec, "ZoneName", ""),
        subnet_id=str_or(rec, "SubnetId", ""),
        addresses=addresses,
    )


def parse_load_balancer(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    arn = req_str(rec, "LoadBalancerArn")
    lb_type = str_or(rec, "Type", "network")
    scheme = str_or(rec, "Scheme", "internal")
    st.put(
        LoadBalancer(
            id=arn,
            account=ctx.account_for(_arn_account(arn)),
            region=ctx.region,
            tags=tags_of(rec),
            lb_name=str_or(rec, "LoadBalancerName", ""),
            lb_type=lb_type,
            scheme=scheme,
            vpc_id=str_or(rec, "VpcId", ""),
            dns_name=str_or(rec, "DNSName", ""),
            zones=[_zone(z, scheme != "internet-facing") for z in dicts(rec, "AvailabilityZones")],
            # Application load balancers always balance across zones; NLB and GWLB default off.
            cross_zone=lb_type == "application",
            security_group_ids=strs(rec, "SecurityGroups"),
            state=state_of(rec, "State", "active"),
        )
    )


def _load_balancer(arn: str, ctx: SourceContext, st: LoadState) -> LoadBalancer | None:
    lb = st.network.load_balancers.get(arn)
    if lb is None:
        st.warn(f"{ctx.file} refers to load balancer {arn}, which is not in the snapshot; ignored")
    return lb


def _listener(rec: JsonDict) -> Listener:
    if rec.get("Port") is None:
        raise RecordError("missing Port")
    groups: list[str] = []
    for action in dicts(rec, "DefaultActions"):
        if str_or(action, "Type", "forward").lower() != "forward":
            continue
        arns = [opt_str(action, "TargetGroupArn")]
        arns += [
            opt_str(t, "TargetGroupArn")
            for t in dicts(opt_dict(action, "ForwardConfig"), "TargetGroups")
        ]
        groups += [a for a in arns if a and a not in groups]
    return Listener(
        port=to_int(rec["Port"], "Port"),
        protocol=str_or(rec, "Protocol", "TCP"),
        target_group_arns=groups,
        arn=str_or(rec, "ListenerArn", ""),
    )


def _listener_key(listener: Listener) -> object:
    return (listener.port, listener.protocol, listener.arn)


def _add_listeners(st: LoadState, lb: LoadBalancer, listeners: list[Listener]) -> None:
    st.add_once(f"listeners:{lb.id}", lb.listeners, listeners, _listener_key)


def parse_load_balancer_listeners(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    """One entry of ``LoadBalancerListeners``: a load balancer ARN and its ``Listeners``."""
    lb = _load_balancer(req_str(rec, "LoadBalancerArn"), ctx, st)
    if lb is not None:
        listeners = st.parse_each(
            [*dicts(rec, "Listeners")], f"listener of {lb.lb_name or lb.id}", ctx, _listener
        )
        _add_listeners(st, lb, listeners)


def parse_listener(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    """A DescribeListeners record (top-level key ``Listeners``), naming its load balancer."""
    listener = _listener(rec)
    lb = _load_balancer(req_str(rec, "LoadBalancerArn"), ctx, st)
    if lb is not None:
        _add_listeners(st, lb, [listener])


def parse_load_balancer_attributes(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    """One entry of ``LoadBalancerAttributes``: only cross-zone balancing matters here."""
    arn = req_str(rec, "LoadBalancerArn")
    cross_zone: bool | None = None
    for attribute in dicts(rec, "Attributes"):
        if opt_str(attribute, "Key") == _CROSS_ZONE:
            cross_zone = str_or(attribute, "Value", "false").strip().lower() == "true"
    lb = _load_balancer(arn, ctx, st)
    if lb is not None and cross_zone is not None and lb.lb_type != "application":
        lb.cross_zone = cross_zone


def parse_target_group(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    arn = req_str(rec, "TargetGroupArn")
    st.put(
        TargetGroup(
            id=arn,
            account=ctx.account_for(_arn_account(arn)),
            region=ctx.region,
            tags=tags_of(rec),
            name_=str_or(rec, "TargetGroupName", ""),
            protocol=str_or(rec, "Protocol", "TCP"),
            port=opt_int(rec, "Port"),
            target_type=str_or(rec, "TargetType", "instance"),
            vpc_id=str_or(rec, "VpcId", ""),
            load_balancer_arns=strs(rec, "LoadBalancerArns"),
        )
    )


def parse_target_health(rec: JsonDict, ctx: SourceContext, st: LoadState) -> None:
    """One entry of ``LoadBalancerTargetHealth``: a target group ARN and its targets."""
    arn = req_str(rec, "TargetGroupArn")
    group = st.network.target_groups.get(arn)
    if group is None:
        st.warn(f"{ctx.file} refers to target group {arn}, which is not in the snapshot; ignored")
        return
    default_port = group.port

    def target(entry: JsonDict) -> Target:
        described = opt_dict(entry, "Target")
        port = opt_int(described, "Port")
        return Target(
            id=req_str(described, "Id"),
            port=default_port if port is None else port,
            health=state_of(entry, "TargetHealth", "healthy"),
            availability_zone=opt_str(described, "AvailabilityZone"),
        )

    targets = st.parse_each(
        [*dicts(rec, "TargetHealthDescriptions")], f"target of {group.name_ or arn}", ctx, target
    )
    st.add_once(f"targets:{group.id}", group.targets, targets, _target_key)


def _target_key(target: Target) -> object:
    return (target.id, target.port)


def fill_load_balancer_addresses(st: LoadState) -> None:
    """Give each zone without listed addresses the private IPs of the LB's ENIs in that zone's
    subnet. AWS describes those ENIs as ``ELB <type>/<name>/<id>``, the tail of the LB ARN."""
    net = st.network
    if not net.load_balancers:
        return
    by_lb: dict[str, list[NetworkInterface]] = defaultdict(list)
    for eni in net.network_interfaces.values():
        if eni.description.startswith("ELB "):
            by_lb[eni.description[4:].strip()].append(eni)
    for lb in net.load_balancers.values():
        _, _, suffix = lb.id.partition(":loadbalancer/")
        enis = by_lb.get(suffix, []) if suffix else []
        for zone in lb.zones:
            if zone.addresses:
                continue
            zone.addresses = [
                address
                for eni in enis
                if eni.subnet_id == zone.subnet_id
                for address in eni.addresses()
            ]
            if not zone.addresses and lb.state not in ("failed", "deleted"):
                st.warn(
                    f"load balancer {lb.lb_name or lb.id} has no known address in zone "
                    f"{zone.zone_name} (no ELB network interface in {zone.subnet_id})"
                )

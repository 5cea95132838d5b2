"""VPC endpoints, endpoint services and the AWS-managed prefix lists of gateway endpoints.

A gateway endpoint (S3, DynamoDB) adds one route per route table: destination the service's
AWS-managed prefix list, target ``GatewayId=vpce-...`` (RT-14). Those lists are made once per
Region, with the CIDRs AWS publishes for the service in that Region (the bundled
``ip-ranges`` data, ``localvpc.model.aws_prefixes``), never invented ones. An interface
endpoint owns one ENI per subnet (``interface_type`` ``vpc_endpoint``).

The prefix-list operations (Describe*, Create/Modify/Delete/Restore, entries and
associations) are in ``prefix_lists.py``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    describe,
    error,
    new_id,
    owned,
    paginate,
    scoped,
    tags_list,
)
from localvpc.api.providers.ec2.instances import free_address
from localvpc.api.state import Changes
from localvpc.model import catalog
from localvpc.model.aws_prefixes import aws_prefix_records
from localvpc.model.base import IPNetwork
from localvpc.model.endpoints import VpcEndpoint, endpoint_dns_names, endpoint_service_id
from localvpc.model.filters import PrefixList
from localvpc.model.interfaces import NetworkInterface, PrivateIp
from localvpc.model.network import Network
from localvpc.model.vpc import Route, RouteTable, Subnet, TargetType
from localvpc.model.zones import ZoneType

AWS_OWNER = "AWS"
GATEWAY_SERVICES = ("s3", "dynamodb")
INTERFACE_SERVICES = ("ec2", "ec2messages", "ecr.api", "ecr.dkr", "elasticloadbalancing",
                      "execute-api", "kms", "lambda", "logs", "monitoring", "s3",
                      "secretsmanager", "sns", "sqs", "ssm", "ssmmessages", "sts")
DEFAULT_POLICY = json.dumps({"Version": "2008-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "*", "Resource": "*"}]})


def service_name(region: str, short: str) -> str:
    return f"com.amazonaws.{region}.{short}"


def services(region: str) -> dict[str, list[str]]:
    """Endpoint services of the Region: full name -> endpoint types offered."""
    out: dict[str, list[str]] = {}
    for short in GATEWAY_SERVICES:
        out.setdefault(service_name(region, short), []).append("Gateway")
    for short in INTERFACE_SERVICES:
        out.setdefault(service_name(region, short), []).append("Interface")
    return out


def private_dns_name(region: str, short: str) -> str | None:
    special = {"ecr.api": f"api.ecr.{region}.amazonaws.com",
               "ecr.dkr": f"*.dkr.ecr.{region}.amazonaws.com",
               "execute-api": f"*.execute-api.{region}.amazonaws.com", "s3": None}
    if short in special:
        return special[short]
    return f"{short}.{region}.amazonaws.com"


def _short(full: str) -> str:
    parts = full.split(".", 3)
    return parts[3] if len(parts) == 4 else full


def _policy_key(vpce_id: str) -> str:
    return f"vpce-policy/{vpce_id}"


# ------------------------------------------------------------------ AWS-managed prefix lists
def managed_cidrs(region: str, short: str) -> list[IPNetwork]:
    """The IPv4 prefixes AWS publishes for the service (S3, DYNAMODB) in the Region."""
    wanted = short.upper()
    found = {r.prefix for r in aws_prefix_records()
             if r.service == wanted and r.region == region and r.prefix.version == 4}
    return sorted(found, key=lambda n: (int(n.network_address), n.prefixlen))


def find_managed(net: Network, region: str, short: str) -> PrefixList | None:
    name = service_name(region, short)
    return next((pl for pl in net.prefix_lists.values()
                 if pl.region == region and pl.prefix_list_name == name
                 and pl.owner_id == AWS_OWNER), None)


def ensure_managed(ctx: RequestContext, w: Changes | None = None) -> dict[str, PrefixList]:
    """The Region's AWS-managed lists for the gateway services, made on first use."""
    net = ctx.state.network
    have = {s: pl for s in GATEWAY_SERVICES if (pl := find_managed(net, ctx.region, s))}
    missing = [s for s in GATEWAY_SERVICES if s not in have]
    if not missing:
        return have

    def make(changes: Changes) -> None:
        for short in missing:
            name = service_name(ctx.region, short)
            digest = hashlib.sha256(f"{ctx.region}/{name}".encode()).hexdigest()[:8]
            cidrs = managed_cidrs(ctx.region, short)
            pl = PrefixList(f"pl-{digest}", ctx.account, ctx.region, prefix_list_name=name,
                            cidrs=cidrs, max_entries=len(cidrs), owner_id=AWS_OWNER)
            net.add(pl)
            changes.save(pl)
            have[short] = pl

    if w is not None:
        make(w)
    else:
        with ctx.state.write() as changes:
            make(changes)
    return have


# ------------------------------------------------------------------ endpoints
def endpoint_view(ctx: RequestContext, e: VpcEndpoint, state: str | None = None
                  ) -> dict[str, Any]:
    from localvpc.api.providers.ec2.endpoint_services import private_dns_of

    net = ctx.state.network
    short = _short(e.service_name)
    dns: list[dict[str, str]] = []
    if e.endpoint_type == "Interface":
        zones = [net.subnets[s].availability_zone for s in e.subnet_ids if s in net.subnets]
        dns.extend({"DnsName": n} for n in endpoint_dns_names(e, zones))
        private = (private_dns_of(net, e) if endpoint_service_id(e.service_name)
                   else private_dns_name(e.region, short) if e.private_dns_enabled else None)
        if private:
            dns.append({"DnsName": private})
    policy = ctx.state.meta(_policy_key(e.id))
    return {
        "VpcEndpointId": e.id, "VpcEndpointType": e.endpoint_type, "VpcId": e.vpc_id,
        "ServiceName": e.service_name, "State": state or e.state,
        "PolicyDocument": policy if isinstance(policy, str) else DEFAULT_POLICY,
        "RouteTableIds": list(e.route_table_ids), "SubnetIds": list(e.subnet_ids),
        "Groups": [{"GroupId": g, "GroupName": net.security_groups[g].group_name
                    if g in net.security_groups else ""} for g in e.security_group_ids],
        "IpAddressType": "ipv4", "PrivateDnsEnabled": e.private_dns_enabled,
        "RequesterManaged": False, "NetworkInterfaceIds": list(e.network_interface_ids),
        "DnsEntries": dns, "OwnerId": e.account, "Tags": tags_list(e.tags),
    }


ENDPOINT_FILTERS = {
    "vpc-endpoint-id": lambda e: [e.id], "vpc-id": lambda e: [e.vpc_id],
    "service-name": lambda e: [e.service_name], "vpc-endpoint-state": lambda e: [e.state],
    "vpc-endpoint-type": lambda e: [e.endpoint_type], "ip-address-type": lambda e: ["ipv4"],
}


def _service_key(detail: dict[str, Any]) -> str:
    return f"{detail['ServiceName']}/{detail['ServiceType'][0]['ServiceType']}"


def _policy(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        json.loads(text)
    except ValueError:
        raise error("InvalidPolicyDocument", "The policy document is not valid JSON."
                    ) from None
    return text


class EndpointOperations:
    # ------------------------------------------------------------------ lookups
    def _vpce(self, ctx: RequestContext, vpce_id: str) -> VpcEndpoint:
        ep: VpcEndpoint = owned(ctx, "vpc_endpoints", vpce_id, "InvalidVpcEndpointId.NotFound",
                                message=f"The Vpc Endpoint Id '{vpce_id}' does not exist")
        return ep

    def _vpce_tables(self, ctx: RequestContext, vpc_id: str, ids: list[str]
                         ) -> list[RouteTable]:
        out = []
        for rid in dict.fromkeys(ids):
            rt = owned(ctx, "route_tables", rid, "InvalidRouteTableID.NotFound", "routeTable")
            if rt.vpc_id != vpc_id:
                raise error("InvalidParameter", f"Route table {rid} is not in {vpc_id}.")
            out.append(rt)
        return out

    def _vpce_subnets(self, ctx: RequestContext, vpc_id: str, ids: list[str],
                          taken_zones: dict[str, str] | None = None) -> list[Subnet]:
        zones = dict(taken_zones or {})
        out = []
        for sid in dict.fromkeys(ids):
            subnet = owned(ctx, "subnets", sid, "InvalidSubnetID.NotFound", "subnet")
            if subnet.vpc_id != vpc_id:
                raise error("InvalidParameter", f"Subnet {sid} is not in {vpc_id}.")
            if subnet.availability_zone in zones:
                raise error("DuplicateSubnetsInSameZone", f"Found another subnet "
                            f"({zones[subnet.availability_zone]}) in "
                            f"{subnet.availability_zone}: an interface endpoint takes one "
                            "subnet per Availability Zone.")
            zones[subnet.availability_zone] = sid
            out.append(subnet)
        return out

    def _vpce_groups(self, ctx: RequestContext, vpc_id: str, ids: list[str] | None
                         ) -> list[str]:
        net = ctx.state.network
        if not ids:
            default = next((g.id for g in net.security_groups.values()
                            if g.vpc_id == vpc_id and g.group_name == "default"), None)
            return [default] if default else []
        for gid in ids:
            g = owned(ctx, "security_groups", gid, "InvalidGroup.NotFound",
                      message=f"The security group '{gid}' does not exist")
            if g.vpc_id != vpc_id:
                raise error("InvalidParameter", f"Security group {gid} is not in {vpc_id}.")
        return list(dict.fromkeys(ids))

    def _vpce_new_enis(self, ctx: RequestContext, ep: VpcEndpoint, subnets: list[Subnet],
                  groups: list[str]) -> list[NetworkInterface]:
        enis = []
        for subnet in subnets:
            ip = free_address(ctx.state.network, subnet)
            enis.append(NetworkInterface(
                new_id("eni"), ctx.account, ctx.region, subnet_id=subnet.id,
                vpc_id=subnet.vpc_id, availability_zone=subnet.availability_zone,
                private_ips=[PrivateIp(ip, primary=True)], security_group_ids=list(groups),
                interface_type="vpc_endpoint", requester_id=AWS_OWNER,
                description=f"VPC Endpoint Interface {ep.id}"))
        return enis

    @staticmethod
    def _vpce_add_routes(ep: VpcEndpoint, tables: list[RouteTable], pl_id: str,
                    w: Changes) -> None:
        for rt in tables:
            rt.routes.append(Route(None, TargetType.GATEWAY_ENDPOINT, ep.id,
                                   prefix_list_id=pl_id))
            ep.route_table_ids.append(rt.id)
            w.save(rt)

    @staticmethod
    def _vpce_check_free(tables: list[RouteTable], pl_id: str) -> None:
        for rt in tables:
            if any(r.prefix_list_id == pl_id for r in rt.routes):
                raise error("RouteAlreadyExists", f"route table {rt.id} already has a route "
                            f"with destination-prefix-list-id {pl_id}")

    @staticmethod
    def _vpce_remove_routes(net: Network, ep: VpcEndpoint, table_ids: list[str],
                       w: Changes) -> None:
        for rid in table_ids:
            rt = net.route_tables.get(rid)
            if rt is not None:
                rt.routes = [r for r in rt.routes if not (
                    r.target_type == TargetType.GATEWAY_ENDPOINT and r.target_id == ep.id)]
                w.save(rt)
            if rid in ep.route_table_ids:
                ep.route_table_ids.remove(rid)

    # ------------------------------------------------------------------ endpoints
    def CreateVpcEndpoint(self, ctx: RequestContext, params: dict[str, Any]
                          ) -> dict[str, Any]:
        net = ctx.state.network
        vpc = owned(ctx, "vpcs", params["VpcId"], "InvalidVpcID.NotFound", "vpc")
        name = params.get("ServiceName")
        if not name:
            raise error("MissingParameter", "The request must contain the parameter "
                        "ServiceName")
        kind = params.get("VpcEndpointType") or "Gateway"
        if kind not in ("Gateway", "Interface", "GatewayLoadBalancer"):
            raise error("InvalidVpcEndpointType", f"The VPC endpoint type {kind} is not "
                        "supported by localvpc; use Gateway or Interface.")
        if endpoint_service_id(name):  # PrivateLink: endpoint_services.py
            from localvpc.api.providers.ec2.endpoint_services import (
                create_privatelink_endpoint,
            )

            return create_privatelink_endpoint(self, ctx, vpc, params)
        offered = services(ctx.region).get(name)
        if offered is None:
            raise error("InvalidServiceName", f"The Vpc Endpoint Service '{name}' does not "
                        "exist")
        if kind not in offered:
            raise error("InvalidParameter", f"The Vpc Endpoint Service '{name}' does not "
                        f"support {kind} endpoints (it offers {', '.join(offered)}).")
        policy = _policy(params.get("PolicyDocument"))
        ep = VpcEndpoint(new_id("vpce"), ctx.account, ctx.region, vpc_id=vpc.id,
                         service_name=name, endpoint_type=kind)
        apply_tag_specs(ep, params, "vpc-endpoint")
        if kind == "Gateway":
            for key in ("SubnetIds", "SecurityGroupIds"):
                if params.get(key):
                    raise error("InvalidParameter", f"{key} does not apply to Gateway "
                                "endpoints.")
            tables = self._vpce_tables(ctx, vpc.id, params.get("RouteTableIds") or [])
            existing = find_managed(net, ctx.region, _short(name))
            if existing is not None:
                self._vpce_check_free(tables, existing.id)
            with ctx.state.write() as w:
                pl = ensure_managed(ctx, w)[_short(name)]
                self._vpce_add_routes(ep, tables, pl.id, w)
                net.add(ep)
                w.save(ep)
                if policy is not None:
                    w.meta[_policy_key(ep.id)] = policy
            return {"VpcEndpoint": endpoint_view(ctx, ep),
                    "ClientToken": params.get("ClientToken")}
        if params.get("RouteTableIds"):
            raise error("InvalidParameter", "RouteTableIds does not apply to Interface "
                        "endpoints.")
        subnets = self._vpce_subnets(ctx, vpc.id, params.get("SubnetIds") or [])
        groups = self._vpce_groups(ctx, vpc.id, params.get("SecurityGroupIds"))
        private_dns = params.get("PrivateDnsEnabled")
        ep.private_dns_enabled = True if private_dns is None else bool(private_dns)
        if ep.private_dns_enabled and not (vpc.enable_dns_support and vpc.enable_dns_hostnames):
            raise error("InvalidParameter", "Enabling private DNS requires both "
                        "enableDnsSupport and enableDnsHostnames VPC attributes set to true "
                        f"for {vpc.id}")
        enis = self._vpce_new_enis(ctx, ep, subnets, groups)
        ep.subnet_ids = [s.id for s in subnets]
        ep.network_interface_ids = [e.id for e in enis]
        ep.security_group_ids = groups
        with ctx.state.write() as w:
            for r in (*enis, ep):
                net.add(r)
                w.save(r)
            if policy is not None:
                w.meta[_policy_key(ep.id)] = policy
        return {"VpcEndpoint": endpoint_view(ctx, ep, state="pending"),
                "ClientToken": params.get("ClientToken")}

    def DescribeVpcEndpoints(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        page, token = describe(ctx, "vpc_endpoints", params, "VpcEndpointIds", "Vpc Endpoint",
                               "InvalidVpcEndpointId.NotFound", ENDPOINT_FILTERS)
        return {"VpcEndpoints": [endpoint_view(ctx, e) for e in page], "NextToken": token}

    def DeleteVpcEndpoints(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        net = ctx.state.network
        mine = scoped(net.vpc_endpoints, ctx.account, ctx.region)
        unsuccessful = [{"ResourceId": i, "Error": {
            "Code": "InvalidVpcEndpoint.NotFound",
            "Message": f"The Vpc Endpoint Id '{i}' does not exist"}}
            for i in params.get("VpcEndpointIds") or [] if i not in mine]
        found = [mine[i] for i in dict.fromkeys(params.get("VpcEndpointIds") or [])
                 if i in mine]
        if found:
            with ctx.state.write() as w:
                for ep in found:
                    self._vpce_remove_routes(net, ep, list(ep.route_table_ids), w)
                    for rt in net.route_tables.values():  # GWLB endpoint routes: ST-2
                        hit = [r for r in rt.routes if r.target_id == ep.id]
                        for r in hit:
                            r.state = "blackhole"
                        if hit:
                            w.save(rt)
                    for eni_id in ep.network_interface_ids:
                        if eni_id in net.network_interfaces:
                            del net.network_interfaces[eni_id]
                            w.deleted.append(("network_interfaces", eni_id))
                    del net.vpc_endpoints[ep.id]
                    w.deleted.append(("vpc_endpoints", ep.id))
                    w.meta[_policy_key(ep.id)] = None
        return {"Unsuccessful": unsuccessful}

    def ModifyVpcEndpoint(self, ctx: RequestContext, params: dict[str, Any]
                          ) -> dict[str, Any]:
        net = ctx.state.network
        ep = self._vpce(ctx, params["VpcEndpointId"])
        policy = _policy(params.get("PolicyDocument"))
        gateway_only = ("AddRouteTableIds", "RemoveRouteTableIds")
        interface_only = ("AddSubnetIds", "RemoveSubnetIds", "AddSecurityGroupIds",
                          "RemoveSecurityGroupIds", "PrivateDnsEnabled")
        wrong = interface_only if ep.endpoint_type == "Gateway" else gateway_only
        for key in wrong:
            if params.get(key) is not None:
                raise error("InvalidParameter", f"{key} does not apply to "
                            f"{ep.endpoint_type} endpoints.")
        with_policy = params.get("ResetPolicy") or policy is not None
        if ep.endpoint_type == "Gateway":
            add = self._vpce_tables(ctx, ep.vpc_id, params.get("AddRouteTableIds") or [])
            add = [rt for rt in add if rt.id not in ep.route_table_ids]
            remove = [r for r in params.get("RemoveRouteTableIds") or []
                      if r in ep.route_table_ids]
            self._vpce_tables(ctx, ep.vpc_id, list(params.get("RemoveRouteTableIds") or []))
            pl = find_managed(net, ctx.region, _short(ep.service_name))
            pl_id = pl.id if pl is not None else next(
                (r.prefix_list_id for rt in net.route_tables.values() for r in rt.routes
                 if r.target_id == ep.id and r.prefix_list_id), None)
            if pl_id is not None:
                self._vpce_check_free(add, pl_id)
            with ctx.state.write() as w:
                if pl_id is None:
                    pl_id = ensure_managed(ctx, w)[_short(ep.service_name)].id
                self._vpce_remove_routes(net, ep, remove, w)
                self._vpce_add_routes(ep, add, pl_id, w)
                w.save(ep)
                if with_policy:
                    w.meta[_policy_key(ep.id)] = policy
            return {"Return": True}
        return self._vpce_modify_interface(ctx, ep, params, policy, bool(with_policy))

    def _vpce_modify_interface(self, ctx: RequestContext, ep: VpcEndpoint, params: dict[str, Any],
                          policy: str | None, with_policy: bool) -> dict[str, Any]:
        net = ctx.state.network
        remove_subnets = set(params.get("RemoveSubnetIds") or [])
        for sid in remove_subnets:
            if sid not in ep.subnet_ids:
                raise error("InvalidParameter", f"Subnet {sid} is not a subnet of {ep.id}.")
        kept = {net.subnets[s].availability_zone: s for s in ep.subnet_ids
                if s not in remove_subnets and s in net.subnets}
        new_subnets = self._vpce_subnets(
            ctx, ep.vpc_id, [s for s in params.get("AddSubnetIds") or []
                             if s not in ep.subnet_ids], kept)
        groups = list(ep.security_group_ids)
        added = self._vpce_groups(ctx, ep.vpc_id, params.get("AddSecurityGroupIds")) \
            if params.get("AddSecurityGroupIds") else []
        groups += [g for g in added if g not in groups]
        groups = [g for g in groups if g not in set(params.get("RemoveSecurityGroupIds") or [])]
        if not groups:
            raise error("InvalidParameter", f"{ep.id} needs at least one security group.")
        private_dns = params.get("PrivateDnsEnabled")
        vpc = net.vpcs[ep.vpc_id]
        if private_dns and not (vpc.enable_dns_support and vpc.enable_dns_hostnames):
            raise error("InvalidParameter", "Enabling private DNS requires both "
                        "enableDnsSupport and enableDnsHostnames VPC attributes set to true "
                        f"for {vpc.id}")
        enis = self._vpce_new_enis(ctx, ep, new_subnets, groups)
        with ctx.state.write() as w:
            for eni_id in list(ep.network_interface_ids):
                eni = net.network_interfaces.get(eni_id)
                if eni is not None and eni.subnet_id in remove_subnets:
                    del net.network_interfaces[eni_id]
                    w.deleted.append(("network_interfaces", eni_id))
                    ep.network_interface_ids.remove(eni_id)
                elif eni is not None:
                    eni.security_group_ids = list(groups)
                    w.save(eni)
            for eni in enis:
                net.add(eni)
                w.save(eni)
                ep.network_interface_ids.append(eni.id)
            ep.subnet_ids = [s for s in ep.subnet_ids if s not in remove_subnets]
            ep.subnet_ids += [s.id for s in new_subnets]
            ep.security_group_ids = groups
            if private_dns is not None:
                ep.private_dns_enabled = bool(private_dns)
            if with_policy:
                w.meta[_policy_key(ep.id)] = policy
            w.save(ep)
        return {"Return": True}

    def DescribeVpcEndpointServices(self, ctx: RequestContext, params: dict[str, Any]
                                    ) -> dict[str, Any]:
        from localvpc.api.providers.ec2.endpoint_services import service_details

        offered = services(ctx.region)
        custom = service_details(ctx)  # endpoint services the caller may connect to
        wanted = params.get("ServiceNames")
        if wanted:
            unknown = [n for n in wanted if n not in offered
                       and all(d["ServiceName"] != n for d in custom)]
            if unknown:
                raise error("InvalidServiceName", f"The Vpc Endpoint Service "
                            f"'{unknown[0]}' does not exist")
        azs = sorted((z for z in catalog.zones(ctx.region)
                      if z.zone_type == ZoneType.AVAILABILITY_ZONE), key=lambda z: z.name)
        details: list[dict[str, Any]] = []
        for name in sorted(offered):
            if wanted and name not in wanted:
                continue
            short = _short(name)
            for kind in offered[name]:
                private = private_dns_name(ctx.region, short) if kind == "Interface" else None
                details.append({
                    "ServiceName": name, "ServiceType": [{"ServiceType": kind}],
                    "AvailabilityZones": [z.name for z in azs],
                    "AvailabilityZoneIds": [z.zone_id for z in azs], "Owner": "amazon",
                    "BaseEndpointDnsNames": [f"{short}.{ctx.region}.vpce.amazonaws.com"],
                    "PrivateDnsName": private,
                    "PrivateDnsNames": [{"PrivateDnsName": private}] if private else [],
                    "VpcEndpointPolicySupported": True, "AcceptanceRequired": False,
                    "ManagesVpcEndpoints": False, "ServiceRegion": ctx.region,
                    "PrivateDnsNameVerificationState": "verified" if private else None,
                    "SupportedIpAddressTypes": ["ipv4"], "Tags": []})
        details += [d for d in custom if not wanted or d["ServiceName"] in wanted]
        details = apply_filters(details, params.get("Filters"), {
            "service-name": lambda d: [d["ServiceName"]],
            "service-type": lambda d: [t["ServiceType"] for t in d["ServiceType"]],
            "owner": lambda d: [d["Owner"]],
            "service-region": lambda d: [d["ServiceRegion"]],
        })
        page, token = paginate(details, params, _service_key)
        return {"ServiceNames": sorted({d["ServiceName"] for d in page}),
                "ServiceDetails": page, "NextToken": token}

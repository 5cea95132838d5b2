"""Amazon Route 53 Resolver (json): endpoints, rules and their VPC associations, DNS Firewall.

Everything is Region-scoped and belongs to the calling account, except resolver rules shared
through RAM (``route53resolver:ResolverRule``): a recipient that accepted the share sees the
rule as ``SHARED_WITH_ME`` and may associate it with its VPCs, never change it. When the
share goes away the recipient's associations go too (RR-8); they are pruned before the next
Resolver call.

Work AWS does asynchronously (endpoint creation, rule association, domain import) is done
before the answer, so resources are ``OPERATIONAL``/``COMPLETE`` at once, except that
ImportFirewallDomains answers ``IMPORTING`` as AWS does (the list is already ``COMPLETE``).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

from localvpc.api.context import RequestContext
from localvpc.api.protocols.request import ServiceError
from localvpc.api.providers.ec2.common import new_id, persist_new
from localvpc.api.providers.ec2.instances import check_private_ip, free_address
from localvpc.api.providers.paging import BadPageToken, keyed_page
from localvpc.api.providers.ram import shared_with, shares
from localvpc.api.registry import Provider
from localvpc.model.base import Resource
from localvpc.model.dns import (
    FirewallConfig,
    FirewallDomainList,
    FirewallRule,
    FirewallRuleGroup,
    FirewallRuleGroupAssociation,
    ResolverConfig,
    ResolverEndpoint,
    ResolverEndpointIp,
    ResolverRule,
    ResolverRuleAssociation,
    TargetAddress,
)
from localvpc.model.interfaces import NetworkInterface, PrivateIp
from localvpc.model.vpc import Subnet, Vpc

T = TypeVar("T")
R = TypeVar("R", bound=Resource)
C = TypeVar("C", ResolverConfig, FirewallConfig)

RULE_RAM_TYPE = "route53resolver:ResolverRule"
INTERNET_RULE_ID = "rslvr-autodefined-rr-internet-resolver"
MAX_IPS_PER_ENDPOINT = 6
MAX_TARGET_IPS = 6
MAX_IMPORT_DOMAINS = 250_000
MAX_GROUPS_PER_VPC = 5
_DOMAIN_SPEC = re.compile(r"^(\*|\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+$|^\*$")
_TOKEN_MARK = "localvpc-r53r:"


def err(code: str, message: str, **fields: Any) -> ServiceError:
    return ServiceError(code, message, fields=fields or None)


def not_found(message: str, resource_type: str) -> ServiceError:
    return err("ResourceNotFoundException", message, ResourceType=resource_type)


def iso(epoch: float | None) -> str | None:
    """Resolver timestamps are strings: ``2024-05-01T10:00:00.123456Z``."""
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def arn(ctx_region: str, account: str, kind: str, rid: str) -> str:
    return f"arn:aws:route53resolver:{ctx_region}:{account}:{kind}/{rid}"


def fqdn(name: str) -> str:
    name = name.strip().lower()
    return name if name.endswith(".") else name + "."


def domain_spec(text: str) -> str:
    """A DNS Firewall domain (FW-6): lower case, no trailing dot, optional leading ``*``."""
    value = text.strip().lower().rstrip(".")
    if not value or len(value) > 255 or not _DOMAIN_SPEC.match(value):
        raise err("ValidationException", f"Domain {text} is not valid: use letters, digits, "
                  "hyphens and dots, with an optional leading '*'.")
    return value


# ------------------------------------------------------------------ pagination and filters
def paginate(items: list[T], params: dict[str, Any], key: Callable[[T], str],
             default: int = 100) -> tuple[list[T], str | None]:
    """``MaxResults``/``NextToken`` over ``items`` sorted by ``key`` (``keyed_page``)."""
    try:
        return keyed_page(items, key, params.get("NextToken"),
                          int(params.get("MaxResults") or default), _TOKEN_MARK)
    except BadPageToken:
        raise err("InvalidNextTokenException", "The value that you specified for NextToken "
                  "in a List request isn't valid.") from None


def apply_filters(items: Iterable[T], filters: list[dict[str, Any]] | None,
                  fields: dict[str, Callable[[T], Iterable[str]]]) -> list[T]:
    """Resolver filters: exact values, OR within a filter, AND across filters."""
    result = list(items)
    for f in filters or []:
        name = str(f.get("Name", ""))
        getter = fields.get(name)
        if getter is None:
            raise err("InvalidParameterException", f"The filter name {name} is not valid.",
                      FieldName="Filters")
        wanted = {str(v) for v in f.get("Values") or []}
        result = [item for item in result if wanted & set(getter(item))]
    return result


def tags_param(params: dict[str, Any]) -> dict[str, str]:
    return {t["Key"]: t.get("Value", "") for t in params.get("Tags") or []}


# ------------------------------------------------------------------ views
def endpoint_view(e: ResolverEndpoint) -> dict[str, Any]:
    return {"Id": e.id, "CreatorRequestId": e.creator_request_id,
            "Arn": arn(e.region, e.account, "resolver-endpoint", e.id),
            "Name": e.endpoint_name, "SecurityGroupIds": list(e.security_group_ids),
            "Direction": e.direction, "IpAddressCount": len(e.ip_addresses),
            "HostVPCId": e.vpc_id, "Status": e.status, "StatusMessage": e.status_message,
            "CreationTime": iso(e.created), "ModificationTime": iso(e.modified),
            "ResolverEndpointType": e.endpoint_type, "Protocols": list(e.protocols)}


def ip_view(e: ResolverEndpoint, ip: ResolverEndpointIp) -> dict[str, Any]:
    return {"IpId": ip.ip_id, "SubnetId": ip.subnet_id, "Ip": ip.ip, "Ipv6": ip.ipv6,
            "Status": ip.status, "StatusMessage": "This IP address is attached to the "
            "endpoint." if ip.status == "ATTACHED" else "",
            "CreationTime": iso(e.created), "ModificationTime": iso(e.modified)}


def target_view(t: TargetAddress) -> dict[str, Any]:
    out: dict[str, Any] = {"Port": t.port, "Protocol": t.protocol}
    if t.ip:
        out["Ip"] = t.ip
    if t.ipv6:
        out["Ipv6"] = t.ipv6
    if t.server_name_indication:
        out["ServerNameIndication"] = t.server_name_indication
    return out


def association_view(a: ResolverRuleAssociation) -> dict[str, Any]:
    return {"Id": a.id, "ResolverRuleId": a.resolver_rule_id, "Name": a.association_name,
            "VPCId": a.vpc_id, "Status": a.status, "StatusMessage": a.status_message}


def domain_list_view(d: FirewallDomainList) -> dict[str, Any]:
    return {"Id": d.id, "Arn": arn(d.region, d.account, "firewall-domain-list", d.id),
            "Name": d.list_name, "DomainCount": len(d.domains), "Status": d.status,
            "StatusMessage": d.status_message, "ManagedOwnerName": d.managed_owner_name,
            "CreatorRequestId": d.creator_request_id, "CreationTime": iso(d.created),
            "ModificationTime": iso(d.modified)}


def rule_group_view(g: FirewallRuleGroup) -> dict[str, Any]:
    return {"Id": g.id, "Arn": arn(g.region, g.account, "firewall-rule-group", g.id),
            "Name": g.group_name, "RuleCount": len(g.rules), "Status": g.status,
            "StatusMessage": g.status_message, "OwnerId": g.account,
            "CreatorRequestId": g.creator_request_id, "ShareStatus": "NOT_SHARED",
            "CreationTime": iso(g.created), "ModificationTime": iso(g.modified)}


def firewall_rule_view(group_id: str, r: FirewallRule) -> dict[str, Any]:
    out: dict[str, Any] = {
        "FirewallRuleGroupId": group_id, "FirewallDomainListId": r.firewall_domain_list_id,
        "Name": r.rule_name, "Priority": r.priority, "Action": r.action,
        "CreatorRequestId": r.creator_request_id, "CreationTime": iso(r.created),
        "ModificationTime": iso(r.modified),
        "FirewallDomainRedirectionAction": r.firewall_domain_redirection_action}
    optional = {"BlockResponse": r.block_response, "BlockOverrideDomain": r.block_override_domain,
                "BlockOverrideDnsType": r.block_override_dns_type,
                "BlockOverrideTtl": r.block_override_ttl, "Qtype": r.qtype}
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def group_association_view(a: FirewallRuleGroupAssociation) -> dict[str, Any]:
    return {"Id": a.id,
            "Arn": arn(a.region, a.account, "firewall-rule-group-association", a.id),
            "FirewallRuleGroupId": a.firewall_rule_group_id, "VpcId": a.vpc_id,
            "Name": a.association_name, "Priority": a.priority,
            "MutationProtection": a.mutation_protection,
            "ManagedOwnerName": a.managed_owner_name, "Status": a.status,
            "StatusMessage": a.status_message, "CreatorRequestId": a.creator_request_id,
            "CreationTime": iso(a.created), "ModificationTime": iso(a.modified)}


def config_id(prefix: str, vpc_id: str) -> str:
    """A stable id for a VPC's (implicit, default) config: no write needed to read one."""
    return f"{prefix}-{hashlib.sha256(vpc_id.encode()).hexdigest()[:17]}"


# Kinds looked up by id: their table and the noun of their not-found message (the class name
# is the error's ResourceType).
_BY_ID: dict[type[Resource], tuple[str, str]] = {
    ResolverEndpoint: ("resolver_endpoints", "Resolver endpoint"),
    ResolverRuleAssociation: ("resolver_rule_associations", "Resolver rule association"),
    FirewallDomainList: ("firewall_domain_lists", "Firewall domain list"),
    FirewallRuleGroup: ("firewall_rule_groups", "Firewall rule group"),
    FirewallRuleGroupAssociation: ("firewall_rule_group_associations",
                                   "Firewall rule group association"),
}
# Per-VPC configs: their table and id prefix.
_CONFIGS: dict[type[Resource], tuple[str, str]] = {
    ResolverConfig: ("resolver_configs", "rslvr-rc"),
    FirewallConfig: ("firewall_configs", "rslvr-fc"),
}


class Route53ResolverProvider(Provider):
    service = "route53resolver"

    # ---------------------------------------------------------------- housekeeping
    def prepare(self, ctx: RequestContext) -> None:
        """RR-8: associations of a rule that is no longer shared with the VPC's owner go."""
        net = ctx.state.network
        stale = []
        shared_cache: dict[tuple[str, str], dict[str, str]] = {}
        for a in net.resolver_rule_associations.values():
            rule = net.resolver_rules.get(a.resolver_rule_id)
            if rule is None:
                stale.append(a)
                continue
            if rule.account == a.account:
                continue
            key = (a.account, a.region)
            if key not in shared_cache:
                shared_cache[key] = shared_with(ctx.state, a.account, a.region, RULE_RAM_TYPE)
            if rule.id not in shared_cache[key]:
                stale.append(a)
        if stale:
            with ctx.state.write() as w:
                for a in stale:
                    del net.resolver_rule_associations[a.id]
                    w.deleted.append(("resolver_rule_associations", a.id))

    # ---------------------------------------------------------------- lookups
    def _mine(self, ctx: RequestContext, table: str) -> list[Any]:
        return [r for r in getattr(ctx.state.network, table).values()
                if r.account == ctx.account and r.region == ctx.region]

    def _owned(self, ctx: RequestContext, kind: type[R], rid: str) -> R:
        """The caller's ``kind`` with id ``rid``, else ResourceNotFoundException."""
        table, noun = _BY_ID[kind]
        found = getattr(ctx.state.network, table).get(rid)
        if not isinstance(found, kind) or found.account != ctx.account \
                or found.region != ctx.region:
            raise not_found(f"{noun} with ID '{rid}' does not exist.", kind.__name__)
        return found

    def _vpc(self, ctx: RequestContext, vpc_id: str, field: str = "VPCId") -> Vpc:
        vpc = ctx.state.network.vpcs.get(vpc_id)
        if vpc is None or vpc.account != ctx.account or vpc.region != ctx.region:
            raise err("InvalidParameterException", f"Resource "
                      f"ID '{vpc_id}' is not a valid VPC ID in account {ctx.account} "
                      f"in {ctx.region}.", FieldName=field)
        return vpc

    def _request_id(self, ctx: RequestContext, params: dict[str, Any], table: str, noun: str
                    ) -> str:
        """The call's CreatorRequestId, which no resource of ``table`` may have yet."""
        request_id = str(params["CreatorRequestId"])
        if any(r.creator_request_id == request_id for r in self._mine(ctx, table)):
            raise err("ResourceExistsException", f"A {noun} with the creator "
                      f"request ID '{request_id}' already exists.", ResourceType=noun)
        return request_id

    def _delete(self, ctx: RequestContext, table: str, rid: str) -> None:
        """Remove ``rid`` from ``table`` and from the store, in one write."""
        with ctx.state.write() as w:
            del getattr(ctx.state.network, table)[rid]
            w.deleted.append((table, rid))

    def _visible_rules(self, ctx: RequestContext) -> dict[str, ResolverRule]:
        net = ctx.state.network
        shared = shared_with(ctx.state, ctx.account, ctx.region, RULE_RAM_TYPE)
        return {r.id: r for r in net.resolver_rules.values()
                if r.region == ctx.region and (r.account == ctx.account or r.id in shared)}

    def _rule(self, ctx: RequestContext, rule_id: str, owned: bool = False) -> ResolverRule:
        rule = self._visible_rules(ctx).get(rule_id)
        if rule is None:
            raise not_found(f"Resolver rule with ID '{rule_id}' does not exist.",
                            "ResolverRule")
        if owned and rule.account != ctx.account:
            raise err("AccessDeniedException", f"The resolver rule {rule_id} is shared with "
                      f"account {ctx.account} by its owner {rule.account}: only the owner can "
                      "change it.")
        return rule

    def _rule_view(self, ctx: RequestContext, r: ResolverRule) -> dict[str, Any]:
        if r.account != ctx.account:
            share = "SHARED_WITH_ME"
        else:
            share = "SHARED_BY_ME" if self._shared_by_owner(ctx, r) else "NOT_SHARED"
        return {"Id": r.id, "CreatorRequestId": r.creator_request_id,
                "Arn": arn(r.region, r.account, "resolver-rule", r.id),
                "DomainName": r.domain_name, "Status": r.status,
                "StatusMessage": r.status_message, "RuleType": r.rule_type,
                "Name": r.rule_name, "TargetIps": [target_view(t) for t in r.target_ips] or None,
                "ResolverEndpointId": r.resolver_endpoint_id, "OwnerId": r.account,
                "ShareStatus": share, "CreationTime": iso(r.created),
                "ModificationTime": iso(r.modified), "DelegationRecord": r.delegation_record}

    def _shared_by_owner(self, ctx: RequestContext, r: ResolverRule) -> bool:
        rule_arn = arn(r.region, r.account, "resolver-rule", r.id)
        return any(s["owner"] == r.account and s["status"] == "ACTIVE"
                   and s["resources"].get(rule_arn, {}).get("status") == "ASSOCIATED"
                   for s in shares(ctx.state).values())

    # ---------------------------------------------------------------- endpoints
    def _endpoint_ips(self, ctx: RequestContext, wanted: list[dict[str, Any]],
                      vpc_id: str | None, taken: set[Any]) -> tuple[str, list[tuple[Subnet,
                                                                                 Any]]]:
        """Check the requested addresses: one VPC, free addresses, picked where omitted."""
        net = ctx.state.network
        chosen: list[tuple[Subnet, Any]] = []
        for item in wanted:
            sid = str(item.get("SubnetId", ""))
            subnet = net.subnets.get(sid)
            if subnet is None or subnet.account != ctx.account or subnet.region != ctx.region:
                raise err("InvalidParameterException", f"Subnet {sid} does not "
                          "exist.", FieldName="IpAddresses")
            if vpc_id is not None and subnet.vpc_id != vpc_id:
                raise err("InvalidRequestException", "All subnets of a resolver "
                          "endpoint must be in the same VPC.")
            vpc_id = subnet.vpc_id
            if item.get("Ip"):
                try:
                    address = check_private_ip(net, subnet, str(item["Ip"]), taken)
                except ServiceError as exc:
                    raise err("InvalidRequestException", f"The IP address "
                              f"{item['Ip']} cannot be used in subnet {sid}: "
                              f"{exc.message}") from None
            else:
                address = free_address(net, subnet, taken)
            taken.add(address)
            chosen.append((subnet, address))
        assert vpc_id is not None
        return vpc_id, chosen

    def _add_ips(self, ctx: RequestContext, e: ResolverEndpoint,
                 chosen: list[tuple[Subnet, Any]]) -> list[NetworkInterface]:
        enis = []
        for subnet, address in chosen:
            ip_id = new_id("rni")
            eni = NetworkInterface(
                new_id("eni"), ctx.account, ctx.region, subnet_id=subnet.id,
                vpc_id=subnet.vpc_id, availability_zone=subnet.availability_zone,
                private_ips=[PrivateIp(address, primary=True)],
                security_group_ids=list(e.security_group_ids), interface_type="interface",
                requester_id="AWS", description=f"Route 53 Resolver: {e.id}:{ip_id}")
            enis.append(eni)
            e.ip_addresses.append(ResolverEndpointIp(ip_id, subnet.id, ip=str(address),
                                                     network_interface_id=eni.id))
        return enis

    def CreateResolverEndpoint(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        request_id = self._request_id(ctx, params, "resolver_endpoints", "ResolverEndpoint")
        direction = str(params["Direction"])
        if direction not in ("INBOUND", "OUTBOUND"):
            raise err("InvalidParameterException", f"Direction {direction} is "
                      "not supported here: use INBOUND or OUTBOUND.", FieldName="Direction")
        wanted = list(params["IpAddresses"])
        if len(wanted) < 2:
            raise err("InvalidRequestException", "A resolver endpoint needs at "
                      "least two IP addresses.")
        if len(wanted) > MAX_IPS_PER_ENDPOINT:
            raise err("LimitExceededException", f"A resolver endpoint can have "
                      f"at most {MAX_IPS_PER_ENDPOINT} IP addresses.",
                      ResourceType="ResolverEndpointIpAddress")
        vpc_id, chosen = self._endpoint_ips(ctx, wanted, None, set())
        groups = list(dict.fromkeys(params["SecurityGroupIds"]))
        for gid in groups:
            g = ctx.state.network.security_groups.get(gid)
            if g is None or g.account != ctx.account or g.vpc_id != vpc_id:
                raise err("InvalidParameterException", f"Security group {gid} "
                          f"does not exist in {vpc_id}.", FieldName="SecurityGroupIds")
        now = time.time()
        prefix = "rslvr-in" if direction == "INBOUND" else "rslvr-out"
        e = ResolverEndpoint(id=new_id(prefix), account=ctx.account, region=ctx.region,
                             tags=tags_param(params), endpoint_name=params.get("Name"),
                             direction=direction, vpc_id=vpc_id, security_group_ids=groups,
                             creator_request_id=request_id,
                             status_message="This Resolver Endpoint is operational.",
                             endpoint_type=str(params.get("ResolverEndpointType") or "IPV4"),
                             protocols=list(params.get("Protocols") or ["Do53"]),
                             created=now, modified=now)
        persist_new(ctx, *self._add_ips(ctx, e, chosen), e)
        return {"ResolverEndpoint": endpoint_view(e)}

    def _endpoint(self, ctx: RequestContext, eid: str) -> ResolverEndpoint:
        return self._owned(ctx, ResolverEndpoint, eid)

    def GetResolverEndpoint(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        return {"ResolverEndpoint": endpoint_view(self._endpoint(ctx,
                                                                 params["ResolverEndpointId"]))}

    def ListResolverEndpoints(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        fields: dict[str, Callable[[ResolverEndpoint], Iterable[str]]] = {
            "CreatorRequestId": lambda e: [e.creator_request_id],
            "Direction": lambda e: [e.direction], "HostVPCId": lambda e: [e.vpc_id],
            "IpAddressCount": lambda e: [str(len(e.ip_addresses))],
            "Name": lambda e: [e.endpoint_name or ""],
            "SecurityGroupIds": lambda e: e.security_group_ids,
            "Status": lambda e: [e.status]}
        found = apply_filters(self._mine(ctx, "resolver_endpoints"), params.get("Filters"),
                              fields)
        page, token = paginate(found, params, lambda e: e.id)
        return {"ResolverEndpoints": [endpoint_view(e) for e in page], "NextToken": token,
                "MaxResults": params.get("MaxResults") or 100}

    def ListResolverEndpointIpAddresses(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        e = self._endpoint(ctx, params["ResolverEndpointId"])
        page, token = paginate(list(e.ip_addresses), params, lambda ip: ip.ip_id)
        return {"IpAddresses": [ip_view(e, ip) for ip in page], "NextToken": token,
                "MaxResults": params.get("MaxResults") or 100}

    def UpdateResolverEndpoint(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        e = self._endpoint(ctx, params["ResolverEndpointId"])
        with ctx.state.write() as w:
            if params.get("Name") is not None:
                e.endpoint_name = params["Name"]
            if params.get("ResolverEndpointType"):
                e.endpoint_type = params["ResolverEndpointType"]
            if params.get("Protocols"):
                e.protocols = list(params["Protocols"])
            e.modified = time.time()
            w.save(e)
        return {"ResolverEndpoint": endpoint_view(e)}

    def AssociateResolverEndpointIpAddress(self, ctx: RequestContext, params: dict[str, Any]
                                           ) -> dict[str, Any]:
        e = self._endpoint(ctx, params["ResolverEndpointId"])
        if len(e.ip_addresses) >= MAX_IPS_PER_ENDPOINT:
            raise err("LimitExceededException", f"A resolver endpoint can have "
                      f"at most {MAX_IPS_PER_ENDPOINT} IP addresses.",
                      ResourceType="ResolverEndpointIpAddress")
        _, chosen = self._endpoint_ips(ctx, [params["IpAddress"]], e.vpc_id, set())
        enis = self._add_ips(ctx, e, chosen)
        net = ctx.state.network
        with ctx.state.write() as w:
            for eni in enis:
                w.save(net.add(eni))
            e.modified = time.time()
            w.save(e)
        return {"ResolverEndpoint": endpoint_view(e)}

    def DisassociateResolverEndpointIpAddress(self, ctx: RequestContext,
                                              params: dict[str, Any]) -> dict[str, Any]:
        e = self._endpoint(ctx, params["ResolverEndpointId"])
        given = params["IpAddress"]
        match = [ip for ip in e.ip_addresses
                 if (given.get("IpId") and ip.ip_id == given["IpId"])
                 or (not given.get("IpId") and ip.subnet_id == given.get("SubnetId")
                     and (not given.get("Ip") or ip.ip == given["Ip"]))]
        if not match:
            raise not_found("The IP address is not associated with the resolver "
                            f"endpoint {e.id}.", "ResolverEndpointIpAddress")
        if len(e.ip_addresses) <= 2:
            raise err("InvalidRequestException", "A resolver endpoint needs at "
                      "least two IP addresses.")
        gone = match[0]
        net = ctx.state.network
        with ctx.state.write() as w:
            e.ip_addresses = [ip for ip in e.ip_addresses if ip is not gone]
            if gone.network_interface_id and net.network_interfaces.pop(
                    gone.network_interface_id, None) is not None:
                w.deleted.append(("network_interfaces", gone.network_interface_id))
            e.modified = time.time()
            w.save(e)
        return {"ResolverEndpoint": endpoint_view(e)}

    def DeleteResolverEndpoint(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        e = self._endpoint(ctx, params["ResolverEndpointId"])
        net = ctx.state.network
        users = [r.id for r in net.resolver_rules.values() if r.resolver_endpoint_id == e.id]
        if users:
            raise err("ResourceInUseException", f"Cannot delete resolver "
                      f"endpoint {e.id}: it is used by resolver rule(s) {', '.join(users)}.",
                      ResourceType="ResolverEndpoint")
        with ctx.state.write() as w:
            for ip in e.ip_addresses:
                if ip.network_interface_id and net.network_interfaces.pop(
                        ip.network_interface_id, None) is not None:
                    w.deleted.append(("network_interfaces", ip.network_interface_id))
            del net.resolver_endpoints[e.id]
            w.deleted.append(("resolver_endpoints", e.id))
        e.status = "DELETING"
        e.status_message = "[Trace id: local] Deleting the Resolver Endpoint"
        return {"ResolverEndpoint": endpoint_view(e)}

    # ---------------------------------------------------------------- rules
    def _targets(self, given: list[dict[str, Any]] | None) -> list[TargetAddress]:
        targets = []
        for t in given or []:
            if not t.get("Ip") and not t.get("Ipv6"):
                raise err("InvalidParameterException", "A target needs Ip or "
                          "Ipv6.", FieldName="TargetIps")
            targets.append(TargetAddress(ip=t.get("Ip"), ipv6=t.get("Ipv6"),
                                         port=int(t.get("Port") or 53),
                                         protocol=str(t.get("Protocol") or "Do53"),
                                         server_name_indication=t.get("ServerNameIndication")))
        if len(targets) > MAX_TARGET_IPS:
            raise err("LimitExceededException", f"A rule can have at most "
                      f"{MAX_TARGET_IPS} target IP addresses.", ResourceType="TargetIp")
        if any(t.ip for t in targets) and any(t.ipv6 for t in targets):
            raise err("InvalidRequestException", "IPv4 and IPv6 target "
                      "addresses cannot be mixed in one rule.")
        return targets

    def _outbound(self, ctx: RequestContext, eid: str) -> ResolverEndpoint:
        e = self._endpoint(ctx, eid)
        if e.direction != "OUTBOUND":
            raise err("InvalidRequestException", f"Resolver endpoint {eid} is "
                      "not an OUTBOUND endpoint: a FORWARD rule needs one.")
        return e

    def CreateResolverRule(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        request_id = self._request_id(ctx, params, "resolver_rules", "ResolverRule")
        rule_type = str(params["RuleType"])
        domain = params.get("DomainName")
        targets = self._targets(params.get("TargetIps"))
        endpoint_id = params.get("ResolverEndpointId")
        if rule_type == "RECURSIVE":
            raise err("InvalidRequestException", "RECURSIVE rules are defined "
                      "by Resolver and cannot be created.")
        if not domain:
            raise err("InvalidRequestException", "DomainName is required.")
        if rule_type == "FORWARD":
            if not targets:
                raise err("InvalidRequestException", "A FORWARD rule needs "
                          "TargetIps.")
            if not endpoint_id:
                raise err("InvalidRequestException", "A FORWARD rule needs the "
                          "ResolverEndpointId of an OUTBOUND endpoint.")
            self._outbound(ctx, endpoint_id)
        elif rule_type == "SYSTEM" and (targets or endpoint_id):
            raise err("InvalidRequestException", "A SYSTEM rule cannot have "
                      "TargetIps or a ResolverEndpointId.")
        now = time.time()
        rule = ResolverRule(id=new_id("rslvr-rr"), account=ctx.account, region=ctx.region,
                            tags=tags_param(params), rule_name=params.get("Name"),
                            domain_name=fqdn(str(domain)), rule_type=rule_type,
                            target_ips=targets, resolver_endpoint_id=endpoint_id,
                            status_message="[Trace id: local] Successfully created Resolver "
                            "Rule.", creator_request_id=request_id,
                            delegation_record=params.get("DelegationRecord"),
                            created=now, modified=now)
        persist_new(ctx, rule)
        return {"ResolverRule": self._rule_view(ctx, rule)}

    def _internet_rule(self, ctx: RequestContext) -> dict[str, Any]:
        """The autodefined ``.`` RECURSIVE rule every account sees (RR-1)."""
        return {"Id": INTERNET_RULE_ID, "CreatorRequestId": "",
                "Arn": arn(ctx.region, ctx.account, "autodefined-rule", INTERNET_RULE_ID),
                "DomainName": ".", "Status": "COMPLETE", "RuleType": "RECURSIVE",
                "Name": "Internet Resolver", "OwnerId": "Route 53 Resolver",
                "ShareStatus": "NOT_SHARED"}

    def GetResolverRule(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        if params["ResolverRuleId"] == INTERNET_RULE_ID:
            return {"ResolverRule": self._internet_rule(ctx)}
        return {"ResolverRule": self._rule_view(ctx, self._rule(ctx, params["ResolverRuleId"]))}

    def ListResolverRules(self, ctx: RequestContext, params: dict[str, Any]
                          ) -> dict[str, Any]:
        rows = [self._rule_view(ctx, r) for r in self._visible_rules(ctx).values()]
        rows.append(self._internet_rule(ctx))
        fields: dict[str, Callable[[dict[str, Any]], Iterable[str]]] = {
            name: (lambda key: lambda r: [str(r.get(key) or "")])(name)
            for name in ("CreatorRequestId", "DomainName", "Name", "ResolverEndpointId",
                         "Status", "RuleType")}
        found = apply_filters(rows, params.get("Filters"), fields)
        page, token = paginate(found, params, lambda r: str(r["Id"]))
        return {"ResolverRules": page, "NextToken": token,
                "MaxResults": params.get("MaxResults") or 100}

    def UpdateResolverRule(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        rule = self._rule(ctx, params["ResolverRuleId"], owned=True)
        config = params["Config"]
        targets = self._targets(config["TargetIps"]) if "TargetIps" in config else None
        if config.get("ResolverEndpointId"):
            self._outbound(ctx, config["ResolverEndpointId"])
        if rule.rule_type != "FORWARD" and (targets or config.get("ResolverEndpointId")):
            raise err("InvalidRequestException", f"A {rule.rule_type} rule "
                      "cannot have TargetIps or a ResolverEndpointId.")
        with ctx.state.write() as w:
            if config.get("Name") is not None:
                rule.rule_name = config["Name"]
            if targets is not None:
                rule.target_ips = targets
            if config.get("ResolverEndpointId"):
                rule.resolver_endpoint_id = config["ResolverEndpointId"]
            rule.modified = time.time()
            w.save(rule)
        return {"ResolverRule": self._rule_view(ctx, rule)}

    def DeleteResolverRule(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        rule = self._rule(ctx, params["ResolverRuleId"], owned=True)
        net = ctx.state.network
        if any(a.resolver_rule_id == rule.id for a in net.resolver_rule_associations.values()):
            raise err("ResourceInUseException", f"Cannot delete resolver rule "
                      f"{rule.id}: it is associated with one or more VPCs.",
                      ResourceType="ResolverRule")
        view = self._rule_view(ctx, rule)
        self._delete(ctx, "resolver_rules", rule.id)
        return {"ResolverRule": {**view, "Status": "DELETING"}}

    def PutResolverRulePolicy(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        rule = self._rule(ctx, str(params["Arn"]).rsplit("/", 1)[-1], owned=True)
        with ctx.state.write() as w:
            rule.policy = str(params["ResolverRulePolicy"])
            w.save(rule)
        return {"ReturnValue": True}

    def GetResolverRulePolicy(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        rule = self._rule(ctx, str(params["Arn"]).rsplit("/", 1)[-1])
        return {"ResolverRulePolicy": rule.policy}

    # ---------------------------------------------------------------- rule associations
    def AssociateResolverRule(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        rule = self._rule(ctx, params["ResolverRuleId"])
        vpc = self._vpc(ctx, params["VPCId"])
        net = ctx.state.network
        for a in net.resolver_rule_associations.values():
            if a.vpc_id != vpc.id:
                continue
            if a.resolver_rule_id == rule.id:
                raise err("ResourceExistsException", f"The resolver rule "
                          f"{rule.id} is already associated with VPC {vpc.id}.",
                          ResourceType="ResolverRuleAssociation")
            other = net.resolver_rules.get(a.resolver_rule_id)
            if other is not None and other.domain_name == rule.domain_name:
                raise err("InvalidRequestException", f"Cannot associate rules "
                          f"with the same domain name with the same VPC: {other.id} for "
                          f"{rule.domain_name} is already associated with {vpc.id}.")
        assoc = ResolverRuleAssociation(id=new_id("rslvr-rrassoc"), account=ctx.account,
                                        region=ctx.region, resolver_rule_id=rule.id,
                                        vpc_id=vpc.id, association_name=params.get("Name"))
        persist_new(ctx, assoc)
        return {"ResolverRuleAssociation": {**association_view(assoc), "Status": "CREATING",
                                            "StatusMessage": "[Trace id: local] Creating the "
                                            "association."}}

    def GetResolverRuleAssociation(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        return {"ResolverRuleAssociation": association_view(self._owned(
            ctx, ResolverRuleAssociation, params["ResolverRuleAssociationId"]))}

    def ListResolverRuleAssociations(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        fields: dict[str, Callable[[ResolverRuleAssociation], Iterable[str]]] = {
            "Name": lambda a: [a.association_name or ""],
            "ResolverRuleId": lambda a: [a.resolver_rule_id],
            "Status": lambda a: [a.status], "VPCId": lambda a: [a.vpc_id]}
        found = apply_filters(self._mine(ctx, "resolver_rule_associations"),
                              params.get("Filters"), fields)
        page, token = paginate(found, params, lambda a: a.id)
        return {"ResolverRuleAssociations": [association_view(a) for a in page],
                "NextToken": token, "MaxResults": params.get("MaxResults") or 100}

    def DisassociateResolverRule(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        rule_id, vpc_id = params["ResolverRuleId"], params["VPCId"]
        found = next((a for a in self._mine(ctx, "resolver_rule_associations")
                      if a.resolver_rule_id == rule_id and a.vpc_id == vpc_id), None)
        if found is None:
            raise not_found(f"Resolver rule with ID '{rule_id}' is not associated "
                            f"with VPC '{vpc_id}'.", "ResolverRuleAssociation")
        self._delete(ctx, "resolver_rule_associations", found.id)
        return {"ResolverRuleAssociation": {**association_view(found), "Status": "DELETING",
                                            "StatusMessage": "[Trace id: local] Deleting the "
                                            "association."}}

    # ---------------------------------------------------------------- per-VPC configs
    def _vpc_config(self, ctx: RequestContext, kind: type[C], vpc: Vpc) -> C:
        """The VPC's stored config of ``kind``, else one with the defaults (not stored:
        reading a config writes nothing)."""
        table, prefix = _CONFIGS[kind]
        found = next((c for c in getattr(ctx.state.network, table).values()
                      if c.vpc_id == vpc.id), None)
        if isinstance(found, kind):
            return found
        return kind(id=config_id(prefix, vpc.id), account=vpc.account, region=vpc.region,
                    vpc_id=vpc.id)

    def _resolver_config_view(self, ctx: RequestContext, vpc: Vpc) -> dict[str, Any]:
        c = self._vpc_config(ctx, ResolverConfig, vpc)
        return {"Id": c.id, "ResourceId": vpc.id, "OwnerId": vpc.account,
                "AutodefinedReverse": c.autodefined_reverse}

    def GetResolverConfig(self, ctx: RequestContext, params: dict[str, Any]
                          ) -> dict[str, Any]:
        vpc = self._vpc(ctx, params["ResourceId"], "ResourceId")
        return {"ResolverConfig": self._resolver_config_view(ctx, vpc)}

    def ListResolverConfigs(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        page, token = paginate(self._mine(ctx, "vpcs"), params, lambda v: v.id)
        return {"ResolverConfigs": [self._resolver_config_view(ctx, v) for v in page],
                "NextToken": token}

    def UpdateResolverConfig(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        vpc = self._vpc(ctx, params["ResourceId"], "ResourceId")
        flag = str(params["AutodefinedReverseFlag"])
        value = {"ENABLE": "ENABLED", "DISABLE": "DISABLED",
                 "USE_LOCAL_RESOURCE_SETTING": "USE_LOCAL_RESOURCE_SETTING"}.get(flag)
        if value is None:
            raise err("ValidationException", f"AutodefinedReverseFlag {flag} is not valid.")
        config = self._vpc_config(ctx, ResolverConfig, vpc)
        with ctx.state.write() as w:
            config.autodefined_reverse = value
            w.save(ctx.state.network.add(config))
        return {"ResolverConfig": self._resolver_config_view(ctx, vpc)}

    def _firewall_config_view(self, ctx: RequestContext, vpc: Vpc) -> dict[str, Any]:
        c = self._vpc_config(ctx, FirewallConfig, vpc)
        return {"Id": c.id, "ResourceId": vpc.id, "OwnerId": vpc.account,
                "FirewallFailOpen": c.firewall_fail_open}

    def GetFirewallConfig(self, ctx: RequestContext, params: dict[str, Any]
                          ) -> dict[str, Any]:
        vpc = self._vpc(ctx, params["ResourceId"], "ResourceId")
        return {"FirewallConfig": self._firewall_config_view(ctx, vpc)}

    def ListFirewallConfigs(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        page, token = paginate(self._mine(ctx, "vpcs"), params, lambda v: v.id)
        return {"FirewallConfigs": [self._firewall_config_view(ctx, v) for v in page],
                "NextToken": token}

    def UpdateFirewallConfig(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        vpc = self._vpc(ctx, params["ResourceId"], "ResourceId")
        config = self._vpc_config(ctx, FirewallConfig, vpc)
        with ctx.state.write() as w:
            config.firewall_fail_open = str(params["FirewallFailOpen"])
            w.save(ctx.state.network.add(config))
        return {"FirewallConfig": self._firewall_config_view(ctx, vpc)}

    # ---------------------------------------------------------------- firewall domain lists
    def _domain_list(self, ctx: RequestContext, list_id: str) -> FirewallDomainList:
        return self._owned(ctx, FirewallDomainList, list_id)

    def CreateFirewallDomainList(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        request_id = self._request_id(ctx, params, "firewall_domain_lists",
                                      "FirewallDomainList")
        now = time.time()
        d = FirewallDomainList(id=new_id("rslvr-fdl"), account=ctx.account, region=ctx.region,
                               tags=tags_param(params), list_name=str(params["Name"]),
                               creator_request_id=request_id, created=now, modified=now)
        persist_new(ctx, d)
        return {"FirewallDomainList": domain_list_view(d)}

    def GetFirewallDomainList(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        return {"FirewallDomainList": domain_list_view(
            self._domain_list(ctx, params["FirewallDomainListId"]))}

    def ListFirewallDomainLists(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        page, token = paginate(self._mine(ctx, "firewall_domain_lists"), params, lambda d: d.id)
        return {"FirewallDomainLists": [
            {k: domain_list_view(d)[k] for k in ("Id", "Arn", "Name", "CreatorRequestId",
                                                  "ManagedOwnerName")} for d in page],
            "NextToken": token}

    def _writable(self, d: FirewallDomainList) -> None:
        if d.managed_owner_name:
            raise err("AccessDeniedException", f"The domain list {d.id} is managed by "
                      f"{d.managed_owner_name} and cannot be modified.")
        if d.status in ("IMPORTING", "UPDATING", "DELETING"):
            raise err("ConflictException", f"The domain list {d.id} is {d.status}: wait for "
                      "the current operation to finish.")

    def UpdateFirewallDomains(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        d = self._domain_list(ctx, params["FirewallDomainListId"])
        self._writable(d)
        operation = str(params["Operation"])
        given = [domain_spec(x) for x in params["Domains"]]
        if operation == "ADD":
            domains = list(dict.fromkeys([*d.domains, *given]))
        elif operation == "REMOVE":
            drop = set(given)
            domains = [x for x in d.domains if x not in drop]
        elif operation == "REPLACE":
            domains = list(dict.fromkeys(given))
        else:
            raise err("ValidationException", f"Operation {operation} is not valid: use ADD, "
                      "REMOVE or REPLACE.")
        with ctx.state.write() as w:
            d.domains = domains
            d.status, d.status_message = "COMPLETE", "Finished domain list update"
            d.modified = time.time()
            w.save(d)
        return {"Id": d.id, "Name": d.list_name, "Status": "UPDATING",
                "StatusMessage": "Updating the Firewall Domain List"}

    def ImportFirewallDomains(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        d = self._domain_list(ctx, params["FirewallDomainListId"])
        self._writable(d)
        if params["Operation"] != "REPLACE":
            raise err("ValidationException", "ImportFirewallDomains supports only the REPLACE "
                      "operation.")
        url = str(params["DomainFileUrl"])
        found = re.match(r"^s3://([^/]+)/(.+)$", url)
        if found is None:
            raise err("ValidationException", f"DomainFileUrl {url} is not a valid S3 URL: use "
                      "s3://bucket/key.")
        domains, failure = self._read_domain_file(ctx, found[1], found[2])
        with ctx.state.write() as w:
            if failure is None:
                d.domains = domains
                d.status, d.status_message = "COMPLETE", \
                    f"Finished domain list import: {len(domains)} domains"
            else:
                # As AWS, a failed import leaves the domains as they were.
                d.status, d.status_message = "COMPLETE_IMPORT_FAILED", failure
            d.modified = time.time()
            w.save(d)
        return {"Id": d.id, "Name": d.list_name, "Status": "IMPORTING",
                "StatusMessage": "Importing domains from provided file."}

    def _read_domain_file(self, ctx: RequestContext, bucket: str, key: str
                          ) -> tuple[list[str], str | None]:
        """The file's domains, or the reason the import fails (FW-10)."""
        from localvpc.store.objects import ObjectStoreError

        objects = ctx.state.delivery.objects
        info = objects.bucket(bucket)
        if info is None:
            return [], f"The bucket {bucket} does not exist."
        if info.region != ctx.region:
            return [], (f"The bucket {bucket} is in {info.region}: the file must be in the "
                        f"same Region as the domain list ({ctx.region}).")
        try:
            _, data = objects.get(bucket, key)
        except ObjectStoreError as exc:
            return [], f"Cannot read s3://{bucket}/{key}: {exc.message}"
        domains: dict[str, None] = {}
        for number, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            text = line.strip()
            if not text:
                continue
            try:
                domains[domain_spec(text)] = None
            except ServiceError:
                return [], f"Line {number} of the file is not a valid domain: {text[:255]}"
            if len(domains) > MAX_IMPORT_DOMAINS:
                return [], (f"The file has more than {MAX_IMPORT_DOMAINS} domains.")
        return list(domains), None

    def ListFirewallDomains(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        d = self._domain_list(ctx, params["FirewallDomainListId"])
        start = 0
        token = params.get("NextToken")
        if token:
            try:
                text = base64.urlsafe_b64decode(token.encode()).decode()
                start = int(text[len(_TOKEN_MARK):]) if text.startswith(_TOKEN_MARK) else -1
            except (ValueError, binascii.Error, UnicodeDecodeError):
                start = -1
            if start < 0:
                raise err("InvalidNextTokenException", "The value that you specified for "
                          "NextToken in a List request isn't valid.")
        limit = int(params.get("MaxResults") or 100)
        page = d.domains[start:start + limit]
        end = start + len(page)
        next_token = (base64.urlsafe_b64encode(f"{_TOKEN_MARK}{end}".encode()).decode()
                      if end < len(d.domains) else None)
        return {"Domains": page, "NextToken": next_token}

    def DeleteFirewallDomainList(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        d = self._domain_list(ctx, params["FirewallDomainListId"])
        net = ctx.state.network
        users = [g.id for g in net.firewall_rule_groups.values()
                 if any(r.firewall_domain_list_id == d.id for r in g.rules)]
        if users:
            raise err("ConflictException", f"The domain list {d.id} is used by rules in "
                      f"rule group(s) {', '.join(users)}: delete those rules first.")
        self._delete(ctx, "firewall_domain_lists", d.id)
        return {"FirewallDomainList": {**domain_list_view(d), "Status": "DELETING",
                                       "StatusMessage": "Deleting the Firewall Domain List"}}

    # ---------------------------------------------------------------- rule groups and rules
    def _group(self, ctx: RequestContext, gid: str) -> FirewallRuleGroup:
        return self._owned(ctx, FirewallRuleGroup, gid)

    def CreateFirewallRuleGroup(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        request_id = self._request_id(ctx, params, "firewall_rule_groups", "FirewallRuleGroup")
        now = time.time()
        g = FirewallRuleGroup(id=new_id("rslvr-frg"), account=ctx.account, region=ctx.region,
                              tags=tags_param(params), group_name=str(params["Name"]),
                              creator_request_id=request_id,
                              status_message="Created Firewall Rule Group", created=now,
                              modified=now)
        persist_new(ctx, g)
        return {"FirewallRuleGroup": rule_group_view(g)}

    def GetFirewallRuleGroup(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        return {"FirewallRuleGroup": rule_group_view(self._group(ctx,
                                                                 params["FirewallRuleGroupId"]))}

    def ListFirewallRuleGroups(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        page, token = paginate(self._mine(ctx, "firewall_rule_groups"), params, lambda g: g.id)
        keys = ("Id", "Arn", "Name", "OwnerId", "CreatorRequestId", "ShareStatus")
        return {"FirewallRuleGroups": [{k: rule_group_view(g)[k] for k in keys} for g in page],
                "NextToken": token}

    def DeleteFirewallRuleGroup(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        g = self._group(ctx, params["FirewallRuleGroupId"])
        net = ctx.state.network
        if any(a.firewall_rule_group_id == g.id
               for a in net.firewall_rule_group_associations.values()):
            raise err("ConflictException", f"The rule group {g.id} is associated with one or "
                      "more VPCs: disassociate it first.")
        self._delete(ctx, "firewall_rule_groups", g.id)
        return {"FirewallRuleGroup": {**rule_group_view(g), "Status": "DELETING",
                                      "StatusMessage": "Deleting the Firewall Rule Group"}}

    def _block_settings(self, rule: FirewallRule) -> None:
        """FW-5: BLOCK needs a response; OVERRIDE needs its domain, type and TTL."""
        if rule.action not in ("ALLOW", "ALERT", "BLOCK"):
            raise err("ValidationException", f"Action {rule.action} is not valid.")
        if rule.action != "BLOCK":
            rule.block_response = rule.block_override_domain = None
            rule.block_override_dns_type = rule.block_override_ttl = None
            return
        if rule.block_response is None:
            raise err("ValidationException", "BlockResponse is required when Action is BLOCK.")
        if rule.block_response == "OVERRIDE":
            missing = [n for n, v in (("BlockOverrideDomain", rule.block_override_domain),
                                      ("BlockOverrideDnsType", rule.block_override_dns_type),
                                      ("BlockOverrideTtl", rule.block_override_ttl))
                       if v is None]
            if missing:
                raise err("ValidationException", f"{', '.join(missing)} required when "
                          "BlockResponse is OVERRIDE.")
            if rule.block_override_dns_type != "CNAME":
                raise err("ValidationException", "BlockOverrideDnsType must be CNAME.")
            assert rule.block_override_ttl is not None and rule.block_override_domain
            if not 0 <= rule.block_override_ttl <= 604800:
                raise err("ValidationException", "BlockOverrideTtl must be between 0 and "
                          "604800.")
            rule.block_override_domain = fqdn(rule.block_override_domain)
        else:
            rule.block_override_domain = rule.block_override_dns_type = None
            rule.block_override_ttl = None

    def CreateFirewallRule(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        g = self._group(ctx, params["FirewallRuleGroupId"])
        list_id = params.get("FirewallDomainListId")
        if not list_id:
            raise err("ValidationException", "FirewallDomainListId is required.")
        self._domain_list(ctx, list_id)
        qtype = params.get("Qtype")
        if any(r.firewall_domain_list_id == list_id and r.qtype == qtype for r in g.rules):
            raise err("ResourceExistsException", f"The rule group {g.id} already has a rule "
                      f"for domain list {list_id}.", ResourceType="FirewallRule")
        priority = int(params["Priority"])
        if any(r.priority == priority for r in g.rules):
            # AWS requires unique priorities in a group; its error wording is not published.
            raise err("ValidationException", f"The rule group {g.id} already has a rule with "
                      f"priority {priority}.")
        now = time.time()
        rule = FirewallRule(
            firewall_domain_list_id=list_id, priority=priority, action=str(params["Action"]),
            rule_name=str(params["Name"]), block_response=params.get("BlockResponse"),
            block_override_domain=params.get("BlockOverrideDomain"),
            block_override_dns_type=params.get("BlockOverrideDnsType"),
            block_override_ttl=params.get("BlockOverrideTtl"),
            firewall_domain_redirection_action=str(
                params.get("FirewallDomainRedirectionAction") or "INSPECT_REDIRECTION_DOMAIN"),
            qtype=qtype, creator_request_id=str(params["CreatorRequestId"]), created=now,
            modified=now)
        self._block_settings(rule)
        if len(g.rules) >= 100:
            raise err("LimitExceededException", "A rule group can have at most 100 rules.",
                      ResourceType="FirewallRule")
        with ctx.state.write() as w:
            g.rules.append(rule)
            g.modified = now
            w.save(g)
        return {"FirewallRule": firewall_rule_view(g.id, rule)}

    def _firewall_rule(self, g: FirewallRuleGroup, list_id: str | None,
                       qtype: str | None) -> FirewallRule:
        for r in g.rules:
            if r.firewall_domain_list_id == list_id and (qtype is None or r.qtype == qtype):
                return r
        raise not_found(f"No rule for domain list {list_id} in rule group {g.id}.",
                        "FirewallRule")

    def UpdateFirewallRule(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        g = self._group(ctx, params["FirewallRuleGroupId"])
        rule = self._firewall_rule(g, params.get("FirewallDomainListId"), params.get("Qtype"))
        updated = dataclasses.replace(rule)
        simple = {"Priority": "priority", "Action": "action", "Name": "rule_name",
                  "BlockResponse": "block_response",
                  "BlockOverrideDomain": "block_override_domain",
                  "BlockOverrideDnsType": "block_override_dns_type",
                  "BlockOverrideTtl": "block_override_ttl",
                  "FirewallDomainRedirectionAction": "firewall_domain_redirection_action"}
        for key, attr in simple.items():
            if params.get(key) is not None:
                setattr(updated, attr, params[key])
        if any(r is not rule and r.priority == updated.priority for r in g.rules):
            raise err("ValidationException", f"The rule group {g.id} already has a rule with "
                      f"priority {updated.priority}.")
        self._block_settings(updated)
        updated.modified = time.time()
        with ctx.state.write() as w:
            g.rules = [updated if r is rule else r for r in g.rules]
            g.modified = updated.modified
            w.save(g)
        return {"FirewallRule": firewall_rule_view(g.id, updated)}

    def DeleteFirewallRule(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        g = self._group(ctx, params["FirewallRuleGroupId"])
        rule = self._firewall_rule(g, params.get("FirewallDomainListId"), params.get("Qtype"))
        with ctx.state.write() as w:
            g.rules = [r for r in g.rules if r is not rule]
            g.modified = time.time()
            w.save(g)
        return {"FirewallRule": firewall_rule_view(g.id, rule)}

    def ListFirewallRules(self, ctx: RequestContext, params: dict[str, Any]
                          ) -> dict[str, Any]:
        g = self._group(ctx, params["FirewallRuleGroupId"])
        rules = g.sorted_rules()
        if params.get("Priority") is not None:
            rules = [r for r in rules if r.priority == params["Priority"]]
        if params.get("Action"):
            rules = [r for r in rules if r.action == params["Action"]]
        page, token = paginate(rules, params, lambda r: f"{r.priority:010d}")
        return {"FirewallRules": [firewall_rule_view(g.id, r) for r in page],
                "NextToken": token}

    # ---------------------------------------------------------------- rule group associations
    def _group_association(self, ctx: RequestContext, aid: str
                           ) -> FirewallRuleGroupAssociation:
        return self._owned(ctx, FirewallRuleGroupAssociation, aid)

    def _check_priority(self, ctx: RequestContext, vpc_id: str, priority: int,
                        skip: str | None = None) -> None:
        if not 100 <= priority <= 9900:
            raise err("ValidationException", f"Priority {priority} is not valid: use a value "
                      "between 100 and 9900.")
        for a in ctx.state.network.firewall_rule_group_associations.values():
            if a.vpc_id == vpc_id and a.priority == priority and a.id != skip:
                raise err("ConflictException", f"The priority {priority} is already used by "
                          f"association {a.id} on {vpc_id}.")

    def AssociateFirewallRuleGroup(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        request_id = self._request_id(ctx, params, "firewall_rule_group_associations",
                                      "FirewallRuleGroupAssociation")
        g = self._group(ctx, params["FirewallRuleGroupId"])
        vpc = self._vpc(ctx, params["VpcId"], "VpcId")
        net = ctx.state.network
        on_vpc = [a for a in net.firewall_rule_group_associations.values()
                  if a.vpc_id == vpc.id]
        if any(a.firewall_rule_group_id == g.id for a in on_vpc):
            raise err("ResourceExistsException", f"The rule group {g.id} is already "
                      f"associated with {vpc.id}.", ResourceType="FirewallRuleGroupAssociation")
        priority = int(params["Priority"])
        self._check_priority(ctx, vpc.id, priority)
        if len(on_vpc) >= MAX_GROUPS_PER_VPC:
            raise err("LimitExceededException", f"A VPC can have at most {MAX_GROUPS_PER_VPC} "
                      "rule groups associated.", ResourceType="FirewallRuleGroupAssociation")
        now = time.time()
        a = FirewallRuleGroupAssociation(
            id=new_id("rslvr-frgassoc"), account=ctx.account, region=ctx.region,
            tags=tags_param(params), firewall_rule_group_id=g.id, vpc_id=vpc.id,
            association_name=str(params["Name"]), priority=priority,
            mutation_protection=str(params.get("MutationProtection") or "DISABLED"),
            status_message="Finished rule group association update",
            creator_request_id=request_id, created=now, modified=now)
        persist_new(ctx, a)
        return {"FirewallRuleGroupAssociation": {
            **group_association_view(a), "Status": "UPDATING",
            "StatusMessage": "Creating Firewall Rule Group Association"}}

    def GetFirewallRuleGroupAssociation(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        return {"FirewallRuleGroupAssociation": group_association_view(
            self._group_association(ctx, params["FirewallRuleGroupAssociationId"]))}

    def ListFirewallRuleGroupAssociations(self, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
        found = self._mine(ctx, "firewall_rule_group_associations")
        for key, attr in (("FirewallRuleGroupId", "firewall_rule_group_id"),
                          ("VpcId", "vpc_id"), ("Priority", "priority"), ("Status", "status")):
            if params.get(key) is not None:
                found = [a for a in found if getattr(a, attr) == params[key]]
        page, token = paginate(found, params, lambda a: a.id)
        return {"FirewallRuleGroupAssociations": [group_association_view(a) for a in page],
                "NextToken": token}

    def UpdateFirewallRuleGroupAssociation(self, ctx: RequestContext, params: dict[str, Any]
                                           ) -> dict[str, Any]:
        a = self._group_association(ctx, params["FirewallRuleGroupAssociationId"])
        protection = params.get("MutationProtection")
        if a.mutation_protection == "ENABLED" and protection != "DISABLED" and (
                params.get("Priority") is not None or params.get("Name") is not None):
            raise err("ValidationException", f"The association {a.id} has mutation protection "
                      "enabled: disable it before changing the association.")
        if params.get("Priority") is not None:
            self._check_priority(ctx, a.vpc_id, int(params["Priority"]), skip=a.id)
        with ctx.state.write() as w:
            if params.get("Priority") is not None:
                a.priority = int(params["Priority"])
            if protection:
                a.mutation_protection = str(protection)
            if params.get("Name") is not None:
                a.association_name = str(params["Name"])
            a.modified = time.time()
            w.save(a)
        return {"FirewallRuleGroupAssociation": group_association_view(a)}

    def DisassociateFirewallRuleGroup(self, ctx: RequestContext, params: dict[str, Any]
                                      ) -> dict[str, Any]:
        a = self._group_association(ctx, params["FirewallRuleGroupAssociationId"])
        if a.mutation_protection == "ENABLED":
            raise err("ValidationException", f"The association {a.id} has mutation protection "
                      "enabled: disable it before disassociating the rule group.")
        self._delete(ctx, "firewall_rule_group_associations", a.id)
        return {"FirewallRuleGroupAssociation": {
            **group_association_view(a), "Status": "DELETING",
            "StatusMessage": "Deleting the Firewall Rule Group Association"}}

    # ---------------------------------------------------------------- tags
    _ARN_TABLES = {"resolver-endpoint": "resolver_endpoints", "resolver-rule": "resolver_rules",
                   "firewall-domain-list": "firewall_domain_lists",
                   "firewall-rule-group": "firewall_rule_groups",
                   "firewall-rule-group-association": "firewall_rule_group_associations"}

    def _by_arn(self, ctx: RequestContext, text: str) -> Resource:
        found = re.match(r"^arn:aws[a-z-]*:route53resolver:([a-z0-9-]+):(\d{12}):"
                         r"([a-z-]+)/(.+)$", text)
        table = self._ARN_TABLES.get(found[3]) if found else None
        resource = getattr(ctx.state.network, table).get(found[4]) if found and table else None
        if found is None or resource is None or resource.account != ctx.account or \
                resource.region != ctx.region or found[2] != ctx.account or \
                found[1] != ctx.region:
            raise not_found(f"Resource {text} does not exist.", "Resource")
        result: Resource = resource
        return result

    def TagResource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._by_arn(ctx, params["ResourceArn"])
        tags = {**resource.tags, **tags_param(params)}
        if len(tags) > 200:
            raise err("LimitExceededException", "A resource can have at most 200 tags.",
                      ResourceType="Tag")
        with ctx.state.write() as w:
            resource.tags = tags
            w.save(resource)
        return {}

    def UntagResource(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resource = self._by_arn(ctx, params["ResourceArn"])
        with ctx.state.write() as w:
            resource.tags = {k: v for k, v in resource.tags.items()
                             if k not in set(params["TagKeys"])}
            w.save(resource)
        return {}

    def ListTagsForResource(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        resource = self._by_arn(ctx, params["ResourceArn"])
        rows = [{"Key": k, "Value": v} for k, v in resource.tags.items()]
        page, token = paginate(rows, params, lambda t: t["Key"])
        return {"Tags": page, "NextToken": token}

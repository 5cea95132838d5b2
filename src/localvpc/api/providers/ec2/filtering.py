"""Security groups and network ACLs, with the rules and error codes of vpc-filtering.md."""

from __future__ import annotations

import hashlib
import ipaddress
import re
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
    persist_new,
    scoped,
    select_ids,
    tags_list,
    usable,
)
from localvpc.api.providers.ec2.prefix_lists import referenced_list, rule_weight
from localvpc.model.filters import NaclEntry, NetworkAcl, SecurityGroup, SgRule
from localvpc.model.network import Network
from localvpc.model.peering import VpcPeeringConnection

ALL_V4 = ipaddress.ip_network("0.0.0.0/0")
ALL_V6 = ipaddress.ip_network("::/0")
SG_TEXT = re.compile(r"^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{1,255}$")
PROTOCOL_NAMES = {"6": "tcp", "17": "udp", "1": "icmp", "58": "icmpv6"}


def rule_id(group_id: str, egress: bool, rule: SgRule) -> str:
    """``sgr-`` + 17 hex (SG-7): the id stored on the rule, else one derived from its content
    (stable, so rules made before ids were stored keep theirs; ModifySecurityGroupRules pins
    it before changing the rule)."""
    if rule.rule_id:
        return rule.rule_id
    text = f"{group_id}/{egress}/{rule.protocol}/{rule.from_port}/{rule.to_port}/{rule.cidr}/" \
           f"{rule.prefix_list_id}/{rule.group_id}"
    return "sgr-" + hashlib.sha256(text.encode()).hexdigest()[:17]


def _ports(rule: SgRule) -> tuple[int | None, int | None]:
    if rule.protocol in ("-1",):
        return None, None
    lo = -1 if rule.from_port is None and rule.protocol in ("icmp", "icmpv6") else rule.from_port
    hi = -1 if rule.to_port is None and rule.protocol in ("icmp", "icmpv6") else rule.to_port
    return lo, hi


def permissions_view(rules: list[SgRule], owner: str = "") -> list[dict[str, Any]]:
    """Group rules back into AWS's IpPermissions (one entry per protocol/port range)."""
    grouped: dict[tuple[str, int | None, int | None], dict[str, Any]] = {}
    for r in rules:
        lo, hi = _ports(r)
        perm = grouped.setdefault((r.protocol, lo, hi), {
            "IpProtocol": r.protocol, "FromPort": lo, "ToPort": hi, "IpRanges": [],
            "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []})
        desc = {"Description": r.description} if r.description else {}
        if r.cidr is not None and r.cidr.version == 4:
            perm["IpRanges"].append({"CidrIp": str(r.cidr), **desc})
        elif r.cidr is not None:
            perm["Ipv6Ranges"].append({"CidrIpv6": str(r.cidr), **desc})
        elif r.prefix_list_id:
            perm["PrefixListIds"].append({"PrefixListId": r.prefix_list_id, **desc})
        elif r.group_id:
            pcx = {"VpcPeeringConnectionId": r.peering_connection_id} \
                if r.peering_connection_id else {}
            perm["UserIdGroupPairs"].append({"GroupId": r.group_id, "UserId": owner, **pcx,
                                             **desc})
    return list(grouped.values())


def sg_view(g: SecurityGroup) -> dict[str, Any]:
    return {"GroupId": g.id, "GroupName": g.group_name, "Description": g.description,
            "VpcId": g.vpc_id, "OwnerId": g.account, "Tags": tags_list(g.tags),
            "IpPermissions": permissions_view(g.ingress, g.account),
            "IpPermissionsEgress": permissions_view(g.egress, g.account),
            "SecurityGroupArn": f"arn:aws:ec2:{g.region}:{g.account}:security-group/{g.id}"}


def rule_view(g: SecurityGroup, egress: bool, r: SgRule) -> dict[str, Any]:
    lo, hi = _ports(r)
    if lo is None and hi is None:  # SecurityGroupRule reports "all" as -1, never omits it
        lo = hi = -1
    out: dict[str, Any] = {"SecurityGroupRuleId": rule_id(g.id, egress, r), "GroupId": g.id,
                           "GroupOwnerId": g.account, "IsEgress": egress,
                           "IpProtocol": r.protocol, "FromPort": lo, "ToPort": hi,
                           "Description": r.description or None}
    if r.cidr is not None:
        out["CidrIpv4" if r.cidr.version == 4 else "CidrIpv6"] = str(r.cidr)
    if r.prefix_list_id:
        out["PrefixListId"] = r.prefix_list_id
    if r.group_id:
        out["ReferencedGroupInfo"] = {"GroupId": r.group_id, "UserId": g.account}
        if r.peering_connection_id:
            out["ReferencedGroupInfo"]["VpcPeeringConnectionId"] = r.peering_connection_id
    return out


SG_FILTERS = {
    "group-id": lambda g: [g.id],
    "group-name": lambda g: [g.group_name],
    "vpc-id": lambda g: [g.vpc_id],
    "description": lambda g: [g.description],
    "owner-id": lambda g: [g.account],
    "ip-permission.protocol": lambda g: [r.protocol for r in g.ingress],
    "ip-permission.from-port": lambda g: [r.from_port for r in g.ingress],
    "ip-permission.to-port": lambda g: [r.to_port for r in g.ingress],
    "ip-permission.cidr": lambda g: [str(r.cidr) for r in g.ingress if r.cidr],
    "ip-permission.group-id": lambda g: [r.group_id for r in g.ingress if r.group_id],
    "egress.ip-permission.cidr": lambda g: [str(r.cidr) for r in g.egress if r.cidr],
}


def nacl_view(a: NetworkAcl) -> dict[str, Any]:
    entries = []
    for e in sorted(a.entries, key=lambda e: (e.egress, e.rule_number)):
        entry: dict[str, Any] = {"RuleNumber": e.rule_number, "Protocol": _proto_number(
            e.protocol), "RuleAction": e.action, "Egress": e.egress}
        entry["CidrBlock" if e.cidr.version == 4 else "Ipv6CidrBlock"] = str(e.cidr)
        if e.from_port is not None:
            entry["PortRange"] = {"From": e.from_port, "To": e.to_port}
        if e.protocol in ("icmp", "icmpv6"):
            entry["IcmpTypeCode"] = {"Type": -1 if e.icmp_type is None else e.icmp_type,
                                     "Code": -1 if e.icmp_code is None else e.icmp_code}
        entries.append(entry)
    return {"NetworkAclId": a.id, "VpcId": a.vpc_id, "IsDefault": a.is_default,
            "OwnerId": a.account, "Entries": entries, "Tags": tags_list(a.tags),
            "Associations": [{"NetworkAclAssociationId": nacl_assoc_id(a.id, s),
                              "NetworkAclId": a.id, "SubnetId": s} for s in a.subnet_ids]}


def nacl_assoc_id(acl_id: str, subnet_id: str) -> str:
    return "aclassoc-" + hashlib.sha256(f"{acl_id}/{subnet_id}".encode()).hexdigest()[:17]


def _proto_number(protocol: str) -> str:
    reverse = {v: k for k, v in PROTOCOL_NAMES.items()}
    return reverse.get(protocol, protocol)


NACL_FILTERS = {
    "network-acl-id": lambda a: [a.id],
    "vpc-id": lambda a: [a.vpc_id],
    "default": lambda a: [a.is_default],
    "association.subnet-id": lambda a: list(a.subnet_ids),
    "association.network-acl-id": lambda a: [a.id],
    "owner-id": lambda a: [a.account],
    "entry.rule-number": lambda a: [e.rule_number for e in a.entries],
    "entry.rule-action": lambda a: [e.action for e in a.entries],
    "entry.cidr": lambda a: [str(e.cidr) for e in a.entries],
    "entry.egress": lambda a: [e.egress for e in a.entries],
}


def normalise_protocol(text: str) -> str:
    """AWS accepts names or numbers; stored as the name for tcp/udp/icmp/icmpv6 (SG-5)."""
    t = str(text).strip().lower()
    if t in ("-1", "all"):
        return "-1"
    if t in ("tcp", "udp", "icmp", "icmpv6"):
        return t
    if t.isdigit() and 0 <= int(t) <= 255:
        return PROTOCOL_NAMES.get(t, t)
    raise error("InvalidParameterValue", f"Invalid value '{text}' for IP protocol. Unknown "
                "protocol.")


def active_peering(net: Network, vpc_a: str, vpc_b: str) -> VpcPeeringConnection | None:
    """The active peering connection between two VPCs, if any (PX-1)."""
    return next((p for p in net.peering_connections.values() if p.status == "active"
                 and {p.requester_vpc_id, p.accepter_vpc_id} == {vpc_a, vpc_b}), None)


def check_description(text: str | None) -> None:
    if text and (len(text) > 255 or not SG_TEXT.match(text)):
        raise error("InvalidParameterValue", f"Invalid rule description. Valid descriptions "
                    f"are strings less than 256 characters from the following set: "
                    f"a-zA-Z0-9. _-:/()#,@[]+=&;{{}}!$*: {text}")


def rules_from_permissions(ctx: RequestContext, perms: list[dict[str, Any]],
                           vpc_id: str | None = None, strict: bool = True) -> list[SgRule]:
    """IpPermissions -> one SgRule per peer (SG-5, SG-6), validated (SG-8). With ``strict``
    (Authorize, Modify) the peers must exist: prefix lists visible to the caller, groups the
    caller (or the named ``UserId``) owns in the Region, in the rule's VPC ``vpc_id`` or in a
    VPC peered with it (SG-9); without (Revoke, description updates) a peer is only matched,
    so rules whose group or peering is gone (stale, SG-11) can still be named."""
    out: list[SgRule] = []
    net = ctx.state.network
    for p in perms:
        proto = normalise_protocol(p.get("IpProtocol", ""))
        lo, hi = p.get("FromPort"), p.get("ToPort")
        if proto in ("tcp", "udp"):
            if lo is None or hi is None or not 0 <= lo <= hi <= 65535:
                raise error("InvalidParameterValue", f"Invalid port range ({lo}, {hi}) for "
                            f"protocol {proto}")
        elif proto in ("icmp", "icmpv6"):
            lo = None if lo in (None, -1) else lo
            hi = None if hi in (None, -1) else hi
        else:
            lo = hi = None
        peers: list[dict[str, Any]] = []
        for r in p.get("IpRanges") or []:
            peers.append({"cidr": _cidr(r.get("CidrIp", ""), 4), "d": r.get("Description")})
        for r in p.get("Ipv6Ranges") or []:
            peers.append({"cidr": _cidr(r.get("CidrIpv6", ""), 6), "d": r.get("Description")})
        for r in p.get("PrefixListIds") or []:
            if strict:
                referenced_list(ctx, r["PrefixListId"])
            peers.append({"pl": r["PrefixListId"], "d": r.get("Description")})
        for r in p.get("UserIdGroupPairs") or []:
            gid = r.get("GroupId")
            if gid is None and r.get("GroupName"):
                gid = next((g.id for g in net.security_groups.values()
                            if g.group_name == r["GroupName"] and g.account == ctx.account
                            and g.region == ctx.region), None)
            found = net.security_groups.get(gid or "")
            if not strict and gid:
                peers.append({"group": gid, "d": r.get("Description")})
                continue
            owner = r.get("UserId") or ctx.account  # another account's group needs UserId
            if gid is None or found is None or found.region != ctx.region \
                    or found.account != owner:
                raise error("InvalidGroup.NotFound", f"The security group '{gid or r}' does "
                            "not exist")
            pcx_id = None
            if vpc_id is not None and found.vpc_id != vpc_id:
                pcx = active_peering(net, vpc_id, found.vpc_id)
                wanted = r.get("VpcPeeringConnectionId")
                if pcx is None or (wanted and wanted != pcx.id):
                    # SG-9: another VPC's group only across an active same-Region peering.
                    raise error("InvalidGroup.NotFound", "You have specified two resources "
                                "that belong to different networks.")
                pcx_id = pcx.id
            peers.append({"group": gid, "pcx": pcx_id, "d": r.get("Description")})
        if not peers:
            raise error("InvalidParameterValue", "The request must contain at least one of "
                        "IpRanges, Ipv6Ranges, PrefixListIds or UserIdGroupPairs")
        for peer in peers:
            if strict:
                check_description(peer.get("d"))
            out.append(SgRule(proto, lo, hi, cidr=peer.get("cidr"),
                              prefix_list_id=peer.get("pl"), group_id=peer.get("group"),
                              peering_connection_id=peer.get("pcx"),
                              description=peer.get("d") or ""))
    return out


def _cidr(text: str, version: int) -> Any:
    try:
        cidr = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise error("InvalidParameterValue", f"CIDR block {text} is malformed") from None
    if cidr.version != version:
        raise error("InvalidParameterValue", f"CIDR block {text} is malformed")
    return cidr


def over_quota(net: Network, rules: list[SgRule]) -> bool:
    """SG-14: 60 rules per direction, counted separately for IPv4 and IPv6; an SG reference
    counts against both, a prefix list as its MaxEntries (``rule_weight``)."""
    weights = [rule_weight(net, r) for r in rules]
    return sum(w[0] for w in weights) > RULES_PER_GROUP \
        or sum(w[1] for w in weights) > RULES_PER_GROUP


RULES_PER_GROUP = 60
NACL_ENTRIES_PER_DIRECTION = 20


def same_rule(a: SgRule, b: SgRule) -> bool:
    return (a.protocol, a.from_port, a.to_port, a.cidr, a.prefix_list_id, a.group_id) == \
        (b.protocol, b.from_port, b.to_port, b.cidr, b.prefix_list_id, b.group_id)


def permissions_param(params: dict[str, Any]) -> list[dict[str, Any]]:
    """``IpPermissions``, or the older flat parameters (IpProtocol, ports, CidrIp, source
    group) that Authorize/Revoke still accept."""
    perms: list[dict[str, Any]] = params.get("IpPermissions") or []
    if perms:
        return perms
    flat: dict[str, Any] = {"IpProtocol": params.get("IpProtocol") or "-1",
                            "FromPort": params.get("FromPort"), "ToPort": params.get("ToPort")}
    if params.get("CidrIp"):
        flat["IpRanges"] = [{"CidrIp": params["CidrIp"]}]
    source = params.get("SourceSecurityGroupName") or params.get("SourceSecurityGroupOwnerId")
    if params.get("SourceSecurityGroupName"):
        flat["UserIdGroupPairs"] = [{"GroupName": params["SourceSecurityGroupName"]}]
    if params.get("CidrIp") or source or params.get("IpProtocol"):
        return [flat]
    return []


def check_group_id(group_id: str) -> None:
    if not re.fullmatch(r"sg-[0-9a-f]{8}(?:[0-9a-f]{9})?", group_id):
        raise error("InvalidGroupId.Malformed", f"Invalid id: \"{group_id}\" (expecting "
                    "\"sg-...\")")


def own_group(ctx: RequestContext, group_id: str | None, name: str | None = None
              ) -> SecurityGroup:
    """The caller's group by id (checked for form) or by name, else InvalidGroup.NotFound."""
    groups = scoped(ctx.state.network.security_groups, ctx.account, ctx.region)
    if group_id:
        check_group_id(group_id)
        g = groups.get(group_id)
    else:
        g = next((x for x in groups.values() if x.group_name == name), None)
    if g is None:
        raise error("InvalidGroup.NotFound", f"The security group '{group_id or name}' "
                    "does not exist")
    return g


class FilteringOperations:
    # ------------------------------------------------------------------ security groups
    def _group(self, ctx: RequestContext, group_id: str | None, name: str | None = None
               ) -> SecurityGroup:
        return own_group(ctx, group_id, name)

    def CreateSecurityGroup(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        net = ctx.state.network
        name, desc = params["GroupName"], params["Description"]
        for what, value in (("GroupName", name), ("GroupDescription", desc)):
            if not SG_TEXT.match(value):  # SG-1
                raise error("InvalidParameterValue", f"Value ({value}) for parameter {what} "
                            "is invalid. Character sets beyond ASCII are not supported.")
        if name.startswith("sg-"):
            raise error("InvalidParameterValue", "Group names may not be in the format sg-*.")
        if name == "default":
            raise error("InvalidGroup.Reserved", "The security group 'default' is reserved")
        vpc_id = params.get("VpcId")
        if vpc_id is None:
            default = next((v for v in scoped(net.vpcs, ctx.account, ctx.region).values()
                            if v.is_default), None)
            if default is None:
                raise error("VPCIdNotSpecified", "No default VPC for this user")
            vpc_id = default.id
        usable(ctx, "vpcs", vpc_id, "InvalidVpcID.NotFound", "vpc")  # or a shared VPC
        if any(g.vpc_id == vpc_id and g.group_name == name and g.account == ctx.account
               for g in net.security_groups.values()):
            raise error("InvalidGroup.Duplicate", f"The security group '{name}' already "
                        f"exists for VPC '{vpc_id}'")
        sg = SecurityGroup(new_id("sg"), ctx.account, ctx.region, vpc_id=vpc_id,
                           group_name=name, description=desc,
                           egress=[SgRule("-1", cidr=ALL_V4)])  # SG-3
        apply_tag_specs(sg, params, "security-group")
        persist_new(ctx, sg)
        return {"GroupId": sg.id, "Tags": tags_list(sg.tags),
                "SecurityGroupArn": sg_view(sg)["SecurityGroupArn"]}

    def DescribeSecurityGroups(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        groups = scoped(ctx.state.network.security_groups, ctx.account, ctx.region)
        for gid in params.get("GroupIds") or []:
            check_group_id(gid)
        found = select_ids(groups, params.get("GroupIds"), "security group",
                           "InvalidGroup.NotFound")
        names = params.get("GroupNames")
        if names:
            found = [g for g in found if g.group_name in names]
            missing = set(names) - {g.group_name for g in found}
            if missing:
                raise error("InvalidGroup.NotFound", f"The security group "
                            f"'{sorted(missing)[0]}' does not exist")
        found = apply_filters(found, params.get("Filters"), SG_FILTERS)
        page, token = paginate(found, params, lambda g: g.id)
        return {"SecurityGroups": [sg_view(g) for g in page], "NextToken": token}

    def DeleteSecurityGroup(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        net = ctx.state.network
        sg = self._group(ctx, params.get("GroupId"), params.get("GroupName"))
        if sg.group_name == "default":  # SG-2
            raise error("CannotDelete", "the specified group: \"" + sg.id + "\" name: "
                        "\"default\" cannot be deleted by a user")
        in_use = any(sg.id in e.security_group_ids for e in net.network_interfaces.values())
        # SG-8: a reference from a group of the same VPC blocks the delete; one from a peered
        # VPC does not, the rule there becomes stale (SG-11).
        referenced = any(r.group_id == sg.id for g in net.security_groups.values()
                         if g.id != sg.id and g.vpc_id == sg.vpc_id
                         for r in (*g.ingress, *g.egress))
        if in_use or referenced or sg.associated_vpc_ids:  # SG-8
            raise error("DependencyViolation", f"resource {sg.id} has a dependent object")
        with ctx.state.write() as w:
            del net.security_groups[sg.id]
            w.deleted.append(("security_groups", sg.id))
        return {"Return": True, "GroupId": sg.id}

    def _authorize(self, ctx: RequestContext, params: dict[str, Any], egress: bool
                   ) -> dict[str, Any]:
        sg = self._group(ctx, params.get("GroupId"), params.get("GroupName"))
        new = rules_from_permissions(ctx, permissions_param(params), vpc_id=sg.vpc_id)
        current = sg.egress if egress else sg.ingress
        for i, r in enumerate(new):
            if any(same_rule(r, c) for c in (*current, *new[:i])):
                raise error("InvalidPermission.Duplicate", "the specified rule "
                            f"\"peer: {r.cidr or r.group_id or r.prefix_list_id}, "
                            f"{r.protocol.upper()}, from port: {r.from_port}, to port: "
                            f"{r.to_port}, ALLOW\" already exists")
        if over_quota(ctx.state.network, [*current, *new]):
            raise error("RulesPerSecurityGroupLimitExceeded", "The maximum number of rules per "
                        "security group has been reached.")
        for r in new:  # stored, so the id survives ModifySecurityGroupRules
            r.rule_id = rule_id(sg.id, egress, r)
        with ctx.state.write() as w:
            current.extend(new)
            w.save(sg)
        return {"Return": True,
                "SecurityGroupRules": [rule_view(sg, egress, r) for r in new]}

    def _revoke(self, ctx: RequestContext, params: dict[str, Any], egress: bool
                ) -> dict[str, Any]:
        sg = self._group(ctx, params.get("GroupId"), params.get("GroupName"))
        current = sg.egress if egress else sg.ingress
        if params.get("SecurityGroupRuleIds"):
            targets = [r for r in current
                       if rule_id(sg.id, egress, r) in params["SecurityGroupRuleIds"]]
            if len(targets) != len(set(params["SecurityGroupRuleIds"])):
                raise error("InvalidSecurityGroupRuleId.NotFound", "The security group rule "
                            "ID does not exist")
        else:
            wanted = rules_from_permissions(ctx, permissions_param(params), strict=False)
            targets = []
            for r in wanted:
                match = next((c for c in current if same_rule(r, c)), None)
                if match is None:
                    raise error("InvalidPermission.NotFound", "The specified rule does not "
                                "exist in this security group.")
                targets.append(match)
        with ctx.state.write() as w:
            for r in targets:
                current.remove(r)
            w.save(sg)
        return {"Return": True}

    def AuthorizeSecurityGroupIngress(self, ctx: RequestContext, params: dict[str, Any]
                                      ) -> dict[str, Any]:
        return self._authorize(ctx, params, egress=False)

    def AuthorizeSecurityGroupEgress(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        return self._authorize(ctx, params, egress=True)

    def RevokeSecurityGroupIngress(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        return self._revoke(ctx, params, egress=False)

    def RevokeSecurityGroupEgress(self, ctx: RequestContext, params: dict[str, Any]
                                  ) -> dict[str, Any]:
        return self._revoke(ctx, params, egress=True)

    def DescribeSecurityGroupRules(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        groups = scoped(ctx.state.network.security_groups, ctx.account, ctx.region)
        rows = [rule_view(g, e, r) for g in groups.values()
                for e, rules in ((False, g.ingress), (True, g.egress)) for r in rules]
        wanted = params.get("SecurityGroupRuleIds")
        if wanted:
            rows = [r for r in rows if r["SecurityGroupRuleId"] in wanted]
            missing = set(wanted) - {r["SecurityGroupRuleId"] for r in rows}
            if missing:
                raise error("InvalidSecurityGroupRuleId.NotFound", f"The security group rule "
                            f"ID '{sorted(missing)[0]}' does not exist")
        fields = {"group-id": lambda r: [r["GroupId"]],
                  "security-group-rule-id": lambda r: [r["SecurityGroupRuleId"]]}
        rows = apply_filters(rows, params.get("Filters"), fields)
        page, token = paginate(rows, params, lambda r: r["SecurityGroupRuleId"])
        return {"SecurityGroupRules": page, "NextToken": token}

    # ------------------------------------------------------------------ network ACLs
    def _acl(self, ctx: RequestContext, acl_id: str) -> NetworkAcl:
        acl: NetworkAcl = owned(ctx, "network_acls", acl_id, "InvalidNetworkAclID.NotFound",
                                message=f"The network ACL '{acl_id}' does not exist")
        return acl

    def CreateNetworkAcl(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        vpc = owned(ctx, "vpcs", params["VpcId"], "InvalidVpcID.NotFound", "vpc")
        entries = [NaclEntry(32767, "-1", "deny", e, ALL_V4) for e in (False, True)]  # NA-2
        if vpc.ipv6_cidrs:
            entries += [NaclEntry(32768, "-1", "deny", e, ALL_V6) for e in (False, True)]
        acl = NetworkAcl(new_id("acl"), ctx.account, ctx.region, vpc_id=vpc.id,
                         entries=entries)
        apply_tag_specs(acl, params, "network-acl")
        persist_new(ctx, acl)
        return {"NetworkAcl": nacl_view(acl)}

    def DescribeNetworkAcls(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        page, token = describe(ctx, "network_acls", params, "NetworkAclIds", "network ACL",
                               "InvalidNetworkAclID.NotFound", NACL_FILTERS)
        return {"NetworkAcls": [nacl_view(a) for a in page], "NextToken": token}

    def DeleteNetworkAcl(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        acl = self._acl(ctx, params["NetworkAclId"])
        if acl.is_default:  # NA-3
            raise error("InvalidParameterValue", f"cannot delete default network ACL {acl.id}")
        if acl.subnet_ids:  # NA-3
            raise error("DependencyViolation", f"The network ACL '{acl.id}' has dependencies "
                        "and cannot be deleted.")
        with ctx.state.write() as w:
            del ctx.state.network.network_acls[acl.id]
            w.deleted.append(("network_acls", acl.id))
        return {}

    def _entry(self, params: dict[str, Any]) -> NaclEntry:
        number = params["RuleNumber"]
        if not 1 <= number <= 32766:
            raise error("InvalidParameterValue", f"Value ({number}) for parameter ruleNumber "
                        "is invalid. Rule numbers must be between 1 and 32766.")
        proto = normalise_protocol(params["Protocol"])
        if params.get("RuleAction") not in ("allow", "deny"):
            raise error("InvalidParameterValue", f"Value ({params.get('RuleAction')}) for "
                        "parameter ruleAction is invalid. Expected: allow | deny.")
        text = params.get("CidrBlock") or params.get("Ipv6CidrBlock")
        if not text or (params.get("CidrBlock") and params.get("Ipv6CidrBlock")):
            raise error("InvalidParameterCombination", "Exactly one of cidrBlock or "
                        "ipv6CidrBlock must be given")
        cidr = _cidr(text, 4 if params.get("CidrBlock") else 6)
        lo = hi = t = c = None
        if proto in ("tcp", "udp"):
            pr = params.get("PortRange")
            if not pr or pr.get("From") is None or pr.get("To") is None:
                raise error("InvalidParameterValue", "TCP and UDP entries need a PortRange")
            lo, hi = pr["From"], pr["To"]
            if not 0 <= lo <= hi <= 65535:
                raise error("InvalidParameterValue", f"Invalid port range ({lo}, {hi})")
        if proto in ("icmp", "icmpv6"):
            itc = params.get("IcmpTypeCode")
            if not itc:
                raise error("InvalidParameterValue", "ICMP entries need an IcmpTypeCode")
            t = None if itc.get("Type", -1) == -1 else itc["Type"]
            c = None if itc.get("Code", -1) == -1 else itc["Code"]
        return NaclEntry(number, proto, params["RuleAction"], bool(params["Egress"]), cidr,
                         lo, hi, t, c)

    def CreateNetworkAclEntry(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        acl = self._acl(ctx, params["NetworkAclId"])
        entry = self._entry(params)
        if any(e.rule_number == entry.rule_number and e.egress == entry.egress
               for e in acl.entries):  # NA-5
            raise error("NetworkAclEntryAlreadyExists", f"The network acl entry identified "
                        f"by {entry.rule_number} already exists.")
        same_kind = [e for e in acl.entries if e.egress == entry.egress
                     and e.cidr.version == entry.cidr.version and e.rule_number <= 32766]
        if len(same_kind) >= NACL_ENTRIES_PER_DIRECTION:  # NA-10
            raise error("NetworkAclEntryLimitExceeded", f"The network ACL {acl.id} already "
                        f"has {NACL_ENTRIES_PER_DIRECTION} entries in this direction.")
        with ctx.state.write() as w:
            acl.entries.append(entry)
            w.save(acl)
        return {}

    def ReplaceNetworkAclEntry(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        acl = self._acl(ctx, params["NetworkAclId"])
        entry = self._entry(params)
        index = next((i for i, e in enumerate(acl.entries) if e.rule_number ==
                      entry.rule_number and e.egress == entry.egress), None)
        if index is None:
            raise error("InvalidNetworkAclEntry.NotFound", f"The network acl entry "
                        f"identified by {entry.rule_number} does not exist.")
        with ctx.state.write() as w:
            acl.entries[index] = entry
            w.save(acl)
        return {}

    def DeleteNetworkAclEntry(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        acl = self._acl(ctx, params["NetworkAclId"])
        number, egress = params["RuleNumber"], bool(params["Egress"])
        if not 1 <= number <= 32766:
            raise error("InvalidParameterValue", f"Value ({number}) for parameter ruleNumber "
                        "is invalid: the default (*) rules cannot be deleted.")
        index = next((i for i, e in enumerate(acl.entries)
                      if e.rule_number == number and e.egress == egress), None)
        if index is None:
            raise error("InvalidNetworkAclEntry.NotFound", f"The network acl entry "
                        f"identified by {number} does not exist.")
        with ctx.state.write() as w:
            del acl.entries[index]
            w.save(acl)
        return {}

    def ReplaceNetworkAclAssociation(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        net = ctx.state.network
        new = self._acl(ctx, params["NetworkAclId"])
        assoc = params["AssociationId"]
        for acl in scoped(net.network_acls, ctx.account, ctx.region).values():
            for sid in acl.subnet_ids:
                if nacl_assoc_id(acl.id, sid) == assoc:
                    if new.vpc_id != acl.vpc_id:
                        raise error("InvalidParameterValue", f"Network ACL {new.id} and "
                                    f"subnet {sid} belong to different networks")
                    if new.id == acl.id:
                        return {"NewAssociationId": assoc}
                    with ctx.state.write() as w:
                        acl.subnet_ids.remove(sid)
                        new.subnet_ids.append(sid)
                        w.save(acl)
                        w.save(new)
                    return {"NewAssociationId": nacl_assoc_id(new.id, sid)}
        raise error("InvalidAssociationID.NotFound", f"The association ID '{assoc}' does not "
                    "exist")

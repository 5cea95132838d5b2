"""Security group operations beyond create/authorize/revoke (those are in ``filtering.py``):
editing rules by id, rule descriptions, references from peered VPCs, stale rules (SG-11), and
using one group in several VPCs of the Region (security group VPC associations)."""

from __future__ import annotations

import re
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    error,
    owned,
    paginate,
    scoped,
    tags_list,
)
from localvpc.api.providers.ec2.filtering import (
    active_peering,
    check_description,
    over_quota,
    own_group,
    rule_id,
    rules_from_permissions,
    same_rule,
)
from localvpc.model.filters import SecurityGroup, SgRule
from localvpc.model.network import Network

RULE_ID = re.compile(r"sgr-[0-9a-f]{8}(?:[0-9a-f]{9})?")
PEER_FIELDS = ("CidrIpv4", "CidrIpv6", "PrefixListId", "ReferencedGroupId")


def _rule_not_found(rid: str) -> Exception:
    return error("InvalidSecurityGroupRuleId.NotFound", f"The security group rule ID '{rid}' "
                 "does not exist")


def _check_rule_id(rid: str) -> None:
    if not RULE_ID.fullmatch(rid):
        raise error("InvalidSecurityGroupRuleId.Malformed", f"Invalid id: \"{rid}\" "
                    "(expecting \"sgr-...\")")


def _permission(net: Network, req: dict[str, Any]) -> dict[str, Any]:
    """A ``SecurityGroupRuleRequest`` (one peer) as the IpPermission Authorize takes."""
    given = [k for k in PEER_FIELDS if req.get(k)]
    if len(given) > 1:
        raise error("InvalidParameterCombination", "Only one of CidrIpv4, CidrIpv6, "
                    "PrefixListId or ReferencedGroupId may be given for a rule.")
    if not req.get("IpProtocol"):
        raise error("MissingParameter", "The request must contain the parameter IpProtocol")
    desc = {"Description": req["Description"]} if req.get("Description") else {}
    perm: dict[str, Any] = {"IpProtocol": req["IpProtocol"], "FromPort": req.get("FromPort"),
                            "ToPort": req.get("ToPort")}
    if req.get("CidrIpv4"):
        perm["IpRanges"] = [{"CidrIp": req["CidrIpv4"], **desc}]
    elif req.get("CidrIpv6"):
        perm["Ipv6Ranges"] = [{"CidrIpv6": req["CidrIpv6"], **desc}]
    elif req.get("PrefixListId"):
        perm["PrefixListIds"] = [{"PrefixListId": req["PrefixListId"], **desc}]
    elif req.get("ReferencedGroupId"):
        ref = net.security_groups.get(req["ReferencedGroupId"])
        owner = {"UserId": ref.account} if ref is not None else {}
        perm["UserIdGroupPairs"] = [{"GroupId": req["ReferencedGroupId"], **owner, **desc}]
    return perm


def _stale(net: Network, g: SecurityGroup, r: SgRule) -> bool:
    """SG-11: a rule whose referenced group is gone, or sits in another VPC that is no longer
    peered with the rule's VPC."""
    if not r.group_id:
        return False
    ref = net.security_groups.get(r.group_id)
    if ref is None:
        return True
    return ref.vpc_id != g.vpc_id and active_peering(net, g.vpc_id, ref.vpc_id) is None


def _stale_view(net: Network, r: SgRule) -> dict[str, Any]:
    ref = net.security_groups.get(r.group_id or "")
    pcx = net.peering_connections.get(r.peering_connection_id or "")
    all_ports = r.protocol not in ("tcp", "udp", "icmp", "icmpv6")
    return {"IpProtocol": r.protocol,
            "FromPort": None if all_ports else (-1 if r.from_port is None else r.from_port),
            "ToPort": None if all_ports else (-1 if r.to_port is None else r.to_port),
            "IpRanges": [], "PrefixListIds": [],
            "UserIdGroupPairs": [{
                "GroupId": r.group_id, "UserId": ref.account if ref else None,
                "GroupName": ref.group_name if ref else None,
                "VpcId": ref.vpc_id if ref else None,
                "VpcPeeringConnectionId": r.peering_connection_id,
                "PeeringStatus": pcx.status if pcx else None,
                "Description": r.description or None}]}


SG_FOR_VPC_FILTERS = {
    "group-id": lambda g: [g.id], "group-name": lambda g: [g.group_name],
    "description": lambda g: [g.description], "owner-id": lambda g: [g.account],
    "primary-vpc-id": lambda g: [g.vpc_id],
}
ASSOCIATION_FILTERS = {
    "group-id": lambda a: [a["GroupId"]], "vpc-id": lambda a: [a["VpcId"]],
    "vpc-owner-id": lambda a: [a["VpcOwnerId"]], "state": lambda a: [a["State"]],
    "group-owner-id": lambda a: [a["GroupOwnerId"]],
}


class SecurityGroupOperations:
    # ------------------------------------------------------------------ rules by id
    def ModifySecurityGroupRules(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        net = ctx.state.network
        sg = own_group(ctx, params["GroupId"])
        by_id = {rule_id(sg.id, e, r): (e, r) for e, rules in ((False, sg.ingress),
                                                               (True, sg.egress))
                 for r in rules}
        plan: list[tuple[str, bool, SgRule, SgRule]] = []
        for update in params["SecurityGroupRules"]:
            rid = update["SecurityGroupRuleId"]
            _check_rule_id(rid)
            if rid not in by_id:
                raise _rule_not_found(rid)
            if not update.get("SecurityGroupRule"):
                raise error("MissingParameter", "The request must contain the parameter "
                            "SecurityGroupRule")
            egress, old = by_id[rid]
            made = rules_from_permissions(ctx, [_permission(net, update["SecurityGroupRule"])],
                                          vpc_id=sg.vpc_id)
            plan.append((rid, egress, old, made[0]))
        changed = {id(old): new for _, _, old, new in plan}
        for egress in (False, True):
            after = [changed.get(id(r), r) for r in (sg.egress if egress else sg.ingress)]
            for i, r in enumerate(after):
                if any(same_rule(r, other) for other in after[:i]):
                    raise error("InvalidPermission.Duplicate", "the specified rule "
                                f"\"peer: {r.cidr or r.group_id or r.prefix_list_id}, "
                                f"{r.protocol.upper()}, from port: {r.from_port}, to port: "
                                f"{r.to_port}, ALLOW\" already exists")
            if over_quota(net, after):
                raise error("RulesPerSecurityGroupLimitExceeded", "The maximum number of "
                            "rules per security group has been reached.")
        with ctx.state.write() as w:
            for rid, egress, old, new in plan:
                rules = sg.egress if egress else sg.ingress
                new.rule_id = rid  # the rule keeps its id (SG-7)
                rules[next(i for i, r in enumerate(rules) if r is old)] = new
            w.save(sg)
        return {"Return": True}

    def _update_descriptions(self, ctx: RequestContext, params: dict[str, Any], egress: bool
                             ) -> dict[str, Any]:
        sg = own_group(ctx, params.get("GroupId"), params.get("GroupName"))
        current = sg.egress if egress else sg.ingress
        by_id = {rule_id(sg.id, egress, r): r for r in current}
        changes: list[tuple[SgRule, str]] = []
        for d in params.get("SecurityGroupRuleDescriptions") or []:
            rid = str(d.get("SecurityGroupRuleId") or "")
            _check_rule_id(rid)
            if rid not in by_id:
                raise _rule_not_found(rid)
            check_description(d.get("Description"))
            changes.append((by_id[rid], str(d.get("Description") or "")))
        for wanted in rules_from_permissions(ctx, params.get("IpPermissions") or [],
                                             strict=False):
            check_description(wanted.description)
            match = next((c for c in current if same_rule(wanted, c)), None)
            if match is None:
                raise error("InvalidPermission.NotFound", "The specified rule does not exist "
                            "in this security group.")
            changes.append((match, wanted.description))
        if not changes:
            raise error("MissingParameter", "The request must contain the parameter "
                        "IpPermissions or SecurityGroupRuleDescriptions")
        with ctx.state.write() as w:
            for rule, text in changes:
                rule.rule_id = rule_id(sg.id, egress, rule)
                rule.description = text
            w.save(sg)
        return {"Return": True}

    def UpdateSecurityGroupRuleDescriptionsIngress(self, ctx: RequestContext,
                                                   params: dict[str, Any]) -> dict[str, Any]:
        return self._update_descriptions(ctx, params, egress=False)

    def UpdateSecurityGroupRuleDescriptionsEgress(self, ctx: RequestContext,
                                                  params: dict[str, Any]) -> dict[str, Any]:
        return self._update_descriptions(ctx, params, egress=True)

    # ------------------------------------------------------------------ peered VPCs
    def DescribeSecurityGroupReferences(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        """Which groups of peered VPCs (any account) reference the caller's groups."""
        net = ctx.state.network
        rows: list[dict[str, Any]] = []
        for target in [own_group(ctx, gid) for gid in dict.fromkeys(params["GroupId"])]:
            for g in sorted(net.security_groups.values(), key=lambda x: x.id):
                if g.vpc_id == target.vpc_id or g.region != target.region or not any(
                        r.group_id == target.id for r in (*g.ingress, *g.egress)):
                    continue
                pcx = active_peering(net, g.vpc_id, target.vpc_id)
                row = {"GroupId": target.id, "ReferencingVpcId": g.vpc_id,
                       "VpcPeeringConnectionId": pcx.id if pcx else None}
                if pcx is not None and row not in rows:
                    rows.append(row)
        return {"SecurityGroupReferenceSet": rows}

    def DescribeStaleSecurityGroups(self, ctx: RequestContext, params: dict[str, Any]
                                    ) -> dict[str, Any]:
        net = ctx.state.network
        vpc = owned(ctx, "vpcs", params["VpcId"], "InvalidVpcID.NotFound", "vpc")
        out: list[dict[str, Any]] = []
        for g in scoped(net.security_groups, ctx.account, ctx.region).values():
            if g.vpc_id != vpc.id:
                continue
            ingress = [_stale_view(net, r) for r in g.ingress if _stale(net, g, r)]
            egress = [_stale_view(net, r) for r in g.egress if _stale(net, g, r)]
            if ingress or egress:
                out.append({"GroupId": g.id, "GroupName": g.group_name,
                            "Description": g.description, "VpcId": g.vpc_id,
                            "StaleIpPermissions": ingress,
                            "StaleIpPermissionsEgress": egress})
        page, token = paginate(out, params, lambda s: s["GroupId"], minimum=5, maximum=255)
        return {"StaleSecurityGroupSet": page, "NextToken": token}

    # ------------------------------------------------------------------ VPC associations
    def GetSecurityGroupsForVpc(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        vpc = owned(ctx, "vpcs", params["VpcId"], "InvalidVpcID.NotFound", "vpc")
        groups = [g for g in scoped(ctx.state.network.security_groups, ctx.account,
                                    ctx.region).values()
                  if g.vpc_id == vpc.id or vpc.id in g.associated_vpc_ids]
        groups = apply_filters(groups, params.get("Filters"), SG_FOR_VPC_FILTERS)
        page, token = paginate(groups, params, lambda g: g.id, minimum=5, maximum=1000)
        return {"SecurityGroupForVpcs": [
            {"Description": g.description, "GroupName": g.group_name, "OwnerId": g.account,
             "GroupId": g.id, "Tags": tags_list(g.tags), "PrimaryVpcId": g.vpc_id}
            for g in page], "NextToken": token}

    def AssociateSecurityGroupVpc(self, ctx: RequestContext, params: dict[str, Any]
                                  ) -> dict[str, Any]:
        # AWS documents the rules (same Region, the caller's VPC, not a default group, not
        # the default VPC) but not their error codes: InvalidParameterValue is ASSUMED.
        net = ctx.state.network
        sg = own_group(ctx, params["GroupId"])
        vpc = owned(ctx, "vpcs", params["VpcId"], "InvalidVpcID.NotFound", "vpc")
        home = net.vpcs.get(sg.vpc_id)
        if sg.group_name == "default":
            raise error("InvalidParameterValue", f"The default security group {sg.id} cannot "
                        "be associated with another VPC.")
        if vpc.is_default or (home is not None and home.is_default):
            raise error("InvalidParameterValue", "Security group VPC associations cannot be "
                        "used with a default VPC.")
        if vpc.id == sg.vpc_id:
            raise error("InvalidParameterValue", f"Security group {sg.id} already belongs to "
                        f"{vpc.id}.")
        if vpc.id in sg.associated_vpc_ids:
            raise error("InvalidParameterValue", f"Security group {sg.id} is already "
                        f"associated with {vpc.id}.")
        with ctx.state.write() as w:
            sg.associated_vpc_ids.append(vpc.id)
            w.save(sg)
        # AWS answers "associating" and is "associated" moments later; localvpc at once.
        return {"State": "associating"}

    def DisassociateSecurityGroupVpc(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        net = ctx.state.network
        sg = own_group(ctx, params["GroupId"])
        vpc_id = params["VpcId"]
        if vpc_id not in sg.associated_vpc_ids:
            raise error("InvalidParameterValue", f"Security group {sg.id} is not associated "
                        f"with {vpc_id}.")
        if any(e.vpc_id == vpc_id and sg.id in e.security_group_ids
               for e in net.network_interfaces.values()):
            raise error("DependencyViolation", f"resource {sg.id} has a dependent object in "
                        f"{vpc_id}")
        with ctx.state.write() as w:
            sg.associated_vpc_ids.remove(vpc_id)
            w.save(sg)
        return {"State": "disassociating"}

    def DescribeSecurityGroupVpcAssociations(self, ctx: RequestContext,
                                             params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        rows = [{"GroupId": g.id, "VpcId": v, "State": "associated", "GroupOwnerId": g.account,
                 "VpcOwnerId": net.vpcs[v].account if v in net.vpcs else g.account}
                for g in scoped(net.security_groups, ctx.account, ctx.region).values()
                for v in g.associated_vpc_ids]
        rows = apply_filters(rows, params.get("Filters"), ASSOCIATION_FILTERS)
        page, token = paginate(rows, params, lambda a: f"{a['GroupId']}/{a['VpcId']}",
                               minimum=5, maximum=1000)
        return {"SecurityGroupVpcAssociations": page, "NextToken": token}

"""Amazon VPC IPAM on the EC2 endpoint: IPAMs, scopes, pools, pool CIDRs and allocations,
and the allocations VPCs take when they are created from a pool (``vpcs.py`` calls
``plan_allocation``/``release_resource``).

Every change is immediate: AWS's ``*-in-progress`` states are skipped (create answers show
the final state, except pool CIDRs, which answer ``pending-provision`` as AWS does before a
``GetIpamPoolCidrs`` shows ``provisioned``). ``AutoImport`` is recorded but imports nothing:
localvpc has no resource discovery."""

from __future__ import annotations

from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    cidr_param,
    describe,
    error,
    new_id,
    owned,
    paginate,
    persist_new,
    tags_list,
)
from localvpc.api.state import Changes
from localvpc.model.base import IPNetwork, first_free_block
from localvpc.model.ipam import Ipam, IpamPool, IpamPoolAllocation, IpamPoolCidr, IpamScope
from localvpc.model.network import Network

MAX_POOL_DEPTH = 10  # AWS quota: pools nest at most 10 deep


def _arn(account: str, kind: str, rid: str) -> str:
    """IPAM ARNs carry no Region (IPAM is a global view over its operating Regions)."""
    return f"arn:aws:ec2::{account}:{kind}/{rid}"


def _bits(family: str) -> int:
    return 32 if family == "ipv4" else 128


def _family(cidr: IPNetwork) -> str:
    return "ipv4" if cidr.version == 4 else "ipv6"


# ------------------------------------------------------------------ views
def ipam_view(ipam: Ipam, net: Network) -> dict[str, Any]:
    scopes = [s for s in net.ipam_scopes.values() if s.ipam_id == ipam.id]
    return {"OwnerId": ipam.account, "IpamId": ipam.id,
            "IpamArn": _arn(ipam.account, "ipam", ipam.id), "IpamRegion": ipam.region,
            "PublicDefaultScopeId": ipam.public_default_scope_id,
            "PrivateDefaultScopeId": ipam.private_default_scope_id,
            "ScopeCount": len(scopes), "Description": ipam.description,
            "OperatingRegions": [{"RegionName": r} for r in ipam.operating_regions],
            "State": ipam.state, "Tags": tags_list(ipam.tags),
            "ResourceDiscoveryAssociationCount": 1, "Tier": ipam.tier,
            "EnablePrivateGua": ipam.enable_private_gua, "MeteredAccount": ipam.metered_account}


def scope_view(scope: IpamScope, net: Network) -> dict[str, Any]:
    return {"OwnerId": scope.account, "IpamScopeId": scope.id,
            "IpamScopeArn": _arn(scope.account, "ipam-scope", scope.id),
            "IpamArn": _arn(scope.account, "ipam", scope.ipam_id), "IpamRegion": scope.region,
            "IpamScopeType": scope.scope_type, "IsDefault": scope.is_default,
            "Description": scope.description,
            "PoolCount": sum(1 for p in net.ipam_pools.values() if p.scope_id == scope.id),
            "State": scope.state, "Tags": tags_list(scope.tags)}


def pool_view(pool: IpamPool, net: Network) -> dict[str, Any]:
    scope = net.ipam_scopes.get(pool.scope_id)
    view: dict[str, Any] = {
        "OwnerId": pool.account, "IpamPoolId": pool.id, "SourceIpamPoolId": pool.source_pool_id,
        "IpamPoolArn": _arn(pool.account, "ipam-pool", pool.id),
        "IpamScopeArn": _arn(pool.account, "ipam-scope", pool.scope_id),
        "IpamScopeType": scope.scope_type if scope else "private",
        "IpamArn": _arn(pool.account, "ipam", pool.ipam_id), "IpamRegion": pool.region,
        "Locale": pool.locale or "None", "PoolDepth": pool.pool_depth, "State": pool.state,
        "Description": pool.description, "AutoImport": pool.auto_import,
        "AddressFamily": pool.address_family,
        "AllocationMinNetmaskLength": pool.allocation_min_netmask_length,
        "AllocationMaxNetmaskLength": pool.allocation_max_netmask_length,
        "AllocationDefaultNetmaskLength": pool.allocation_default_netmask_length,
        "AllocationResourceTags": tags_list(pool.allocation_resource_tags),
        "Tags": tags_list(pool.tags), "AwsService": pool.aws_service,
        "PublicIpSource": pool.public_ip_source}
    if pool.publicly_advertisable is not None:
        view["PubliclyAdvertisable"] = pool.publicly_advertisable
    return view


def pool_cidr_view(c: IpamPoolCidr, state: str | None = None) -> dict[str, Any]:
    return {"Cidr": str(c.cidr), "State": state or c.state, "IpamPoolCidrId": c.cidr_id,
            "NetmaskLength": c.cidr.prefixlen}


def allocation_view(a: IpamPoolAllocation) -> dict[str, Any]:
    return {"Cidr": str(a.cidr), "IpamPoolAllocationId": a.allocation_id,
            "Description": a.description, "ResourceId": a.resource_id,
            "ResourceType": a.resource_type, "ResourceRegion": a.resource_region,
            "ResourceOwner": a.resource_owner, "Tags": tags_list(a.tags)}


IPAM_FILTERS = {
    "ipam-id": lambda i: [i.id], "owner-id": lambda i: [i.account],
    "ipam-region": lambda i: [i.region], "description": lambda i: [i.description],
    "state": lambda i: [i.state], "tier": lambda i: [i.tier],
    "operating-region": lambda i: i.operating_regions,
    "operating-regions.region-name": lambda i: i.operating_regions,
}
SCOPE_FILTERS = {
    "ipam-scope-id": lambda s: [s.id], "ipam-id": lambda s: [s.ipam_id],
    "ipam-arn": lambda s: [_arn(s.account, "ipam", s.ipam_id)],
    "ipam-scope-type": lambda s: [s.scope_type], "is-default": lambda s: [s.is_default],
    "description": lambda s: [s.description], "owner-id": lambda s: [s.account],
    "ipam-region": lambda s: [s.region], "state": lambda s: [s.state],
}
POOL_FILTERS = {
    "ipam-pool-id": lambda p: [p.id], "ipam-scope-id": lambda p: [p.scope_id],
    "ipam-scope-arn": lambda p: [_arn(p.account, "ipam-scope", p.scope_id)],
    "ipam-arn": lambda p: [_arn(p.account, "ipam", p.ipam_id)],
    "ipam-id": lambda p: [p.ipam_id], "locale": lambda p: [p.locale or "None"],
    "address-family": lambda p: [p.address_family],
    "source-ipam-pool-id": lambda p: [p.source_pool_id] if p.source_pool_id else [],
    "pool-depth": lambda p: [p.pool_depth], "state": lambda p: [p.state],
    "description": lambda p: [p.description], "owner-id": lambda p: [p.account],
    "auto-import": lambda p: [p.auto_import],
    "allocation-min-netmask-length": lambda p: [p.allocation_min_netmask_length],
    "allocation-max-netmask-length": lambda p: [p.allocation_max_netmask_length],
    "allocation-default-netmask-length": lambda p: [p.allocation_default_netmask_length],
}
POOL_CIDR_FILTERS = {
    "cidr": lambda c: [c["Cidr"]], "state": lambda c: [c["State"]],
    "ipam-pool-cidr-id": lambda c: [c["IpamPoolCidrId"]],
    "netmask-length": lambda c: [c["NetmaskLength"]],
}
ALLOCATION_FILTERS = {
    "cidr": lambda a: [a["Cidr"]], "ipam-pool-allocation-id": lambda a: [a["IpamPoolAllocationId"]],
    "resource-id": lambda a: [a["ResourceId"]] if a["ResourceId"] else [],
    "resource-type": lambda a: [a["ResourceType"]],
    "resource-owner": lambda a: [a["ResourceOwner"]] if a["ResourceOwner"] else [],
    "resource-region": lambda a: [a["ResourceRegion"]] if a["ResourceRegion"] else [],
    "description": lambda a: [a["Description"]],
}


def _field(key: str) -> Any:
    return lambda r: [r[key]] if r.get(key) is not None else []


RESOURCE_CIDR_FILTERS = {
    name: _field(key) for name, key in {
        "resource-id": "ResourceId", "resource-type": "ResourceType",
        "resource-cidr": "ResourceCidr", "resource-region": "ResourceRegion",
        "resource-owner-id": "ResourceOwnerId", "ipam-pool-id": "IpamPoolId",
        "vpc-id": "VpcId", "management-state": "ManagementState",
        "compliance-status": "ComplianceStatus", "overlap-status": "OverlapStatus",
    }.items()
}


# ------------------------------------------------------------------ allocation
def _taken(pool: IpamPool) -> list[IPNetwork]:
    return [a.cidr for a in pool.allocations]


def _first_free(pool: IpamPool, prefix: int) -> IPNetwork | None:
    """The lowest free aligned block of length ``prefix`` in the pool's provisioned CIDRs."""
    parents = sorted((c.cidr for c in pool.cidrs), key=lambda c: int(c.network_address))
    return first_free_block(parents, prefix, _taken(pool))


def _check_netmask(pool: IpamPool, prefix: int) -> None:
    bits = _bits(pool.address_family)
    if not 0 <= prefix <= bits:
        raise error("InvalidParameterValue", f"Value ({prefix}) for parameter netmaskLength "
                    f"is invalid. Expecting a value between 0 and {bits}.")
    # Wording is localvpc's: AWS documents the rule (allocation rules bound every
    # allocation) but not the message.
    low, high = pool.allocation_min_netmask_length, pool.allocation_max_netmask_length
    if (low is not None and prefix < low) or (high is not None and prefix > high):
        raise error("InvalidParameterValue", f"The allocation netmask length /{prefix} is "
                    f"outside the allocation rules of pool {pool.id} (min netmask length "
                    f"{low if low is not None else 0}, max netmask length "
                    f"{high if high is not None else bits}).")


def plan_allocation(pool: IpamPool, cidr_text: str | None, netmask: int | None,
                    resource_type: str, resource_id: str | None, region: str | None,
                    owner: str | None, description: str = "",
                    disallowed: list[str] | None = None) -> IpamPoolAllocation:
    """The allocation ``pool`` would make (not yet added): an explicit CIDR that lies in a
    provisioned CIDR and overlaps no allocation, else the first free block of ``netmask``
    (the pool's default when neither is given); AWS's errors otherwise."""
    if cidr_text and netmask is not None:
        raise error("InvalidParameterCombination", "The request can contain either CIDR or "
                    "Netmask Length, not both.")
    if not cidr_text and netmask is None:
        netmask = pool.allocation_default_netmask_length
        if netmask is None:
            raise error("InvalidParameterCombination", "The request cannot contain empty CIDR "
                        "and Netmask Length for a pool with no default allocation netmask "
                        "length set. Exactly one of them should be provided.")
    if cidr_text:
        cidr = cidr_param(cidr_text)
        if _family(cidr) != pool.address_family:
            raise error("InvalidParameterValue", f"The CIDR {cidr} does not match the address "
                        f"family ({pool.address_family}) of pool {pool.id}.")
        _check_netmask(pool, cidr.prefixlen)
        if not any(cidr.subnet_of(c.cidr) for c in pool.cidrs  # type: ignore[arg-type]
                   if c.cidr.version == cidr.version):
            raise error("InvalidParameterValue", f"The CIDR {cidr} is not within a CIDR "
                        f"provisioned to pool {pool.id}.")
        clash = next((t for t in _taken(pool) if t.overlaps(cidr)), None)
        if clash is not None:
            raise error("InvalidParameterValue", f"The CIDR {cidr} overlaps the allocation "
                        f"{clash} of pool {pool.id}.")
    else:
        assert netmask is not None
        _check_netmask(pool, netmask)
        shadow = IpamPool(pool.id, address_family=pool.address_family, cidrs=pool.cidrs,
                          allocations=[*pool.allocations, *(
                              IpamPoolAllocation("", cidr_param(d)) for d in disallowed or [])])
        found = _first_free(shadow, netmask)
        if found is None:  # AWS answers both "larger than any CIDR" and "no room left" so
            raise error("InvalidParameterValue", "The allocation size is too big for the "
                        "pool.")
        cidr = found
    return IpamPoolAllocation(new_id("ipam-pool-alloc"), cidr, resource_type, resource_id,
                              region, owner, description)


def resource_pool(ctx: RequestContext, pool_id: str, family: str = "ipv4") -> IpamPool:
    """A pool a resource (VPC) of the caller's Region may allocate from: the caller's,
    whatever the IPAM's home Region, whose locale is this Region."""
    pool = next((p for p in ctx.state.network.ipam_pools.values()
                 if p.id == pool_id and p.account == ctx.account), None)
    if pool is None:
        raise error("InvalidIpamPoolId.NotFound", f"The ipam pool ID '{pool_id}' does not "
                    "exist")
    if pool.address_family != family:
        raise error("InvalidParameterValue", f"The IPAM pool {pool_id} is not an "
                    f"{family} pool.")
    if pool.locale != ctx.region:
        raise error("InvalidParameterValue", f"The locale of IPAM pool {pool_id} "
                    f"({pool.locale or 'None'}) does not match the Region {ctx.region}.")
    return pool


def check_resource_tags(pool: IpamPool, tags: dict[str, str]) -> None:
    """A pool with allocation resource tags only serves resources that carry them all."""
    if any(tags.get(k) != v for k, v in pool.allocation_resource_tags.items()):
        raise error("InvalidParameterValue", "The resource is missing one or more of the "
                    "resource tags required by the IPAM pool.")


def release_resource(net: Network, resource_type: str, resource_id: str, w: Changes,
                     cidr: IPNetwork | None = None) -> None:
    """Free what ``resource_id`` holds in any pool (only ``cidr`` if given): a deleted VPC,
    a disassociated VPC CIDR block."""
    for pool in net.ipam_pools.values():
        kept = [a for a in pool.allocations if not (
            a.resource_type == resource_type and a.resource_id == resource_id
            and (cidr is None or a.cidr == cidr))]
        if len(kept) != len(pool.allocations):
            pool.allocations = kept
            w.save(pool)


def _rule(params: dict[str, Any], key: str, current: int | None = None) -> int | None:
    value = params.get(key)
    return current if value is None else int(value)


class IpamOperations:
    """IPAMs, scopes, pools, pool CIDRs, allocations and resource CIDRs."""

    # ------------------------------------------------------------------ IPAMs
    def CreateIpam(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        # AWS lists the home Region as an operating Region when none is given.
        regions = [r["RegionName"] for r in params.get("OperatingRegions") or []]
        ipam = Ipam(new_id("ipam"), ctx.account, ctx.region,
                    description=params.get("Description") or "",
                    operating_regions=list(dict.fromkeys(regions or [ctx.region])),
                    tier=params.get("Tier") or "advanced",
                    enable_private_gua=bool(params.get("EnablePrivateGua")),
                    metered_account=params.get("MeteredAccount") or "ipam-owner")
        private = IpamScope(new_id("ipam-scope"), ctx.account, ctx.region, ipam_id=ipam.id,
                            scope_type="private", is_default=True)
        public = IpamScope(new_id("ipam-scope"), ctx.account, ctx.region, ipam_id=ipam.id,
                           scope_type="public", is_default=True)
        ipam.private_default_scope_id, ipam.public_default_scope_id = private.id, public.id
        apply_tag_specs(ipam, params, "ipam")
        persist_new(ctx, ipam, private, public)
        return {"Ipam": ipam_view(ipam, ctx.state.network)}

    def DescribeIpams(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        page, token = describe(ctx, "ipams", params, "IpamIds", "ipam",
                               "InvalidIpamId.NotFound", IPAM_FILTERS)
        return {"Ipams": [ipam_view(i, ctx.state.network) for i in page], "NextToken": token}

    def ModifyIpam(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        ipam = self._ipam(ctx, params["IpamId"])
        add = [r["RegionName"] for r in params.get("AddOperatingRegions") or []]
        remove = {r["RegionName"] for r in params.get("RemoveOperatingRegions") or []}
        if ipam.region in remove:
            raise error("InvalidParameterValue", f"The home Region {ipam.region} of IPAM "
                        f"{ipam.id} cannot be removed from its operating Regions.")
        with ctx.state.write() as w:
            if params.get("Description") is not None:
                ipam.description = params["Description"]
            ipam.operating_regions = [r for r in dict.fromkeys(
                [*ipam.operating_regions, *add]) if r not in remove]
            for key, attr in (("Tier", "tier"), ("MeteredAccount", "metered_account"),
                              ("EnablePrivateGua", "enable_private_gua")):
                if params.get(key) is not None:
                    setattr(ipam, attr, params[key])
            w.save(ipam)
        return {"Ipam": ipam_view(ipam, ctx.state.network)}

    def DeleteIpam(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Without ``Cascade`` only an IPAM whose pools hold no CIDRs and no allocations
        goes; either way its scopes and pools go with it. VPCs keep their addresses."""
        net = ctx.state.network
        ipam = self._ipam(ctx, params["IpamId"])
        pools = [p for p in net.ipam_pools.values() if p.ipam_id == ipam.id]
        busy = [p.id for p in pools if p.cidrs or p.allocations]
        if busy and not params.get("Cascade"):
            raise error("IncorrectState", f"The IPAM {ipam.id} cannot be deleted: pool "
                        f"{busy[0]} has provisioned CIDRs or allocations. Deprovision them "
                        "or use cascade.")
        view = ipam_view(ipam, net)
        with ctx.state.write() as w:
            for p in pools:
                del net.ipam_pools[p.id]
                w.deleted.append(("ipam_pools", p.id))
            for sid in [s.id for s in net.ipam_scopes.values() if s.ipam_id == ipam.id]:
                del net.ipam_scopes[sid]
                w.deleted.append(("ipam_scopes", sid))
            del net.ipams[ipam.id]
            w.deleted.append(("ipams", ipam.id))
        return {"Ipam": {**view, "State": "delete-in-progress"}}

    def _ipam(self, ctx: RequestContext, ipam_id: str) -> Ipam:
        ipam: Ipam = owned(ctx, "ipams", ipam_id, "InvalidIpamId.NotFound", "ipam")
        return ipam

    # ------------------------------------------------------------------ scopes
    def CreateIpamScope(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """Only private scopes can be added; the public one is the default AWS makes."""
        ipam = self._ipam(ctx, params["IpamId"])
        scope = IpamScope(new_id("ipam-scope"), ctx.account, ctx.region, ipam_id=ipam.id,
                          scope_type="private", description=params.get("Description") or "")
        apply_tag_specs(scope, params, "ipam-scope")
        persist_new(ctx, scope)
        return {"IpamScope": scope_view(scope, ctx.state.network)}

    def DescribeIpamScopes(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        page, token = describe(ctx, "ipam_scopes", params, "IpamScopeIds", "ipam scope",
                               "InvalidIpamScopeId.NotFound", SCOPE_FILTERS)
        return {"IpamScopes": [scope_view(s, ctx.state.network) for s in page],
                "NextToken": token}

    def DeleteIpamScope(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        scope = self._scope(ctx, params["IpamScopeId"])
        if scope.is_default:
            raise error("InvalidParameterValue", f"The scope {scope.id} is a default scope "
                        "of its IPAM and cannot be deleted.")
        pools = [p.id for p in net.ipam_pools.values() if p.scope_id == scope.id]
        if pools:
            raise error("IncorrectState", f"The scope {scope.id} cannot be deleted while it "
                        f"holds pools (first: {pools[0]}).")
        view = scope_view(scope, net)
        with ctx.state.write() as w:
            del net.ipam_scopes[scope.id]
            w.deleted.append(("ipam_scopes", scope.id))
        return {"IpamScope": {**view, "State": "delete-in-progress"}}

    def _scope(self, ctx: RequestContext, scope_id: str) -> IpamScope:
        scope: IpamScope = owned(ctx, "ipam_scopes", scope_id, "InvalidIpamScopeId.NotFound",
                                 "ipam scope")
        return scope

    # ------------------------------------------------------------------ pools
    def CreateIpamPool(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        scope = self._scope(ctx, params["IpamScopeId"])
        ipam = net.ipams[scope.ipam_id]
        family = params["AddressFamily"]
        locale = params.get("Locale") or None
        if locale == "None":
            locale = None
        if locale is not None and locale not in ipam.operating_regions:
            raise error("InvalidParameterValue", f"The locale {locale} is not one of the "
                        f"operating Regions of IPAM {ipam.id}.")
        depth = 1
        source_id = params.get("SourceIpamPoolId")
        if source_id:
            source = self._pool(ctx, source_id)
            if source.scope_id != scope.id:
                raise error("InvalidParameterValue", f"The source pool {source_id} is not in "
                            f"scope {scope.id}.")
            if source.address_family != family:
                raise error("InvalidParameterValue", f"The address family {family} does not "
                            f"match that of the source pool {source_id}.")
            if source.locale is not None and locale != source.locale:
                raise error("InvalidParameterValue", f"The locale of a pool must match the "
                            f"locale ({source.locale}) of its source pool {source_id}.")
            depth = source.pool_depth + 1
            if depth > MAX_POOL_DEPTH:
                raise error("MaxIpamPoolDepthExceeded", f"Pools can be nested at most "
                            f"{MAX_POOL_DEPTH} deep.")
        pool = IpamPool(
            new_id("ipam-pool"), ctx.account, ctx.region, ipam_id=ipam.id, scope_id=scope.id,
            address_family=family, locale=locale, source_pool_id=source_id or None,
            pool_depth=depth, description=params.get("Description") or "",
            auto_import=bool(params.get("AutoImport")),
            publicly_advertisable=params.get("PubliclyAdvertisable"),
            allocation_min_netmask_length=_rule(params, "AllocationMinNetmaskLength"),
            allocation_max_netmask_length=_rule(params, "AllocationMaxNetmaskLength"),
            allocation_default_netmask_length=_rule(params, "AllocationDefaultNetmaskLength"),
            allocation_resource_tags={t["Key"]: t.get("Value", "") for t in
                                      params.get("AllocationResourceTags") or []},
            aws_service=params.get("AwsService"), public_ip_source=params.get("PublicIpSource"))
        self._check_rules(pool)
        apply_tag_specs(pool, params, "ipam-pool")
        persist_new(ctx, pool)
        return {"IpamPool": pool_view(pool, net)}

    @staticmethod
    def _check_rules(pool: IpamPool) -> None:
        bits = _bits(pool.address_family)
        low = pool.allocation_min_netmask_length
        high = pool.allocation_max_netmask_length
        default = pool.allocation_default_netmask_length
        for name, value in (("allocationMinNetmaskLength", low),
                            ("allocationMaxNetmaskLength", high),
                            ("allocationDefaultNetmaskLength", default)):
            if value is not None and not 0 <= value <= bits:
                raise error("InvalidParameterValue", f"Value ({value}) for parameter {name} "
                            f"is invalid. Expecting a value between 0 and {bits}.")
        if low is not None and high is not None and low > high:
            raise error("InvalidParameterValue", "The allocation min netmask length must be "
                        "less than or equal to the allocation max netmask length.")
        if default is not None and ((low is not None and default < low)
                                    or (high is not None and default > high)):
            raise error("InvalidParameterValue", "The allocation default netmask length must "
                        "be between the allocation min and max netmask lengths.")

    def DescribeIpamPools(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        page, token = describe(ctx, "ipam_pools", params, "IpamPoolIds", "ipam pool",
                               "InvalidIpamPoolId.NotFound", POOL_FILTERS)
        return {"IpamPools": [pool_view(p, ctx.state.network) for p in page],
                "NextToken": token}

    def ModifyIpamPool(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self._pool(ctx, params["IpamPoolId"])
        trial = IpamPool(
            pool.id, address_family=pool.address_family,
            allocation_min_netmask_length=_rule(params, "AllocationMinNetmaskLength",
                                                pool.allocation_min_netmask_length),
            allocation_max_netmask_length=_rule(params, "AllocationMaxNetmaskLength",
                                                pool.allocation_max_netmask_length),
            allocation_default_netmask_length=None if params.get(
                "ClearAllocationDefaultNetmaskLength") else _rule(
                params, "AllocationDefaultNetmaskLength", pool.allocation_default_netmask_length))
        self._check_rules(trial)
        with ctx.state.write() as w:
            if params.get("Description") is not None:
                pool.description = params["Description"]
            if params.get("AutoImport") is not None:
                pool.auto_import = bool(params["AutoImport"])
            pool.allocation_min_netmask_length = trial.allocation_min_netmask_length
            pool.allocation_max_netmask_length = trial.allocation_max_netmask_length
            pool.allocation_default_netmask_length = trial.allocation_default_netmask_length
            for t in params.get("AddAllocationResourceTags") or []:
                pool.allocation_resource_tags[t["Key"]] = t.get("Value", "")
            for t in params.get("RemoveAllocationResourceTags") or []:
                pool.allocation_resource_tags.pop(t["Key"], None)
            w.save(pool)
        return {"IpamPool": pool_view(pool, ctx.state.network)}

    def DeleteIpamPool(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        """A pool with child pools never goes. Without ``Cascade`` it must hold no CIDRs and
        no allocations; with it, its CIDRs go back to its source pool and its allocations
        are dropped (VPCs keep their addresses)."""
        net = ctx.state.network
        pool = self._pool(ctx, params["IpamPoolId"])
        children = [p.id for p in net.ipam_pools.values() if p.source_pool_id == pool.id]
        if children:
            raise error("IncorrectState", f"The pool {pool.id} cannot be deleted while pool "
                        f"{children[0]} uses it as its source.")
        if (pool.cidrs or pool.allocations) and not params.get("Cascade"):
            raise error("IncorrectState", f"The pool {pool.id} has provisioned CIDRs or "
                        "allocations. Release and deprovision them first, or use cascade.")
        view = pool_view(pool, net)
        with ctx.state.write() as w:
            release_resource(net, "ipam-pool", pool.id, w)
            del net.ipam_pools[pool.id]
            w.deleted.append(("ipam_pools", pool.id))
        return {"IpamPool": {**view, "State": "delete-in-progress"}}

    def _pool(self, ctx: RequestContext, pool_id: str) -> IpamPool:
        pool: IpamPool = owned(ctx, "ipam_pools", pool_id, "InvalidIpamPoolId.NotFound",
                               "ipam pool")
        return pool

    # ------------------------------------------------------------------ pool CIDRs
    def ProvisionIpamPoolCidr(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        """A top-level pool takes the CIDR given; a pool with a source pool takes it (or
        the first free block of ``NetmaskLength``) as an allocation from the source."""
        net = ctx.state.network
        pool = self._pool(ctx, params["IpamPoolId"])
        text, netmask = params.get("Cidr"), params.get("NetmaskLength")
        source = net.ipam_pools.get(pool.source_pool_id) if pool.source_pool_id else None
        allocation: IpamPoolAllocation | None = None
        if source is not None:
            if not text and netmask is None:
                raise error("InvalidParameterCombination", "The request must contain either "
                            "a CIDR or a Netmask Length.")
            allocation = plan_allocation(source, text, netmask, "ipam-pool", pool.id,
                                         pool.locale, pool.account)
            cidr = allocation.cidr
        else:
            if not text:
                raise error("MissingParameter", "The request must contain the parameter cidr")
            cidr = cidr_param(text)
            if _family(cidr) != pool.address_family:
                raise error("InvalidParameterValue", f"The CIDR {cidr} does not match the "
                            f"address family ({pool.address_family}) of pool {pool.id}.")
        clash = next((c for c in pool.cidrs if c.cidr.overlaps(cidr)), None)
        if clash is not None:
            raise error("InvalidParameterValue", f"The CIDR {cidr} overlaps the CIDR "
                        f"{clash.cidr} already provisioned to pool {pool.id}.")
        entry = IpamPoolCidr(new_id("ipam-pool-cidr"), cidr)
        with ctx.state.write() as w:
            if source is not None and allocation is not None:
                source.allocations.append(allocation)
                w.save(source)
            pool.cidrs.append(entry)
            w.save(pool)
        return {"IpamPoolCidr": pool_cidr_view(entry, "pending-provision")}

    def DeprovisionIpamPoolCidr(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        net = ctx.state.network
        pool = self._pool(ctx, params["IpamPoolId"])
        text = params.get("Cidr")
        if not text:
            raise error("MissingParameter", "The request must contain the parameter cidr")
        cidr = cidr_param(text)
        entry = next((c for c in pool.cidrs if c.cidr == cidr), None)
        if entry is None:
            raise error("InvalidParameterValue", f"The CIDR {cidr} is not provisioned to pool "
                        f"{pool.id}.")
        inside = [a for a in pool.allocations if a.cidr.overlaps(cidr)]
        if inside:
            raise error("IncorrectState", f"The CIDR {cidr} of pool {pool.id} still holds "
                        f"allocations (first: {inside[0].cidr}). Release them first.")
        with ctx.state.write() as w:
            pool.cidrs.remove(entry)
            w.save(pool)
            if pool.source_pool_id:
                release_resource(net, "ipam-pool", pool.id, w, cidr)
        return {"IpamPoolCidr": pool_cidr_view(entry, "pending-deprovision")}

    def GetIpamPoolCidrs(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        pool = self._pool(ctx, params["IpamPoolId"])
        rows = apply_filters([pool_cidr_view(c) for c in pool.cidrs], params.get("Filters"),
                             POOL_CIDR_FILTERS)
        page, token = paginate(rows, params, lambda r: str(r["IpamPoolCidrId"]))
        return {"IpamPoolCidrs": page, "NextToken": token}

    # ------------------------------------------------------------------ allocations
    def AllocateIpamPoolCidr(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        """A custom allocation (reserved by hand); ``PreviewNextCidr`` answers the block
        without keeping it."""
        pool = self._pool(ctx, params["IpamPoolId"])
        allocation = plan_allocation(
            pool, params.get("Cidr"), params.get("NetmaskLength"), "custom", None, None,
            ctx.account, params.get("Description") or "", params.get("DisallowedCidrs"))
        for spec in params.get("TagSpecifications") or []:
            for tag in spec.get("Tags") or []:
                allocation.tags[tag["Key"]] = tag.get("Value", "")
        if not params.get("PreviewNextCidr"):
            with ctx.state.write() as w:
                pool.allocations.append(allocation)
                w.save(pool)
        return {"IpamPoolAllocation": allocation_view(allocation)}

    def ReleaseIpamPoolAllocation(self, ctx: RequestContext, params: dict[str, Any]
                                  ) -> dict[str, Any]:
        """Only custom allocations are released by hand; a VPC's goes with the VPC, a
        child pool's with DeprovisionIpamPoolCidr."""
        pool = self._pool(ctx, params["IpamPoolId"])
        alloc_id = params["IpamPoolAllocationId"]
        allocation = next((a for a in pool.allocations if a.allocation_id == alloc_id), None)
        if allocation is None:
            raise error("InvalidIpamPoolAllocationId.NotFound", f"The allocation ID "
                        f"'{alloc_id}' does not exist")
        if str(allocation.cidr) != str(cidr_param(params["Cidr"])):
            raise error("InvalidParameterValue", f"The CIDR {params['Cidr']} does not match "
                        f"allocation {alloc_id} ({allocation.cidr}).")
        if allocation.resource_type != "custom":
            raise error("InvalidParameterValue", f"The allocation {alloc_id} belongs to "
                        f"{allocation.resource_type} {allocation.resource_id}; only custom "
                        "allocations can be released.")
        with ctx.state.write() as w:
            pool.allocations.remove(allocation)
            w.save(pool)
        return {"Success": True}

    def GetIpamPoolAllocations(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        pool = self._pool(ctx, params["IpamPoolId"])
        allocations = pool.allocations
        wanted = params.get("IpamPoolAllocationId")
        if wanted:
            allocations = [a for a in allocations if a.allocation_id == wanted]
            if not allocations:
                raise error("InvalidIpamPoolAllocationId.NotFound", f"The allocation ID "
                            f"'{wanted}' does not exist")
        rows = apply_filters([allocation_view(a) for a in allocations], params.get("Filters"),
                             ALLOCATION_FILTERS)
        page, token = paginate(rows, params, lambda r: str(r["IpamPoolAllocationId"]))
        return {"IpamPoolAllocations": page, "NextToken": token}

    # ------------------------------------------------------------------ resource CIDRs
    def GetIpamResourceCidrs(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        """The VPC CIDRs of the caller's account in the IPAM's operating Regions, as the
        private scope sees them: ``managed`` when allocated from one of its pools, else
        ``unmanaged``; overlap across VPCs; IP usage is the share that subnets take."""
        net = ctx.state.network
        scope = self._scope(ctx, params["IpamScopeId"])
        ipam = net.ipams[scope.ipam_id]
        rows = self._resource_rows(net, scope, ipam, ctx.account) \
            if scope.scope_type == "private" else []
        want_tag = params.get("ResourceTag")
        for key, value in (("IpamPoolId", params.get("IpamPoolId")),
                           ("ResourceId", params.get("ResourceId")),
                           ("ResourceType", params.get("ResourceType")),
                           ("ResourceOwnerId", params.get("ResourceOwner"))):
            if value:
                rows = [r for r in rows if r.get(key) == value]
        if want_tag:
            rows = [r for r in rows if {"Key": want_tag.get("Key"), "Value": want_tag.get(
                "Value", "")} in r["ResourceTags"]]
        rows = apply_filters(rows, params.get("Filters"), RESOURCE_CIDR_FILTERS)
        page, token = paginate(rows, params, lambda r: f"{r['ResourceId']}/{r['ResourceCidr']}")
        return {"IpamResourceCidrs": page, "NextToken": token}

    @staticmethod
    def _resource_rows(net: Network, scope: IpamScope, ipam: Ipam, account: str
                       ) -> list[dict[str, Any]]:
        managed: dict[tuple[str, str], str] = {}
        for pool in net.ipam_pools.values():
            if pool.scope_id == scope.id:
                for a in pool.allocations:
                    if a.resource_type == "vpc" and a.resource_id:
                        managed[(a.resource_id, str(a.cidr))] = pool.id
        vpcs = [v for v in net.vpcs.values()
                if v.account == account and v.region in ipam.operating_regions]
        blocks = [(v, c) for v in vpcs for c in v.cidrs]
        rows = []
        for vpc, cidr in blocks:
            pool_id = managed.get((vpc.id, str(cidr)))
            used = sum(s.cidr.num_addresses for s in net.subnets.values()
                       if s.vpc_id == vpc.id and s.cidr is not None
                       and s.cidr.version == cidr.version and s.cidr.overlaps(cidr))
            overlapping = any(o.id != vpc.id and c.overlaps(cidr)
                              for o, c in blocks)
            rows.append({
                "IpamId": ipam.id, "IpamScopeId": scope.id, "IpamPoolId": pool_id,
                "ResourceRegion": vpc.region, "ResourceOwnerId": vpc.account,
                "ResourceId": vpc.id, "ResourceName": vpc.name, "ResourceCidr": str(cidr),
                "ResourceType": "vpc", "ResourceTags": tags_list(vpc.tags),
                "IpUsage": round(used / cidr.num_addresses, 4),
                "ComplianceStatus": "compliant" if pool_id else "unmanaged",
                "ManagementState": "managed" if pool_id else "unmanaged",
                "OverlapStatus": "overlapping" if overlapping else "nonoverlapping",
                "VpcId": vpc.id})
        return rows

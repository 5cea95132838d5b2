"""VPC sharing: what an account sees of other accounts' VPC resources through AWS RAM.

An owner shares subnets (``ec2:Subnet``) and customer-managed prefix lists
(``ec2:PrefixList``) with participants; once a participant accepts, EC2 shows it:

* the shared subnets and their VPCs (read-only, ``OwnerId`` the owner's account);
* the route tables, network ACLs and internet gateways of those VPCs (read-only: AWS lets
  participants describe them, never create, change or associate them);
* the shared prefix lists (read-only; usable in the participant's routes and SG rules).

The owner, for its part, sees the network interfaces participants create in its subnets
(AWS lists them with the participant's ``OwnerId``), whether or not the share is still there.
Everything else stays private: participants never see each other's resources, nor the
owner's instances, interfaces or security groups.

The share records live in the store's meta (``providers/ram.py``): a RAM write changes what
EC2 shows without touching the model. Reading them costs a query, too much for every
Describe call, so the answers are kept until the next write of meta state
(``ServerState.meta_generation``).
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from localvpc.api.protocols.request import ServiceError
from localvpc.api.providers.ram import shared_with

if TYPE_CHECKING:
    from localvpc.api.context import RequestContext
    from localvpc.api.state import ServerState

# Tables whose resources an account may see without owning them.
SHAREABLE = frozenset({"subnets", "vpcs", "route_tables", "network_acls",
                       "internet_gateways", "prefix_lists", "network_interfaces"})
# Resources of the shared VPCs that participants may describe.
_OF_SHARED_VPC = ("route_tables", "network_acls", "internet_gateways")


def unauthorized() -> ServiceError:
    """What AWS answers when an account acts on a resource it can see but does not own (a
    participant changing the owner's subnet, VPC or route table; the owner changing a
    participant's interface). The exact text for the shared case is not documented: this is
    EC2's generic wording."""
    return ServiceError("UnauthorizedOperation",
                        "You are not authorized to perform this operation.", status=403)


_Key = tuple[str, str, str]
_CACHE: weakref.WeakKeyDictionary[ServerState, tuple[int, dict[_Key, dict[str, str]]]] = \
    weakref.WeakKeyDictionary()


def _accepted(ctx: RequestContext, ram_type: str) -> dict[str, str]:
    """``ram.shared_with`` for the caller, cached until the next write of meta state."""
    state = ctx.state
    generation = state.meta_generation  # read first: a write meanwhile makes a new one
    cached = _CACHE.get(state)
    if cached is None or cached[0] != generation:
        cached = (generation, {})
        _CACHE[state] = cached
    key = (ctx.account, ctx.region, ram_type)
    found = cached[1].get(key)
    if found is None:
        found = shared_with(state, ctx.account, ctx.region, ram_type)
        cached[1][key] = found
    return found


def _shared(ctx: RequestContext, ram_type: str, table: str) -> dict[str, str]:
    """Resources of ``table`` shared with the caller and still there: id -> owner."""
    items: Mapping[str, Any] = getattr(ctx.state.network, table)
    found: dict[str, str] = {}
    for rid, owner in _accepted(ctx, ram_type).items():
        r = items.get(rid)
        if r is not None and r.account == owner and r.region == ctx.region \
                and owner != ctx.account:
            found[rid] = owner
    return found


def shared_subnets(ctx: RequestContext) -> dict[str, str]:
    return _shared(ctx, "ec2:Subnet", "subnets")


def shared_vpcs(ctx: RequestContext) -> dict[str, str]:
    """VPCs the caller participates in (one of their subnets is shared with it)."""
    subnets = ctx.state.network.subnets
    return {subnets[sid].vpc_id: owner for sid, owner in shared_subnets(ctx).items()}


def shared_ids(ctx: RequestContext, table: str) -> dict[str, str]:
    """Resources of ``table`` the caller sees without owning them: id -> owning account."""
    if table not in SHAREABLE:
        return {}
    net = ctx.state.network
    if table == "subnets":
        return shared_subnets(ctx)
    if table == "prefix_lists":
        return {k: o for k, o in _shared(ctx, "ec2:PrefixList", "prefix_lists").items()
                if net.prefix_lists[k].owner_id == o}  # customer-managed only
    if table == "network_interfaces":
        return _participant_interfaces(ctx)
    vpcs = shared_vpcs(ctx)
    if not vpcs:
        return {}
    if table == "vpcs":
        return vpcs
    items: Mapping[str, Any] = getattr(net, table)
    return {k: r.account for k, r in items.items()
            if getattr(r, "vpc_id", None) in vpcs and r.account == vpcs[r.vpc_id]}


def _participant_interfaces(ctx: RequestContext) -> dict[str, str]:
    """Other accounts' interfaces in the caller's subnets (the owner's view)."""
    net = ctx.state.network
    out: dict[str, str] = {}
    for k, e in net.network_interfaces.items():
        if e.account == ctx.account or e.region != ctx.region:
            continue
        subnet = net.subnets.get(e.subnet_id)
        if subnet is not None and subnet.account == ctx.account:
            out[k] = e.account
    return out


def shared_owner(ctx: RequestContext, table: str, resource_id: str) -> str | None:
    """The account owning ``resource_id`` when the caller sees it through sharing only."""
    if table not in SHAREABLE:
        return None
    return shared_ids(ctx, table).get(resource_id)


def check_own_default_group(ctx: RequestContext, group_account: str, vpc_id: str) -> None:
    """AWS: participants cannot launch with the VPC's default security group, which belongs
    to the owner; they must name a group of their own. The error code is not documented:
    ``InvalidParameterValue`` is ASSUMED."""
    if group_account != ctx.account:
        raise ServiceError("InvalidParameterValue", f"The default security group of VPC "
                           f"'{vpc_id}' belongs to its owner, account {group_account}: "
                           "specify a security group of your own.")

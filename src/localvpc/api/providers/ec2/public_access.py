"""VPC Block Public Access: the account's mode in a Region and the exclusions of VPCs and
subnets from it. Stored as model resources so the data plane enforces them
(``dataplane/public_access.py``)."""

from __future__ import annotations

import time
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_tag_specs,
    describe,
    error,
    new_id,
    owned,
    persist_new,
    scoped,
    tags_list,
)
from localvpc.api.state import Changes
from localvpc.model.network import Network
from localvpc.model.public_access import (
    BlockMode,
    ExclusionMode,
    VpcBlockPublicAccessExclusion,
    VpcBlockPublicAccessOptions,
    options_id,
)

# Writes answer the state AWS answers while a change settles (``...-in-progress``); localvpc
# settles at once, so Describe* shows the settled state (``...-complete``) right after.
NOT_FOUND = "InvalidVpcBlockPublicAccessExclusionId.NotFound"


def resource_arn(e: VpcBlockPublicAccessExclusion) -> str:
    kind = "subnet" if e.subnet_id else "vpc"
    return f"arn:aws:ec2:{e.region}:{e.account}:{kind}/{e.resource_id}"


def exclusion_view(e: VpcBlockPublicAccessExclusion, state: str | None = None
                   ) -> dict[str, Any]:
    return {"ExclusionId": e.id, "InternetGatewayExclusionMode": e.mode.value,
            "ResourceArn": resource_arn(e), "State": state or e.state,
            "CreationTimestamp": e.created, "LastUpdateTimestamp": e.last_update,
            "DeletionTimestamp": e.deleted, "Tags": tags_list(e.tags)}


EXCLUSION_FILTERS = {
    "resource-arn": lambda e: [resource_arn(e)],
    "internet-gateway-exclusion-mode": lambda e: [e.mode.value],
    "state": lambda e: [e.state],
}


def retire_exclusions(network: Network, resource_id: str, w: Changes) -> None:
    """The exclusions of a deleted VPC or subnet end with it (ASSUMED: AWS does not say; an
    exclusion of a resource that is gone would otherwise be listed as in force)."""
    for e in network.block_public_access_exclusions.values():
        if e.live and e.resource_id == resource_id:
            e.state, e.deleted = "delete-complete", time.time()
            w.save(e)


def _mode(value: str | None, allowed: type[BlockMode] | type[ExclusionMode], param: str
          ) -> str:
    valid = [m.value for m in allowed]
    if value not in valid:
        raise error("InvalidParameterValue", f"Value ({value}) for parameter {param} is "
                    f"invalid. Valid values: {', '.join(valid)}.")
    return value


class PublicAccessOperations:
    def _options(self, ctx: RequestContext) -> VpcBlockPublicAccessOptions | None:
        found: VpcBlockPublicAccessOptions | None = ctx.state.network \
            .block_public_access_options.get(options_id(ctx.account, ctx.region))
        return found

    def _options_view(self, ctx: RequestContext, state: str | None = None) -> dict[str, Any]:
        o = self._options(ctx)
        return {"AwsAccountId": ctx.account, "AwsRegion": ctx.region,
                "State": state or ("update-complete" if o is not None else "default-state"),
                "InternetGatewayBlockMode": (o.internet_gateway_block_mode.value
                                             if o is not None else BlockMode.OFF.value),
                "LastUpdateTimestamp": o.last_update if o is not None else None,
                "ManagedBy": "account", "ExclusionsAllowed": "allowed"}

    def DescribeVpcBlockPublicAccessOptions(self, ctx: RequestContext, params: dict[str, Any]
                                            ) -> dict[str, Any]:
        return {"VpcBlockPublicAccessOptions": self._options_view(ctx)}

    def ModifyVpcBlockPublicAccessOptions(self, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
        mode = BlockMode(_mode(params.get("InternetGatewayBlockMode"), BlockMode,
                               "InternetGatewayBlockMode"))
        o = self._options(ctx)
        if o is None:
            o = VpcBlockPublicAccessOptions(options_id(ctx.account, ctx.region), ctx.account,
                                            ctx.region)
        o.internet_gateway_block_mode, o.last_update = mode, time.time()
        with ctx.state.write() as w:
            ctx.state.network.add(o)
            w.save(o)
        return {"VpcBlockPublicAccessOptions": self._options_view(ctx, "update-in-progress")}

    def CreateVpcBlockPublicAccessExclusion(self, ctx: RequestContext, params: dict[str, Any]
                                            ) -> dict[str, Any]:
        """One VPC or one subnet of the caller's, at most one live exclusion each (ASSUMED:
        AWS documents no code for a second one; localvpc refuses it)."""
        mode = ExclusionMode(_mode(params.get("InternetGatewayExclusionMode"), ExclusionMode,
                                   "InternetGatewayExclusionMode"))
        vpc_id, subnet_id = params.get("VpcId"), params.get("SubnetId")
        if vpc_id and subnet_id:
            raise error("InvalidParameterCombination", "Specify either VpcId or SubnetId, "
                        "not both.")
        if not vpc_id and not subnet_id:
            raise error("MissingParameter", "The request must contain the parameter VpcId or "
                        "SubnetId")
        if vpc_id:
            owned(ctx, "vpcs", vpc_id, "InvalidVpcID.NotFound", "vpc")
        else:
            owned(ctx, "subnets", subnet_id or "", "InvalidSubnetID.NotFound", "subnet")
        target = vpc_id or subnet_id
        existing = next((e for e in scoped(ctx.state.network.block_public_access_exclusions,
                                           ctx.account, ctx.region).values()
                         if e.live and e.resource_id == target), None)
        if existing is not None:
            raise error("InvalidParameterValue", f"The resource {target} already has the "
                        f"exclusion {existing.id}; modify it instead.")
        now = time.time()
        e = VpcBlockPublicAccessExclusion(new_id("vpcbpa-exclude"), ctx.account, ctx.region,
                                          vpc_id=vpc_id, subnet_id=subnet_id, mode=mode,
                                          created=now, last_update=now)
        apply_tag_specs(e, params, "vpc-block-public-access-exclusion")
        persist_new(ctx, e)
        return {"VpcBlockPublicAccessExclusion": exclusion_view(e, "create-in-progress")}

    def DescribeVpcBlockPublicAccessExclusions(self, ctx: RequestContext,
                                               params: dict[str, Any]) -> dict[str, Any]:
        page, token = describe(ctx, "block_public_access_exclusions", params, "ExclusionIds",
                               "exclusion", NOT_FOUND, EXCLUSION_FILTERS)
        return {"VpcBlockPublicAccessExclusions": [exclusion_view(e) for e in page],
                "NextToken": token}

    def _live_exclusion(self, ctx: RequestContext, exclusion_id: str
                        ) -> VpcBlockPublicAccessExclusion:
        e: VpcBlockPublicAccessExclusion = owned(
            ctx, "block_public_access_exclusions", exclusion_id, NOT_FOUND, "exclusion")
        if not e.live:
            raise error("IncorrectState", f"The exclusion {e.id} is in state {e.state}.")
        return e

    def ModifyVpcBlockPublicAccessExclusion(self, ctx: RequestContext, params: dict[str, Any]
                                            ) -> dict[str, Any]:
        mode = ExclusionMode(_mode(params.get("InternetGatewayExclusionMode"), ExclusionMode,
                                   "InternetGatewayExclusionMode"))
        e = self._live_exclusion(ctx, params["ExclusionId"])
        with ctx.state.write() as w:
            e.mode, e.state, e.last_update = mode, "update-complete", time.time()
            w.save(e)
        return {"VpcBlockPublicAccessExclusion": exclusion_view(e, "update-in-progress")}

    def DeleteVpcBlockPublicAccessExclusion(self, ctx: RequestContext, params: dict[str, Any]
                                            ) -> dict[str, Any]:
        """The exclusion stays listed as ``delete-complete`` (AWS shows deleted ones for a
        while; localvpc keeps them) and no longer exempts anything."""
        e = self._live_exclusion(ctx, params["ExclusionId"])
        with ctx.state.write() as w:
            e.state, e.deleted = "delete-complete", time.time()
            e.last_update = e.deleted
            w.save(e)
        return {"VpcBlockPublicAccessExclusion": exclusion_view(e, "delete-in-progress")}

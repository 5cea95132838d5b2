"""CreateTags, DeleteTags, DescribeTags over every taggable resource, whatever its kind."""

from __future__ import annotations

from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import apply_filters, error, paginate

# AWS's resource-type names for DescribeTags, by id prefix.
RESOURCE_TYPES = {
    "vpc": "vpc", "subnet": "subnet", "rtb": "route-table", "igw": "internet-gateway",
    "eigw": "egress-only-internet-gateway", "nat": "natgateway", "eni": "network-interface",
    "i": "instance", "sg": "security-group", "acl": "network-acl", "pl": "prefix-list",
    "pcx": "vpc-peering-connection", "tgw": "transit-gateway",
    "tgw-attach": "transit-gateway-attachment", "tgw-rtb": "transit-gateway-route-table",
    "vgw": "vpn-gateway", "vpn": "vpn-connection", "cgw": "customer-gateway",
    "vpce": "vpc-endpoint", "lgw": "local-gateway", "lgw-rtb": "local-gateway-route-table",
    "cagw": "carrier-gateway",
}


def resource_type(resource_id: str) -> str:
    prefix = resource_id.rsplit("-", 1)[0]
    return RESOURCE_TYPES.get(prefix, prefix)


class TagOperations:
    def _taggable(self, ctx: RequestContext, resource_id: str) -> Any:
        resource = ctx.state.network.find(resource_id)
        if resource is None or not hasattr(resource, "tags") or getattr(
                resource, "account", ctx.account) != ctx.account:
            kind = resource_type(resource_id)
            raise error(f"Invalid{_camel(kind)}ID.NotFound",
                        f"The ID '{resource_id}' does not exist")
        return resource

    def CreateTags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resources = [self._taggable(ctx, rid) for rid in params.get("Resources") or []]
        with ctx.state.write() as w:
            for r in resources:
                for tag in params.get("Tags") or []:
                    r.tags[tag["Key"]] = tag.get("Value", "")
                w.save(r)
        return {}

    def DeleteTags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resources = [self._taggable(ctx, rid) for rid in params.get("Resources") or []]
        with ctx.state.write() as w:
            for r in resources:
                for tag in params.get("Tags") or [{"Key": k} for k in list(r.tags)]:
                    value = tag.get("Value")
                    if tag["Key"] in r.tags and (value is None or r.tags[tag["Key"]] == value):
                        del r.tags[tag["Key"]]
                w.save(r)
        return {}

    def DescribeTags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        rows = []
        for table in ctx.state.network.tables().values():
            for r in table.values():
                if getattr(r, "account", None) != ctx.account or getattr(
                        r, "region", None) != ctx.region:
                    continue
                for k, v in getattr(r, "tags", {}).items():
                    rows.append({"ResourceId": r.id, "ResourceType": resource_type(r.id),
                                 "Key": k, "Value": v})
        fields = {"resource-id": lambda t: [t["ResourceId"]],
                  "resource-type": lambda t: [t["ResourceType"]],
                  "key": lambda t: [t["Key"]], "value": lambda t: [t["Value"]],
                  "tag-key": lambda t: [t["Key"]], "tag-value": lambda t: [t["Value"]]}
        rows = apply_filters(rows, params.get("Filters"), fields)
        page, token = paginate(rows, params, lambda t: f"{t['ResourceId']}\0{t['Key']}",
                               minimum=5, maximum=1000)
        return {"Tags": page, "NextToken": token}


def _camel(kind: str) -> str:
    return "".join(p.capitalize() for p in kind.split("-"))

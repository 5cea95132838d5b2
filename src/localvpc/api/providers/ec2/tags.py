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
    "cagw": "carrier-gateway", "eipalloc": "elastic-ip", "dopt": "dhcp-options",
    "vpce-svc": "vpc-endpoint-service", "lgw-vif-grp": "local-gateway-virtual-interface-group",
    "coip-pool": "coip-pool", "tgw-attach-peering": "transit-gateway-attachment",
    "vpcbpa-exclude": "vpc-block-public-access-exclusion",
    "tgw-ptb": "transit-gateway-policy-table",
}

# The not-found code AWS uses for each resource type where it is not Invalid<Type>ID.NotFound.
NOT_FOUND_CODES = {
    "security-group": "InvalidGroup.NotFound",
    "elastic-ip": "InvalidAllocationID.NotFound",
    "natgateway": "InvalidNatGatewayID.NotFound",
    "network-acl": "InvalidNetworkAclID.NotFound",
    "egress-only-internet-gateway": "InvalidEgressOnlyInternetGatewayId.NotFound",
    "vpc-endpoint": "InvalidVpcEndpointId.NotFound",
    "prefix-list": "InvalidPrefixListID.NotFound",
    "vpc-peering-connection": "InvalidVpcPeeringConnectionID.NotFound",
    "dhcp-options": "InvalidDhcpOptionID.NotFound",
    "vpc-block-public-access-exclusion": "InvalidVpcBlockPublicAccessExclusionId.NotFound",
}
MAX_TAGS = 50


def resource_type(resource_id: str) -> str:
    prefix = resource_id.rsplit("-", 1)[0]
    return RESOURCE_TYPES.get(prefix, prefix)


class TagOperations:
    def _taggable(self, ctx: RequestContext, resource_id: str) -> Any:
        """A resource of the caller's account in the caller's Region (tags are regional)."""
        resource = ctx.state.network.find(resource_id)
        if resource is None or not hasattr(resource, "tags") \
                or getattr(resource, "account", ctx.account) != ctx.account \
                or getattr(resource, "region", ctx.region) != ctx.region:
            prefix = resource_id.rsplit("-", 1)[0] if "-" in resource_id else ""
            if prefix not in RESOURCE_TYPES:
                raise error("InvalidID", f"The ID '{resource_id}' is not valid")
            kind = RESOURCE_TYPES[prefix]
            code = NOT_FOUND_CODES.get(kind, f"Invalid{_camel(kind)}ID.NotFound")
            raise error(code, f"The ID '{resource_id}' does not exist")
        return resource

    def CreateTags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        resources = [self._taggable(ctx, rid) for rid in params.get("Resources") or []]
        tags = params.get("Tags") or []
        for tag in tags:
            key = tag.get("Key") or ""
            if not key or key.lower().startswith("aws:") or len(key) > 127 \
                    or len(tag.get("Value") or "") > 255:
                raise error("InvalidParameterValue", f"Tag key '{key}' is invalid: keys are "
                            "1-127 characters, values up to 255, and the 'aws:' prefix is "
                            "reserved.")
        for r in resources:
            if len(set(r.tags) | {t["Key"] for t in tags}) > MAX_TAGS:
                raise error("TagLimitExceeded", f"The maximum number of tags "
                            f"({MAX_TAGS}) for resource {r.id} has been exceeded.")
        with ctx.state.write() as w:
            for r in resources:
                for tag in tags:
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

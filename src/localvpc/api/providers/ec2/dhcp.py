"""DHCP option sets: create, describe, delete, associate with a VPC; the default set AWS
makes for every account in every Region (and gives the default VPC and every new VPC)."""

from __future__ import annotations

import ipaddress
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
from localvpc.model.base import IPAddress
from localvpc.model.vpc import AMAZON_PROVIDED_DNS, DhcpOptions

NOT_FOUND = "InvalidDhcpOptionID.NotFound"
# DhcpConfigurations keys in the order AWS lists them.
KEYS = ("domain-name", "domain-name-servers", "ntp-servers", "netbios-name-servers",
        "netbios-node-type", "ipv6-address-preferred-lease-time")
NETBIOS_NODE_TYPES = (1, 2, 4, 8)
LEASE_TIME = (140, 2147483647)  # seconds (CreateDhcpOptions documentation)


def default_dhcp_key(account: str, region: str) -> str:
    return f"default-dhcp-options/{account}/{region}"


def default_domain_name(region: str) -> str:
    """What AmazonProvidedDNS completes short names with in ``region``."""
    return "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"


def default_dhcp_options_id(ctx: RequestContext) -> str | None:
    """The account's default set in this Region, while it exists (a user may delete it)."""
    dopt_id = ctx.state.meta(default_dhcp_key(ctx.account, ctx.region))
    return dopt_id if dopt_id in ctx.state.network.dhcp_options else None


def ensure_default_dhcp_options(ctx: RequestContext, w: Changes) -> str | None:
    """Make the default set on the account's first call in a Region, within ``w``, and give
    it to the Region's VPCs that have none (state from before option sets were modelled).
    Returns the default set's id (None once the user deleted it)."""
    key = default_dhcp_key(ctx.account, ctx.region)
    if ctx.state.meta(key) is not None:
        return default_dhcp_options_id(ctx)
    net = ctx.state.network
    dopt = DhcpOptions(new_id("dopt"), ctx.account, ctx.region,
                       domain_name=default_domain_name(ctx.region),
                       domain_name_servers=[AMAZON_PROVIDED_DNS], is_default=True)
    net.add(dopt)
    w.save(dopt)
    for vpc in scoped(net.vpcs, ctx.account, ctx.region).values():
        if vpc.dhcp_options_id is None:
            vpc.dhcp_options_id = dopt.id
            w.save(vpc)
    w.meta[key] = dopt.id
    return dopt.id


def configurations(d: DhcpOptions) -> list[dict[str, Any]]:
    """``DhcpConfigurations``: one entry per option that is set, values as strings."""
    values: dict[str, list[str]] = {
        "domain-name": [d.domain_name] if d.domain_name is not None else [],
        "domain-name-servers": list(d.domain_name_servers),
        "ntp-servers": [str(a) for a in d.ntp_servers],
        "netbios-name-servers": [str(a) for a in d.netbios_name_servers],
        "netbios-node-type": ([str(d.netbios_node_type)]
                              if d.netbios_node_type is not None else []),
        "ipv6-address-preferred-lease-time": (
            [str(d.ipv6_address_preferred_lease_time)]
            if d.ipv6_address_preferred_lease_time is not None else []),
    }
    return [{"Key": k, "Values": [{"Value": v} for v in values[k]]}
            for k in KEYS if values[k]]


def dhcp_view(d: DhcpOptions) -> dict[str, Any]:
    return {"DhcpOptionsId": d.id, "OwnerId": d.account,
            "DhcpConfigurations": configurations(d), "Tags": tags_list(d.tags)}


DHCP_FILTERS = {
    "dhcp-options-id": lambda d: [d.id],
    "key": lambda d: [c["Key"] for c in configurations(d)],
    "value": lambda d: [v["Value"] for c in configurations(d) for v in c["Values"]],
    "owner-id": lambda d: [d.account],
}


def _invalid(key: str, value: str, why: str) -> Exception:
    return error("InvalidParameterValue", f"Value ({value}) for parameter {key} is invalid. "
                 f"{why}")


def _split(values: list[str]) -> list[str]:
    """The CLI lets one value carry several, comma-separated (``10.0.0.2,10.0.0.3``)."""
    return [part.strip() for v in values for part in v.split(",") if part.strip()]


def _addresses(key: str, values: list[str], limit: int, v4_only: bool = False,
               per_family: bool = False) -> list[IPAddress]:
    out: list[IPAddress] = []
    for v in values:
        try:
            address = ipaddress.ip_address(v)
        except ValueError:
            raise _invalid(key, v, "It must be an IP address.") from None
        if v4_only and address.version != 4:
            raise _invalid(key, v, "It must be an IPv4 address.")
        out.append(address)
    counts = ([sum(1 for a in out if a.version == f) for f in (4, 6)] if per_family
              else [len(out)])
    if any(c > limit for c in counts):
        most = f"{limit} IPv4 and {limit} IPv6 addresses" if per_family else str(limit)
        raise error("InvalidParameterValue", f"Too many values for {key}: at most {most}.")
    return out


def _integer(key: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise _invalid(key, text, "It must be an integer.") from None


def parse_configurations(raw: list[dict[str, Any]]) -> DhcpOptions:
    """Validate ``DhcpConfigurations`` into an (id-less) ``DhcpOptions``."""
    if not raw:
        raise error("MissingParameter", "The request must contain the parameter "
                    "dhcpConfiguration")
    d = DhcpOptions("")
    seen: set[str] = set()
    for item in raw:
        key = item.get("Key") or ""
        values = [str(v) for v in item.get("Values") or []]
        if key not in KEYS:
            raise error("InvalidParameterValue", f"Value ({key}) for parameter name is "
                        f"invalid. Unrecognized DHCP option name: {key}. Valid options: "
                        + ", ".join(KEYS))
        if key in seen:
            raise error("InvalidParameterValue", f"The DHCP option {key} is given more than "
                        "once.")
        seen.add(key)
        if key != "domain-name":
            values = _split(values)
        if not values:
            raise error("InvalidParameterValue", f"The DHCP option {key} needs a value.")
        if key == "domain-name":
            if len(values) != 1:
                raise error("InvalidParameterValue", "domain-name takes one value (several "
                            "domains go in it separated by spaces).")
            d.domain_name = values[0]
        elif key == "domain-name-servers":
            names = [v for v in values if v != AMAZON_PROVIDED_DNS]
            _addresses(key, names, 4)
            if len(values) > 4:
                raise error("InvalidParameterValue", f"Too many values for {key}: at most 4.")
            d.domain_name_servers = values
        elif key == "ntp-servers":
            d.ntp_servers = _addresses(key, values, 4, per_family=True)
        elif key == "netbios-name-servers":
            d.netbios_name_servers = _addresses(key, values, 4, v4_only=True)
        elif key == "netbios-node-type":
            node_type = _integer(key, values[0])
            if len(values) != 1 or node_type not in NETBIOS_NODE_TYPES:
                raise _invalid(key, ",".join(values), "Valid values are 1, 2, 4 and 8.")
            d.netbios_node_type = node_type
        else:
            lease = _integer(key, values[0])
            if len(values) != 1 or not LEASE_TIME[0] <= lease <= LEASE_TIME[1]:
                raise _invalid(key, ",".join(values), f"It must be between {LEASE_TIME[0]} "
                               f"and {LEASE_TIME[1]} seconds.")
            d.ipv6_address_preferred_lease_time = lease
    return d


class DhcpOperations:
    def CreateDhcpOptions(self, ctx: RequestContext, params: dict[str, Any]
                          ) -> dict[str, Any]:
        d = parse_configurations(params.get("DhcpConfigurations") or [])
        d.id, d.account, d.region = new_id("dopt"), ctx.account, ctx.region
        apply_tag_specs(d, params, "dhcp-options")
        persist_new(ctx, d)
        return {"DhcpOptions": dhcp_view(d)}

    def DescribeDhcpOptions(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        page, token = describe(ctx, "dhcp_options", params, "DhcpOptionsIds", "dhcpOption",
                               NOT_FOUND, DHCP_FILTERS)
        return {"DhcpOptions": [dhcp_view(d) for d in page], "NextToken": token}

    def DeleteDhcpOptions(self, ctx: RequestContext, params: dict[str, Any]
                          ) -> dict[str, Any]:
        net = ctx.state.network
        d = owned(ctx, "dhcp_options", params["DhcpOptionsId"], NOT_FOUND, "dhcpOption")
        users = [v.id for v in net.vpcs.values() if v.dhcp_options_id == d.id]
        if users:
            raise error("DependencyViolation", f"The dhcpOptions '{d.id}' has dependencies "
                        f"and cannot be deleted (associated with {users[0]}).")
        with ctx.state.write() as w:
            del net.dhcp_options[d.id]
            w.deleted.append(("dhcp_options", d.id))
        return {}

    def AssociateDhcpOptions(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        """``default`` means no option set at all (AWS's word for it), not the default set."""
        vpc = owned(ctx, "vpcs", params["VpcId"], "InvalidVpcID.NotFound", "vpc")
        dopt_id = params["DhcpOptionsId"]
        if dopt_id != "default":
            owned(ctx, "dhcp_options", dopt_id, NOT_FOUND, "dhcpOption")
        with ctx.state.write() as w:
            vpc.dhcp_options_id = None if dopt_id == "default" else dopt_id
            w.save(vpc)
        return {}

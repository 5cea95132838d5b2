"""Elastic IP attributes (the reverse DNS name, ``domain-name``) and network border groups.

An Elastic IP is advertised from one network border group: the Region's own (its name) or a
Local Zone's / Wavelength Zone's, which the account must have opted in to (AZ-5). An address
can only be used by resources of the same border group, e.g. a NAT gateway in a subnet of
that zone.
"""

from __future__ import annotations

import re
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import error, paginate, scoped, select_ids
from localvpc.api.providers.ec2.zones import opted_in
from localvpc.model import catalog
from localvpc.model.gateways import ElasticIp
from localvpc.model.vpc import Subnet

LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")


def _zones(ctx: RequestContext) -> list[Any]:
    return catalog.zones(ctx.region, opted_in(ctx)) + [
        z for z in ctx.state.network.zones.values() if z.region == ctx.region]


def border_group(ctx: RequestContext, name: str | None) -> str:
    """The border group AllocateAddress asks for: the Region's, or a Local/Wavelength Zone's
    the account opted in to (``OptInRequired`` otherwise, as for subnets in such a zone;
    AWS's exact code for AllocateAddress is not documented)."""
    if not name or name == ctx.region:
        return ctx.region
    zones = [z for z in _zones(ctx) if z.network_border_group == name]
    if not zones:
        raise error("InvalidParameterValue", f"Invalid value '{name}' for "
                    f"NetworkBorderGroup: it is not a network border group of {ctx.region}.")
    if all(z.opt_in_status == "not-opted-in" for z in zones):
        raise error("OptInRequired", f"You must opt in to the zone group "
                    f"{zones[0].group_name} before allocating addresses in the network "
                    f"border group {name}.")
    return name


def subnet_border_group(ctx: RequestContext, subnet: Subnet) -> str:
    """The border group of the subnet's zone (the Region's for an Availability Zone)."""
    zone = next((z for z in _zones(ctx) if z.name == subnet.availability_zone), None)
    return (zone.network_border_group if zone is not None and zone.network_border_group
            else ctx.region)


def check_same_border_group(ctx: RequestContext, eip: ElasticIp, subnet: Subnet) -> None:
    """An EIP serves only resources of its own border group (AWS's code is not documented;
    InvalidParameterValue is ASSUMED)."""
    group = subnet_border_group(ctx, subnet)
    if (eip.network_border_group or ctx.region) != group:
        raise error("InvalidParameterValue", f"The Elastic IP address {eip.id} is in the "
                    f"network border group {eip.network_border_group}, but {subnet.id} is in "
                    f"{group}.")


def default_ptr(eip: ElasticIp) -> str:
    """The reverse DNS name AWS gives a public IPv4 before the owner sets one."""
    dashed = str(eip.public_ip).replace(".", "-")
    if eip.region == "us-east-1":
        return f"ec2-{dashed}.compute-1.amazonaws.com."
    return f"ec2-{dashed}.{eip.region}.compute.amazonaws.com."


def _fqdn(text: str) -> str:
    """A domain name as a PTR record holds it: lower case, one trailing dot."""
    name = text.strip().lower().rstrip(".")
    labels = name.split(".")
    if not name or len(name) > 253 or len(labels) < 2 \
            or not all(LABEL.fullmatch(label) for label in labels):
        raise error("InvalidParameterValue", f"Value ({text}) for parameter domainName is "
                    "invalid. It must be a valid fully qualified domain name.")
    return name + "."


def _attribute_view(eip: ElasticIp, update: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"PublicIp": str(eip.public_ip), "AllocationId": eip.id,
                           "PtrRecord": eip.ptr_record or default_ptr(eip)}
    if update is not None:
        out["PtrRecordUpdate"] = {"Value": update, "Status": "PENDING"}
    return out


class AddressOperations:
    def _own_eip(self, ctx: RequestContext, allocation_id: str) -> ElasticIp:
        eip = scoped(ctx.state.network.elastic_ips, ctx.account, ctx.region).get(
            allocation_id)
        if eip is None:
            raise error("InvalidAllocationID.NotFound",
                        f"The allocation ID '{allocation_id}' does not exist")
        return eip

    def ModifyAddressAttribute(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        # AWS also checks that the name's forward (A) record points at the address; localvpc
        # has no public DNS to ask, so any well-formed name is accepted.
        eip = self._own_eip(ctx, params["AllocationId"])
        if not params.get("DomainName"):
            raise error("MissingParameter", "The request must contain the parameter "
                        "DomainName")
        name = _fqdn(params["DomainName"])
        before = _attribute_view(eip, update=name)
        with ctx.state.write() as w:
            eip.ptr_record = name
            w.save(eip)
        # The answer shows the record as it was and the update as PENDING, as AWS does; the
        # update is applied at once, so DescribeAddressesAttribute already shows the new name.
        return {"Address": before}

    def ResetAddressAttribute(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        eip = self._own_eip(ctx, params["AllocationId"])
        if params["Attribute"] != "domain-name":
            raise error("InvalidParameterValue", f"Value ({params['Attribute']}) for "
                        "parameter attribute is invalid. Expected: domain-name.")
        before = _attribute_view(eip, update=default_ptr(eip))
        with ctx.state.write() as w:
            eip.ptr_record = None
            w.save(eip)
        return {"Address": before}

    def DescribeAddressesAttribute(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        attribute = params.get("Attribute")
        if attribute is None:
            raise error("MissingParameter", "The request must contain the parameter "
                        "Attribute")
        if attribute != "domain-name":
            raise error("InvalidParameterValue", f"Value ({attribute}) for parameter "
                        "attribute is invalid. Expected: domain-name.")
        eips = scoped(ctx.state.network.elastic_ips, ctx.account, ctx.region)
        found = select_ids(eips, params.get("AllocationIds"), "allocation",
                           "InvalidAllocationID.NotFound")
        page, token = paginate(found, params, lambda e: e.id, minimum=1, maximum=1000)
        return {"Addresses": [_attribute_view(e) for e in page], "NextToken": token}

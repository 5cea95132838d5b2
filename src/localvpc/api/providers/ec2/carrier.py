"""Carrier gateways: a Wavelength VPC's way to the carrier network and the internet."""

from __future__ import annotations

from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_tag_specs,
    describe,
    error,
    new_id,
    owned,
    persist_new,
    tags_list,
)
from localvpc.api.providers.ec2.routing import refresh_route_states
from localvpc.model import catalog
from localvpc.model.gateways import CarrierGateway
from localvpc.model.zones import ZoneType

NOT_FOUND = "InvalidCarrierGatewayID.NotFound"


def carrier_view(g: CarrierGateway, state: str | None = None) -> dict[str, Any]:
    return {"CarrierGatewayId": g.id, "VpcId": g.vpc_id, "State": state or g.state,
            "OwnerId": g.account, "Tags": tags_list(g.tags)}


CARRIER_FILTERS = {
    "carrier-gateway-id": lambda g: [g.id],
    "state": lambda g: [g.state],
    "owner-id": lambda g: [g.account],
    "vpc-id": lambda g: [g.vpc_id],
}


class CarrierGatewayOperations:
    def CreateCarrierGateway(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        """Only for a VPC with a subnet in a Wavelength Zone, one per VPC (AWS Wavelength
        guide). AWS documents no error code for either refusal: localvpc answers
        ``InvalidParameterValue``."""
        net = ctx.state.network
        vpc = owned(ctx, "vpcs", params["VpcId"], "InvalidVpcID.NotFound", "vpc")
        wavelength = {n for g in catalog.zone_groups(ctx.region)
                      if g.zone_type == ZoneType.WAVELENGTH_ZONE for n in g.zone_names}
        wavelength |= {z.name for z in net.zones.values()
                       if z.zone_type == ZoneType.WAVELENGTH_ZONE}
        if not any(s.availability_zone in wavelength for s in net.subnets_of(vpc.id)):
            raise error("InvalidParameterValue", f"The VPC {vpc.id} has no subnet in a "
                        "Wavelength Zone; carrier gateways are only for such VPCs.")
        existing = next((g for g in net.carrier_gateways.values() if g.vpc_id == vpc.id), None)
        if existing is not None:
            raise error("InvalidParameterValue", f"The VPC {vpc.id} already has the carrier "
                        f"gateway {existing.id}; a VPC has at most one.")
        g = CarrierGateway(new_id("cagw"), ctx.account, ctx.region, vpc_id=vpc.id)
        apply_tag_specs(g, params, "carrier-gateway")
        persist_new(ctx, g)
        # AWS answers "pending"; localvpc provisions at once, so Describe shows "available".
        return {"CarrierGateway": carrier_view(g, "pending")}

    def DescribeCarrierGateways(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        page, token = describe(ctx, "carrier_gateways", params, "CarrierGatewayIds",
                               "carrier gateway", NOT_FOUND, CARRIER_FILTERS)
        return {"CarrierGateways": [carrier_view(g) for g in page], "NextToken": token}

    def DeleteCarrierGateway(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        """Routes to it stay, as blackholes (AWS: "the route is a blackhole route")."""
        net = ctx.state.network
        g = owned(ctx, "carrier_gateways", params["CarrierGatewayId"], NOT_FOUND,
                  "carrier gateway")
        with ctx.state.write() as w:
            del net.carrier_gateways[g.id]
            w.deleted.append(("carrier_gateways", g.id))
            refresh_route_states(net, w)  # ST-2
        return {"CarrierGateway": carrier_view(g, "deleting")}

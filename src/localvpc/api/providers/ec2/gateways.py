"""NAT gateways and egress-only internet gateways."""

from __future__ import annotations

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
)
from localvpc.api.providers.ec2.instances import check_private_ip, free_address
from localvpc.api.providers.ec2.routing import refresh_route_states
from localvpc.model.gateways import EgressOnlyInternetGateway, NatAddress, NatGateway
from localvpc.model.interfaces import NetworkInterface, PrivateIp


def nat_view(n: NatGateway) -> dict[str, Any]:
    return {"NatGatewayId": n.id, "SubnetId": n.subnet_id, "VpcId": n.vpc_id,
            "State": n.state, "ConnectivityType": n.connectivity_type,
            "NatGatewayAddresses": [{
                "AllocationId": a.allocation_id, "NetworkInterfaceId": a.network_interface_id,
                "PrivateIp": str(a.private_ip),
                "PublicIp": str(a.public_ip) if a.public_ip else None,
                "IsPrimary": a.primary, "Status": "succeeded"} for a in n.addresses],
            "Tags": tags_list(n.tags)}


NAT_FILTERS = {
    "nat-gateway-id": lambda n: [n.id],
    "subnet-id": lambda n: [n.subnet_id],
    "vpc-id": lambda n: [n.vpc_id],
    "state": lambda n: [n.state],
}


class GatewayOperations:
    def CreateNatGateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        subnet = owned(ctx, "subnets", params["SubnetId"], "InvalidSubnetID.NotFound", "subnet")
        kind = params.get("ConnectivityType") or "public"
        if kind not in ("public", "private"):
            raise error("InvalidParameterValue", f"Value ({kind}) for parameter "
                        "connectivityType is invalid. Expected: public | private.")
        allocation = params.get("AllocationId")
        eip = None
        if kind == "public":  # NG-1
            if not allocation:
                raise error("MissingParameter", "The request must contain the parameter "
                            "AllocationId")
            eip = owned(
                ctx, "elastic_ips", allocation, "InvalidAllocationID.NotFound", "allocation")
            if eip.network_interface_id:
                raise error("Resource.AlreadyAssociated", f"Elastic IP address "
                            f"[{allocation}] is already associated")
            if net.internet_gateway_of(subnet.vpc_id) is None:
                raise error("Gateway.NotAttached", f"Network {subnet.vpc_id} has no Internet "
                            "gateway attached")
        elif allocation:
            raise error("InvalidParameterCombination", "A private NAT gateway cannot have an "
                        "Elastic IP address")
        ip = (check_private_ip(net, subnet, params["PrivateIpAddress"])
              if params.get("PrivateIpAddress") else free_address(net, subnet))
        eni = NetworkInterface(new_id("eni"), ctx.account, ctx.region, subnet_id=subnet.id,
                               vpc_id=subnet.vpc_id, availability_zone=subnet.availability_zone,
                               private_ips=[PrivateIp(ip, True, eip.public_ip if eip else None,
                                                      eip.id if eip else None)],
                               source_dest_check=False, interface_type="nat_gateway",
                               requester_id="AWS", attached=True, status="in-use")
        nat = NatGateway(new_id("nat"), ctx.account, ctx.region, vpc_id=subnet.vpc_id,
                         subnet_id=subnet.id, connectivity_type=kind, state="available",
                         addresses=[NatAddress(ip, eip.public_ip if eip else None,
                                               eip.id if eip else None, eni.id)])
        eni.description = f"Interface for NAT Gateway {nat.id}"
        apply_tag_specs(nat, params, "natgateway")
        with ctx.state.write() as w:
            for r in (eni, nat):
                net.add(r)
                w.save(r)
            if eip is not None:
                eip.network_interface_id, eip.private_ip = eni.id, ip
                eip.association_id = "eipassoc-" + new_id("x")[2:]
                w.save(eip)
        # AWS answers "pending" and the gateway is "available" moments later; localvpc
        # provisions at once, so DescribeNatGateways already shows "available".
        return {"NatGateway": nat_view(nat) | {"State": "pending"},
                "ClientToken": params.get("ClientToken")}

    def DescribeNatGateways(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        page, token = describe(ctx, "nat_gateways", params, "NatGatewayIds", "NAT gateway",
                               "NatGatewayNotFound", NAT_FILTERS, filters_param="Filter")
        return {"NatGateways": [nat_view(n) for n in page], "NextToken": token}

    def DeleteNatGateway(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        net = ctx.state.network
        nat = owned(ctx, "nat_gateways", params["NatGatewayId"], "NatGatewayNotFound",
                    message=f"The Nat Gateway {params['NatGatewayId']} was not found")
        if nat.state == "deleted":
            return {"NatGatewayId": nat.id}
        with ctx.state.write() as w:
            nat.state = "deleted"  # NG-11: kept visible; routes to it become blackholes
            w.save(nat)
            for a in nat.addresses:
                if a.network_interface_id in net.network_interfaces:
                    del net.network_interfaces[a.network_interface_id]
                    w.deleted.append(("network_interfaces", a.network_interface_id))
                eip = net.elastic_ips.get(a.allocation_id or "")
                if eip is not None:
                    eip.network_interface_id = eip.private_ip = eip.association_id = None
                    w.save(eip)
            refresh_route_states(net, w)  # NG-11
        return {"NatGatewayId": nat.id}

    # ------------------------------------------------------------------ egress-only IGW
    def CreateEgressOnlyInternetGateway(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        owned(ctx, "vpcs", params["VpcId"], "InvalidVpcID.NotFound", "vpc")
        gw = EgressOnlyInternetGateway(new_id("eigw"), ctx.account, ctx.region,
                                       vpc_id=params["VpcId"])
        apply_tag_specs(gw, params, "egress-only-internet-gateway")
        persist_new(ctx, gw)
        return {"EgressOnlyInternetGateway": self._eigw_view(gw)}

    @staticmethod
    def _eigw_view(gw: EgressOnlyInternetGateway) -> dict[str, Any]:
        return {"EgressOnlyInternetGatewayId": gw.id, "Tags": tags_list(gw.tags),
                "Attachments": [{"VpcId": gw.vpc_id, "State": "attached"}] if gw.vpc_id
                else []}

    def DescribeEgressOnlyInternetGateways(self, ctx: RequestContext, params: dict[str, Any]
                                           ) -> dict[str, Any]:
        items = scoped(ctx.state.network.egress_only_internet_gateways, ctx.account,
                       ctx.region)
        found = select_ids(items, params.get("EgressOnlyInternetGatewayIds"),
                           "egress-only internet gateway",
                           "InvalidEgressOnlyInternetGatewayId.NotFound")
        found = apply_filters(found, params.get("Filters"), {})
        page, token = paginate(found, params, lambda g: g.id, maximum=255)
        return {"EgressOnlyInternetGateways": [self._eigw_view(g) for g in page],
                "NextToken": token}

    def DeleteEgressOnlyInternetGateway(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        net = ctx.state.network
        gid = params["EgressOnlyInternetGatewayId"]
        owned(
            ctx, "egress_only_internet_gateways", gid,
            "InvalidEgressOnlyInternetGatewayId.NotFound",
            message=f"The egress-only internet gateway '{gid}' does not exist")
        with ctx.state.write() as w:
            del net.egress_only_internet_gateways[gid]
            w.deleted.append(("egress_only_internet_gateways", gid))
            refresh_route_states(net, w)  # ST-2
        return {"ReturnCode": True}

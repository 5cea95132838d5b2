"""NAT gateways (with their secondary addresses) and egress-only internet gateways."""

from __future__ import annotations

from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.addresses import check_same_border_group
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
from localvpc.api.providers.ec2.encryption_controls import refuse_if_enforced
from localvpc.api.providers.ec2.instances import check_private_ip, free_address
from localvpc.api.providers.ec2.routing import refresh_route_states
from localvpc.model.base import IPAddress
from localvpc.model.gateways import EgressOnlyInternetGateway, NatAddress, NatGateway
from localvpc.model.interfaces import NetworkInterface, PrivateIp
from localvpc.model.vpc import Subnet

NAT_ADDRESSES_MAX = 8  # NG-6: 1 primary + 7 secondary


def nat_view(n: NatGateway) -> dict[str, Any]:
    return {"NatGatewayId": n.id, "SubnetId": n.subnet_id, "VpcId": n.vpc_id,
            "State": n.state, "ConnectivityType": n.connectivity_type,
            "NatGatewayAddresses": [{
                "AllocationId": a.allocation_id, "NetworkInterfaceId": a.network_interface_id,
                "PrivateIp": str(a.private_ip),
                "PublicIp": str(a.public_ip) if a.public_ip else None,
                "AssociationId": a.association_id,
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
        refuse_if_enforced(net, subnet.vpc_id, kind="NatGateway")
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
            check_same_border_group(ctx, eip, subnet)
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
        association = "eipassoc-" + new_id("x")[2:] if eip is not None else None
        nat = NatGateway(new_id("nat"), ctx.account, ctx.region, vpc_id=subnet.vpc_id,
                         subnet_id=subnet.id, connectivity_type=kind, state="available",
                         addresses=[NatAddress(ip, eip.public_ip if eip else None,
                                               eip.id if eip else None, eni.id,
                                               association_id=association)])
        eni.description = f"Interface for NAT Gateway {nat.id}"
        apply_tag_specs(nat, params, "natgateway")
        with ctx.state.write() as w:
            for r in (eni, nat):
                net.add(r)
                w.save(r)
            if eip is not None:
                eip.network_interface_id, eip.private_ip = eni.id, ip
                eip.association_id = association
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

    # ------------------------------------------------------------------ secondary addresses
    def _nat_for_addresses(self, ctx: RequestContext, nat_id: str, kind: str
                           ) -> tuple[NatGateway, NetworkInterface, Subnet]:
        """An available NAT gateway of connectivity ``kind`` with its ENI and subnet.
        (AWS's codes for the wrong kind or state are not documented: InvalidParameterValue
        and IncorrectState are ASSUMED.)"""
        net = ctx.state.network
        nat: NatGateway = owned(ctx, "nat_gateways", nat_id, "NatGatewayNotFound",
                                message=f"The Nat Gateway {nat_id} was not found")
        if nat.state != "available":
            raise error("IncorrectState", f"The NAT gateway {nat.id} is {nat.state}.")
        if nat.connectivity_type != kind:
            raise error("InvalidParameterValue", f"The NAT gateway {nat.id} is "
                        f"{nat.connectivity_type}; this operation is for {kind} NAT "
                        "gateways.")
        eni = net.network_interfaces.get(nat.network_interface_id or "")
        subnet = net.subnets.get(nat.subnet_id)
        if eni is None or subnet is None:
            raise error("IncorrectState", f"The NAT gateway {nat.id} has no network "
                        "interface in this Region.")
        return nat, eni, subnet

    @staticmethod
    def _new_nat_ips(ctx: RequestContext, nat: NatGateway, subnet: Subnet,
                     wanted: list[str] | None, count: int) -> list[IPAddress]:
        """``count`` new private IPs: the ``wanted`` ones (checked) or the subnet's next free
        ones; NG-6: at most 8 addresses per NAT gateway, the primary included."""
        if len(nat.addresses) + count > NAT_ADDRESSES_MAX:
            raise error("PrivateIpAddressLimitExceeded", f"A NAT gateway has at most "
                        f"{NAT_ADDRESSES_MAX} addresses; {nat.id} has "
                        f"{len(nat.addresses)}.")
        net = ctx.state.network
        ips: list[IPAddress] = []
        for i in range(count):
            ips.append(check_private_ip(net, subnet, wanted[i], set(ips)) if wanted
                       else free_address(net, subnet, set(ips)))
        return ips

    @staticmethod
    def _address_rows(nat: NatGateway, addresses: list[NatAddress], status: str
                      ) -> dict[str, Any]:
        rows = [{"AllocationId": a.allocation_id, "NetworkInterfaceId": a.network_interface_id,
                 "PrivateIp": str(a.private_ip),
                 "PublicIp": str(a.public_ip) if a.public_ip else None,
                 "AssociationId": a.association_id, "IsPrimary": a.primary,
                 "Status": status} for a in addresses]
        return {"NatGatewayId": nat.id, "NatGatewayAddresses": rows}

    def AssignPrivateNatGatewayAddress(self, ctx: RequestContext, params: dict[str, Any]
                                       ) -> dict[str, Any]:
        nat, eni, subnet = self._nat_for_addresses(ctx, params["NatGatewayId"], "private")
        wanted, count = params.get("PrivateIpAddresses"), params.get("PrivateIpAddressCount")
        if wanted and count:
            raise error("InvalidParameterCombination", "Specify either PrivateIpAddresses or "
                        "PrivateIpAddressCount, not both.")
        if not wanted and not count:
            raise error("MissingParameter", "The request must contain the parameter "
                        "PrivateIpAddresses or PrivateIpAddressCount")
        ips = self._new_nat_ips(ctx, nat, subnet, wanted,
                                len(wanted) if wanted else int(count or 0))
        added = [NatAddress(ip, network_interface_id=eni.id, primary=False) for ip in ips]
        with ctx.state.write() as w:
            eni.private_ips += [PrivateIp(ip, False) for ip in ips]
            nat.addresses += added
            w.save(eni)
            w.save(nat)
        # AWS reports "assigning" and then "succeeded"; localvpc assigns at once.
        return self._address_rows(nat, added, "assigning")

    def UnassignPrivateNatGatewayAddress(self, ctx: RequestContext, params: dict[str, Any]
                                         ) -> dict[str, Any]:
        nat, eni, _ = self._nat_for_addresses(ctx, params["NatGatewayId"], "private")
        by_ip = {str(a.private_ip): a for a in nat.addresses}
        gone: list[NatAddress] = []
        for text in dict.fromkeys(params["PrivateIpAddresses"]):
            a = by_ip.get(text.strip())
            if a is None:
                raise error("InvalidParameterValue", f"The address {text} is not assigned to "
                            f"{nat.id}.")
            if a.primary:
                raise error("InvalidParameterValue", f"The primary private IP address {text} "
                            f"of {nat.id} cannot be unassigned.")
            gone.append(a)
        # Connections through the address are not drained (MaxDrainDurationSeconds): the
        # address goes at once.
        with ctx.state.write() as w:
            released = {a.private_ip for a in gone}
            eni.private_ips = [p for p in eni.private_ips if p.address not in released]
            nat.addresses = [a for a in nat.addresses if a.private_ip not in released]
            w.save(eni)
            w.save(nat)
        return self._address_rows(nat, gone, "unassigning")

    def AssociateNatGatewayAddress(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        nat, eni, subnet = self._nat_for_addresses(ctx, params["NatGatewayId"], "public")
        allocation_ids = list(dict.fromkeys(params["AllocationIds"]))
        eips = [owned(ctx, "elastic_ips", a, "InvalidAllocationID.NotFound", "allocation")
                for a in allocation_ids]
        for eip in eips:
            if eip.network_interface_id:
                raise error("Resource.AlreadyAssociated", f"Elastic IP address "
                            f"[{eip.id}] is already associated")
            check_same_border_group(ctx, eip, subnet)
        wanted = params.get("PrivateIpAddresses")
        if wanted and len(wanted) != len(eips):
            raise error("InvalidParameterValue", "PrivateIpAddresses must name one private "
                        "IP address for each Elastic IP address.")
        ips = self._new_nat_ips(ctx, nat, subnet, wanted, len(eips))
        added: list[NatAddress] = []
        with ctx.state.write() as w:
            for eip, ip in zip(eips, ips, strict=True):
                eip.network_interface_id, eip.private_ip = eni.id, ip
                eip.association_id = "eipassoc-" + new_id("x")[2:]
                eni.private_ips.append(PrivateIp(ip, False, eip.public_ip, eip.id))
                added.append(NatAddress(ip, eip.public_ip, eip.id, eni.id, primary=False,
                                        association_id=eip.association_id))
                w.save(eip)
            nat.addresses += added
            w.save(eni)
            w.save(nat)
        return self._address_rows(nat, added, "associating")

    def DisassociateNatGatewayAddress(self, ctx: RequestContext, params: dict[str, Any]
                                      ) -> dict[str, Any]:
        net = ctx.state.network
        nat, eni, _ = self._nat_for_addresses(ctx, params["NatGatewayId"], "public")
        by_assoc = {a.association_id: a for a in nat.addresses if a.association_id}
        gone: list[NatAddress] = []
        for assoc in dict.fromkeys(params["AssociationIds"]):
            a = by_assoc.get(assoc)
            if a is None:
                raise error("InvalidAssociationID.NotFound", f"The association ID '{assoc}' "
                            f"does not exist on {nat.id}")
            if a.primary:
                raise error("InvalidParameterValue", f"The primary Elastic IP address of "
                            f"{nat.id} ({assoc}) cannot be disassociated.")
            gone.append(a)
        # AWS drains connections for up to MaxDrainDurationSeconds, then releases the EIP and
        # the private IP mapped to it; localvpc releases both at once.
        with ctx.state.write() as w:
            released = {a.private_ip for a in gone}
            for a in gone:
                eip = net.elastic_ips.get(a.allocation_id or "")
                if eip is not None:
                    eip.network_interface_id = eip.private_ip = eip.association_id = None
                    w.save(eip)
            eni.private_ips = [p for p in eni.private_ips if p.address not in released]
            nat.addresses = [a for a in nat.addresses if a.private_ip not in released]
            w.save(eni)
            w.save(nat)
        return self._address_rows(nat, gone, "disassociating")

    # ------------------------------------------------------------------ egress-only IGW
    def CreateEgressOnlyInternetGateway(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        owned(ctx, "vpcs", params["VpcId"], "InvalidVpcID.NotFound", "vpc")
        refuse_if_enforced(ctx.state.network, params["VpcId"], kind="EgressOnlyInternetGateway")
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

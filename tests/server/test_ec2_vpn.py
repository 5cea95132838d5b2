"""Site-to-Site VPN over the API: VGWs, customer gateways, connections, static routes, VGW
route propagation (RT-15) and what the data plane does with them."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from botocore.exceptions import ClientError
from plane import site, trace

from conftest import Server
from localvpc.dataplane.flow import Disposition

ACCOUNT = "111111111111"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def vgw(ec2: Any, **kwargs: Any) -> str:
    return str(ec2.create_vpn_gateway(Type="ipsec.1", **kwargs)["VpnGateway"]["VpnGatewayId"])


def cgw(ec2: Any, ip: str = "203.0.113.12", asn: int = 65000) -> str:
    out = ec2.create_customer_gateway(Type="ipsec.1", IpAddress=ip, BgpAsn=asn)
    return str(out["CustomerGateway"]["CustomerGatewayId"])


def test_vpn_gateway_lifecycle(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    created = ec2.create_vpn_gateway(Type="ipsec.1", AmazonSideAsn=65010)["VpnGateway"]
    gw = created["VpnGatewayId"]
    assert (created["State"], created["Type"], created["AmazonSideAsn"],
            created["VpcAttachments"]) == ("available", "ipsec.1", 65010, [])
    with pytest.raises(ClientError) as exc:
        ec2.create_vpn_gateway(Type="ipsec.1", AmazonSideAsn=16509)
    assert code(exc) == "InvalidParameterValue"
    v1 = ec2.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    v2 = ec2.create_vpc(CidrBlock="10.2.0.0/16")["Vpc"]["VpcId"]
    assert ec2.attach_vpn_gateway(VpnGatewayId=gw, VpcId=v1)["VpcAttachment"] == {
        "VpcId": v1, "State": "attaching"}
    with pytest.raises(ClientError) as exc:  # one VPC per VGW
        ec2.attach_vpn_gateway(VpnGatewayId=gw, VpcId=v2)
    assert code(exc) == "VpnGatewayAttachmentLimitExceeded"
    with pytest.raises(ClientError) as exc:  # one VGW per VPC
        ec2.attach_vpn_gateway(VpnGatewayId=vgw(ec2), VpcId=v1)
    assert code(exc) == "InvalidVpcState"
    found = ec2.describe_vpn_gateways(Filters=[
        {"Name": "attachment.vpc-id", "Values": [v1]}])["VpnGateways"]
    assert [(g["VpnGatewayId"], g["VpcAttachments"]) for g in found] == [
        (gw, [{"VpcId": v1, "State": "attached"}])]
    with pytest.raises(ClientError) as exc:
        ec2.delete_vpn_gateway(VpnGatewayId=gw)
    assert code(exc) == "IncorrectState"
    ec2.detach_vpn_gateway(VpnGatewayId=gw, VpcId=v1)
    with pytest.raises(ClientError) as exc:
        ec2.detach_vpn_gateway(VpnGatewayId=gw, VpcId=v1)
    assert code(exc) == "InvalidVpnGatewayAttachment.NotFound"
    ec2.delete_vpn_gateway(VpnGatewayId=gw)
    with pytest.raises(ClientError) as exc:
        ec2.describe_vpn_gateways(VpnGatewayIds=[gw])
    assert code(exc) == "InvalidVpnGatewayID.NotFound"


def test_customer_gateways(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    out = ec2.create_customer_gateway(Type="ipsec.1", IpAddress="203.0.113.12", BgpAsn=65001)
    gw = out["CustomerGateway"]
    assert (gw["IpAddress"], gw["BgpAsn"], gw["State"], gw["Type"]) == (
        "203.0.113.12", "65001", "available", "ipsec.1")
    assert cgw(ec2, "203.0.113.12", 65001) == gw["CustomerGatewayId"]  # identical request
    assert cgw(ec2, "203.0.113.12", 65002) != gw["CustomerGatewayId"]
    with pytest.raises(ClientError) as exc:
        ec2.create_customer_gateway(Type="ipsec.1", IpAddress="not-an-ip", BgpAsn=65000)
    assert code(exc) == "InvalidParameterValue"
    by_ip = ec2.describe_customer_gateways(Filters=[
        {"Name": "bgp-asn", "Values": ["65001"]}])["CustomerGateways"]
    assert [g["CustomerGatewayId"] for g in by_ip] == [gw["CustomerGatewayId"]]
    ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=gw["CustomerGatewayId"],
                              VpnGatewayId=vgw(ec2))
    with pytest.raises(ClientError) as exc:
        ec2.delete_customer_gateway(CustomerGatewayId=gw["CustomerGatewayId"])
    assert code(exc) == "IncorrectState"
    with pytest.raises(ClientError) as exc:
        ec2.delete_customer_gateway(CustomerGatewayId="cgw-0123456789abcdef0")
    assert code(exc) == "InvalidCustomerGatewayID.NotFound"


def test_vpn_connection_and_static_routes(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    gw, customer = vgw(ec2), cgw(ec2)
    vpn = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=customer,
                                    VpnGatewayId=gw, Options={"StaticRoutesOnly": True},
                                    TagSpecifications=[{"ResourceType": "vpn-connection",
                                                        "Tags": [{"Key": "site",
                                                                  "Value": "hq"}]}]
                                    )["VpnConnection"]
    vpn_id = vpn["VpnConnectionId"]
    assert vpn["State"] == "pending" and vpn["Options"]["StaticRoutesOnly"] is True
    outside = [t["OutsideIpAddress"] for t in vpn["VgwTelemetry"]]
    assert len(set(outside)) == 2  # two tunnels
    documentation = [ipaddress.ip_network(n) for n in
                     ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24")]
    assert all(any(ipaddress.ip_address(ip) in n for n in documentation) for ip in outside)
    assert [t["OutsideIpAddress"] for t in vpn["Options"]["TunnelOptions"]] == outside

    ec2.create_vpn_connection_route(VpnConnectionId=vpn_id, DestinationCidrBlock="172.16.0.0/16")
    with pytest.raises(ClientError) as exc:
        ec2.create_vpn_connection_route(VpnConnectionId=vpn_id,
                                        DestinationCidrBlock="172.16.0.0/16")
    assert code(exc) == "RouteAlreadyExists"
    seen = ec2.describe_vpn_connections(Filters=[
        {"Name": "route.destination-cidr-block", "Values": ["172.16.0.0/16"]},
        {"Name": "tag:site", "Values": ["hq"]}])["VpnConnections"]
    assert [(v["VpnConnectionId"], v["State"], v["Routes"]) for v in seen] == [
        (vpn_id, "available", [{"DestinationCidrBlock": "172.16.0.0/16", "Source": "Static",
                                "State": "available"}])]
    ec2.delete_vpn_connection_route(VpnConnectionId=vpn_id, DestinationCidrBlock="172.16.0.0/16")
    with pytest.raises(ClientError) as exc:
        ec2.delete_vpn_connection_route(VpnConnectionId=vpn_id,
                                        DestinationCidrBlock="172.16.0.0/16")
    assert code(exc) == "InvalidRoute.NotFound"

    with pytest.raises(ClientError) as exc:  # InvalidOption.Conflict: same VGW and CGW
        ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=customer, VpnGatewayId=gw)
    assert code(exc) == "InvalidOption.Conflict"
    bgp = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw(ec2, "203.0.113.50"),
                                    VpnGatewayId=gw)["VpnConnection"]["VpnConnectionId"]
    with pytest.raises(ClientError) as exc:
        ec2.create_vpn_connection_route(VpnConnectionId=bgp, DestinationCidrBlock="10.9.0.0/16")
    assert code(exc) == "InvalidVpnConnection.InvalidType"
    with pytest.raises(ClientError) as exc:
        ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=customer)
    assert code(exc) == "MissingParameter"
    tgw_id = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    with pytest.raises(ClientError) as exc:
        ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=customer, VpnGatewayId=gw,
                                  TransitGatewayId=tgw_id)
    assert code(exc) == "InvalidParameterCombination"
    with pytest.raises(ClientError) as exc:
        ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId="cgw-0123456789abcdef0",
                                  VpnGatewayId=gw)
    assert code(exc) == "InvalidCustomerGatewayID.NotFound"
    ec2.delete_vpn_connection(VpnConnectionId=vpn_id)
    with pytest.raises(ClientError) as exc:
        ec2.describe_vpn_connections(VpnConnectionIds=[vpn_id])
    assert code(exc) == "InvalidVpnConnectionID.NotFound"


def test_vpn_on_a_transit_gateway_gets_an_attachment(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    t = ec2.create_transit_gateway()["TransitGateway"]
    default = t["Options"]["AssociationDefaultRouteTableId"]
    vpn = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw(ec2),
                                    TransitGatewayId=t["TransitGatewayId"],
                                    Options={"StaticRoutesOnly": True})["VpnConnection"]
    assert vpn["TransitGatewayId"] == t["TransitGatewayId"] and "VpnGatewayId" not in vpn
    atts = ec2.describe_transit_gateway_attachments(Filters=[
        {"Name": "resource-type", "Values": ["vpn"]}])["TransitGatewayAttachments"]
    assert [(a["ResourceId"], a["Association"]["TransitGatewayRouteTableId"]) for a in atts] == [
        (vpn["VpnConnectionId"], default)]
    with pytest.raises(ClientError) as exc:  # TGW VPNs take TGW static routes instead
        ec2.create_vpn_connection_route(VpnConnectionId=vpn["VpnConnectionId"],
                                        DestinationCidrBlock="172.16.0.0/16")
    assert code(exc) == "InvalidVpnConnection.InvalidType"
    with pytest.raises(ClientError) as exc:
        ec2.delete_transit_gateway(TransitGatewayId=t["TransitGatewayId"])
    assert code(exc) == "DependencyViolation"
    ec2.delete_vpn_connection(VpnConnectionId=vpn["VpnConnectionId"])
    assert ec2.describe_transit_gateway_attachments()["TransitGatewayAttachments"] == []
    assert ec2.get_transit_gateway_route_table_propagations(
        TransitGatewayRouteTableId=default)["TransitGatewayRouteTablePropagations"] == []


def _propagating(ec2: Any, rtb: str) -> list[str]:
    table = ec2.describe_route_tables(RouteTableIds=[rtb])["RouteTables"][0]
    return [g["GatewayId"] for g in table["PropagatingVgws"]]


def test_route_propagation_takes_traffic_to_the_customer_network(fresh: Server) -> None:
    ec2 = fresh.client("ec2", account=ACCOUNT)
    s = site(ec2, "10.1.0.0/16", "10.1.1.0/24")
    gw = vgw(ec2)
    with pytest.raises(ClientError) as exc:  # the VGW must be attached to the table's VPC
        ec2.enable_vgw_route_propagation(RouteTableId=s.route_table_id, GatewayId=gw)
    assert code(exc) == "Gateway.NotAttached"
    ec2.attach_vpn_gateway(VpnGatewayId=gw, VpcId=s.vpc_id)
    vpn = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw(ec2),
                                    VpnGatewayId=gw, Options={"StaticRoutesOnly": True})[
        "VpnConnection"]["VpnConnectionId"]
    ec2.create_vpn_connection_route(VpnConnectionId=vpn, DestinationCidrBlock="172.16.0.0/16")
    assert trace(fresh, s.instance_id, "172.16.5.5", dst_port=22).disposition == \
        Disposition.NO_ROUTE

    ec2.enable_vgw_route_propagation(RouteTableId=s.route_table_id, GatewayId=gw)
    ec2.enable_vgw_route_propagation(RouteTableId=s.route_table_id, GatewayId=gw)  # no-op
    assert _propagating(ec2, s.route_table_id) == [gw]
    out = trace(fresh, s.instance_id, "172.16.5.5", dst_port=22)
    assert out.disposition == Disposition.EXITS_NETWORK
    assert [h.node for h in out.hops if h.type == "vpn-gateway"] == [gw]
    assert vpn in out.reason
    # Outside the VPN's routes there is still no route.
    assert trace(fresh, s.instance_id, "172.17.0.1", dst_port=22).disposition == \
        Disposition.NO_ROUTE

    ec2.disable_vgw_route_propagation(RouteTableId=s.route_table_id, GatewayId=gw)
    assert _propagating(ec2, s.route_table_id) == []
    assert trace(fresh, s.instance_id, "172.16.5.5", dst_port=22).disposition == \
        Disposition.NO_ROUTE

    # A static route to the VGW turns into a blackhole when the VGW is detached (ST-2).
    ec2.create_route(RouteTableId=s.route_table_id, DestinationCidrBlock="172.16.0.0/16",
                     GatewayId=gw)
    ec2.enable_vgw_route_propagation(RouteTableId=s.route_table_id, GatewayId=gw)
    ec2.detach_vpn_gateway(VpnGatewayId=gw, VpcId=s.vpc_id)
    table = ec2.describe_route_tables(RouteTableIds=[s.route_table_id])["RouteTables"][0]
    assert [r["State"] for r in table["Routes"] if r.get("GatewayId") == gw] == ["blackhole"]
    assert table["PropagatingVgws"] == []
    assert trace(fresh, s.instance_id, "172.16.5.5", dst_port=22).disposition == \
        Disposition.NULL_ROUTED

"""Local gateway route tables, VPC associations, virtual interfaces and their groups (on the
Outpost of ``examples/outposts-lgw-ingress.yaml``), and Site-to-Site VPN changes: moving a
connection between a VPN gateway and a transit gateway, connection and tunnel options, and
device sample configurations (one through the AWS CLI)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError
from plane import site

from conftest import Server, start_server, stop_server
from localvpc.api.state import ServerState
from localvpc.snapshot.topology import load_topology
from localvpc.store import Store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "outposts-lgw-ingress.yaml"
ACCOUNT = "111122223333"
LGW = "lgw-0a1b2c3d4e5f60001"
TABLE = "lgw-rtb-0a1b2c3d4e5f60001"
VIF_GROUP = "lgw-vif-grp-0a1b2c3d4e5f60001"
OUTPOST_VPC = "vpc-0a1b2c3d4e5f60001"


@pytest.fixture
def outpost(tmp_path: Path) -> Iterator[Server]:
    path = tmp_path / "state.db"
    state = ServerState(Store.open(path))
    state.reset(load_topology(EXAMPLE))
    state.store.close()
    server = start_server(path)
    yield server
    stop_server(server)


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def fails(expected: str, call: Any, **kwargs: Any) -> None:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    assert code(exc) == expected, (kwargs, exc.value.response["Error"])


# ---------------------------------------------------------------------- local gateways
def test_virtual_interfaces_and_groups(outpost: Server) -> None:
    ec2 = outpost.client("ec2", account=ACCOUNT)
    # The Outpost's own group is known from its routes, associated with its table.
    (implied,) = ec2.describe_local_gateway_virtual_interface_groups()[
        "LocalGatewayVirtualInterfaceGroups"]
    assert (implied["LocalGatewayVirtualInterfaceGroupId"], implied["LocalGatewayId"],
            implied["LocalGatewayVirtualInterfaceIds"]) == (VIF_GROUP, LGW, [])
    (assoc,) = ec2.describe_local_gateway_route_table_virtual_interface_group_associations()[
        "LocalGatewayRouteTableVirtualInterfaceGroupAssociations"]
    assert (assoc["LocalGatewayRouteTableId"], assoc["LocalGatewayVirtualInterfaceGroupId"],
            assoc["State"]) == (TABLE, VIF_GROUP, "associated")
    fails("DependencyViolation", ec2.delete_local_gateway_virtual_interface_group,
          LocalGatewayVirtualInterfaceGroupId=VIF_GROUP)

    fails("InvalidLocalGatewayID.NotFound", ec2.create_local_gateway_virtual_interface_group,
          LocalGatewayId="lgw-0123456789abcdef0", LocalBgpAsn=65100)
    fails("MissingParameter", ec2.create_local_gateway_virtual_interface_group,
          LocalGatewayId=LGW)
    group = ec2.create_local_gateway_virtual_interface_group(
        LocalGatewayId=LGW, LocalBgpAsn=65100)["LocalGatewayVirtualInterfaceGroup"]
    gid = group["LocalGatewayVirtualInterfaceGroupId"]
    assert group["ConfigurationState"] == "pending" and group["LocalBgpAsn"] == 65100
    (listed,) = ec2.describe_local_gateway_virtual_interface_groups(
        LocalGatewayVirtualInterfaceGroupIds=[gid])["LocalGatewayVirtualInterfaceGroups"]
    assert listed["ConfigurationState"] == "incomplete"  # no interface yet

    base = {"LocalGatewayVirtualInterfaceGroupId": gid, "OutpostLagId": "outpost-lag-0a1b2c",
            "Vlan": 100, "LocalAddress": "10.20.0.1/30", "PeerAddress": "10.20.0.2",
            "PeerBgpAsn": 65200}
    for bad, expected in (({"Vlan": 5000}, "InvalidParameterValue"),
                          ({"OutpostLagId": "lag-1"}, "InvalidParameterValue"),
                          ({"PeerAddress": "10.30.0.2"}, "InvalidParameterValue"),
                          ({"LocalGatewayVirtualInterfaceGroupId": "lgw-vif-grp-0123456789ab"},
                           "InvalidLocalGatewayVirtualInterfaceGroupID.NotFound")):
        fails(expected, ec2.create_local_gateway_virtual_interface, **{**base, **bad})
    vif = ec2.create_local_gateway_virtual_interface(**base)["LocalGatewayVirtualInterface"]
    vif_id = vif["LocalGatewayVirtualInterfaceId"]
    assert (vif["LocalGatewayId"], vif["Vlan"], vif["LocalBgpAsn"], vif["PeerBgpAsn"],
            vif["ConfigurationState"]) == (LGW, 100, 65100, 65200, "pending")
    assert vif["LocalGatewayVirtualInterfaceArn"] == (
        f"arn:aws:ec2:us-east-1:{ACCOUNT}:local-gateway-virtual-interface/{vif_id}")
    fails("InvalidParameterValue", ec2.create_local_gateway_virtual_interface, **base)
    found = ec2.describe_local_gateway_virtual_interfaces(Filters=[
        {"Name": "vlan", "Values": ["100"]}])["LocalGatewayVirtualInterfaces"]
    assert [v["LocalGatewayVirtualInterfaceId"] for v in found] == [vif_id]
    (listed,) = ec2.describe_local_gateway_virtual_interface_groups(Filters=[
        {"Name": "local-gateway-virtual-interface-id", "Values": [vif_id]}])[
        "LocalGatewayVirtualInterfaceGroups"]
    assert listed["ConfigurationState"] == "available"
    assert listed["LocalGatewayVirtualInterfaceIds"] == [vif_id]
    fails("DependencyViolation", ec2.delete_local_gateway_virtual_interface_group,
          LocalGatewayVirtualInterfaceGroupId=gid)
    ec2.delete_local_gateway_virtual_interface(LocalGatewayVirtualInterfaceId=vif_id)
    fails("InvalidLocalGatewayVirtualInterfaceID.NotFound",
          ec2.describe_local_gateway_virtual_interfaces,
          LocalGatewayVirtualInterfaceIds=[vif_id])
    gone = ec2.delete_local_gateway_virtual_interface_group(
        LocalGatewayVirtualInterfaceGroupId=gid)["LocalGatewayVirtualInterfaceGroup"]
    assert gone["ConfigurationState"] == "deleting"


def test_route_tables_and_their_associations(outpost: Server) -> None:
    ec2 = outpost.client("ec2", account=ACCOUNT)
    fails("InvalidParameterValue", ec2.create_local_gateway_route_table, LocalGatewayId=LGW,
          Mode="bogus")
    table = ec2.create_local_gateway_route_table(
        LocalGatewayId=LGW, Mode="direct-vpc-routing",
        TagSpecifications=[{"ResourceType": "local-gateway-route-table",
                            "Tags": [{"Key": "Name", "Value": "second"}]}]
    )["LocalGatewayRouteTable"]
    tid = table["LocalGatewayRouteTableId"]
    assert (table["State"], table["Mode"], table["LocalGatewayId"]) == (
        "pending", "direct-vpc-routing", LGW)
    (listed,) = ec2.describe_local_gateway_route_tables(Filters=[
        {"Name": "tag:Name", "Values": ["second"]}])["LocalGatewayRouteTables"]
    assert listed["LocalGatewayRouteTableId"] == tid and listed["State"] == "available"

    # A VPC uses one table of a local gateway.
    vpc = ec2.create_vpc(CidrBlock="10.50.0.0/16")["Vpc"]["VpcId"]
    fails("Resource.AlreadyAssociated", ec2.create_local_gateway_route_table_vpc_association,
          LocalGatewayRouteTableId=tid, VpcId=OUTPOST_VPC)
    fails("InvalidVpcID.NotFound", ec2.create_local_gateway_route_table_vpc_association,
          LocalGatewayRouteTableId=tid, VpcId="vpc-0123456789abcdef0")
    made = ec2.create_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableId=tid, VpcId=vpc, TagSpecifications=[{
            "ResourceType": "local-gateway-route-table-vpc-association",
            "Tags": [{"Key": "team", "Value": "net"}]}]
    )["LocalGatewayRouteTableVpcAssociation"]
    assoc_id = made["LocalGatewayRouteTableVpcAssociationId"]
    assert made["State"] == "pending" and made["VpcId"] == vpc
    (seen,) = ec2.describe_local_gateway_route_table_vpc_associations(
        LocalGatewayRouteTableVpcAssociationIds=[assoc_id])[
        "LocalGatewayRouteTableVpcAssociations"]
    assert (seen["State"], seen["Tags"]) == ("associated", [{"Key": "team", "Value": "net"}])

    # A new VIF group serves the new table; routes may target it once it exists.
    gid = ec2.create_local_gateway_virtual_interface_group(
        LocalGatewayId=LGW, LocalBgpAsn=65100)["LocalGatewayVirtualInterfaceGroup"][
        "LocalGatewayVirtualInterfaceGroupId"]
    fails("Resource.AlreadyAssociated",
          ec2.create_local_gateway_route_table_virtual_interface_group_association,
          LocalGatewayRouteTableId=tid, LocalGatewayVirtualInterfaceGroupId=VIF_GROUP)
    link = ec2.create_local_gateway_route_table_virtual_interface_group_association(
        LocalGatewayRouteTableId=tid, LocalGatewayVirtualInterfaceGroupId=gid)[
        "LocalGatewayRouteTableVirtualInterfaceGroupAssociation"]
    link_id = link["LocalGatewayRouteTableVirtualInterfaceGroupAssociationId"]
    assert link["State"] == "associating"
    fails("InvalidLocalGatewayVirtualInterfaceGroupID.NotFound", ec2.create_local_gateway_route,
          LocalGatewayRouteTableId=tid, DestinationCidrBlock="0.0.0.0/0",
          LocalGatewayVirtualInterfaceGroupId="lgw-vif-grp-0123456789abcdef0")
    ec2.create_local_gateway_route(LocalGatewayRouteTableId=tid,
                                   DestinationCidrBlock="0.0.0.0/0",
                                   LocalGatewayVirtualInterfaceGroupId=gid)
    fails("DependencyViolation",
          ec2.delete_local_gateway_route_table_virtual_interface_group_association,
          LocalGatewayRouteTableVirtualInterfaceGroupAssociationId=link_id)
    fails("DependencyViolation", ec2.delete_local_gateway_route_table,
          LocalGatewayRouteTableId=tid)
    ec2.delete_local_gateway_route(LocalGatewayRouteTableId=tid,
                                   DestinationCidrBlock="0.0.0.0/0")
    ec2.delete_local_gateway_route_table_virtual_interface_group_association(
        LocalGatewayRouteTableVirtualInterfaceGroupAssociationId=link_id)
    left = ec2.delete_local_gateway_route_table_vpc_association(
        LocalGatewayRouteTableVpcAssociationId=assoc_id)["LocalGatewayRouteTableVpcAssociation"]
    assert left["State"] == "disassociating"
    fails("InvalidLocalGatewayRouteTableVpcAssociationID.NotFound",
          ec2.delete_local_gateway_route_table_vpc_association,
          LocalGatewayRouteTableVpcAssociationId=assoc_id)
    assert ec2.delete_local_gateway_route_table(LocalGatewayRouteTableId=tid)[
        "LocalGatewayRouteTable"]["State"] == "deleting"
    fails("InvalidLocalGatewayRouteTableID.NotFound", ec2.describe_local_gateway_route_tables,
          LocalGatewayRouteTableIds=[tid])
    # The Outpost's table still has its CoIP pools and VPC: it cannot go.
    fails("DependencyViolation", ec2.delete_local_gateway_route_table,
          LocalGatewayRouteTableId=TABLE)


# ---------------------------------------------------------------------- VPN
def vpn_setup(ec2: Any) -> tuple[str, str, str]:
    """(vpn id, vgw id, tgw id): a static VPN on a VGW attached to a VPC, and a spare TGW."""
    s = site(ec2, "10.0.0.0/16", "10.0.1.0/24")
    vgw = ec2.create_vpn_gateway(Type="ipsec.1")["VpnGateway"]["VpnGatewayId"]
    ec2.attach_vpn_gateway(VpnGatewayId=vgw, VpcId=s.vpc_id)
    cgw = ec2.create_customer_gateway(Type="ipsec.1", PublicIp="203.0.113.10",
                                      BgpAsn=65000)["CustomerGateway"]["CustomerGatewayId"]
    vpn = ec2.create_vpn_connection(Type="ipsec.1", CustomerGatewayId=cgw, VpnGatewayId=vgw,
                                    Options={"StaticRoutesOnly": True})["VpnConnection"]
    ec2.create_vpn_connection_route(VpnConnectionId=vpn["VpnConnectionId"],
                                    DestinationCidrBlock="192.168.0.0/16")
    tgw = ec2.create_transit_gateway()["TransitGateway"]["TransitGatewayId"]
    return vpn["VpnConnectionId"], vgw, tgw


def describe_vpn(ec2: Any, vpn: str) -> dict[str, Any]:
    found: dict[str, Any] = ec2.describe_vpn_connections(VpnConnectionIds=[vpn])[
        "VpnConnections"][0]
    return found


def test_move_a_vpn_between_gateways(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpn, vgw, tgw = vpn_setup(ec2)
    fails("InvalidParameterCombination", ec2.modify_vpn_connection, VpnConnectionId=vpn,
          VpnGatewayId=vgw, TransitGatewayId=tgw)
    fails("InvalidParameterValue", ec2.modify_vpn_connection, VpnConnectionId=vpn,
          VpnGatewayId=vgw)
    fails("InvalidTransitGatewayID.NotFound", ec2.modify_vpn_connection, VpnConnectionId=vpn,
          TransitGatewayId="tgw-0123456789abcdef0")
    fails("MissingParameter", ec2.modify_vpn_connection, VpnConnectionId=vpn)
    moved = ec2.modify_vpn_connection(VpnConnectionId=vpn, TransitGatewayId=tgw)[
        "VpnConnection"]
    assert moved["TransitGatewayId"] == tgw and "VpnGatewayId" not in moved
    assert moved["GatewayAssociationState"] == "associating"
    (att,) = ec2.describe_transit_gateway_attachments(Filters=[
        {"Name": "resource-type", "Values": ["vpn"]}])["TransitGatewayAttachments"]
    assert att["ResourceId"] == vpn and att["TransitGatewayId"] == tgw
    table = att["Association"]["TransitGatewayRouteTableId"]  # default association (TG-2)
    ec2.create_transit_gateway_route(TransitGatewayRouteTableId=table,
                                     DestinationCidrBlock="10.99.0.0/16",
                                     TransitGatewayAttachmentId=att["TransitGatewayAttachmentId"])
    routes = {r["DestinationCidrBlock"]: r for r in ec2.search_transit_gateway_routes(
        TransitGatewayRouteTableId=table,
        Filters=[{"Name": "state", "Values": ["active", "blackhole"]}])["Routes"]}
    assert routes["192.168.0.0/16"]["Type"] == "propagated"  # the VPN's routes (TG-5)
    # Back to the VPN gateway: the attachment goes, the TGW route to it is a blackhole.
    back = ec2.modify_vpn_connection(VpnConnectionId=vpn, VpnGatewayId=vgw)["VpnConnection"]
    assert back["VpnGatewayId"] == vgw and "TransitGatewayId" not in back
    assert ec2.describe_transit_gateway_attachments(Filters=[
        {"Name": "resource-type", "Values": ["vpn"]}])["TransitGatewayAttachments"] == []
    routes = {r["DestinationCidrBlock"]: r for r in ec2.search_transit_gateway_routes(
        TransitGatewayRouteTableId=table,
        Filters=[{"Name": "state", "Values": ["active", "blackhole"]}])["Routes"]}
    assert routes["10.99.0.0/16"]["State"] == "blackhole" and "192.168.0.0/16" not in routes
    assert describe_vpn(ec2, vpn)["VpnGatewayId"] == vgw


def test_connection_and_tunnel_options(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpn, _vgw, _tgw = vpn_setup(ec2)
    first, second = describe_vpn(ec2, vpn)["Options"]["TunnelOptions"]
    for tunnel in (first, second):
        assert tunnel["TunnelInsideCidr"].startswith("169.254.")
        assert tunnel["TunnelInsideCidr"].endswith("/30")
        assert len(tunnel["PreSharedKey"]) == 32
    assert first["TunnelInsideCidr"] != second["TunnelInsideCidr"]

    fails("MissingParameter", ec2.modify_vpn_connection_options, VpnConnectionId=vpn)
    fails("InvalidParameterValue", ec2.modify_vpn_connection_options, VpnConnectionId=vpn,
          LocalIpv6NetworkCidr="fd00::/64")
    fails("InvalidParameterValue", ec2.modify_vpn_connection_options, VpnConnectionId=vpn,
          TunnelBandwidth="large")
    options = ec2.modify_vpn_connection_options(
        VpnConnectionId=vpn, LocalIpv4NetworkCidr="192.168.0.0/16",
        RemoteIpv4NetworkCidr="10.0.0.0/16")["VpnConnection"]["Options"]
    assert (options["LocalIpv4NetworkCidr"], options["RemoteIpv4NetworkCidr"]) == (
        "192.168.0.0/16", "10.0.0.0/16")

    outside = first["OutsideIpAddress"]
    good = {"TunnelInsideCidr": "169.254.10.0/30", "PreSharedKey": "my_secret.key1",
            "Phase1LifetimeSeconds": 14400, "Phase2LifetimeSeconds": 1800,
            "DPDTimeoutAction": "restart", "Phase1EncryptionAlgorithms": [{"Value": "AES256"}],
            "Phase1DHGroupNumbers": [{"Value": 14}], "IKEVersions": [{"Value": "ikev2"}]}
    for bad in ({"TunnelInsideCidr": "169.254.1.0/30"}, {"TunnelInsideCidr": "169.254.10.0/29"},
                {"TunnelInsideCidr": second["TunnelInsideCidr"]},
                {"PreSharedKey": "0startswithzero"}, {"PreSharedKey": "short"},
                {"Phase1LifetimeSeconds": 1000, "Phase2LifetimeSeconds": 2000},
                {"Phase1EncryptionAlgorithms": [{"Value": "DES"}]},
                {"DPDTimeoutAction": "panic"}):
        fails("InvalidParameterValue", ec2.modify_vpn_tunnel_options, VpnConnectionId=vpn,
              VpnTunnelOutsideIpAddress=outside, TunnelOptions=bad)
    fails("InvalidParameterValue", ec2.modify_vpn_tunnel_options, VpnConnectionId=vpn,
          VpnTunnelOutsideIpAddress="192.0.2.250", TunnelOptions=good)
    ec2.modify_vpn_tunnel_options(VpnConnectionId=vpn, VpnTunnelOutsideIpAddress=outside,
                                  TunnelOptions=good)
    tunnel = describe_vpn(ec2, vpn)["Options"]["TunnelOptions"][0]
    assert (tunnel["TunnelInsideCidr"], tunnel["PreSharedKey"], tunnel["Phase1LifetimeSeconds"],
            tunnel["Phase2LifetimeSeconds"], tunnel["DpdTimeoutAction"]) == (
        "169.254.10.0/30", "my_secret.key1", 14400, 1800, "restart")
    assert tunnel["Phase1EncryptionAlgorithms"] == [{"Value": "AES256"}]
    assert tunnel["Phase1DHGroupNumbers"] == [{"Value": 14}]
    assert tunnel["IkeVersions"] == [{"Value": "ikev2"}]
    # The other tunnel is untouched.
    assert describe_vpn(ec2, vpn)["Options"]["TunnelOptions"][1] == second

    # Sample configurations are built from these tunnels.
    types = ec2.get_vpn_connection_device_types()["VpnConnectionDeviceTypes"]
    by_vendor = {t["Vendor"]: t["VpnConnectionDeviceTypeId"] for t in types}
    assert {"Generic", "strongSwan"} <= set(by_vendor)
    text = ec2.get_vpn_connection_device_sample_configuration(
        VpnConnectionId=vpn, VpnConnectionDeviceTypeId=by_vendor["Generic"],
        InternetKeyExchangeVersion="ikev2")["VpnConnectionDeviceSampleConfiguration"]
    for needle in (outside, second["OutsideIpAddress"], "203.0.113.10", "169.254.10.1/30",
                   "169.254.10.2/30", "my_secret.key1", second["PreSharedKey"], "ikev2",
                   "AES256", "192.168.0.0/16"):
        assert needle in text, needle
    swan = ec2.get_vpn_connection_device_sample_configuration(
        VpnConnectionId=vpn, VpnConnectionDeviceTypeId=by_vendor["strongSwan"]
    )["VpnConnectionDeviceSampleConfiguration"]
    assert f"remote_addrs = {outside}" in swan and 'secret = "my_secret.key1"' in swan
    assert "proposals = aes256-sha1-modp2048" in swan
    fails("InvalidParameterValue", ec2.get_vpn_connection_device_sample_configuration,
          VpnConnectionId=vpn, VpnConnectionDeviceTypeId="00000000")
    fails("InvalidVpnConnectionID.NotFound", ec2.get_vpn_connection_device_sample_configuration,
          VpnConnectionId="vpn-0123456789abcdef0", VpnConnectionDeviceTypeId=by_vendor["Generic"])


def test_sample_configuration_with_the_aws_cli(fresh: Server) -> None:
    ec2 = fresh.client("ec2")
    vpn, _vgw, _tgw = vpn_setup(ec2)
    types = fresh.aws("ec2", "get-vpn-connection-device-types")["VpnConnectionDeviceTypes"]
    generic = next(t["VpnConnectionDeviceTypeId"] for t in types if t["Vendor"] == "Generic")
    out = fresh.aws("ec2", "get-vpn-connection-device-sample-configuration",
                    "--vpn-connection-id", vpn, "--vpn-connection-device-type-id", generic,
                    "--internet-key-exchange-version", "ikev1")
    text = out["VpnConnectionDeviceSampleConfiguration"]
    tunnels = describe_vpn(ec2, vpn)["Options"]["TunnelOptions"]
    assert text.count("[tunnel ") == 2
    for t in tunnels:
        assert f"aws_outside_address        = {t['OutsideIpAddress']}" in text
        assert f"pre_shared_key             = {t['PreSharedKey']}" in text

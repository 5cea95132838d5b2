"""The AWS snapshot importer: every shared Batfish snapshot, layouts, warnings and errors."""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from localvpc.model.base import DEFAULT_ACCOUNT
from localvpc.model.errors import SnapshotError
from localvpc.model.network import Network
from localvpc.model.vpc import RouteOrigin, TargetType
from localvpc.snapshot import load_snapshot
from localvpc.snapshot.loader import TOP_LEVEL_REGION

REPO = Path(__file__).resolve().parents[2]
SNAPSHOTS = REPO.parent / "shared" / "aws-snapshots"

ip = ipaddress.ip_address
net = ipaddress.ip_network


def _snapshot(name: str) -> Network:
    path = SNAPSHOTS / name
    if not path.is_dir():
        pytest.skip(f"shared snapshot {name} is not present")
    return load_snapshot(path)


def _default_route(network: Network, subnet_id: str) -> Any:
    table = network.route_table_for_subnet(subnet_id)
    assert table is not None
    routes = [r for r in table.routes if r.destination == net("0.0.0.0/0")]
    assert len(routes) == 1
    return routes[0]


def _write(folder: Path, name: str, doc: object) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc))
    return path


# --------------------------------------------------------------------------- shared snapshots


def check_nat_gateway(n: Network) -> None:
    nat = n.nat_gateways["nat-07ab4846da51f4612"]
    assert nat.private_ip == ip("10.1.250.210")
    assert nat.public_ip == ip("3.135.127.225")
    assert nat.subnet_id == "subnet-0428892a357fa1f94"
    assert nat.connectivity_type == "public"
    route = _default_route(n, "subnet-06f469bcee42e408e")
    assert (route.target_type, route.target_id) == (TargetType.NAT_GATEWAY, nat.id)
    public = _default_route(n, "subnet-0428892a357fa1f94")
    assert (public.target_type, public.target_id, public.state) == (
        TargetType.INTERNET_GATEWAY,
        "igw-071753b9c23d8a9b2",
        "active",
    )
    assert n.internet_gateways["igw-071753b9c23d8a9b2"].vpc_id == "vpc-0008a7b45e3ddf1dd"
    # Top-level files: Batfish's default region, the owner named by the data.
    vpc = n.vpcs["vpc-0008a7b45e3ddf1dd"]
    assert (vpc.region, vpc.account) == (TOP_LEVEL_REGION, "554773406868")
    assert n.warnings == []


def check_public_subnet(n: Network) -> None:
    [eni] = [e for e in n.network_interfaces.values() if e.primary_ip == ip("10.0.0.91")]
    assert eni.private_ips[0].public_ip == ip("18.216.80.133")
    assert eni.instance_id == "i-06669a407b2ef3ae5"
    assert n.instances["i-06669a407b2ef3ae5"].network_interface_ids == [eni.id]
    [group] = [n.security_groups[g] for g in eni.security_group_ids]
    assert [(r.protocol, r.from_port, r.to_port, str(r.cidr)) for r in group.ingress] == [
        ("tcp", 22, 22, "0.0.0.0/0")
    ]
    route = _default_route(n, eni.subnet_id)
    assert (route.target_type, route.target_id) == (
        TargetType.INTERNET_GATEWAY,
        "igw-0a409e562d251f766",
    )
    assert len(n.zones) == 3


def check_public_private_subnet(n: Network) -> None:
    main = n.main_route_table("vpc-0b966fdeb36d5e43f")
    assert main is not None and main.subnet_ids == []
    assert n.route_table_for_subnet("subnet-0f263105946ad1a1d") is main
    route = _default_route(n, "subnet-0f263105946ad1a1d")
    assert (route.target_type, route.target_id) == (
        TargetType.VPN_GATEWAY,
        "vgw-070087240d6fa2989",
    )
    assert n.vpn_gateways["vgw-070087240d6fa2989"].vpc_ids == ["vpc-0b966fdeb36d5e43f"]
    vpn = n.vpn_connections["vpn-05044757278685fd3"]
    assert vpn.static_routes_only and vpn.routes == [net("19.168.0.0/16")]
    assert [t.outside_ip for t in vpn.tunnels] == [ip("3.13.210.90"), ip("18.221.157.90")]
    cgw = n.customer_gateways[vpn.customer_gateway_id]
    assert (cgw.ip_address, cgw.bgp_asn) == (ip("1.1.1.1"), 65000)


def check_subnet(n: Network) -> None:
    [subnet] = n.subnets.values()
    assert subnet.cidr == net("10.10.1.0/24")
    assert [i.subnet_id for i in n.instances.values()] == [subnet.id, subnet.id]
    table = n.route_table_for_subnet(subnet.id)
    assert table is not None
    assert [(r.target_type, r.origin) for r in table.routes] == [
        (TargetType.LOCAL, RouteOrigin.CREATE_ROUTE_TABLE)
    ]
    acl = n.network_acl_for_subnet(subnet.id)
    assert acl is not None and acl.is_default
    assert {e.rule_number for e in acl.entries} == {100, 32767}


def check_transit_gateway(n: Network) -> None:
    att_a = n.transit_gateway_attachments["tgw-attach-07f5ec59e9f540021"]
    assert att_a.subnet_ids == ["subnet-006a19c846f047bd7"]
    assert att_a.resource_id == "vpc-0404e08ceddf7f650"
    table = n.transit_gateway_route_tables["tgw-rtb-0fa40c8df355dce6e"]
    assert table.default_association and table.default_propagation
    both = ["tgw-attach-07f5ec59e9f540021", "tgw-attach-0ae2696617bb06fb4"]
    assert table.propagating_attachment_ids == both
    assert table.associated_attachment_ids == both
    assert table.routes == []  # propagated routes are the data plane's job
    assert n.transit_gateway_attachments["tgw-attach-0d724909ecd7a5961"].state == "deleted"
    tgw = n.transit_gateways["tgw-044be4464fcc69aff"]
    assert tgw.default_association_route_table_id == table.id
    to_tgw = [
        (str(r.destination), r.target_id)
        for rt in n.route_tables.values()
        for r in rt.routes
        if r.target_type is TargetType.TRANSIT_GATEWAY
    ]
    assert sorted(to_tgw) == [
        ("10.10.0.0/16", tgw.id),
        ("192.168.0.0/16", tgw.id),
    ]


def check_transit_gateway_multi_table(n: Network) -> None:
    tables = n.transit_gateway_route_tables
    a, b = "tgw-attach-07f5ec59e9f540021", "tgw-attach-0ae2696617bb06fb4"
    assert tables["tgw-rtb-0fa40c8df355dce6e"].associated_attachment_ids == [a]
    assert tables["tgw-rtb-0fa40c8df355dce6e"].propagating_attachment_ids == [b]
    assert tables["tgw-rtb-096a7119299ab1c42"].associated_attachment_ids == [b]
    assert tables["tgw-rtb-096a7119299ab1c42"].propagating_attachment_ids == [a]


def check_transit_gateway_asymmetric_paths(n: Network) -> None:
    assert set(n.transit_gateways) == {"tgw-01e19888e3ba041ac", "tgw-0a33c739a4f8978a8"}
    atts = n.transit_gateway_attachments
    assert len(atts) == 4
    # On TGW bat, VPC bat is associated with a table holding only fish's propagation; fish's
    # attachment to TGW bat is associated with nothing (and vice versa on TGW fish).
    assert atts["tgw-attach-07a32b62ffae8f8e8"].association_route_table_id == (
        "tgw-rtb-0ac69a6cb81e20019"
    )
    assert atts["tgw-attach-0ce5cf730c95980d9"].association_route_table_id is None
    bat_table = n.transit_gateway_route_tables["tgw-rtb-0ac69a6cb81e20019"]
    assert bat_table.transit_gateway_id == "tgw-01e19888e3ba041ac"
    assert bat_table.associated_attachment_ids == ["tgw-attach-07a32b62ffae8f8e8"]
    assert bat_table.propagating_attachment_ids == ["tgw-attach-0ce5cf730c95980d9"]
    fish_table = n.transit_gateway_route_tables["tgw-rtb-061e69b98b99d5da8"]
    assert fish_table.associated_attachment_ids == ["tgw-attach-04d2f0c5c910e15d3"]
    assert fish_table.propagating_attachment_ids == ["tgw-attach-054bc7a8b8058e0b6"]


def check_transit_gateway_multi_account(n: Network) -> None:
    accounts = {v.cidrs[0]: (v.account, v.region) for v in n.vpcs.values()}
    assert accounts == {
        net("10.1.0.0/16"): ("028403472736", "us-east-1"),
        net("10.2.0.0/16"): ("951601349076", "us-east-1"),
    }
    [tgw] = n.transit_gateways.values()
    assert tgw.id == "tgw-0efdeab79e9a8e490" and tgw.owner_id == "028403472736"
    assert tgw.tags == {"Name": "tgw-batfish"}
    # Listed by both accounts: one record, completed with the tag only the VPC owner has.
    fish = n.transit_gateway_attachments["tgw-attach-0f8397dbb9b9bce0d"]
    assert fish.resource_owner == "951601349076"
    assert fish.tags == {"Name": "tgw-att-fish"}
    assert fish.subnet_ids == ["subnet-0ffa87ae0b553703e"]
    [table] = n.transit_gateway_route_tables.values()
    assert sorted(table.associated_attachment_ids) == sorted(n.transit_gateway_attachments)
    assert sorted(table.propagating_attachment_ids) == sorted(n.transit_gateway_attachments)


def check_transit_gateway_peering(n: Network) -> None:
    peering = n.transit_gateway_attachments["tgw-attach-012e5d602f859dd80"]
    assert peering.resource_type == "peering"
    ends = {peering.transit_gateway_id, peering.peer_transit_gateway_id}
    assert ends == {"tgw-0e20010ebf43d07a2", "tgw-03201f1960ddb0c25"}
    tables = n.transit_gateway_route_tables
    # One attachment id, one association on each side.
    assert peering.id in tables["tgw-rtb-05d2952671d1f460a"].associated_attachment_ids
    assert peering.id in tables["tgw-rtb-00be87593fb2cd0ae"].associated_attachment_ids
    [bat2_route] = tables["tgw-rtb-018a5e572ec3088d1"].routes
    assert (bat2_route.destination, bat2_route.attachment_id, bat2_route.route_type) == (
        net("192.168.0.0/16"),
        peering.id,
        "static",
    )
    [fish_route] = tables["tgw-rtb-00be87593fb2cd0ae"].routes
    assert fish_route.destination == net("10.20.0.0/16")
    fish = n.vpcs["vpc-0ecbcbd110fd839d1"]
    assert (fish.account, fish.region) == ("804819755326", "us-west-1")
    bat = n.vpcs["vpc-065ea457071dd67bb"]
    assert (bat.account, bat.region) == ("732168539940", "us-east-1")


def check_vpc_peering(n: Network) -> None:
    assert set(n.peering_connections) == {"pcx-0b89b559e3319d6cf", "pcx-0d5b836985ac8ca8c"}
    to_peers = sorted(
        (str(r.destination), r.target_id)
        for rt in n.route_tables.values()
        for r in rt.routes
        if r.target_type is TargetType.VPC_PEERING
    )
    assert ("192.168.1.0/24", "pcx-0b89b559e3319d6cf") in to_peers
    assert ("192.168.2.0/24", "pcx-0d5b836985ac8ca8c") in to_peers
    # B's default route is blackholed by AWS itself: kept as it is, without a warning.
    [blackhole] = [r for rt in n.route_tables.values() for r in rt.routes if r.state == "blackhole"]
    assert blackhole.target_id == "igw-0a2c9ae201b441bff"
    assert n.warnings == []


def check_vpc_peering_multi_account(n: Network) -> None:
    active = n.peering_connections["pcx-0040f7640e10191f4"]
    assert active.status == "active"
    assert {active.requester_vpc_id, active.accepter_vpc_id} == set(n.vpcs)
    assert n.peering_connections["pcx-00eeab4f3bd2a40da"].status == "deleted"
    assert n.peering_connections["pcx-07d8d712b329b9337"].status == "deleted"
    assert len(n.peering_connections) == 3
    # accounts/<account>/ folders decide the account, whatever OwnerId says.
    assert {v.account for v in n.vpcs.values()} == {"123456789012", "123456789013"}
    terminated = n.instances["i-022b9fb2c0a0c72c1"]
    assert terminated.state == "terminated" and terminated.network_interface_ids == []


def check_vpc_endpoint_gateway(n: Network) -> None:
    assert net("52.216.0.0/15") in n.prefix_lists["pl-63a5400a"].cidrs
    endpoint = n.vpc_endpoints["vpce-0b7357542bb7b83ec"]
    assert endpoint.endpoint_type == "Gateway"
    pl_routes = [
        (rt.id, r)
        for rt in n.route_tables.values()
        for r in rt.routes
        if r.prefix_list_id is not None
    ]
    assert sorted(rt_id for rt_id, _ in pl_routes) == sorted(endpoint.route_table_ids)
    for _, route in pl_routes:
        assert route.destination is None and route.prefix_list_id == "pl-63a5400a"
        assert (route.target_type, route.target_id) == (TargetType.GATEWAY_ENDPOINT, endpoint.id)
    assert {v.region for v in n.vpcs.values()} == {"us-east-1"}
    assert n.warnings == []


def check_vpc_endpoint_interface(n: Network) -> None:
    endpoint = n.vpc_endpoints["vpce-083c683a6be29b889"]
    assert endpoint.endpoint_type == "Interface" and endpoint.private_dns_enabled
    [eni_id] = endpoint.network_interface_ids
    eni = n.network_interfaces[eni_id]
    assert eni.primary_ip == ip("10.1.101.97")
    assert eni.interface_type == "vpc_endpoint"
    [group] = [n.security_groups[g] for g in endpoint.security_group_ids]
    assert ("tcp", 443, 443) in [(r.protocol, r.from_port, r.to_port) for r in group.ingress]


def check_load_balancer(n: Network) -> None:
    [lb] = n.load_balancers.values()
    assert (lb.lb_name, lb.lb_type, lb.scheme) == ("test-lb", "network", "internal")
    assert {z.zone_name: z.addresses for z in lb.zones} == {
        "us-east-2b": [ip("10.1.1.237")],
        "us-east-2a": [ip("10.1.20.123")],
    }
    assert lb.cross_zone is True
    [listener] = lb.listeners
    assert (listener.port, listener.protocol) == (80, "TCP")
    [group_arn] = listener.target_group_arns
    group = n.target_groups[group_arn]
    assert group.name_ == "test-lb-tg" and group.load_balancer_arns == [lb.id]
    assert sorted((t.id, t.port, t.health) for t in group.targets) == [
        ("i-055b0db7be365202c", 22, "healthy"),
        ("i-0f4af951d61a19245", 22, "healthy"),
    ]
    # No InternetGateways file was loaded: the public route is ignored, as in Batfish.
    route = _default_route(n, "subnet-065a3676df7fa9fd9")
    assert route.state == "blackhole"
    assert any("igw-009e7cccf82ddbc66" in w and "InternetGateways" in w for w in n.warnings)


def check_vpn_gateway(n: Network) -> None:
    vpn = n.vpn_connections["vpn-03701a53bba3c48b7"]
    assert vpn.vpn_gateway_id == "vgw-0c09bd7fadac961bf" and not vpn.static_routes_only
    assert [t.outside_ip for t in vpn.tunnels] == [ip("3.130.237.53"), ip("18.217.248.9")]
    assert n.customer_gateways[vpn.customer_gateway_id].ip_address == ip("1.1.1.2")
    assert n.vpn_connections["vpn-05044757278685fd3"].state == "deleted"
    assert n.vpn_connections["vpn-05044757278685fd3"].routes == []  # its route is deleted
    [subnet] = n.subnets.values()
    route = _default_route(n, subnet.id)
    assert (route.target_type, route.target_id) == (TargetType.VPN_GATEWAY, vpn.vpn_gateway_id)


def check_direct_connect_gateway(n: Network) -> None:
    kinds = {a.id: a.resource_type for a in n.transit_gateway_attachments.values()}
    assert kinds["tgw-attach-dx01"] == "direct-connect-gateway"
    assert kinds["tgw-attach-vpn-dx-test"] == "vpn"
    dx_table = n.transit_gateway_route_tables["tgw-rtb-dx01"]
    assert sorted(dx_table.associated_attachment_ids) == [
        "tgw-attach-dx01",
        "tgw-attach-vpc01",
        "tgw-attach-vpn-dx-test",
    ]
    assert n.transit_gateway_route_tables["tgw-rtb-iso01"].associated_attachment_ids == [
        "tgw-attach-iso01"
    ]
    assert n.vpn_connections["vpn-dx-test"].transit_gateway_id == "tgw-dx01"
    assert any("DirectConnectGateways" in w and "not modelled" in w for w in n.warnings)
    assert n.instances["i-dx01"].network_interface_ids == ["eni-dx01"]


def check_direct_connect_private_vif(n: Network) -> None:
    vgw = n.vpn_gateways["vgw-priv01"]
    assert vgw.amazon_side_asn == 64533 and vgw.vpc_ids == ["vpc-priv01"]
    [subnet] = n.subnets.values()
    route = _default_route(n, subnet.id)
    assert (route.target_type, route.target_id, route.state) == (
        TargetType.VPN_GATEWAY,
        "vgw-priv01",
        "active",
    )
    assert any("VirtualInterfaces" in w for w in n.warnings)


SCENARIOS: dict[str, Callable[[Network], None]] = {
    "test-direct-connect-gateway": check_direct_connect_gateway,
    "test-direct-connect-private-vif": check_direct_connect_private_vif,
    "test-load-balancer": check_load_balancer,
    "test-nat-gateway": check_nat_gateway,
    "test-public-private-subnet": check_public_private_subnet,
    "test-public-subnet": check_public_subnet,
    "test-subnet": check_subnet,
    "test-transit-gateway": check_transit_gateway,
    "test-transit-gateway-asymmetric-paths": check_transit_gateway_asymmetric_paths,
    "test-transit-gateway-multi-account": check_transit_gateway_multi_account,
    "test-transit-gateway-multi-table": check_transit_gateway_multi_table,
    "test-transit-gateway-peering": check_transit_gateway_peering,
    "test-vpc-endpoint-gateway": check_vpc_endpoint_gateway,
    "test-vpc-endpoint-interface": check_vpc_endpoint_interface,
    "test-vpc-peering": check_vpc_peering,
    "test-vpc-peering-multi-account": check_vpc_peering_multi_account,
    "test-vpn-gateway": check_vpn_gateway,
}


def test_every_shared_snapshot_has_a_check() -> None:
    if not SNAPSHOTS.is_dir():
        pytest.skip("../shared is not present")
    present = {p.name for p in SNAPSHOTS.iterdir() if p.is_dir()}
    assert present == set(SCENARIOS)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_shared_snapshot_loads_with_expected_facts(name: str) -> None:
    network = _snapshot(name)
    SCENARIOS[name](network)
    # Whole-snapshot invariants: no record was dropped as malformed, and every instance's
    # ENIs are in the ENI table and point back at it.
    assert not [w for w in network.warnings if "malformed" in w or "internal error" in w]
    for instance in network.instances.values():
        for eni_id in instance.network_interface_ids:
            assert network.network_interfaces[eni_id].instance_id == instance.id


def test_route_targets_of_every_shared_snapshot_are_recognised() -> None:
    for name in SCENARIOS:
        for table in _snapshot(name).route_tables.values():
            for route in table.routes:
                assert route.target_type is not TargetType.UNKNOWN, (name, route)


# --------------------------------------------------------------------------- layouts


VPC = {
    "VpcId": "vpc-1",
    "CidrBlock": "10.0.0.0/16",
    "OwnerId": "111111111111",
    "CidrBlockAssociationSet": [
        {"CidrBlock": "10.0.0.0/16", "CidrBlockState": {"State": "associated"}},
        {"CidrBlock": "10.1.0.0/16", "CidrBlockState": {"State": "associated"}},
        {"CidrBlock": "10.2.0.0/16", "CidrBlockState": {"State": "disassociated"}},
    ],
    "Ipv6CidrBlockAssociationSet": [
        {"Ipv6CidrBlock": "2600:1f16::/56", "Ipv6CidrBlockState": {"State": "associated"}}
    ],
    "IsDefault": True,
    "Tags": [{"Key": "Name", "Value": "one"}],
}


def test_top_level_files_use_us_west_2_and_the_data_owner(tmp_path: Path) -> None:
    _write(tmp_path, "whatever-name.json", {"Vpcs": [VPC]})
    vpc = load_snapshot(tmp_path).vpcs["vpc-1"]
    assert (vpc.region, vpc.account) == ("us-west-2", "111111111111")
    assert vpc.cidrs == [net("10.0.0.0/16"), net("10.1.0.0/16")]  # primary first
    assert vpc.ipv6_cidrs == [net("2600:1f16::/56")]
    assert vpc.is_default and vpc.name == "one"


def test_records_without_owner_take_the_folder_owner_or_the_default(tmp_path: Path) -> None:
    _write(tmp_path, "a/eu-west-1/Vpcs.json", {"Vpcs": [VPC]})
    _write(tmp_path, "a/eu-west-1/Gw.json", {"InternetGateways": [{"InternetGatewayId": "igw-1"}]})
    _write(tmp_path, "b/Gw.json", {"InternetGateways": [{"InternetGatewayId": "igw-2"}]})
    network = load_snapshot(tmp_path / "a")
    assert network.internet_gateways["igw-1"].account == "111111111111"
    assert network.internet_gateways["igw-1"].region == "eu-west-1"
    assert load_snapshot(tmp_path / "b").internet_gateways["igw-2"].account == DEFAULT_ACCOUNT


def test_region_and_account_folders(tmp_path: Path) -> None:
    _write(tmp_path, "eu-central-1/vpcs.json", {"Vpcs": [VPC]})
    other = dict(VPC, VpcId="vpc-2", OwnerId="999999999999")
    _write(tmp_path, "accounts/222222222222/ap-south-1/x.json", {"Vpcs": [other]})
    network = load_snapshot(tmp_path)
    assert (network.vpcs["vpc-1"].region, network.vpcs["vpc-1"].account) == (
        "eu-central-1",
        "111111111111",
    )
    # The folder's account wins over the data's OwnerId.
    assert (network.vpcs["vpc-2"].region, network.vpcs["vpc-2"].account) == (
        "ap-south-1",
        "222222222222",
    )
    assert network.warnings == []


def test_aws_configs_folder_is_used_when_present(tmp_path: Path) -> None:
    _write(tmp_path, "aws_configs/us-east-2/Vpcs.json", {"Vpcs": [VPC]})
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "router.txt").write_text("hostname r1\n")
    _write(tmp_path, "unrelated.json", {"Vpcs": [dict(VPC, VpcId="vpc-outside")]})
    network = load_snapshot(tmp_path)
    assert set(network.vpcs) == {"vpc-1"}
    assert network.vpcs["vpc-1"].region == "us-east-2"


def test_files_are_recognised_by_key_not_name_and_may_hold_several_keys(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "dump-1.json",
        {
            "Vpcs": [VPC],
            "Subnets": [{"SubnetId": "subnet-1", "VpcId": "vpc-1", "CidrBlock": "10.0.1.0/24"}],
        },
    )
    _write(tmp_path, "Vpcs.json", {"InternetGateways": [{"InternetGatewayId": "igw-1"}]})
    (tmp_path / "empty.json").write_text("")
    _write(tmp_path, "nothing.json", {})
    network = load_snapshot(tmp_path)
    assert set(network.vpcs) == {"vpc-1"}
    assert network.subnets["subnet-1"].cidr == net("10.0.1.0/24")
    assert set(network.internet_gateways) == {"igw-1"}
    assert network.warnings == []


def test_a_single_file_can_be_loaded(tmp_path: Path) -> None:
    path = _write(tmp_path, "Vpcs.json", {"Vpcs": [VPC]})
    assert set(load_snapshot(path).vpcs) == {"vpc-1"}


def test_unexpected_folder_names_warn(tmp_path: Path) -> None:
    _write(tmp_path, "not-a-region/Vpcs.json", {"Vpcs": [VPC]})
    network = load_snapshot(tmp_path)
    assert network.vpcs["vpc-1"].region == "not-a-region"
    assert any("not-a-region" in w and "region" in w for w in network.warnings)


# --------------------------------------------------------------------------- warnings, errors


def test_unknown_and_unmodelled_keys_warn(tmp_path: Path) -> None:
    _write(tmp_path, "F.json", {"Vpcs": [VPC], "Gizmos": [{"a": 1}]})
    _write(tmp_path, "dx.json", {"VirtualInterfaces": [{"VirtualInterfaceId": "dxvif-1"}]})
    network = load_snapshot(tmp_path)
    assert "vpc-1" in network.vpcs
    assert any("unknown key Gizmos in file F.json" in w for w in network.warnings)
    assert any(
        "VirtualInterfaces" in w and "dx.json" in w and "not modelled" in w
        for w in network.warnings
    )


def test_malformed_json_names_file_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "Broken.json").write_text('{\n  "Vpcs": [\n    {"VpcId": "vpc-1",}\n  ]\n}\n')
    with pytest.raises(SnapshotError) as info:
        load_snapshot(tmp_path)
    message = str(info.value)
    assert "Broken.json" in message and "line 3" in message and "column" in message


def test_non_utf8_file_is_a_snapshot_error(tmp_path: Path) -> None:
    (tmp_path / "Bad.json").write_bytes(b'{"Vpcs": ["\xff"]}')
    with pytest.raises(SnapshotError, match=r"Bad\.json"):
        load_snapshot(tmp_path)


def test_missing_path_is_a_snapshot_error(tmp_path: Path) -> None:
    with pytest.raises(SnapshotError, match="does not exist"):
        load_snapshot(tmp_path / "nope")


def test_unreadable_file_is_a_snapshot_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "Vpcs.json", {"Vpcs": [VPC]})

    def denied(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(SnapshotError, match=r"Vpcs\.json.*Permission denied"):
        load_snapshot(tmp_path)


def test_unreadable_folder_is_a_snapshot_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _write(tmp_path, "eu-west-1/Vpcs.json", {"Vpcs": [VPC]})
    real_scandir = os.scandir

    def scandir(path: Any) -> Any:
        if str(path).endswith("eu-west-1"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(SnapshotError, match="eu-west-1"):
        load_snapshot(tmp_path)


def test_wrongly_shaped_documents_warn(tmp_path: Path) -> None:
    _write(tmp_path, "list.json", [VPC])
    _write(tmp_path, "str.json", {"Vpcs": "vpc-9"})
    _write(
        tmp_path,
        "records.json",
        {"Subnets": [{"SubnetId": "subnet-1", "CidrBlock": "nonsense"}, 7, {"VpcId": "x"}]},
    )
    network = load_snapshot(tmp_path)
    assert network.subnets == {} and network.vpcs == {}
    warnings = "\n".join(network.warnings)
    assert "list.json holds a JSON list" in warnings
    assert "key Vpcs in file str.json holds a JSON str" in warnings
    assert "skipped malformed Subnets record #0 in records.json" in warnings
    assert "skipped malformed Subnets record #1 in records.json" in warnings
    assert "skipped malformed Subnets record #2 in records.json: missing SubnetId" in warnings


def test_one_bad_route_does_not_lose_its_table(tmp_path: Path) -> None:
    table = {
        "RouteTableId": "rtb-1",
        "VpcId": "vpc-1",
        "Associations": [{"Main": True}],
        "Routes": [
            {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"},
            {"DestinationCidrBlock": "bogus", "GatewayId": "local"},
        ],
    }
    _write(tmp_path, "x.json", {"Vpcs": [VPC], "RouteTables": [table]})
    network = load_snapshot(tmp_path)
    assert network.route_tables["rtb-1"].main
    assert len(network.route_tables["rtb-1"].routes) == 1
    assert any("route of rtb-1 #1" in w for w in network.warnings)


def test_missing_references_warn_and_blackhole_routes(tmp_path: Path) -> None:
    table = {
        "RouteTableId": "rtb-1",
        "VpcId": "vpc-1",
        "Associations": [{"Main": False, "SubnetId": "subnet-1"}],
        "Routes": [
            {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local", "State": "active"},
            {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-gone", "State": "active"},
            {"DestinationCidrBlock": "10.9.0.0/16", "NatGatewayId": "nat-here"},
            {"DestinationCidrBlock": "10.8.0.0/16", "NatGatewayId": "nat-gone"},
            {"DestinationCidrBlock": "10.7.0.0/16", "VpcPeeringConnectionId": "pcx-gone"},
            {"DestinationCidrBlock": "10.6.0.0/16", "InstanceId": "i-gone", "State": "blackhole"},
        ],
    }
    nat = {
        "NatGatewayId": "nat-here",
        "SubnetId": "subnet-1",
        "VpcId": "vpc-1",
        "NatGatewayAddresses": [{"PrivateIp": "10.0.1.5", "PublicIp": "1.2.3.4"}],
    }
    subnet = {"SubnetId": "subnet-1", "VpcId": "vpc-nowhere", "CidrBlock": "10.0.1.0/24"}
    eni = {
        "NetworkInterfaceId": "eni-1",
        "SubnetId": "subnet-1",
        "Groups": [{"GroupId": "sg-missing"}],
        "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.9", "Primary": True}],
    }
    _write(
        tmp_path,
        "all.json",
        {
            "Vpcs": [VPC],
            "Subnets": [subnet],
            "RouteTables": [table],
            "NatGateways": [nat],
            "NetworkInterfaces": [eni],
            "InternetGateways": [],
        },
    )
    network = load_snapshot(tmp_path)
    states = {str(r.destination): r.state for r in network.route_tables["rtb-1"].routes}
    assert states == {
        "10.0.0.0/16": "active",
        "0.0.0.0/0": "blackhole",
        "10.9.0.0/16": "active",
        "10.8.0.0/16": "blackhole",
        "10.7.0.0/16": "blackhole",
        "10.6.0.0/16": "blackhole",
    }
    warnings = "\n".join(network.warnings)
    # InternetGateways was loaded (empty), VpcPeeringConnections was not.
    assert "targets igw-gone, which is not in the snapshot; treated as blackhole" in warnings
    assert "targets nat-gone, which is not in the snapshot; treated as blackhole" in warnings
    assert "pcx-gone, which is not in the snapshot (no VpcPeeringConnections file" in warnings
    assert "i-gone" not in warnings  # AWS already reported it as blackhole
    assert "subnet subnet-1 references VPC vpc-nowhere" in warnings
    assert "network interface eni-1 references security group sg-missing" in warnings


def test_route_target_fields_map_to_target_types(tmp_path: Path) -> None:
    routes = [
        {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"},
        {"DestinationCidrBlock": "0.0.0.0/0", "GatewayId": "igw-1"},
        {"DestinationCidrBlock": "10.1.0.0/16", "GatewayId": "vgw-1"},
        {"DestinationPrefixListId": "pl-1", "GatewayId": "vpce-gw"},
        {"DestinationCidrBlock": "10.2.0.0/16", "GatewayId": "vpce-gwlb"},
        {"DestinationIpv6CidrBlock": "::/0", "EgressOnlyInternetGatewayId": "eigw-1"},
        {"DestinationCidrBlock": "10.3.0.0/16", "NatGatewayId": "nat-1"},
        {
            "DestinationCidrBlock": "10.4.0.0/16",
            "InstanceId": "i-1",
            "InstanceOwnerId": "1",
            "NetworkInterfaceId": "eni-i",
        },
        {"DestinationCidrBlock": "10.5.0.0/16", "NetworkInterfaceId": "eni-x"},
        {"DestinationCidrBlock": "10.6.0.0/16", "VpcPeeringConnectionId": "pcx-1"},
        {"DestinationCidrBlock": "10.7.0.0/16", "TransitGatewayId": "tgw-1"},
        {"DestinationCidrBlock": "10.8.0.0/16", "LocalGatewayId": "lgw-1"},
        {"DestinationCidrBlock": "10.9.0.0/16", "CarrierGatewayId": "cagw-1"},
        {"DestinationCidrBlock": "10.10.0.0/16", "CoreNetworkArn": "arn:aws:networkmanager::1"},
        {"DestinationCidrBlock": "10.11.0.0/16", "VpcEndpointId": "vpce-2"},
        {
            "DestinationCidrBlock": "10.12.0.0/16",
            "GatewayId": "vgw-1",
            "Origin": "EnableVgwRoutePropagation",
        },
    ]
    table = {"RouteTableId": "rtb-1", "VpcId": "vpc-1", "Routes": routes}
    _write(tmp_path, "rt.json", {"RouteTables": [table]})
    parsed = load_snapshot(tmp_path).route_tables["rtb-1"].routes
    assert [(r.target_type, r.target_id) for r in parsed] == [
        (TargetType.LOCAL, "local"),
        (TargetType.INTERNET_GATEWAY, "igw-1"),
        (TargetType.VPN_GATEWAY, "vgw-1"),
        (TargetType.GATEWAY_ENDPOINT, "vpce-gw"),
        (TargetType.GWLB_ENDPOINT, "vpce-gwlb"),
        (TargetType.EGRESS_ONLY_INTERNET_GATEWAY, "eigw-1"),
        (TargetType.NAT_GATEWAY, "nat-1"),
        (TargetType.INSTANCE, "i-1"),
        (TargetType.NETWORK_INTERFACE, "eni-x"),
        (TargetType.VPC_PEERING, "pcx-1"),
        (TargetType.TRANSIT_GATEWAY, "tgw-1"),
        (TargetType.LOCAL_GATEWAY, "lgw-1"),
        (TargetType.CARRIER_GATEWAY, "cagw-1"),
        (TargetType.CORE_NETWORK, "arn:aws:networkmanager::1"),
        (TargetType.GWLB_ENDPOINT, "vpce-2"),
        (TargetType.VPN_GATEWAY, "vgw-1"),
    ]
    assert parsed[3].destination is None and parsed[3].prefix_list_id == "pl-1"
    assert parsed[5].destination == net("::/0")
    assert parsed[7].network_interface_id == "eni-i"
    assert parsed[0].origin is RouteOrigin.CREATE_ROUTE
    assert parsed[15].origin is RouteOrigin.PROPAGATED
    # None of these targets is in the snapshot.
    assert all(r.state == "blackhole" for r in parsed[1:])


def test_security_group_rules_are_one_per_peer_with_normalised_protocols(tmp_path: Path) -> None:
    group = {
        "GroupId": "sg-1",
        "VpcId": "vpc-1",
        "IpPermissions": [
            {
                "IpProtocol": "6",
                "FromPort": 80,
                "ToPort": 81,
                "IpRanges": [{"CidrIp": "10.0.0.5/8", "Description": "d"}],
                "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32"}],
                "PrefixListIds": [{"PrefixListId": "pl-1"}],
                "UserIdGroupPairs": [{"GroupId": "sg-2", "VpcPeeringConnectionId": "pcx-1"}],
            },
            {
                "IpProtocol": "icmp",
                "FromPort": -1,
                "ToPort": -1,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
            },
            {"IpProtocol": "-1", "FromPort": 5, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
            {
                "IpProtocol": "58",
                "FromPort": 128,
                "ToPort": 0,
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
            },
            {
                "IpProtocol": "UDP",
                "FromPort": 53,
                "ToPort": 53,
                "IpRanges": [{"CidrIp": "1.1.1.1/32"}],
            },
            {"IpProtocol": "50", "IpRanges": [{"CidrIp": "1.1.1.1/32"}]},
        ],
        "IpPermissionsEgress": [{"IpProtocol": "17", "FromPort": 1, "ToPort": 2, "IpRanges": []}],
    }
    _write(tmp_path, "sg.json", {"SecurityGroups": [group]})
    sg = load_snapshot(tmp_path).security_groups["sg-1"]
    assert [
        (r.protocol, r.from_port, r.to_port, r.cidr, r.prefix_list_id, r.group_id)
        for r in sg.ingress
    ] == [
        ("tcp", 80, 81, net("10.0.0.0/8"), None, None),
        ("tcp", 80, 81, net("2001:db8::/32"), None, None),
        ("tcp", 80, 81, None, "pl-1", None),
        ("tcp", 80, 81, None, None, "sg-2"),
        ("icmp", None, None, net("0.0.0.0/0"), None, None),
        ("-1", None, None, net("0.0.0.0/0"), None, None),
        ("icmpv6", 128, 0, net("::/0"), None, None),
        ("udp", 53, 53, net("1.1.1.1/32"), None, None),
        ("50", None, None, net("1.1.1.1/32"), None, None),
    ]
    assert sg.ingress[0].description == "d"
    assert sg.ingress[3].peering_connection_id == "pcx-1"
    assert sg.egress == []  # a permission without peers yields no rule


def test_network_acl_entries(tmp_path: Path) -> None:
    acl = {
        "NetworkAclId": "acl-1",
        "VpcId": "vpc-1",
        "IsDefault": False,
        "Associations": [{"SubnetId": "subnet-1"}, {"SubnetId": "subnet-2"}],
        "Entries": [
            {
                "RuleNumber": 100,
                "Protocol": "6",
                "RuleAction": "allow",
                "Egress": False,
                "CidrBlock": "10.0.0.0/8",
                "PortRange": {"From": 22, "To": 23},
            },
            {
                "RuleNumber": 110,
                "Protocol": "1",
                "RuleAction": "deny",
                "Egress": True,
                "CidrBlock": "0.0.0.0/0",
                "IcmpTypeCode": {"Type": 8, "Code": -1},
            },
            {
                "RuleNumber": 120,
                "Protocol": "-1",
                "RuleAction": "allow",
                "Egress": True,
                "Ipv6CidrBlock": "::/0",
            },
        ],
    }
    _write(tmp_path, "acl.json", {"NetworkAcls": [acl]})
    parsed = load_snapshot(tmp_path).network_acls["acl-1"]
    assert parsed.subnet_ids == ["subnet-1", "subnet-2"]
    assert [
        (e.rule_number, e.protocol, e.action, e.egress, str(e.cidr), e.from_port, e.to_port)
        for e in parsed.entries
    ] == [
        (100, "tcp", "allow", False, "10.0.0.0/8", 22, 23),
        (110, "icmp", "deny", True, "0.0.0.0/0", None, None),
        (120, "-1", "allow", True, "::/0", None, None),
    ]
    assert (parsed.entries[1].icmp_type, parsed.entries[1].icmp_code) == (8, None)


def test_instances_enis_and_elastic_ips(tmp_path: Path) -> None:
    reservation = {
        "OwnerId": "111111111111",
        "Instances": [
            {
                "InstanceId": "i-1",
                "SubnetId": "subnet-1",
                "VpcId": "vpc-1",
                "Placement": {"AvailabilityZone": "us-west-2a"},
                "State": {"Code": 16, "Name": "running"},
                "SecurityGroups": [{"GroupId": "sg-1"}],
                "SourceDestCheck": False,
                "NetworkInterfaces": [
                    {
                        "NetworkInterfaceId": "eni-second",
                        "SubnetId": "subnet-1",
                        "Attachment": {"DeviceIndex": 1, "Status": "attached"},
                        "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.20", "Primary": True}],
                        "Groups": [{"GroupId": "sg-1"}],
                    },
                    {
                        "NetworkInterfaceId": "eni-first",
                        "SubnetId": "subnet-1",
                        "Attachment": {"DeviceIndex": 0, "Status": "attached"},
                        "PrivateIpAddresses": [
                            {"PrivateIpAddress": "10.0.1.10", "Primary": True},
                            {"PrivateIpAddress": "10.0.1.11", "Primary": False},
                        ],
                        "Ipv6Addresses": [{"Ipv6Address": "2600:1f16::10"}],
                    },
                ],
            },
            {
                "InstanceId": "i-2",
                "SubnetId": "subnet-1",
                "PrivateIpAddress": "10.0.1.30",
                "PublicIpAddress": "54.1.1.1",
                "SecurityGroups": [{"GroupId": "sg-1"}],
            },
        ],
    }
    known_eni = {
        "NetworkInterfaceId": "eni-second",
        "SubnetId": "subnet-1",
        "Description": "from the ENI file",
        "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.20", "Primary": True}],
    }
    addresses = [
        {
            "PublicIp": "3.3.3.3",
            "AllocationId": "eipalloc-1",
            "NetworkInterfaceId": "eni-first",
            "PrivateIpAddress": "10.0.1.11",
        },
        {"PublicIp": "4.4.4.4", "NetworkInterfaceId": "eni-gone", "PrivateIpAddress": "10.0.0.1"},
        {"PublicIp": "5.5.5.5"},
    ]
    _write(tmp_path, "r.json", {"Reservations": [reservation]})
    _write(tmp_path, "n.json", {"NetworkInterfaces": [known_eni], "Addresses": addresses})
    network = load_snapshot(tmp_path)
    one = network.instances["i-1"]
    assert one.network_interface_ids == ["eni-first", "eni-second"]  # by DeviceIndex
    assert (one.state, one.source_dest_check, one.account) == ("running", False, "111111111111")
    first = network.network_interfaces["eni-first"]
    assert first.instance_id == "i-1" and first.availability_zone == "us-west-2a"
    assert first.ipv6_addresses == [ip("2600:1f16::10")]
    by_address = {p.address: p for p in first.private_ips}
    assert by_address[ip("10.0.1.11")].public_ip == ip("3.3.3.3")
    assert by_address[ip("10.0.1.11")].allocation_id == "eipalloc-1"
    assert by_address[ip("10.0.1.10")].public_ip is None
    second = network.network_interfaces["eni-second"]
    assert second.description == "from the ENI file"  # the ENI file wins ...
    assert second.instance_id == "i-1" and second.device_index == 1  # ... the instance fills in
    synthetic = network.network_interfaces["i-2-eni0"]
    assert network.instances["i-2"].network_interface_ids == ["i-2-eni0"]
    assert synthetic.private_ips[0].public_ip == ip("54.1.1.1")
    assert synthetic.security_group_ids == ["sg-1"]
    warnings = "\n".join(network.warnings)
    assert "synthesised ENI i-2-eni0" in warnings
    assert "Elastic IP 4.4.4.4" in warnings and "eni-gone" in warnings


def test_transit_gateway_records(tmp_path: Path) -> None:
    doc = {
        "TransitGateways": [
            {"TransitGatewayId": "tgw-1", "OwnerId": "1", "Options": {"AmazonSideAsn": 65000}}
        ],
        "TransitGatewayAttachments": [
            {
                "TransitGatewayAttachmentId": "tgw-attach-1",
                "TransitGatewayId": "tgw-1",
                "ResourceType": "vpc",
                "ResourceId": "vpc-1",
                "State": "available",
                "Association": {"State": "associated", "TransitGatewayRouteTableId": "tgw-rtb-1"},
            },
            {
                "TransitGatewayAttachmentId": "tgw-attach-2",
                "TransitGatewayId": "tgw-1",
                "ResourceType": "vpn",
                "ResourceId": "vpn-1",
                "Association": {
                    "State": "disassociated",
                    "TransitGatewayRouteTableId": "tgw-rtb-1",
                },
            },
        ],
        "TransitGatewayVpcAttachments": [
            {
                "TransitGatewayAttachmentId": "tgw-attach-1",
                "SubnetIds": ["subnet-1", "subnet-2"],
                "Options": {"ApplianceModeSupport": "enable"},
            },
            {
                "TransitGatewayAttachmentId": "tgw-attach-3",
                "TransitGatewayId": "tgw-1",
                "VpcId": "vpc-3",
                "SubnetIds": ["subnet-3"],
            },
        ],
        "TransitGatewayRouteTables": [
            {"TransitGatewayRouteTableId": "tgw-rtb-1", "TransitGatewayId": "tgw-1"}
        ],
        "TransitGatewayStaticRoutes": [
            {
                "TransitGatewayRouteTableId": "tgw-rtb-1",
                "Routes": [
                    {
                        "DestinationCidrBlock": "10.0.0.0/8",
                        "Type": "static",
                        "State": "active",
                        "TransitGatewayAttachments": [
                            {"TransitGatewayAttachmentId": "tgw-attach-1"}
                        ],
                    },
                    {
                        "DestinationCidrBlock": "10.66.0.0/16",
                        "Type": "static",
                        "State": "blackhole",
                    },
                    {
                        "DestinationCidrBlock": "10.3.0.0/16",
                        "Type": "propagated",
                        "State": "active",
                        "TransitGatewayAttachments": [
                            {"TransitGatewayAttachmentId": "tgw-attach-3"}
                        ],
                    },
                    {
                        "DestinationCidrBlock": "10.9.0.0/16",
                        "TransitGatewayAttachments": [
                            {"TransitGatewayAttachmentId": "tgw-attach-x"}
                        ],
                    },
                ],
            },
            {"TransitGatewayRouteTableId": "tgw-rtb-unknown", "Routes": []},
        ],
        "TransitGatewayPropagations": [
            {
                "TransitGatewayRouteTableId": "tgw-rtb-1",
                "TransitGatewayRouteTablePropagations": [
                    {"TransitGatewayAttachmentId": "tgw-attach-1", "State": "enabled"},
                    {"TransitGatewayAttachmentId": "tgw-attach-2", "State": "disabled"},
                    {"TransitGatewayAttachmentId": "tgw-attach-3", "State": "enabled"},
                ],
            }
        ],
    }
    _write(tmp_path, "tgw.json", doc)
    _write(
        tmp_path, "again.json", {"TransitGatewayStaticRoutes": doc["TransitGatewayStaticRoutes"]}
    )
    network = load_snapshot(tmp_path)
    assert network.transit_gateways["tgw-1"].amazon_side_asn == 65000
    one = network.transit_gateway_attachments["tgw-attach-1"]
    assert (one.subnet_ids, one.appliance_mode, one.association_route_table_id) == (
        ["subnet-1", "subnet-2"],
        True,
        "tgw-rtb-1",
    )
    assert network.transit_gateway_attachments["tgw-attach-2"].association_route_table_id is None
    three = network.transit_gateway_attachments["tgw-attach-3"]
    assert (three.resource_type, three.resource_id, three.subnet_ids) == (
        "vpc",
        "vpc-3",
        ["subnet-3"],
    )
    table = network.transit_gateway_route_tables["tgw-rtb-1"]
    assert table.associated_attachment_ids == ["tgw-attach-1"]
    assert table.propagating_attachment_ids == ["tgw-attach-1", "tgw-attach-3"]
    # Listed twice, kept once; the route to a missing attachment becomes a blackhole.
    assert [(str(r.destination), r.route_type, r.state, r.attachment_id) for r in table.routes] == [
        ("10.0.0.0/8", "static", "active", "tgw-attach-1"),
        ("10.66.0.0/16", "static", "blackhole", None),
        ("10.3.0.0/16", "propagated", "active", "tgw-attach-3"),
        ("10.9.0.0/16", "static", "blackhole", "tgw-attach-x"),
    ]
    warnings = "\n".join(network.warnings)
    assert "tgw-rtb-unknown" in warnings
    assert "tgw-attach-x" in warnings


def test_vpc_peering_listed_by_both_accounts_is_merged(tmp_path: Path) -> None:
    pcx = {
        "VpcPeeringConnectionId": "pcx-1",
        "RequesterVpcInfo": {"VpcId": "vpc-1", "OwnerId": "111111111111", "Region": "us-east-1"},
        "AccepterVpcInfo": {"VpcId": "vpc-2", "OwnerId": "222222222222", "Region": "eu-west-1"},
        "Status": {"Code": "active", "Message": "Active"},
    }
    _write(tmp_path, "accounts/111111111111/us-east-1/p.json", {"VpcPeeringConnections": [pcx]})
    _write(tmp_path, "accounts/222222222222/eu-west-1/p.json", {"VpcPeeringConnections": [pcx]})
    network = load_snapshot(tmp_path)
    [parsed] = network.peering_connections.values()
    assert parsed.status == "active"
    assert (parsed.requester_vpc_id, parsed.accepter_vpc_id) == ("vpc-1", "vpc-2")
    assert (parsed.accepter_account, parsed.accepter_region) == ("222222222222", "eu-west-1")
    assert parsed.peer_of("vpc-2") == "vpc-1"


def test_gateways_vpn_and_zones(tmp_path: Path) -> None:
    doc = {
        "InternetGateways": [
            {
                "InternetGatewayId": "igw-1",
                "Attachments": [{"VpcId": "vpc-1", "State": "available"}],
            },
            {"InternetGatewayId": "igw-2", "Attachments": []},
        ],
        "EgressOnlyInternetGateways": [
            {
                "EgressOnlyInternetGatewayId": "eigw-1",
                "Attachments": [{"VpcId": "vpc-1", "State": "attached"}],
            }
        ],
        "NatGateways": [
            {
                "NatGatewayId": "nat-1",
                "ConnectivityType": "private",
                "State": "deleted",
                "NatGatewayAddresses": [
                    {"PrivateIp": "10.0.0.5"},
                    {"PrivateIp": "10.0.0.6", "IsPrimary": False},
                ],
            }
        ],
        "VpnGateways": [
            {
                "VpnGatewayId": "vgw-1",
                "AmazonSideAsn": 64512,
                "VpcAttachments": [
                    {"VpcId": "vpc-1", "State": "attached"},
                    {"VpcId": "vpc-old", "State": "detached"},
                ],
            }
        ],
        "CustomerGateways": [
            {"CustomerGatewayId": "cgw-1", "IpAddress": "1.2.3.4", "BgpAsn": "65010"}
        ],
        "VpnConnections": [
            {
                "VpnConnectionId": "vpn-1",
                "CustomerGatewayId": "cgw-1",
                "VpnGatewayId": "vgw-1",
                "Options": {"StaticRoutesOnly": True},
                "Routes": [{"DestinationCidrBlock": "192.168.0.0/16", "State": "available"}],
                "VgwTelemetry": [{"OutsideIpAddress": "5.6.7.8", "Status": "UP"}],
            }
        ],
        "AvailabilityZones": [
            {
                "ZoneName": "us-west-2-lax-1a",
                "ZoneId": "usw2-lax1-az1",
                "RegionName": "us-west-2",
                "ZoneType": "local-zone",
                "ParentZoneName": "us-west-2d",
                "OptInStatus": "opted-in",
                "NetworkBorderGroup": "us-west-2-lax-1",
                "GroupName": "us-west-2-lax-1",
            }
        ],
    }
    _write(tmp_path, "g.json", doc)
    network = load_snapshot(tmp_path)
    assert network.internet_gateway_of("vpc-1") is network.internet_gateways["igw-1"]
    assert network.internet_gateways["igw-2"].vpc_id is None
    assert network.egress_only_internet_gateways["eigw-1"].vpc_id == "vpc-1"
    nat = network.nat_gateways["nat-1"]
    assert (nat.connectivity_type, nat.state, nat.private_ip) == (
        "private",
        "deleted",
        ip("10.0.0.5"),
    )
    assert [a.primary for a in nat.addresses] == [True, False]
    assert network.vpn_gateways["vgw-1"].vpc_ids == ["vpc-1"]
    assert network.customer_gateways["cgw-1"].bgp_asn == 65010
    vpn = network.vpn_connections["vpn-1"]
    assert vpn.static_routes_only and vpn.routes == [net("192.168.0.0/16")]
    assert [(t.outside_ip, t.status) for t in vpn.tunnels] == [(ip("5.6.7.8"), "UP")]
    zone = network.zones["us-west-2-lax-1a"]
    assert zone.zone_type.value == "local-zone" and zone.parent_zone_name == "us-west-2d"
    assert zone.opt_in_status == "opted-in" and zone.network_border_group == "us-west-2-lax-1"


def test_outposts_local_gateway_records(tmp_path: Path) -> None:
    arn = "arn:aws:outposts:us-west-2:111111111111:outpost/op-1"
    doc = {
        "LocalGateways": [{"LocalGatewayId": "lgw-1", "OutpostArn": arn}],
        "LocalGatewayRouteTables": [
            {
                "LocalGatewayRouteTableId": "lgw-rtb-1",
                "LocalGatewayId": "lgw-1",
                "OutpostArn": arn,
                "Mode": "coip",
            }
        ],
        "LocalGatewayRouteTableVpcAssociations": [
            {"LocalGatewayRouteTableId": "lgw-rtb-1", "VpcId": "vpc-1", "State": "associated"}
        ],
        "Routes": [
            {
                "DestinationCidrBlock": "192.168.0.0/16",
                "LocalGatewayRouteTableId": "lgw-rtb-1",
                "LocalGatewayVirtualInterfaceGroupId": "lgw-vif-grp-1",
                "Type": "static",
                "State": "active",
            },
            {"DestinationCidrBlock": "10.0.0.0/8", "LocalGatewayRouteTableId": "lgw-rtb-gone"},
        ],
        "CoipPools": [
            {
                "PoolId": "ipv4pool-coip-1",
                "PoolCidrs": ["100.64.0.0/24"],
                "LocalGatewayRouteTableId": "lgw-rtb-1",
            }
        ],
    }
    _write(tmp_path, "o.json", doc)
    network = load_snapshot(tmp_path)
    table = network.local_gateway_route_tables["lgw-rtb-1"]
    assert (table.mode, table.vpc_ids, table.outpost_arn) == ("coip", ["vpc-1"], arn)
    [route] = table.routes
    assert (route.destination, route.vif_group_id) == (net("192.168.0.0/16"), "lgw-vif-grp-1")
    assert network.coip_pools["ipv4pool-coip-1"].cidrs == [net("100.64.0.0/24")]
    assert network.local_gateways["lgw-1"].outpost_arn == arn
    assert any("lgw-rtb-gone" in w for w in network.warnings)


def test_managed_prefix_lists_merge_with_prefix_lists(tmp_path: Path) -> None:
    _write(tmp_path, "a.json", {"PrefixLists": [{"PrefixListId": "pl-1", "Cidrs": ["1.0.0.0/8"]}]})
    _write(
        tmp_path,
        "b.json",
        {
            "ManagedPrefixLists": [
                {
                    "PrefixListId": "pl-1",
                    "PrefixListName": "s3",
                    "MaxEntries": 10,
                    "OwnerId": "AWS",
                },
                {
                    "PrefixListId": "pl-2",
                    "OwnerId": "111111111111",
                    "AddressFamily": "IPv6",
                    "Entries": [{"Cidr": "2001:db8::/32"}],
                },
            ]
        },
    )
    network = load_snapshot(tmp_path)
    one = network.prefix_lists["pl-1"]
    assert (one.cidrs, one.prefix_list_name, one.max_entries) == ([net("1.0.0.0/8")], "s3", 10)
    two = network.prefix_lists["pl-2"]
    assert (two.cidrs, two.address_family, two.account) == (
        [net("2001:db8::/32")],
        "IPv6",
        "111111111111",
    )


def test_application_load_balancer_listeners_and_attributes(tmp_path: Path) -> None:
    lb_arn = "arn:aws:elasticloadbalancing:us-west-2:111111111111:loadbalancer/app/web/abc"
    tg_arn = "arn:aws:elasticloadbalancing:us-west-2:111111111111:targetgroup/web/def"
    doc = {
        "LoadBalancers": [
            {
                "LoadBalancerArn": lb_arn,
                "LoadBalancerName": "web",
                "Type": "application",
                "Scheme": "internet-facing",
                "SecurityGroups": ["sg-1"],
                "AvailabilityZones": [
                    {
                        "ZoneName": "us-west-2a",
                        "SubnetId": "subnet-1",
                        "LoadBalancerAddresses": [{"IpAddress": "34.1.1.1"}],
                    }
                ],
                "State": {"Code": "active"},
            }
        ],
        "TargetGroups": [
            {"TargetGroupArn": tg_arn, "TargetGroupName": "web", "Port": 8080, "TargetType": "ip"}
        ],
        "LoadBalancerListeners": [
            {
                "LoadBalancerArn": lb_arn,
                "Listeners": [
                    {
                        "Port": 443,
                        "Protocol": "HTTPS",
                        "DefaultActions": [
                            {
                                "Type": "forward",
                                "ForwardConfig": {"TargetGroups": [{"TargetGroupArn": tg_arn}]},
                            }
                        ],
                    },
                    {"Port": 80, "Protocol": "HTTP", "DefaultActions": [{"Type": "redirect"}]},
                ],
            }
        ],
        "LoadBalancerAttributes": [
            {
                "LoadBalancerArn": lb_arn,
                "Attributes": [{"Key": "load_balancing.cross_zone.enabled", "Value": "false"}],
            }
        ],
        "LoadBalancerTargetHealth": [
            {
                "TargetGroupArn": tg_arn,
                "TargetHealthDescriptions": [
                    {
                        "Target": {"Id": "10.0.1.5", "AvailabilityZone": "us-west-2a"},
                        "TargetHealth": {"State": "unhealthy"},
                    }
                ],
            }
        ],
        "NetworkInterfaces": [
            {
                "NetworkInterfaceId": "eni-lb",
                "SubnetId": "subnet-1",
                "Description": "ELB app/web/abc",
                "InterfaceType": "interface",
                "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.77", "Primary": True}],
            }
        ],
    }
    _write(tmp_path, "lb.json", doc)
    network = load_snapshot(tmp_path)
    lb = network.load_balancers[lb_arn]
    assert lb.cross_zone is True  # always on for application load balancers
    assert lb.account == "111111111111" and lb.security_group_ids == ["sg-1"]
    # An internet-facing LB lists its public address; the private one comes from its ENI.
    assert lb.zones[0].addresses == [ip("10.0.1.77")]
    assert [(li.port, li.protocol, li.target_group_arns) for li in lb.listeners] == [
        (443, "HTTPS", [tg_arn]),
        (80, "HTTP", []),
    ]
    [target] = network.target_groups[tg_arn].targets
    assert (target.id, target.port, target.health, target.availability_zone) == (
        "10.0.1.5",
        8080,
        "unhealthy",
        "us-west-2a",
    )


def test_network_load_balancer_cross_zone_defaults_off(tmp_path: Path) -> None:
    arn = "arn:aws:elasticloadbalancing:us-west-2:1:loadbalancer/net/n/1"
    _write(
        tmp_path,
        "lb.json",
        {
            "LoadBalancers": [
                {
                    "LoadBalancerArn": arn,
                    "Type": "network",
                    "AvailabilityZones": [
                        {
                            "ZoneName": "us-west-2a",
                            "SubnetId": "subnet-1",
                            "LoadBalancerAddresses": [{"PrivateIPv4Address": "10.0.0.9"}],
                        }
                    ],
                }
            ]
        },
    )
    lb = load_snapshot(tmp_path).load_balancers[arn]
    assert lb.cross_zone is False
    assert lb.zones[0].addresses == [ip("10.0.0.9")]


def test_loading_is_roughly_linear(tmp_path: Path) -> None:
    """A few thousand resources load quickly (guards against quadratic lookups)."""
    import time

    count = 3000
    vpcs = [{"VpcId": f"vpc-{i}", "CidrBlock": "10.0.0.0/16"} for i in range(count)]
    subnets = [
        {"SubnetId": f"subnet-{i}", "VpcId": f"vpc-{i}", "CidrBlock": "10.0.1.0/24"}
        for i in range(count)
    ]
    enis = [
        {
            "NetworkInterfaceId": f"eni-{i}",
            "SubnetId": f"subnet-{i}",
            "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.5", "Primary": True}],
        }
        for i in range(count)
    ]
    tables = [
        {
            "RouteTableId": f"rtb-{i}",
            "VpcId": f"vpc-{i}",
            "Associations": [{"SubnetId": f"subnet-{i}"}],
            "Routes": [
                {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"},
                {"DestinationCidrBlock": "0.0.0.0/8", "NetworkInterfaceId": f"eni-{i}"},
            ],
        }
        for i in range(count)
    ]
    _write(
        tmp_path,
        "big.json",
        {"Vpcs": vpcs, "Subnets": subnets, "NetworkInterfaces": enis, "RouteTables": tables},
    )
    start = time.perf_counter()
    network = load_snapshot(tmp_path)
    elapsed = time.perf_counter() - start
    assert len(network.route_tables) == count and network.warnings == []
    assert elapsed < 10.0


def test_tgw_peering_attachment_listed_by_both_sides(tmp_path: Path) -> None:
    def side(tgw: str, peer: str, table: str) -> dict[str, Any]:
        return {
            "TransitGateways": [{"TransitGatewayId": tgw}],
            "TransitGatewayRouteTables": [
                {"TransitGatewayRouteTableId": table, "TransitGatewayId": tgw}
            ],
            "TransitGatewayAttachments": [
                {
                    "TransitGatewayAttachmentId": "tgw-attach-p",
                    "TransitGatewayId": tgw,
                    "ResourceType": "peering",
                    "ResourceId": peer,
                    "Association": {"State": "associated", "TransitGatewayRouteTableId": table},
                }
            ],
        }

    _write(tmp_path, "accounts/1/us-east-1/t.json", side("tgw-a", "tgw-b", "tgw-rtb-a"))
    _write(tmp_path, "accounts/2/us-west-1/t.json", side("tgw-b", "tgw-a", "tgw-rtb-b"))
    network = load_snapshot(tmp_path)
    [attachment] = network.transit_gateway_attachments.values()
    assert (attachment.transit_gateway_id, attachment.peer_transit_gateway_id) == (
        "tgw-a",
        "tgw-b",
    )
    tables = network.transit_gateway_route_tables
    assert tables["tgw-rtb-a"].associated_attachment_ids == ["tgw-attach-p"]
    assert tables["tgw-rtb-b"].associated_attachment_ids == ["tgw-attach-p"]
    assert network.warnings == []


def test_dhcp_options_sets_load_and_vpcs_name_theirs(tmp_path: Path) -> None:
    _write(tmp_path, "DhcpOptions.json", {"DhcpOptions": [{
        "DhcpOptionsId": "dopt-0abc", "OwnerId": "123456789012",
        "DhcpConfigurations": [
            {"Key": "domain-name", "Values": [{"Value": "corp.example"}]},
            {"Key": "domain-name-servers",
             "Values": [{"Value": "10.0.0.2"}, {"Value": "AmazonProvidedDNS"}]},
            {"Key": "ntp-servers", "Values": [{"Value": "169.254.169.123"}]},
            {"Key": "netbios-node-type", "Values": [{"Value": "2"}]}],
        "Tags": [{"Key": "Name", "Value": "corp"}]}]})
    _write(tmp_path, "Vpcs.json", {"Vpcs": [
        {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "DhcpOptionsId": "dopt-0abc",
         "InstanceTenancy": "dedicated"},
        {"VpcId": "vpc-2", "CidrBlock": "10.1.0.0/16", "DhcpOptionsId": "default"}]})
    network = load_snapshot(tmp_path)
    dopt = network.dhcp_options["dopt-0abc"]
    assert dopt.domain_name == "corp.example"
    assert dopt.domain_name_servers == ["10.0.0.2", "AmazonProvidedDNS"]
    assert dopt.uses_amazon_dns and dopt.netbios_node_type == 2
    assert [str(a) for a in dopt.ntp_servers] == ["169.254.169.123"]
    assert dopt.tags == {"Name": "corp"} and dopt.account == "123456789012"
    assert network.vpcs["vpc-1"].dhcp_options_id == "dopt-0abc"
    assert network.vpcs["vpc-1"].instance_tenancy == "dedicated"
    assert network.vpcs["vpc-2"].dhcp_options_id is None  # "default": no options set
    assert not any("DhcpOptions" in w for w in network.warnings)

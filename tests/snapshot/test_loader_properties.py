"""Property tests of the snapshot importer: whatever JSON it is given, it either loads (turning
bad records into warnings) or raises SnapshotError; never any other exception."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import localvpc.snapshot as snapshot_package
from localvpc.model.errors import SnapshotError
from localvpc.model.network import Network
from localvpc.snapshot import load_snapshot
from localvpc.snapshot.loader import HANDLERS, RECOGNISED_NOT_MODELLED

# Every CamelCase name the parsers mention: field names AWS uses, so random records hit them.
_SOURCES = Path(snapshot_package.__file__).parent
FIELD_NAMES = sorted(
    {
        name
        for module in _SOURCES.glob("*.py")
        for name in re.findall(r'"([A-Z][A-Za-z0-9]+)"', module.read_text())
    }
)
TOP_KEYS = [key for key, _ in HANDLERS] + sorted(RECOGNISED_NOT_MODELLED) + ["Bogus"]

# Plausible values, so parsers get past the first field more often than pure noise would.
PLAUSIBLE = [
    "10.0.0.0/16",
    "10.0.1.5",
    "2600:1f16::/56",
    "::/0",
    "-1",
    "6",
    "17",
    "58",
    "tcp",
    "icmp",
    "local",
    "igw-1",
    "vgw-1",
    "vpce-1",
    "vpc-1",
    "subnet-1",
    "eni-1",
    "i-1",
    "pl-1",
    "tgw-1",
    "tgw-attach-1",
    "tgw-rtb-1",
    "associated",
    "attached",
    "available",
    "enabled",
    "blackhole",
    "peering",
    "true",
    "65000",
    "ELB net/a/b",
    "arn:aws:elasticloadbalancing:us-west-2:1:loadbalancer/net/a/b",
]

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(PLAUSIBLE)
)
json_values = st.recursive(
    leaves,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FIELD_NAMES) | st.text(max_size=4), children, max_size=5)
    ),
    max_leaves=24,
)
records = st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=8)
documents = st.dictionaries(
    st.sampled_from(TOP_KEYS),
    st.lists(records | json_values, max_size=4) | json_values,
    max_size=4,
)
folders = st.sampled_from(["", "us-east-1/", "accounts/123456789012/eu-west-1/", "x/y/"])


def _load(files: dict[str, str | bytes]) -> Network | None:
    """Load a snapshot made of ``files``; None when it raised SnapshotError."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name, content in files.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content)
        try:
            network = load_snapshot(root)
        except SnapshotError:
            return None
    _check_consistent(network)
    return network


def _check_consistent(network: Network) -> None:
    """What must hold for any loaded network, however odd its input."""
    assert not [w for w in network.warnings if "internal error" in w], network.warnings
    assert len(network.warnings) == len(set(network.warnings))
    for name, table in network.tables().items():
        for key, resource in table.items():
            assert key == (resource.name if name == "zones" else resource.id)
    for table in network.route_tables.values():
        for route in table.routes:
            assert (route.destination is None) != (route.prefix_list_id is None)
    network.summary()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(docs=st.lists(st.tuples(folders, documents), min_size=1, max_size=3))
def test_random_documents_load_or_raise_snapshot_error(docs: list[tuple[str, Any]]) -> None:
    files = {f"{folder}F{i}.json": json.dumps(doc) for i, (folder, doc) in enumerate(docs)}
    # Valid JSON always loads: problems in the data are warnings, not errors.
    assert _load(files) is not None


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=200) | st.text(max_size=200).map(str.encode))
def test_random_bytes_load_or_raise_snapshot_error(raw: bytes) -> None:
    _load({"Vpcs.json": raw})


# A small, valid snapshot touching most parsers; the mutation test breaks one spot of it.
SEED: dict[str, Any] = {
    "Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "OwnerId": "111111111111"}],
    "Subnets": [
        {
            "SubnetId": "subnet-1",
            "VpcId": "vpc-1",
            "CidrBlock": "10.0.1.0/24",
            "AvailabilityZone": "us-west-2a",
        }
    ],
    "RouteTables": [
        {
            "RouteTableId": "rtb-1",
            "VpcId": "vpc-1",
            "Associations": [{"Main": True}, {"SubnetId": "subnet-1"}],
            "PropagatingVgws": [{"GatewayId": "vgw-1"}],
            "Routes": [
                {"DestinationCidrBlock": "10.0.0.0/16", "GatewayId": "local"},
                {"DestinationCidrBlock": "0.0.0.0/0", "NatGatewayId": "nat-1"},
                {"DestinationPrefixListId": "pl-1", "GatewayId": "vpce-1"},
                {
                    "DestinationCidrBlock": "10.9.0.0/16",
                    "InstanceId": "i-1",
                    "NetworkInterfaceId": "eni-1",
                },
            ],
        }
    ],
    "NetworkInterfaces": [
        {
            "NetworkInterfaceId": "eni-1",
            "SubnetId": "subnet-1",
            "VpcId": "vpc-1",
            "Attachment": {"InstanceId": "i-1", "DeviceIndex": 0, "Status": "attached"},
            "PrivateIpAddresses": [
                {
                    "PrivateIpAddress": "10.0.1.5",
                    "Primary": True,
                    "Association": {"PublicIp": "3.3.3.3"},
                }
            ],
            "Groups": [{"GroupId": "sg-1"}],
        },
        {
            "NetworkInterfaceId": "eni-lb",
            "SubnetId": "subnet-1",
            "Description": "ELB net/a/b",
            "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.9", "Primary": True}],
        },
    ],
    "Reservations": [
        {
            "OwnerId": "111111111111",
            "Instances": [
                {
                    "InstanceId": "i-1",
                    "SubnetId": "subnet-1",
                    "State": {"Code": 16, "Name": "running"},
                    "Placement": {"AvailabilityZone": "us-west-2a"},
                    "SecurityGroups": [{"GroupId": "sg-1"}],
                    "NetworkInterfaces": [
                        {
                            "NetworkInterfaceId": "eni-1",
                            "Attachment": {"DeviceIndex": 0},
                            "PrivateIpAddresses": [{"PrivateIpAddress": "10.0.1.5"}],
                        }
                    ],
                }
            ],
        }
    ],
    "Addresses": [
        {"PublicIp": "4.4.4.4", "NetworkInterfaceId": "eni-1", "PrivateIpAddress": "10.0.1.5"}
    ],
    "SecurityGroups": [
        {
            "GroupId": "sg-1",
            "VpcId": "vpc-1",
            "IpPermissions": [
                {
                    "IpProtocol": "tcp",
                    "FromPort": 22,
                    "ToPort": 22,
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                    "UserIdGroupPairs": [{"GroupId": "sg-1"}],
                }
            ],
            "IpPermissionsEgress": [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
        }
    ],
    "NetworkAcls": [
        {
            "NetworkAclId": "acl-1",
            "VpcId": "vpc-1",
            "IsDefault": True,
            "Associations": [{"SubnetId": "subnet-1"}],
            "Entries": [
                {
                    "RuleNumber": 100,
                    "Protocol": "6",
                    "RuleAction": "allow",
                    "Egress": False,
                    "CidrBlock": "0.0.0.0/0",
                    "PortRange": {"From": 1, "To": 2},
                },
                {
                    "RuleNumber": 110,
                    "Protocol": "1",
                    "RuleAction": "deny",
                    "Egress": True,
                    "CidrBlock": "0.0.0.0/0",
                    "IcmpTypeCode": {"Type": 8, "Code": 0},
                },
            ],
        }
    ],
    "NatGateways": [
        {
            "NatGatewayId": "nat-1",
            "SubnetId": "subnet-1",
            "VpcId": "vpc-1",
            "NatGatewayAddresses": [{"PrivateIp": "10.0.1.7", "PublicIp": "5.5.5.5"}],
        }
    ],
    "PrefixLists": [{"PrefixListId": "pl-1", "Cidrs": ["52.0.0.0/15"]}],
    "VpcEndpoints": [
        {
            "VpcEndpointId": "vpce-1",
            "VpcId": "vpc-1",
            "RouteTableIds": ["rtb-1"],
            "Groups": [{"GroupId": "sg-1"}],
        }
    ],
    "VpnGateways": [{"VpnGatewayId": "vgw-1", "VpcAttachments": [{"VpcId": "vpc-1"}]}],
    "VpnConnections": [
        {
            "VpnConnectionId": "vpn-1",
            "VpnGatewayId": "vgw-1",
            "CustomerGatewayId": "cgw-1",
            "Routes": [{"DestinationCidrBlock": "192.168.0.0/16"}],
            "VgwTelemetry": [{"OutsideIpAddress": "6.6.6.6", "Status": "UP"}],
        }
    ],
    "CustomerGateways": [{"CustomerGatewayId": "cgw-1", "IpAddress": "1.1.1.1", "BgpAsn": "65000"}],
    "TransitGateways": [{"TransitGatewayId": "tgw-1", "Options": {"AmazonSideAsn": 64512}}],
    "TransitGatewayAttachments": [
        {
            "TransitGatewayAttachmentId": "tgw-attach-1",
            "TransitGatewayId": "tgw-1",
            "ResourceType": "vpc",
            "ResourceId": "vpc-1",
            "Association": {"State": "associated", "TransitGatewayRouteTableId": "tgw-rtb-1"},
        }
    ],
    "TransitGatewayVpcAttachments": [
        {
            "TransitGatewayAttachmentId": "tgw-attach-1",
            "SubnetIds": ["subnet-1"],
            "Options": {"ApplianceModeSupport": "enable"},
        }
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
                    "TransitGatewayAttachments": [{"TransitGatewayAttachmentId": "tgw-attach-1"}],
                }
            ],
        }
    ],
    "TransitGatewayPropagations": [
        {
            "TransitGatewayRouteTableId": "tgw-rtb-1",
            "TransitGatewayRouteTablePropagations": [
                {"TransitGatewayAttachmentId": "tgw-attach-1", "State": "enabled"}
            ],
        }
    ],
    "LoadBalancers": [
        {
            "LoadBalancerArn": "arn:aws:elasticloadbalancing:us-west-2:1:loadbalancer/net/a/b",
            "Type": "network",
            "AvailabilityZones": [{"ZoneName": "us-west-2a", "SubnetId": "subnet-1"}],
        }
    ],
    "LoadBalancerListeners": [
        {
            "LoadBalancerArn": "arn:aws:elasticloadbalancing:us-west-2:1:loadbalancer/net/a/b",
            "Listeners": [
                {
                    "Port": 80,
                    "Protocol": "TCP",
                    "DefaultActions": [{"Type": "forward", "TargetGroupArn": "tg-1"}],
                }
            ],
        }
    ],
    "TargetGroups": [{"TargetGroupArn": "tg-1", "Port": 80, "VpcId": "vpc-1"}],
    "LoadBalancerTargetHealth": [
        {
            "TargetGroupArn": "tg-1",
            "TargetHealthDescriptions": [
                {"Target": {"Id": "i-1"}, "TargetHealth": {"State": "healthy"}}
            ],
        }
    ],
    "AvailabilityZones": [{"ZoneName": "us-west-2a", "ZoneId": "usw2-az1"}],
}


def _spots(value: Any, out: list[tuple[Any, Any]]) -> list[tuple[Any, Any]]:
    """Every (container, key-or-index) position inside ``value``."""
    items = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in items:
        out.append((value, key))
        if isinstance(child, dict | list):
            _spots(child, out)
    return out


def test_seed_snapshot_is_clean() -> None:
    network = _load({"seed.json": json.dumps(SEED)})
    assert network is not None
    assert network.warnings == []
    assert (
        network.load_balancers["arn:aws:elasticloadbalancing:us-west-2:1:loadbalancer/net/a/b"]
        .zones[0]
        .addresses
    )
    assert all(r.state == "active" for r in network.route_tables["rtb-1"].routes)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_one_corrupted_field_costs_at_most_a_warning(data: st.DataObject) -> None:
    doc = json.loads(json.dumps(SEED))
    spots = _spots(doc, [])
    container, key = data.draw(st.sampled_from(spots))
    container[key] = data.draw(json_values)
    network = _load({"seed.json": json.dumps(doc)})
    assert network is not None

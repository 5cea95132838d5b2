"""The topology YAML loader: the example network, AWS defaults, validation with file:line:path
messages, references, deterministic ids, and a property over random small topologies."""

from __future__ import annotations

import ipaddress
import re
import textwrap
from pathlib import Path
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localvpc.model.errors import TopologyError
from localvpc.model.network import Network
from localvpc.model.vpc import RouteOrigin, TargetType
from localvpc.model.zones import ZoneType
from localvpc.snapshot.topology import load_topology, parse_topology
from localvpc.snapshot.topology_schema import TopologyValidationError

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "local-zone-wordpress.yaml"

ip = ipaddress.ip_address
net = ipaddress.ip_network
T = TypeVar("T")

ID_SHAPES = {
    "vpcs": r"vpc-[0-9a-f]{17}",
    "subnets": r"subnet-[0-9a-f]{17}",
    "route_tables": r"rtb-[0-9a-f]{17}",
    "internet_gateways": r"igw-[0-9a-f]{17}",
    "nat_gateways": r"nat-[0-9a-f]{17}",
    "network_interfaces": r"eni-[0-9a-f]{17}",
    "instances": r"i-[0-9a-f]{17}",
    "security_groups": r"sg-[0-9a-f]{17}",
    "network_acls": r"acl-[0-9a-f]{17}",
}


def yaml(text: str) -> str:
    """Dedent each blank-line-separated chunk (``BASE`` + an indented block)."""
    chunks = [textwrap.dedent(chunk).strip("\n") for chunk in text.split("\n\n")]
    return "\n".join(c for c in chunks if c) + "\n"


def problems(text: str, source: str = "t.yaml") -> list[str]:
    with pytest.raises(TopologyValidationError) as info:
        parse_topology(yaml(text), source)
    assert str(info.value) == "\n".join(info.value.problems)
    return info.value.problems


def line_of(text: str, marker: str) -> int:
    """1-based line of the only line of ``text`` containing ``marker``."""
    lines = [i for i, line in enumerate(yaml(text).splitlines(), 1) if marker in line]
    assert len(lines) == 1, (marker, lines)
    return lines[0]


def by_name(table: dict[str, T], name: str) -> T:
    [found] = [r for r in table.values() if getattr(r, "name", None) == name]
    return found


BASE = """
region: us-east-1
vpcs:
  - name: main
    cidr: 10.0.0.0/16
    subnets:
      - {name: pub, cidr: 10.0.0.0/24, zone: us-east-1a}
      - {name: priv, cidr: 10.0.1.0/24, zone: us-east-1b}
internet_gateways:
  - {name: igw, vpc: main}
"""


def with_vpc(vpc: str) -> str:
    """``BASE`` with one more VPC (a flow mapping) in its ``vpcs`` list."""
    return BASE.replace("internet_gateways:", f"  - {vpc}\ninternet_gateways:")


# ---------------------------------------------------------------------------------- example
@pytest.fixture(scope="module")
def example() -> Network:
    return load_topology(EXAMPLE)


def test_example_zone_is_the_atlanta_local_zone(example: Network) -> None:
    zone = example.zones["us-east-1-atl-1a"]
    assert zone.zone_type == ZoneType.LOCAL_ZONE
    assert (zone.zone_id, zone.group_name) == ("use1-atl1-az1", "us-east-1-atl-1")
    assert (zone.parent_zone_name, zone.parent_zone_id) == ("us-east-1d", "use1-az4")
    assert zone.opt_in_status == "opted-in"
    vpc = example.vpcs["vpc-0a1b2c3d4e5f60001"]
    assert vpc.cidrs == [net("172.31.100.0/24")]
    subnets = example.subnets_of(vpc.id)
    assert sorted(str(s.cidr) for s in subnets) == ["172.31.100.0/26", "172.31.100.64/26"]
    assert {s.availability_zone for s in subnets} == {"us-east-1-atl-1a"}
    assert {s.availability_zone_id for s in subnets} == {"use1-atl1-az1"}


def test_example_private_default_route_goes_to_the_nat_instance(example: Network) -> None:
    nat = example.instances["i-0a1b2c3d4e5f60001"]
    assert nat.name == "nat-instance"
    assert nat.masquerade is True
    assert nat.source_dest_check is False
    [nat_eni_id] = nat.network_interface_ids
    nat_eni = example.network_interfaces[nat_eni_id]
    assert nat_eni.source_dest_check is False
    assert nat_eni.instance_id == nat.id and nat_eni.attached
    assert nat_eni.primary_ip == ip("172.31.100.10")
    assert nat_eni.private_ips[0].public_ip == ip("203.0.113.10")
    table = example.route_table_for_subnet("subnet-0a1b2c3d4e5f60002")
    assert table is not None and table.id == "rtb-0a1b2c3d4e5f60002"
    [default] = [r for r in table.routes if r.destination == net("0.0.0.0/0")]
    assert default.target_type == TargetType.INSTANCE
    assert default.target_id == nat.id
    assert default.network_interface_id == nat_eni_id
    public = example.route_table_for_subnet("subnet-0a1b2c3d4e5f60001")
    assert public is not None
    [out] = [r for r in public.routes if r.destination == net("0.0.0.0/0")]
    assert (out.target_type, out.target_id) == (TargetType.INTERNET_GATEWAY,
                                                "igw-0a1b2c3d4e5f60001")
    assert example.internet_gateways["igw-0a1b2c3d4e5f60001"].vpc_id == "vpc-0a1b2c3d4e5f60001"


def test_example_instances_and_security_groups(example: Network) -> None:
    wordpress = example.instances["i-0a1b2c3d4e5f60002"]
    mysql = example.instances["i-0a1b2c3d4e5f60003"]
    assert (wordpress.name, wordpress.instance_type) == ("wordpress", "t3.medium")
    assert mysql.name == "mysql"
    assert {wordpress.subnet_id, mysql.subnet_id} == {"subnet-0a1b2c3d4e5f60002"}
    for inst in (wordpress, mysql):
        eni = example.network_interfaces[inst.network_interface_ids[0]]
        assert eni.private_ips[0].public_ip is None  # unreachable from the internet
    db_sg = example.security_groups["sg-0a1b2c3d4e5f60003"]
    [rule] = db_sg.ingress
    assert (rule.protocol, rule.from_port, rule.to_port, rule.group_id) == (
        "tcp", 3306, 3306, "sg-0a1b2c3d4e5f60002")
    wp_sg = example.security_groups["sg-0a1b2c3d4e5f60002"]
    assert [(r.protocol, r.from_port, r.group_id) for r in wp_sg.ingress] == [
        ("tcp", 80, "sg-0a1b2c3d4e5f60001")]
    nat_sg = example.security_groups["sg-0a1b2c3d4e5f60004"]
    assert [(r.protocol, str(r.cidr)) for r in nat_sg.ingress] == [("-1", "172.31.100.0/24")]


def test_example_defaults_are_created(example: Network) -> None:
    vpc_id = "vpc-0a1b2c3d4e5f60001"
    main = example.main_route_table(vpc_id)
    assert main is not None and main.id not in ("rtb-0a1b2c3d4e5f60001", "rtb-0a1b2c3d4e5f60002")
    for table in example.route_tables.values():
        local = table.routes[0]
        assert (local.destination, local.target_type, local.target_id, local.origin) == (
            net("172.31.100.0/24"), TargetType.LOCAL, "local", RouteOrigin.CREATE_ROUTE_TABLE)
    [acl] = example.network_acls.values()
    assert acl.is_default
    assert sorted(acl.subnet_ids) == ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]
    assert sorted((e.egress, e.rule_number, e.action) for e in acl.entries) == [
        (False, 100, "allow"), (False, 32767, "deny"), (True, 100, "allow"), (True, 32767, "deny")]
    [default_sg] = [g for g in example.security_groups.values() if g.group_name == "default"]
    assert [r.group_id for r in default_sg.ingress] == [default_sg.id]
    assert [str(r.cidr) for r in default_sg.egress] == ["0.0.0.0/0"]


def test_example_alb_has_a_node_with_an_eni(example: Network) -> None:
    [lb] = example.load_balancers.values()
    assert (lb.lb_name, lb.lb_type, lb.scheme) == ("wordpress-alb", "application",
                                                   "internet-facing")
    assert re.fullmatch(r"wordpress-alb-[0-9a-f]{16}\.elb\.us-east-1\.amazonaws\.com",
                        lb.dns_name)
    assert re.fullmatch(r"arn:aws:elasticloadbalancing:us-east-1:111122223333:loadbalancer/"
                        r"app/wordpress-alb/[0-9a-f]{16}", lb.id)
    [zone] = lb.zones
    assert (zone.zone_name, zone.subnet_id, zone.addresses) == (
        "us-east-1-atl-1a", "subnet-0a1b2c3d4e5f60001", [ip("172.31.100.20")])
    [eni] = [e for e in example.network_interfaces.values()
             if e.description.startswith("ELB app/wordpress-alb/")]
    assert eni.primary_ip == ip("172.31.100.20")
    assert eni.private_ips[0].public_ip == ip("203.0.113.20")
    assert eni.security_group_ids == ["sg-0a1b2c3d4e5f60001"]
    [listener] = lb.listeners
    assert (listener.port, listener.protocol) == (80, "HTTP")
    tg = example.target_groups[listener.target_group_arns[0]]
    assert [(t.id, t.port) for t in tg.targets] == [("i-0a1b2c3d4e5f60002", 80)]


# ---------------------------------------------------------------------------------- errors
ERROR_CASES = [
    pytest.param(
        """
        vpcs:
          - name: main
            cidr: 10.0.0.0/16
            subnets:
              - {name: a, cidr: 10.0.0.0/24}
              - {name: b, cidr: 10.0.0.0/33}
        """,
        "10.0.0.0/33", "vpcs[0].subnets[1].cidr", "'10.0.0.0/33' is not a valid CIDR",
        id="bad-cidr"),
    pytest.param(
        """
        vpcs:
          - name: main
            cidrr: 10.0.0.0/16
        """,
        "cidrr", "vpcs[0].cidrr", "unknown field 'cidrr' in a VPC (allowed: account, cidr, "
        "cidrs,", id="unknown-field"),
    pytest.param(
        """
        vpcs:
          - name: main
            cidr: 10.0.0.0/16
            subnets:
              - {name: a, cidr: 10.0.0.0/24, map_public_ip_on_launch: "yes"}
        """,
        "yes", "vpcs[0].subnets[0].map_public_ip_on_launch",
        "expected true or false, got a string ('yes')", id="wrong-type"),
    pytest.param(
        BASE + """
        instances:
          - {name: web, subnet: pub, private_ip: 10.0.0.300}
        """,
        "10.0.0.300", "instances[0].private_ip", "'10.0.0.300' is not a valid IP address",
        id="bad-ip"),
    pytest.param(
        BASE + """
        route_tables:
          - name: rt
            vpc: main
            routes:
              - {destination: 0.0.0.0/0, target: nat-gw}
        """,
        "nat-gw", "route_tables[0].routes[0].target",
        "'nat-gw' is not the name or id of any route target", id="unknown-route-target"),
    pytest.param(
        """
        subnets:
          - {name: a, vpc: nowhere, cidr: 10.0.0.0/24}
        """,
        "nowhere", "subnets[0].vpc", "'nowhere' is not the name or id of any VPC",
        id="unknown-vpc"),
    pytest.param(
        """
        vpcs:
          - name: main
            cidr: 10.0.0.0/16
            subnets:
              - {name: a, cidr: 10.1.0.0/24}
        """,
        "10.1.0.0/24", "vpcs[0].subnets[0].cidr",
        "10.1.0.0/24 is not inside the CIDR blocks of VPC 'main' (10.0.0.0/16)",
        id="subnet-outside-vpc"),
    pytest.param(
        """
        vpcs:
          - name: main
            cidr: 10.0.0.0/16
            subnets:
              - {name: a, cidr: 10.0.0.0/23}
              - {name: b, cidr: 10.0.1.0/24}
        """,
        "10.0.1.0/24", "vpcs[0].subnets[1].cidr",
        "10.0.1.0/24 overlaps subnet 'a' (10.0.0.0/23, line 5)", id="overlapping-subnets"),
    pytest.param(
        BASE + """
        instances:
          - {name: web, subnet: pub, private_ip: 10.0.1.10}
        """,
        "10.0.1.10", "instances[0].private_ip",
        "10.0.1.10 is outside subnet 'pub' (10.0.0.0/24)", id="ip-outside-subnet"),
    pytest.param(
        BASE + """
        instances:
          - {name: web, subnet: pub, private_ip: 10.0.0.2}
        """,
        "10.0.0.2", "instances[0].private_ip", "10.0.0.2 is reserved by AWS in subnet 'pub'",
        id="reserved-ip"),
    pytest.param(
        BASE + """
        instances:
          - {name: web, subnet: pub, private_ip: 10.0.0.10}
          - {name: app, subnet: pub, private_ip: 10.0.0.10}
        """,
        "name: app", "instances[1].private_ip",
        "10.0.0.10 is already used by instance 'web'", id="duplicate-ip"),
    pytest.param(
        BASE + """
        instances:
          - {name: web, subnet: pub}
          - {name: web, subnet: priv}
        """,
        "subnet: priv}", "instances[1].name", "duplicate instance name 'web' (first at line",
        id="duplicate-name"),
    pytest.param(
        BASE + """
        instances:
          - {name: web, id: i-0123456789abcdef0, subnet: pub}
          - {name: app, id: i-0123456789abcdef0, subnet: priv}
        """,
        "name: app", "instances[1].id", "id 'i-0123456789abcdef0' is already used by "
        "instance 'web'", id="duplicate-id"),
    pytest.param(
        BASE + """
        instances:
          - {name: web, id: instance-1, subnet: pub}
        """,
        "instance-1", "instances[0].id", "'instance-1' is not an instance id (expected i-",
        id="badly-shaped-id"),
    pytest.param(
        BASE + """
        route_tables:
          - {name: one, vpc: main, main: true}
          - {name: two, vpc: main, main: true}
        """,
        "name: two", "route_tables[1].main", "VPC 'main' already has a main route table "
        "(route table 'one', line", id="two-main-tables"),
    pytest.param(
        BASE + """
        route_tables:
          - {name: one, vpc: main, subnets: [pub]}
          - {name: two, vpc: main, subnets: [pub]}
        """,
        "name: two", "route_tables[1].subnets[0]",
        "subnet 'pub' is already associated with route table 'one'", id="subnet-two-tables"),
    pytest.param(
        BASE + """
        instances:
          - {name: nat, subnet: pub, nat: true, source_dest_check: true}
        """,
        "nat: true", "instances[0].source_dest_check", "needs source_dest_check: false",
        id="nat-instance-with-check"),
    pytest.param(
        with_vpc("{name: other, cidr: 10.1.0.0/16}") + """
        route_tables:
          - name: rt
            vpc: other
            routes:
              - {destination: 0.0.0.0/0, target: igw}
        """,
        "target: igw", "route_tables[0].routes[0].target",
        "internet gateway 'igw' is in VPC 'main', not in VPC 'other'",
        id="igw-of-another-vpc"),
    pytest.param(
        BASE + """
        egress_only_internet_gateways:
          - {name: eigw, vpc: main}
        route_tables:
          - name: rt
            vpc: main
            routes:
              - {destination: 0.0.0.0/0, target: eigw}
        """,
        "target: eigw", "route_tables[0].routes[0].target", "carries IPv6 only",
        id="eigw-ipv4"),
    pytest.param(
        BASE + """
        route_tables:
          - name: rt
            vpc: main
            routes:
              - {destination: 10.0.5.0/24, target: igw}
        """,
        "10.0.5.0/24", "route_tables[0].routes[0].destination", "(RT-13)",
        id="more-specific-than-local"),
    pytest.param(
        BASE + """
        security_groups:
          - name: web
            vpc: main
            ingress:
              - {protocol: tcpp, ports: 80, cidr: 0.0.0.0/0}
        """,
        "tcpp", "security_groups[0].ingress[0].protocol", "a string ('tcpp') is not a protocol",
        id="bad-protocol"),
    pytest.param(
        BASE + """
        security_groups:
          - name: web
            vpc: main
            ingress:
              - {protocol: tcp, ports: 90-80, cidr: 0.0.0.0/0}
        """,
        "90-80", "security_groups[0].ingress[0].ports", "range start is after its end",
        id="bad-ports"),
    pytest.param(
        BASE + """
        security_groups:
          - name: web
            vpc: main
            ingress:
              - {protocol: tcp, ports: 80, cidr: 0.0.0.0/0, group: web}
        """,
        "protocol: tcp", "security_groups[0].ingress[0].group",
        "give only one of cidr, ipv6_cidr, group, prefix_list", id="two-peers"),
    pytest.param(
        BASE + """
        security_groups:
          - {name: default, vpc: main}
        """,
        "name: default", "security_groups[0].name", "reserved", id="default-sg-name"),
    pytest.param(
        BASE + """
        network_acls:
          - name: acl
            vpc: main
            ingress:
              - {rule: 100, action: allow, protocol: all, cidr: 0.0.0.0/0}
              - {rule: 100, action: deny, protocol: all, cidr: 0.0.0.0/0}
        """,
        "action: deny", "network_acls[0].ingress[1].rule", "rule number 100 is used twice",
        id="duplicate-nacl-rule"),
    pytest.param(
        """
        vpcs:
          - name: main
            cidr: 10.0.0.0/16
            subnets:
              - {name: a, cidr: 10.0.0.0/24, zone: us-east-1-mia-1a}
        """,
        "mia", "vpcs[0].subnets[0].zone", "unknown zone 'us-east-1-mia-1a': declare it under "
        "zones", id="unknown-zone"),
    pytest.param(
        BASE + """
        load_balancers:
          - name: web
            subnets: [pub]
            listeners: [{port: 80, targets: []}]
        """,
        "subnets: [pub]", "load_balancers[0].subnets",
        "an Application Load Balancer needs subnets in at least two availability zones",
        id="alb-one-az"),
    pytest.param(
        """
        vpcs:
          - {name: main, cidr: 10.0.0.0/8}
        """,
        "10.0.0.0/8", "vpcs[0].cidr", "10.0.0.0/8 is a /8: VPC blocks are /16 to /28",
        id="vpc-too-big"),
    pytest.param(
        BASE + """
        nat_gateways:
          - {name: nat, subnet: priv, connectivity_type: private, public_ip: 203.0.113.5}
        """,
        "connectivity_type: private", "nat_gateways[0].public_ip",
        "a private NAT gateway has no public IP", id="private-nat-public-ip"),
]


@pytest.mark.parametrize(("text", "marker", "path", "message"), ERROR_CASES)
def test_validation_error_names_file_line_and_path(text: str, marker: str, path: str,
                                                   message: str) -> None:
    found = problems(text)
    line = line_of(text, marker)
    prefix = f"t.yaml:{line}: {path}: "
    matching = [p for p in found if p.startswith(prefix)]
    assert matching, f"no problem starts with {prefix!r}: {found}"
    assert any(message in p for p in matching), (message, matching)


def test_topology_error_is_the_public_error_type() -> None:
    with pytest.raises(TopologyError):
        parse_topology("vpcs: [{name: x, cidr: nope}]")


def test_all_problems_are_reported_in_line_order() -> None:
    text = """
    vpcs:
      - name: main
        cidr: 10.0.0.0/16
        colour: blue
        subnets:
          - {name: a, cidr: 10.0.0.0/24}
          - {name: b, cidr: 10.0.0.128/25}
    instances:
      - {name: web, subnet: a, private_ip: 10.9.9.9}
      - {name: app, subnet: nowhere}
    route_tables:
      - name: rt
        vpc: main
        routes: [{destination: 0.0.0.0/0, target: ghost}]
    """
    found = problems(text, "x.yaml")
    lines = [int(p.split(":")[1]) for p in found]
    assert lines == sorted(lines)
    expected = {
        (line_of(text, "colour"), "vpcs[0].colour"),
        (line_of(text, "10.0.0.128/25"), "vpcs[0].subnets[1].cidr"),
        (line_of(text, "10.9.9.9"), "instances[0].private_ip"),
        (line_of(text, "nowhere"), "instances[1].subnet"),
        (line_of(text, "ghost"), "routes[0].target"),
    }
    for line, path in expected:
        assert any(p.startswith(f"x.yaml:{line}: ") and path in p for p in found), (line, path)
    assert len(found) == 5


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("vpcs:\n  - name: main\n    cidr: [10.0.0.0/16\n  - name: other\n")
    with pytest.raises(TopologyError) as info:
        load_topology(path)
    message = str(info.value)
    assert message.startswith(f"{path}:")
    assert "YAML syntax error" in message
    assert re.match(rf"{re.escape(str(path))}:[34]: ", message)


def test_missing_file_is_a_topology_error(tmp_path: Path) -> None:
    with pytest.raises(TopologyError, match="cannot read"):
        load_topology(tmp_path / "absent.yaml")


def test_top_level_must_be_a_mapping() -> None:
    with pytest.raises(TopologyError, match=r"<string>:1: the top level must be a mapping"):
        parse_topology("- just\n- a list\n")


# ---------------------------------------------------------------------------------- references
def test_references_by_name_and_by_id_give_the_same_network() -> None:
    by_name_text = yaml(BASE + """
    instances:
      - {name: web, id: i-0123456789abcdef0, subnet: pub}
    route_tables:
      - name: rt
        vpc: main
        subnets: [priv]
        routes: [{destination: 0.0.0.0/0, target: web}]
    """)
    first = parse_topology(by_name_text)
    vpc_id = next(iter(first.vpcs))
    subnet_id = next(s.id for s in first.subnets.values() if s.name == "priv")
    by_id_text = (by_name_text.replace("vpc: main\n    subnets: [priv]",
                                       f"vpc: {vpc_id}\n    subnets: [{subnet_id}]")
                  .replace("target: web", "target: i-0123456789abcdef0"))
    assert by_id_text != by_name_text
    second = parse_topology(by_id_text)
    for network in (first, second):
        table = network.route_table_for_subnet(subnet_id)
        assert table is not None and table.name == "rt"
        route = table.routes[-1]
        assert (route.target_type, route.target_id) == (TargetType.INSTANCE,
                                                        "i-0123456789abcdef0")
        assert route.network_interface_id == network.instances[
            "i-0123456789abcdef0"].primary_eni_id


def test_route_to_a_network_interface() -> None:
    network = parse_topology(yaml(BASE + """
    network_interfaces:
      - {name: fw, subnet: pub, source_dest_check: false}
    route_tables:
      - name: rt
        vpc: main
        routes: [{destination: 0.0.0.0/0, target: fw}]
    """))
    eni = by_name(network.network_interfaces, "fw")
    table = by_name(network.route_tables, "rt")
    route = table.routes[-1]
    assert (route.target_type, route.target_id, route.network_interface_id) == (
        TargetType.NETWORK_INTERFACE, eni.id, eni.id)
    assert eni.attached is False


def test_security_group_default_resolves_in_the_rules_vpc() -> None:
    network = parse_topology(yaml("""
    vpcs:
      - {name: a, cidr: 10.0.0.0/16}
      - {name: b, cidr: 10.1.0.0/16}
    security_groups:
      - name: web
        vpc: b
        ingress: [{protocol: all, group: default}]
    """))
    web = by_name(network.security_groups, "web")
    vpc_b = next(v for v in network.vpcs.values() if v.name == "b")
    [default_b] = [g for g in network.security_groups.values()
                   if g.vpc_id == vpc_b.id and g.group_name == "default"]
    assert web.ingress[0].group_id == default_b.id


# ---------------------------------------------------------------------------------- ids
def test_generated_ids_are_deterministic_and_aws_shaped() -> None:
    text = yaml(BASE + """
    nat_gateways:
      - {name: nat, subnet: pub}
    instances:
      - {name: web, subnet: priv}
    route_tables:
      - {name: rt, vpc: main, routes: [{destination: 0.0.0.0/0, target: nat}]}
    """)
    one, two = parse_topology(text), parse_topology(text)
    for table, shape in ID_SHAPES.items():
        ids = sorted(getattr(one, table))
        assert ids, table
        assert ids == sorted(getattr(two, table))
        for rid in ids:
            assert re.fullmatch(shape, rid), rid
    renamed = parse_topology(text.replace("name: web", "name: web2"))
    assert set(renamed.instances) != set(one.instances)
    assert set(renamed.vpcs) == set(one.vpcs)


# ---------------------------------------------------------------------------------- defaults
def test_ipv6_vpc_defaults_and_custom_filters() -> None:
    network = parse_topology(yaml("""
    vpcs:
      - name: v6
        cidr: 10.0.0.0/16
        ipv6_cidrs: [2600:1f18:1234:5600::/56]
        subnets:
          - {name: a, cidr: 10.0.0.0/24, ipv6_cidr: 2600:1f18:1234:5600::/64}
          - {name: b, cidr: 10.0.1.0/24}
    security_groups:
      - {name: open, vpc: v6, ingress: [{protocol: icmp, icmp_type: 8, cidr: 0.0.0.0/0}]}
      - {name: closed, vpc: v6, egress: []}
    network_acls:
      - name: strict
        vpc: v6
        subnets: [a]
        ingress: [{rule: 10, action: allow, protocol: tcp, ports: 443, cidr: 0.0.0.0/0}]
    """))
    vpc = next(iter(network.vpcs.values()))
    main = network.main_route_table(vpc.id)
    assert main is not None
    assert [(str(r.destination), r.target_id) for r in main.routes] == [
        ("10.0.0.0/16", "local"), ("2600:1f18:1234:5600::/56", "local")]
    default = next(a for a in network.network_acls.values() if a.is_default)
    assert sorted((e.egress, e.rule_number, str(e.cidr)) for e in default.entries) == [
        (False, 100, "0.0.0.0/0"), (False, 101, "::/0"), (False, 32767, "0.0.0.0/0"),
        (False, 32768, "::/0"), (True, 100, "0.0.0.0/0"), (True, 101, "::/0"),
        (True, 32767, "0.0.0.0/0"), (True, 32768, "::/0")]
    strict = by_name(network.network_acls, "strict")
    assert [(e.rule_number, e.protocol, e.from_port, e.to_port) for e in strict.entries] == [
        (10, "tcp", 443, 443)]
    b = by_name(network.subnets, "b")
    assert default.subnet_ids == [b.id]
    [default_sg] = [g for g in network.security_groups.values() if g.group_name == "default"]
    assert sorted(str(r.cidr) for r in default_sg.egress) == ["0.0.0.0/0", "::/0"]
    open_sg = by_name(network.security_groups, "open")
    assert [(r.protocol, str(r.cidr)) for r in open_sg.egress] == [("-1", "0.0.0.0/0")]
    assert [(r.protocol, r.from_port, r.to_port) for r in open_sg.ingress] == [
        ("icmp", 8, None)]
    assert by_name(network.security_groups, "closed").egress == []


def test_addresses_are_allocated_after_written_ones() -> None:
    network = parse_topology(yaml(BASE + """
    instances:
      - {name: first, subnet: pub}
      - {name: fixed, subnet: pub, private_ip: 10.0.0.4}
      - {name: second, subnet: pub}
    """))
    ips = {i.name: network.network_interfaces[i.primary_eni_id].primary_ip
           for i in network.instances.values() if i.primary_eni_id}
    assert ips == {"fixed": ip("10.0.0.4"), "first": ip("10.0.0.5"), "second": ip("10.0.0.6")}
    default_sg = next(g for g in network.security_groups.values() if g.group_name == "default")
    assert all(i.security_group_ids == [default_sg.id] for i in network.instances.values())


def test_public_subnet_gives_instances_a_public_ip_and_nat_gateway_gets_one() -> None:
    network = parse_topology(yaml(BASE.replace("zone: us-east-1a}",
                                               "zone: us-east-1a, map_public_ip_on_launch: true}")
                                  + """
    nat_gateways:
      - {name: nat, subnet: pub, public_ip: 198.51.100.9}
    instances:
      - {name: web, subnet: pub}
      - {name: app, subnet: priv}
    """))
    web = by_name(network.instances, "web")
    app = by_name(network.instances, "app")
    web_eni = network.network_interfaces[web.network_interface_ids[0]]
    app_eni = network.network_interfaces[app.network_interface_ids[0]]
    assert web_eni.private_ips[0].public_ip == ip("203.0.113.1")
    assert app_eni.private_ips[0].public_ip is None
    nat = by_name(network.nat_gateways, "nat")
    assert nat.public_ip == ip("198.51.100.9")
    assert nat.private_ip is not None and nat.private_ip in net("10.0.0.0/24")
    nat_eni = network.network_interfaces[nat.addresses[0].network_interface_id or ""]
    assert nat_eni.interface_type == "nat_gateway"
    assert nat_eni.primary_ip == nat.private_ip


# ---------------------------------------------------------------------------------- services
def test_transit_gateway_tables_associations_propagations_and_blackhole() -> None:
    network = parse_topology(yaml(with_vpc("{name: dev, cidr: 10.1.0.0/16}") + """
    subnets:
      - {name: dev-a, vpc: dev, cidr: 10.1.0.0/24, zone: us-east-1a}
    customer_gateways:
      - {name: office, ip_address: 198.51.100.200}
    transit_gateways:
      - name: core
        attachments:
          - {name: att-main, vpc: main, subnets: [pub, priv]}
          - {name: att-dev, vpc: dev, subnets: [dev-a]}
        route_tables:
          - name: shared
            default_association: true
            propagations: [att-main, dev, vpn-office]
            routes:
              - {destination: 10.66.0.0/16, blackhole: true}
          - name: isolated
            associations: [dev]
            routes:
              - {destination: 0.0.0.0/0, attachment: att-main}
    vpn_connections:
      - {name: vpn-office, customer_gateway: office, transit_gateway: core,
         static_routes: [192.168.0.0/16]}
    route_tables:
      - name: to-tgw
        vpc: dev
        subnets: [dev-a]
        routes: [{destination: 10.0.0.0/8, target: core}]
    """))
    atts = {a.name or a.resource_type: a for a in network.transit_gateway_attachments.values()}
    shared = by_name(network.transit_gateway_route_tables, "shared")
    isolated = by_name(network.transit_gateway_route_tables, "isolated")
    vpn_att = atts["vpn-office"]
    assert vpn_att.resource_type == "vpn"
    assert atts["att-dev"].association_route_table_id == isolated.id
    assert atts["att-main"].association_route_table_id == shared.id
    assert vpn_att.association_route_table_id == shared.id
    assert sorted(shared.associated_attachment_ids) == sorted(
        [atts["att-main"].id, vpn_att.id])
    assert isolated.associated_attachment_ids == [atts["att-dev"].id]
    assert shared.propagating_attachment_ids == [
        atts["att-main"].id, atts["att-dev"].id, vpn_att.id]
    [blackhole] = shared.routes
    assert (blackhole.state, blackhole.attachment_id) == ("blackhole", None)
    [default] = isolated.routes
    assert (default.attachment_id, default.state) == (atts["att-main"].id, "active")
    [vpn] = network.vpn_connections.values()
    assert [t.status for t in vpn.tunnels] == ["UP", "UP"]
    assert all(t.outside_ip is not None for t in vpn.tunnels)
    table = by_name(network.route_tables, "to-tgw")
    assert table.routes[-1].target_type == TargetType.TRANSIT_GATEWAY


def test_route_to_a_transit_gateway_needs_an_attachment() -> None:
    text = BASE + """
    transit_gateways:
      - {name: core}
    route_tables:
      - {name: rt, vpc: main, routes: [{destination: 10.0.0.0/8, target: core}]}
    """
    found = problems(text)
    assert any(f"t.yaml:{line_of(text, 'target: core')}:" in p and
               "has no attachment to transit gateway 'core'" in p for p in found), found


def test_endpoints_peering_and_local_gateway() -> None:
    network = parse_topology(yaml(with_vpc("{name: peer, cidr: 10.1.0.0/16}") + """
    peering_connections:
      - {name: pcx, requester: main, accepter: peer}
    route_tables:
      - name: rt
        vpc: main
        subnets: [priv]
        routes: [{destination: 10.1.0.0/16, target: pcx}]
    vpc_endpoints:
      - {name: s3, vpc: main, service: s3, route_tables: [rt, main]}
      - {name: sts, vpc: main, service: sts, subnets: [pub, priv]}
    instances:
      - {name: onprem-facing, subnet: priv, customer_owned_ip: 192.0.2.10}
    local_gateways:
      - name: lgw
        outpost: op-0123456789abcdef0
        route_tables:
          - {name: lgw-rt, mode: coip, vpcs: [main],
             routes: [{destination: 172.16.0.0/12, network_interface: onprem-facing}]}
    coip_pools:
      - {name: pool, local_gateway_route_table: lgw-rt, cidrs: [192.0.2.0/26]}
    """))
    table = by_name(network.route_tables, "rt")
    routes = table.routes
    pcx = by_name(network.peering_connections, "pcx")
    assert (routes[1].target_type, routes[1].target_id) == (TargetType.VPC_PEERING,
                                                            pcx.id)
    s3 = by_name(network.vpc_endpoints, "s3")
    prefix_list = network.prefix_lists[routes[2].prefix_list_id or ""]
    assert prefix_list.prefix_list_name == "com.amazonaws.us-east-1.s3"
    assert prefix_list.cidrs
    assert (routes[2].target_type, routes[2].target_id) == (TargetType.GATEWAY_ENDPOINT,
                                                            s3.id)
    main = network.main_route_table(table.vpc_id)
    assert main is not None and main.routes[-1].prefix_list_id == prefix_list.id
    sts = by_name(network.vpc_endpoints, "sts")
    enis = [network.network_interfaces[e] for e in sts.network_interface_ids]
    assert [e.interface_type for e in enis] == ["vpc_endpoint", "vpc_endpoint"]
    assert sts.service_name == "com.amazonaws.us-east-1.sts"
    lgw_rt = by_name(network.local_gateway_route_tables, "lgw-rt")
    instance = by_name(network.instances, "onprem-facing")
    static, propagated = lgw_rt.routes
    assert static.network_interface_id == instance.primary_eni_id
    pool = by_name(network.coip_pools, "pool")
    assert (propagated.route_type, propagated.coip_pool_id) == ("propagated", pool.id)
    eni = network.network_interfaces[instance.network_interface_ids[0]]
    assert eni.private_ips[0].customer_owned_ip == ip("192.0.2.10")


def test_overlapping_peering_is_refused() -> None:
    text = with_vpc("{name: twin, cidr: 10.0.0.0/16}") + """
    peering_connections:
      - {name: pcx, requester: main, accepter: twin}
    """
    found = problems(text)
    assert any(f"t.yaml:{line_of(text, 'accepter: twin')}: peering_connections[0].accepter:"
               in p and "overlapping" in p for p in found), found


# ---------------------------------------------------------------------------------- property
@st.composite
def small_topologies(draw: st.DrawFn) -> tuple[str, int]:
    prefix = draw(st.integers(min_value=16, max_value=24))
    base = draw(st.integers(min_value=0, max_value=(1 << prefix) - 1)) << (32 - prefix)
    vpc = ipaddress.IPv4Network((base, prefix))
    size = draw(st.integers(min_value=prefix + 2, max_value=28))
    count = draw(st.integers(min_value=1, max_value=4))
    pieces = list(vpc.subnets(new_prefix=size))
    chosen = draw(st.lists(st.sampled_from(pieces), min_size=1, max_size=count, unique=True))
    lines = ["vpcs:", "  - name: v", f"    cidr: {vpc}", "    subnets:"]
    for i, piece in enumerate(chosen):
        zone = "abcdef"[i % 6]
        lines.append(f"      - {{name: s{i}, cidr: {piece}, zone: us-east-1{zone}}}")
    lines += ["instances:"] + [f"  - {{name: i{i}, subnet: s{i}}}" for i in range(len(chosen))]
    return "\n".join(lines) + "\n", len(chosen)


@settings(max_examples=40, deadline=None)
@given(small_topologies())
def test_small_valid_topologies_load_with_subnets_inside_their_vpc(
        case: tuple[str, int]) -> None:
    text, count = case
    network = parse_topology(text)
    [vpc] = network.vpcs.values()
    assert len(network.subnets) == count
    for subnet in network.subnets.values():
        assert subnet.cidr is not None
        assert any(subnet.cidr.subnet_of(c) for c in vpc.cidrs)  # type: ignore[arg-type]
        instance = next(i for i in network.instances.values() if i.subnet_id == subnet.id)
        eni = network.network_interfaces[instance.network_interface_ids[0]]
        assert eni.primary_ip == subnet.cidr.network_address + 4

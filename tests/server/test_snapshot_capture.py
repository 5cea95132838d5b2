"""``localvpc snapshot capture``: a network built through the API, captured, and loaded with
--snapshot traces exactly like the live server does."""

from __future__ import annotations

import datetime
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from conftest import Server, free_port
from localvpc.dataplane import compile_network
from localvpc.dataplane.compiled import ForwardingPlane
from localvpc.dataplane.request import trace_request
from localvpc.model.errors import TraceInputError
from localvpc.model.network import Network
from localvpc.snapshot import load_snapshot
from localvpc.store import Store

REGION = "us-east-1"


def capture_cli(out: Path, *args: str, home: Path) -> subprocess.CompletedProcess[str]:
    """``python -m localvpc snapshot capture``, with credentials and no user AWS config."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIDLOCALVPCTEST",
           "AWS_SECRET_ACCESS_KEY": "secret", "AWS_CONFIG_FILE": str(home / "config"),
           "AWS_SHARED_CREDENTIALS_FILE": str(home / "credentials")}
    env.pop("AWS_PROFILE", None)
    env.pop("AWS_DEFAULT_REGION", None)
    env.pop("AWS_REGION", None)
    return subprocess.run([sys.executable, "-m", "localvpc", "snapshot", "capture", *args,
                           str(out)], capture_output=True, text=True, env=env, timeout=300)


def aws_text(server: Server, *args: str) -> str:
    """What the AWS CLI prints (``--output json``) for a command against the server."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIDLOCALVPCTEST",
           "AWS_SECRET_ACCESS_KEY": "secret", "AWS_DEFAULT_REGION": REGION, "AWS_PAGER": ""}
    p = subprocess.run(["aws", *args, "--endpoint-url", server.url, "--output", "json"],
                       capture_output=True, text=True, env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    return p.stdout


def build_network(server: Server) -> dict[str, str]:
    """Public subnet (IGW, NAT with an EIP, an instance with a public IP) and private subnet
    (default route to the NAT, an instance); one SG allowing SSH and ICMP within the VPC."""
    ec2 = server.client("ec2", REGION)
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24",
                               AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.2.0/24",
                                AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=public, MapPublicIpOnLaunch={"Value": True})
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    public_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=public_rt, SubnetId=public)

    sg = ec2.create_security_group(GroupName="ssh", Description="ssh and ping",
                                   VpcId=vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]},
        {"IpProtocol": "icmp", "FromPort": -1, "ToPort": -1,
         "IpRanges": [{"CidrIp": "10.20.0.0/16"}]},
    ])

    def run(subnet: str) -> dict[str, Any]:
        inst: dict[str, Any] = ec2.run_instances(
            ImageId="ami-12345678", MinCount=1, MaxCount=1, InstanceType="t3.micro",
            SubnetId=subnet, SecurityGroupIds=[sg])["Instances"][0]
        return inst

    web, db = run(public), run(private)
    described = ec2.describe_instances(InstanceIds=[web["InstanceId"]])
    web_public = described["Reservations"][0]["Instances"][0]["PublicIpAddress"]
    assert web_public

    eip = ec2.allocate_address(Domain="vpc")
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=eip["AllocationId"])
    nat_id = nat["NatGateway"]["NatGatewayId"]
    private_rt = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=private_rt, DestinationCidrBlock="0.0.0.0/0",
                     NatGatewayId=nat_id)
    ec2.associate_route_table(RouteTableId=private_rt, SubnetId=private)
    return {"vpc": vpc, "web": web["InstanceId"], "web_ip": web["PrivateIpAddress"],
            "web_public": web_public, "db": db["InstanceId"], "db_ip": db["PrivateIpAddress"],
            "nat": nat_id, "nat_public": eip["PublicIp"], "igw": igw}


def traces(plane: ForwardingPlane, node: str, dst: str, protocol: str = "tcp",
           dst_port: int | None = None) -> list[dict[str, Any]]:
    _, found = trace_request(plane, node, dst, None, protocol, None, dst_port,
                             bidirectional=True)
    return [t.to_json() for t in found]


@pytest.fixture
def round_trip(fresh: Server, tmp_path: Path) -> tuple[dict[str, str], Network, Network, Path]:
    ids = build_network(fresh)
    out = tmp_path / "snapshot"
    p = capture_cli(out, "--endpoint-url", fresh.url, "--region", REGION, home=tmp_path)
    assert p.returncode == 0, p.stderr
    captured = load_snapshot(out)
    with Store.open(fresh.state) as store:  # read-only while the server runs
        live = store.load_network()
    return ids, captured, live, out


def test_captured_snapshot_traces_like_the_live_server(
        round_trip: tuple[dict[str, str], Network, Network, Path]) -> None:
    ids, captured, live, _ = round_trip
    assert captured.warnings == []
    snap, server = compile_network(captured), compile_network(live)
    cases: list[tuple[str, str, str, int | None, str | None]] = [
        (ids["web"], ids["db_ip"], "tcp", 22, "ACCEPTED"),            # allowed by the SG
        (ids["web"], ids["db_ip"], "tcp", 80, "DENIED_IN"),           # no SG rule
        (ids["db"], ids["web_ip"], "icmp", None, "ACCEPTED"),         # ICMP within the VPC
        (ids["web"], "8.8.8.8", "tcp", 443, "EXITS_NETWORK"),         # public IP via the IGW
        (ids["db"], "8.8.8.8", "tcp", 443, "EXITS_NETWORK"),          # via the NAT, then IGW
        ("internet", ids["web_public"], "tcp", 22, "ACCEPTED"),       # from the internet
        ("internet", ids["web_public"], "tcp", 80, "DENIED_IN"),      # SG has no port 80
        ("internet", ids["db_ip"], "tcp", 22, None),                  # private address
    ]
    for node, dst, protocol, port, expected in cases:
        want = traces(server, node, dst, protocol, port)
        got = traces(snap, node, dst, protocol, port)
        assert got == want, f"{node} -> {dst} {protocol}/{port}:\n" + json.dumps(
            {"snapshot": got, "server": want}, indent=1)
        if expected is not None:
            assert want[0]["disposition"] == expected, (node, dst, port, want)
    via_nat = traces(server, ids["db"], "8.8.8.8", "tcp", 443)[0]["hops"]
    assert [h["node"] for h in via_nat if h["node"] in (ids["nat"], ids["igw"])] == [
        ids["nat"], ids["igw"]]


def test_capture_writes_what_the_aws_cli_prints(
        round_trip: tuple[dict[str, str], Network, Network, Path], fresh: Server) -> None:
    ids, _, _, out = round_trip
    folder = out / REGION
    for command, name in [("describe-vpcs", "Vpcs.json"),
                          ("describe-instances", "Reservations.json"),
                          ("describe-security-groups", "SecurityGroups.json"),
                          ("describe-route-tables", "RouteTables.json"),
                          ("describe-nat-gateways", "NatGateways.json")]:
        text = (folder / name).read_text(encoding="utf-8")
        assert json.loads(text) == fresh.aws("ec2", command, region=REGION), name
        assert text == aws_text(fresh, "ec2", command), name
    assert ids["vpc"] in (folder / "Vpcs.json").read_text(encoding="utf-8")


def test_datetimes_and_blobs_are_written_as_the_aws_cli_prints_them() -> None:
    from argparse import Namespace
    from io import StringIO

    from awscli.formatter import JSONFormatter

    from localvpc.snapshot.capture import to_cli_json

    when = datetime.datetime(2024, 6, 12, 18, 15, 32, 417000, tzinfo=datetime.UTC)
    doc = {"NatGateways": [{"CreateTime": when, "NatGatewayId": "nat-1", "Name": "café",
                            "Blob": b"\x00\x01"}]}
    printed = StringIO()
    JSONFormatter(Namespace(query=None))("describe-nat-gateways", dict(doc), printed)
    assert to_cli_json(doc) == printed.getvalue()
    assert '"CreateTime": "2024-06-12T18:15:32.417000+00:00"' in to_cli_json(doc)


def test_unimplemented_operations_are_warnings(fresh: Server, tmp_path: Path) -> None:
    p = capture_cli(tmp_path / "out", "--endpoint-url", fresh.url, "--region", REGION,
                    home=tmp_path)
    assert p.returncode == 0, p.stderr
    warnings = [line for line in p.stderr.splitlines() if line]
    assert all(line.startswith("localvpc: warning: ") for line in warnings), p.stderr
    assert (tmp_path / "out" / REGION / "Vpcs.json").is_file()


def test_unreadable_endpoint_exits_2_with_one_line(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    p = capture_cli(tmp_path / "out", "--endpoint-url", url, "--region", REGION, home=tmp_path)
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("localvpc: error: ") and url in lines[0]
    assert not (tmp_path / "out").exists()


def test_no_region_exits_2(tmp_path: Path, fresh: Server) -> None:
    p = capture_cli(tmp_path / "out", "--endpoint-url", fresh.url, home=tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines() == [
        "localvpc: error: no region: pass --region (or configure one for the profile)"]


# ----------------------------------------------------------------------------- a fake AWS
# AWS itself is not reachable from the tests: a fake answers every call (botocore's
# ``before-call`` event short-circuits the HTTP request) from one of the Batfish snapshots,
# which gives data for what localvpc serve does not implement yet (TGW tables, ELBv2, peering).

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SCENARIOS = ["test-transit-gateway", "test-load-balancer", "test-vpc-peering",
             "test-nat-gateway", "test-public-subnet", "test-vpc-endpoint-gateway"]

# Per-parent operations: (parent id parameter, snapshot key, records key in the answer).
PER_PARENT_ANSWERS = {
    "SearchTransitGatewayRoutes": ("TransitGatewayRouteTableId", "TransitGatewayStaticRoutes",
                                   "Routes"),
    "GetTransitGatewayRouteTablePropagations": (
        "TransitGatewayRouteTableId", "TransitGatewayPropagations",
        "TransitGatewayRouteTablePropagations"),
    "DescribeListeners": ("LoadBalancerArn", "LoadBalancerListeners", "Listeners"),
    "DescribeLoadBalancerAttributes": ("LoadBalancerArn", "LoadBalancerAttributes",
                                       "Attributes"),
    "DescribeTargetHealth": ("TargetGroupArn", "LoadBalancerTargetHealth",
                             "TargetHealthDescriptions"),
}


REAL_SESSION = botocore.session.Session


class FakeAws:
    """Answers describe calls from a snapshot folder; ``errors`` maps operation -> (HTTP
    status, AWS error code). A key the snapshot lacks is an operation it does not have."""

    def __init__(self, folder: Path, errors: dict[str, tuple[int, str]] | None = None) -> None:
        from localvpc.snapshot.capture import DESCRIBES

        self.data: dict[str, list[Any]] = {}
        for file in sorted(folder.glob("*.json")):
            self.data.update(json.loads(file.read_text(encoding="utf-8")))
        self.keys = {d.operation: d.key for d in DESCRIBES if d.written_key in self.data}
        self.errors = errors or {}
        self.calls: list[str] = []

    def answer(self, model: Any, params: dict[str, Any], **_: Any) -> tuple[Any, dict[str, Any]]:
        from types import SimpleNamespace

        op = model.name
        self.calls.append(op)
        body = params.get("body") if isinstance(params.get("body"), dict) else {}
        if op in self.errors:
            status, code = self.errors[op]
            return SimpleNamespace(status_code=status), {
                "Error": {"Code": code, "Message": f"fake {code}"},
                "ResponseMetadata": {"HTTPStatusCode": status}}
        if op in self.keys:
            key = self.keys[op]
            return SimpleNamespace(status_code=200), {key: self.data[key]}
        if op in PER_PARENT_ANSWERS and PER_PARENT_ANSWERS[op][1] in self.data:
            id_field, key, records = PER_PARENT_ANSWERS[op]
            found = [r for r in self.data[key] if r.get(id_field) == body.get(id_field)]
            answer: dict[str, Any] = {records: found[0][records] if found else []}
            if op == "SearchTransitGatewayRoutes":
                answer["AdditionalRoutesAvailable"] = False
            return SimpleNamespace(status_code=200), answer
        return SimpleNamespace(status_code=400), {
            "Error": {"Code": "InvalidAction", "Message": f"no {op}"},
            "ResponseMetadata": {"HTTPStatusCode": 400}}


def fake_capture(monkeypatch: pytest.MonkeyPatch, fake: FakeAws, out: Path, region: str,
                 warnings: list[str]) -> Any:
    from localvpc.snapshot import capture as capture_module

    class Session(REAL_SESSION):  # type: ignore[misc]
        def create_client(self, *args: Any, **kwargs: Any) -> Any:
            client = super().create_client(*args, **kwargs)
            client.meta.events.register("before-call.*.*", fake.answer)
            return client

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDFAKE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    monkeypatch.setattr(capture_module.botocore.session, "Session", Session)
    return capture_module.capture(out, [region], warn=warnings.append)


def scenario_folder(scenario: str) -> tuple[Path, str]:
    """The folder of the scenario's JSON files and the region the loader gives them."""
    base = SHARED / "aws-snapshots" / scenario / "aws_configs"
    if not base.is_dir():
        pytest.skip(f"snapshot {scenario} is not present")
    regions = [d for d in base.iterdir() if d.is_dir()]
    return (regions[0], regions[0].name) if regions else (base, "us-west-2")


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_capture_of_aws_traces_like_the_snapshot_it_serves(
        scenario: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder, region = scenario_folder(scenario)
    fake = FakeAws(folder)
    warnings: list[str] = []
    report = fake_capture(monkeypatch, fake, tmp_path / "out", region, warnings)
    written = {path.name for path, _ in report.files}
    assert {f"{key}.json" for key in fake.data} <= written | {
        "VpcEndpointServices.json"}, warnings  # a key the loader does not read
    original = compile_network(load_snapshot(folder))
    captured_network = load_snapshot(tmp_path / "out")
    captured = compile_network(captured_network)
    cases_file = SHARED / "acceptance" / "batfish" / f"{scenario}.json"
    cases = json.loads(cases_file.read_text())["cases"] if cases_file.is_file() else []
    nodes = [i["InstanceId"] for r in fake.data.get("Reservations", [])
             for i in r["Instances"]]
    flows = [(c["ingress"], c["dst_ip"], c.get("src_ip"), str(c.get("protocol", "0")),
              c.get("dst_port")) for c in cases]
    flows += [(node, "8.8.8.8", None, "tcp", 443) for node in nodes]
    assert flows
    traced = 0
    for node, dst, src, protocol, port in flows:
        want, got = (outcome(plane, node, dst, src, protocol, port)
                     for plane in (original, captured))
        assert got == want, (node, dst, port)
        traced += isinstance(want, list)
    assert traced >= len(cases)


def outcome(plane: ForwardingPlane, node: str, dst: str, src: str | None, protocol: str,
            port: int | None) -> list[dict[str, Any]] | str:
    """The traces, or the error (a terminated instance has no interface to start from)."""
    try:
        _, found = trace_request(plane, node, dst, src, protocol, None, port,
                                 bidirectional=True)
    except TraceInputError as e:
        return str(e)
    return [t.to_json() for t in found]


def test_tgw_and_load_balancer_groups_are_written_in_the_loaders_shapes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for scenario, name in [("test-transit-gateway", "TransitGatewayStaticRoutes.json"),
                           ("test-transit-gateway", "TransitGatewayPropagations.json"),
                           ("test-load-balancer", "LoadBalancerListeners.json"),
                           ("test-load-balancer", "LoadBalancerAttributes.json"),
                           ("test-load-balancer", "LoadBalancerTargetHealth.json")]:
        folder, region = scenario_folder(scenario)
        out = tmp_path / scenario
        fake_capture(monkeypatch, FakeAws(folder), out, region, [])
        (key, original), = json.loads((folder / name).read_text()).items()
        (written_key, written), = json.loads((out / region / name).read_text()).items()
        assert written_key == key
        # One group per parent record: the parents the original does not list have none.
        assert [g for g in written if g in original or any(
            isinstance(v, list) and v for v in g.values())] == original, name


def test_not_implemented_and_denied_operations_are_skipped_other_errors_fail(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from localvpc.snapshot.capture import CaptureError

    folder, region = scenario_folder("test-transit-gateway")
    out = tmp_path / "out"
    (out / region).mkdir(parents=True)
    (out / region / "Outposts.json").write_text('{"Outposts": []}')  # left from before
    (out / region / "notes.json").write_text("{}")                   # not the capture's
    fake = FakeAws(folder, {"ListOutposts": (501, "NotImplemented"),
                            "DescribeTransitGatewayRouteTables": (403, "UnauthorizedOperation"),
                            "DescribeLoadBalancers": (400, "UnknownOperationException")})
    warnings: list[str] = []
    fake_capture(monkeypatch, fake, out, region, warnings)
    assert any("ListOutposts: not implemented by the endpoint (NotImplemented)" in w
               for w in warnings)
    assert any("DescribeTransitGatewayRouteTables: not allowed (UnauthorizedOperation)" in w
               for w in warnings)
    names = {p.name for p in (out / region).iterdir()}
    assert "Outposts.json" not in names and "notes.json" in names
    assert "TransitGatewayStaticRoutes.json" not in names  # its parent was skipped
    assert "LoadBalancerListeners.json" not in names
    assert "SearchTransitGatewayRoutes" not in fake.calls

    failing = FakeAws(folder, {"DescribeSubnets": (500, "InternalError")})
    with pytest.raises(CaptureError, match="DescribeSubnets failed: InternalError"):
        fake_capture(monkeypatch, failing, tmp_path / "other", region, [])

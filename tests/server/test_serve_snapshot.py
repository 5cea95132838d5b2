"""``localvpc serve --snapshot PATH``: a real account's describe-* snapshot (here Batfish's
shared ones) or a topology YAML becomes the server's state, each resource in the account and
region the snapshot gives it, so boto3 pointed at the server sees that account's network."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conftest import Server, free_port, start_server, stop_server

SNAPSHOTS = Path("/work/shared/aws-snapshots")
PEERING = SNAPSHOTS / "test-vpc-peering-multi-account"
BAT, FISH = "123456789012", "123456789013"
BAT_VPC, FISH_VPC = "vpc-0f44fae3468d2b998", "vpc-05951c91977125d2e"
BAT_SUBNET, FISH_SUBNET = "subnet-03a80d08017ee39ef", "subnet-088d6408a3a6129fa"

pytestmark = pytest.mark.skipif(not PEERING.is_dir(), reason="shared snapshots not present")


def vpcs(server: Server, account: str, region: str = "us-east-1") -> dict[str, str]:
    out = server.client("ec2", region=region, account=account).describe_vpcs()["Vpcs"]
    return {v["VpcId"]: v["OwnerId"] for v in out}


def subnets(server: Server, account: str, region: str = "us-east-1") -> dict[str, str]:
    out = server.client("ec2", region=region, account=account).describe_subnets()["Subnets"]
    return {s["SubnetId"]: s["CidrBlock"] for s in out}


def test_each_account_sees_its_part_of_the_snapshot_and_a_restart_keeps_it(
        tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    first = start_server(state, "--snapshot", str(PEERING))
    try:
        bat = vpcs(first, BAT)
        assert bat.get(BAT_VPC) == BAT and FISH_VPC not in bat
        assert vpcs(first, FISH).get(FISH_VPC) == FISH
        assert subnets(first, BAT).get(BAT_SUBNET) == "10.1.1.0/24"
        assert FISH_SUBNET not in subnets(first, BAT)
        assert subnets(first, FISH).get(FISH_SUBNET) == "10.2.1.0/24"
        # route tables come along, with the route to the peering connection
        ec2 = first.client("ec2", account=BAT)
        routes = {(r.get("DestinationCidrBlock"), r.get("VpcPeeringConnectionId"))
                  for t in ec2.describe_route_tables(
                      Filters=[{"Name": "vpc-id", "Values": [BAT_VPC]}])["RouteTables"]
                  for r in t["Routes"]}
        assert ("10.2.0.0/16", "pcx-0040f7640e10191f4") in routes
        # another region of the same account holds none of it
        assert BAT_VPC not in vpcs(first, BAT, region="us-west-2")
        # a change made through the API after loading ...
        added = ec2.create_subnet(VpcId=BAT_VPC, CidrBlock="10.1.7.0/24")["Subnet"]["SubnetId"]
    finally:
        stop_server(first)
    # ... survives a restart, with or without the flag: --snapshot loads only into an
    # empty state, so it does not replace what the API changed
    for extra in ((), ("--snapshot", str(PEERING))):
        again = start_server(state, *extra)
        try:
            assert vpcs(again, BAT).get(BAT_VPC) == BAT
            seen = subnets(again, BAT)
            assert seen.get(BAT_SUBNET) == "10.1.1.0/24" and seen.get(added) == "10.1.7.0/24"
            assert subnets(again, FISH).get(FISH_SUBNET) == "10.2.1.0/24"
        finally:
            stop_server(again)


def test_a_single_account_snapshot_keeps_its_owner_and_region(tmp_path: Path) -> None:
    # Batfish's flat layout: region us-west-2, the owner ids the JSON records
    server = start_server(tmp_path / "state.db", "--snapshot",
                          str(SNAPSHOTS / "test-public-private-subnet"))
    try:
        owner = "554773406868"
        assert vpcs(server, owner, region="us-west-2").get("vpc-0b966fdeb36d5e43f") == owner
        assert set(subnets(server, owner, region="us-west-2").values()) >= {
            "10.0.0.0/24", "10.0.1.0/24"}
        # open-mode callers without a 12-digit key are account 000000000000: not the owner
        plain = server.client("ec2", region="us-west-2").describe_vpcs()["Vpcs"]
        assert "vpc-0b966fdeb36d5e43f" not in {v["VpcId"] for v in plain}
    finally:
        stop_server(server)


def serve_fails(tmp_path: Path, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "localvpc", "serve", "--port", str(free_port()), "--no-dns",
         "--state", str(tmp_path / "bad.db"), *args],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    return proc.stderr


def test_bad_snapshot_arguments_stop_the_server_with_a_message(tmp_path: Path) -> None:
    assert "does not exist" in serve_fails(tmp_path, "--snapshot", str(tmp_path / "nothing"))
    broken = tmp_path / "broken.yaml"
    broken.write_text("vpcs:\n  - name: v\n    cidr: 10.0.0.0/33\n")
    assert "broken.yaml:3" in serve_fails(tmp_path, "--snapshot", str(broken))
    assert "not both" in serve_fails(tmp_path, "--demo", "--snapshot", str(PEERING))

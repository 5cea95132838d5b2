"""The ``localvpc trace`` command-line contract: JSON shape, readable table, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SNAPS = Path(__file__).resolve().parents[3] / "shared" / "aws-snapshots"
NAT = SNAPS / "test-nat-gateway"

pytestmark = pytest.mark.skipif(not NAT.is_dir(), reason="../shared snapshots are not present")


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "localvpc", "trace", *args],
                          capture_output=True, text=True, timeout=120)


def test_json_output_follows_the_contract() -> None:
    p = run("--snapshot", str(NAT), "--from", "i-0a128d26e59be60f3", "--dst-ip", "8.8.8.8",
            "--protocol", "tcp", "--dst-port", "80", "--bidirectional", "--json")
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["flow"]["src_ip"] == "10.1.1.98"  # the instance's primary private IP
    assert doc["flow"]["dst_port"] == 80
    (trace,) = doc["traces"]
    assert trace["disposition"] == "EXITS_NETWORK"
    assert set(trace["hops"][0]) == {"node", "type", "action", "detail"}
    nodes = [h["node"] for h in trace["hops"]]
    assert nodes[:4] == ["i-0a128d26e59be60f3", "subnet-06f469bcee42e408e",
                         "vpc-0008a7b45e3ddf1dd", "nat-07ab4846da51f4612"]
    assert nodes[-1] == "internet"
    assert trace["return"]["disposition"] == "ACCEPTED"
    assert trace["return"]["hops"][-1]["node"] == "i-0a128d26e59be60f3"
    # The reply reaches the NAT gateway's public address, not the instance's.
    assert trace["final_flow"]["src_ip"] == "3.135.127.225"


def test_table_output_names_the_deciding_rule() -> None:
    p = run("--snapshot", str(NAT), "--from", "i-0a128d26e59be60f3", "--dst-ip", "8.8.8.8",
            "--protocol", "107")
    assert p.returncode == 0, p.stderr
    assert "trace 1: DENIED_IN" in p.stdout
    squeezed = "".join(p.stdout.replace("│", " ").split())  # the table wraps long reasons
    assert "NATgatewaystranslateonlyTCP,UDPandICMP,notprotocol107" in squeezed


@pytest.mark.parametrize(("args", "message"), [
    (["--from", "i-does-not-exist", "--dst-ip", "8.8.8.8"], "unknown start node"),
    (["--from", "i-0a128d26e59be60f3", "--dst-ip", "8.8.8.888"], "bad destination IP"),
    (["--from", "i-0a128d26e59be60f3", "--dst-ip", "8.8.8.8", "--protocol", "gre"],
     "bad protocol"),
])
def test_bad_input_exits_2_with_one_line(args: list[str], message: str) -> None:
    p = run("--snapshot", str(NAT), *args)
    assert p.returncode == 2
    assert p.stdout == ""
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0]


def test_unreadable_snapshot_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "snap"
    bad.mkdir()
    (bad / "Vpcs.json").write_text('{"Vpcs": [ {"VpcId": "vpc-1",, } ]}')
    p = run("--snapshot", str(bad), "--from", "internet", "--dst-ip", "8.8.8.8")
    assert p.returncode == 2
    assert "Vpcs.json" in p.stderr and "line" in p.stderr
    p = run("--snapshot", str(tmp_path / "missing"), "--from", "internet", "--dst-ip", "8.8.8.8")
    assert p.returncode == 2 and p.stderr.count("\n") == 1

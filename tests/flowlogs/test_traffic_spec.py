"""Traffic specs: line-accurate errors, seeded generators, the runner and the CLI."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path

import pytest
from typer.testing import CliRunner

from localvpc.cli.main import app
from localvpc.dataplane import ForwardingPlane, compile_network
from localvpc.flowlogs.format import SEED_FORMAT, parse_log_format
from localvpc.flowlogs.records import Subscription
from localvpc.flowlogs.traffic import (
    TrafficRunner,
    TrafficSpecError,
    connections,
    parse_traffic_spec,
)
from localvpc.snapshot.topology import load_topology

TOPOLOGY = Path(__file__).resolve().parents[2] / "examples" / "local-zone-wordpress.yaml"
VPC = "vpc-0a1b2c3d4e5f60001"
ALB_ENI = "eni-776ef2ee55529b6bb"
MYSQL_ENI = "eni-157a234f4eac2059c"

SPEC = """\
seed: 7
start: 2024-06-01T00:00:00Z
duration: 10m
flows:
  - from: wordpress
    to: mysql
    port: 3306
    count: 3
    packets: 20
    bytes: 4000
    lasts: 5
  - from: mysql
    to: wordpress
    port: 22
generators:
  - type: internet-to-lb
    lb: wordpress-alb
    rate: 0.5
    clients: 20
  - type: port-scan
    to: wordpress-alb
    ports: 20-25
    rate: 1
    duration: 30
  - type: nat-egress
    from: [wordpress, mysql]
    rate: 0.2
"""


@pytest.fixture(scope="module")
def fp() -> ForwardingPlane:
    return compile_network(load_topology(TOPOLOGY))


def _errors(text: str, fp: ForwardingPlane) -> list[str]:
    with pytest.raises(TrafficSpecError) as info:
        parse_traffic_spec(text, fp, "spec.yaml")
    return info.value.problems


def test_spec_errors_name_file_line_and_field(fp: ForwardingPlane) -> None:
    problems = _errors("""\
seed: 1
duration: forever
flows:
  - from: nobody
    to: mysql
    port: 99999
    colour: red
generators:
  - type: mesh-of-doom
    rate: 1
  - type: app-to-db
    from: [wordpress]
    rate: -2
""", fp)
    assert problems == [
        "spec.yaml:2: duration: expected a duration like 90, '10m' or '1h', got a string "
        "('forever')",
        "spec.yaml:4: flows[0].from: 'nobody' is not 'internet' or an instance, ENI, subnet "
        "or VPC of the network",
        "spec.yaml:6: flows[0].port: ports are 0-65535",
        "spec.yaml:7: flows[0].colour: unknown field 'colour' in a flow (allowed: at, bytes, "
        "count, every, from, lasts, packets, port, ports, protocol, reply_bytes, "
        "reply_packets, src_ip, src_port, tcp_flags, to)",
        "spec.yaml:9: generators[0].type: 'mesh-of-doom' is not one of: internet-to-lb, "
        "app-to-db, port-scan, nat-egress, mesh",
        "spec.yaml:11: generators[1].to: required field 'to' is missing",
        "spec.yaml:13: generators[1].rate: -2 is below 0.0",
    ]


def test_yaml_syntax_and_empty_specs(fp: ForwardingPlane) -> None:
    assert _errors("flows: [\n", fp)[0].startswith("spec.yaml:2: YAML syntax error")
    assert _errors("seed: 3\n", fp) == [
        "spec.yaml:1: a traffic spec needs flows: or generators:"]


def test_same_seed_same_traffic_other_seed_other_traffic(fp: ForwardingPlane) -> None:
    def draw(text: str) -> list[tuple[float, str, int | None]]:
        spec = parse_traffic_spec(text, fp)
        return [(c.time, str(c.dst), c.src_port) for c in connections(spec)]

    first = draw(SPEC)
    assert first == draw(SPEC)
    assert first != draw(SPEC.replace("seed: 7", "seed: 8"))
    times = [t for t, _, _ in first]
    assert times == sorted(times) and len(times) > 300
    start = 1717200000
    assert start <= times[0] and times[-1] < start + 600


def test_runner_drives_every_generator_through_the_engine(fp: ForwardingPlane) -> None:
    spec = parse_traffic_spec(SPEC, fp)
    runner = TrafficRunner(fp)
    stats = runner.run(spec)
    assert stats.connections == len(list(connections(spec))) and stats.errors == 0
    assert stats.traced < stats.connections  # 5-tuples are traced once
    recs = list(runner.collector.records(Subscription(VPC, interval=600,
                                                      fields=tuple(parse_log_format(
                                                          SEED_FORMAT)))))
    by_eni = Counter((r["interface-id"], r["action"]) for r in recs)
    # Every scan probe (Poisson arrivals at 1/s for 30 s) is rejected by the ALB's group.
    probes = [c for c in connections(spec) if c.pattern == "scan"]
    assert 10 < len(probes) < 60
    assert by_eni[(ALB_ENI, "REJECT")] == len(probes)
    scans = {r["dstport"] for r in recs if r["interface-id"] == ALB_ENI
             and r["action"] == "REJECT"}
    assert scans == {20, 21, 22, 23, 24, 25}
    # mysql -> wordpress:22 is refused by WordPress's group: mysql says ACCEPT, SYN only.
    ssh = [r for r in recs if r["interface-id"] == MYSQL_ENI and r["dstport"] == 22]
    assert [(r["action"], r["tcp-flags"], r["flow-direction"]) for r in ssh] == [
        ("ACCEPT", 2, "egress")]
    # Egress through the NAT instance: the instance's own ENI shows the real peer, path 1.
    egress = [r for r in recs if r["interface-id"] == MYSQL_ENI and r["dstport"] == 443]
    assert egress and {r["traffic-path"] for r in egress} == {1}
    assert {r["tcp-flags"] for r in egress} == {3}
    assert all(r["sublocation-type"] == "localzone" for r in recs)


def test_real_time_paces_the_flows(fp: ForwardingPlane) -> None:
    spec = parse_traffic_spec("""\
duration: 2
flows:
  - {from: wordpress, to: mysql, port: 3306, at: 0}
  - {from: wordpress, to: mysql, port: 3306, at: 1.2}
""", fp)
    runner = TrafficRunner(fp)
    began = time.time()
    stats = runner.run(spec, real_time=True)
    assert time.time() - began >= 1.1
    assert stats.connections == 2
    starts = sorted(r["start"] for r in runner.collector.records(Subscription(MYSQL_ENI))
                    if r["log-status"] == "OK")
    assert starts and abs(starts[0] - began) < 2


def test_cli_writes_flow_log_files(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["traffic", "run", str(spec), "--topology", str(TOPOLOGY),
                                      "--out", str(out), "--interval", "60"])
    assert result.exit_code == 0, result.output
    assert "connections" in result.output and "records OK" in result.output
    lines = (out / "flowlogs.log").read_text().splitlines()
    assert lines[0] == ("version account-id interface-id srcaddr dstaddr srcport dstport "
                        "protocol packets bytes start end action log-status")
    assert all(len(line.split(" ")) == 14 for line in lines[1:])
    assert {line.split(" ")[-1] for line in lines[1:]} <= {"OK", "NODATA"}
    per = tmp_path / "per"
    fmt = "${interface-id} ${pkt-srcaddr} ${pkt-dstaddr} ${action}"
    result = CliRunner().invoke(app, ["traffic", "run", str(spec), "--topology", str(TOPOLOGY),
                                      "--out", str(per), "--per-eni", "--log-format", fmt,
                                      "--traffic-type", "REJECT"])
    assert result.exit_code == 0, result.output
    alb = (per / f"{ALB_ENI}.log").read_text().splitlines()
    assert alb[0] == "interface-id pkt-srcaddr pkt-dstaddr action"
    assert {line.split(" ")[3] for line in alb[1:]} <= {"REJECT", "-"}
    bad = CliRunner().invoke(app, ["traffic", "run", str(spec), "--topology", str(TOPOLOGY),
                                   "--log-format", "${nope}"])
    assert bad.exit_code == 2 and "Unknown fields provided: ${nope}" in bad.output
    spec.write_text("flows:\n  - {from: nobody, to: mysql}\n")
    bad = CliRunner().invoke(app, ["traffic", "run", str(spec), "--topology", str(TOPOLOGY)])
    assert bad.exit_code == 2 and f"{spec}:2: flows[0].from:" in bad.output

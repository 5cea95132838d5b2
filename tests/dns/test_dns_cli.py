"""``localvpc dns query`` on a topology file and on a state file, text and JSON."""

from __future__ import annotations

import json
from pathlib import Path

from dnslab import Lab
from typer.testing import CliRunner

from localvpc.cli.main import app
from localvpc.store import Store

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "local-zone-wordpress.yaml"
runner = CliRunner()


def test_query_from_an_instance_of_a_topology_as_json() -> None:
    result = runner.invoke(app, ["dns", "query", "--from", "i-0a1b2c3d4e5f60002",
                                 "ip-172-31-100-90.ec2.internal", "--topology", str(EXAMPLE),
                                 "--json"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["rcode"] == "NOERROR"
    assert [a["value"] for a in answer["answers"]] == ["172.31.100.90"]
    assert "i-0a1b2c3d4e5f60002" in answer["why"][0]
    assert "ec2.internal" in answer["why"][1]


def test_query_text_output_explains(tmp_path: Path) -> None:
    lab = Lab()
    vpc = lab.vpc()
    zone = lab.zone("corp.example", vpc)
    lab.record(zone, "app.corp.example", "A", "10.0.0.9")
    store = Store.open(str(tmp_path / "s.db"))
    with store.transaction() as tx:
        for table in lab.net.tables().values():
            for resource in table.values():
                tx.put(resource)
    store.close()
    result = runner.invoke(app, ["dns", "query", "--vpc", vpc.id, "nope.corp.example",
                                 "--state", str(tmp_path / "s.db")])
    assert result.exit_code == 0, result.output
    assert "NXDOMAIN" in result.output and "no fallback" in result.output


def test_query_needs_exactly_one_origin() -> None:
    result = runner.invoke(app, ["dns", "query", "x.example", "--topology", str(EXAMPLE)])
    assert result.exit_code == 2
    result = runner.invoke(app, ["dns", "query", "--vpc", "vpc-nope", "x.example",
                                 "--topology", str(EXAMPLE)])
    assert result.exit_code == 2 and "no VPC vpc-nope" in result.output

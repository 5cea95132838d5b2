"""``localvpc cloudwan topology``: the tree and the SVG picture, from a state file and from a
running server (the same state, served)."""

from __future__ import annotations

import ipaddress
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from localvpc.api.context import RequestContext
from localvpc.api.providers.networkmanager import NetworkManagerProvider
from localvpc.api.state import ServerState
from localvpc.model.vpc import Subnet, Vpc
from localvpc.store import Store

ACCOUNT = "111122223333"
SVG = "{http://www.w3.org/2000/svg}"
POLICY = {
    "version": "2021.12",
    "core-network-configuration": {"asn-ranges": ["64512-65534"], "edge-locations": [
        {"location": "us-east-1"}, {"location": "eu-west-1"}, {"location": "ap-south-1"}]},
    "segments": [{"name": "prod", "require-attachment-acceptance": False},
                 {"name": "dev", "edge-locations": ["us-east-1"]},
                 {"name": "shared", "require-attachment-acceptance": False}],
    "segment-actions": [{"action": "share", "mode": "attachment-route", "segment": "shared",
                         "share-with": ["prod", "dev"]}],
    "attachment-policies": [{"rule-number": 100,
                             "conditions": [{"type": "tag-exists", "key": "segment"}],
                             "action": {"association-method": "tag",
                                        "tag-value-of-key": "segment"}}]}


def _call(state: ServerState, op: str, **params: Any) -> dict[str, Any]:
    ctx = RequestContext("networkmanager", op, ACCOUNT, "us-west-2", "req", state)
    handler = NetworkManagerProvider().handler(op)
    assert handler is not None
    return handler(ctx, params)


@pytest.fixture(scope="module")
def wan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A state file with a core network over three edges and four attachments."""
    path = tmp_path_factory.mktemp("wan") / "state.db"
    state = ServerState(Store.open(str(path)))
    gn = _call(state, "CreateGlobalNetwork", Description="corp")["GlobalNetwork"]
    core = _call(state, "CreateCoreNetwork", GlobalNetworkId=gn["GlobalNetworkId"],
                 PolicyDocument=json.dumps(POLICY))["CoreNetwork"]
    attachments: dict[str, str] = {}
    for i, (region, segment) in enumerate((("us-east-1", "prod"), ("eu-west-1", "shared"),
                                           ("us-east-1", "dev"), ("ap-south-1", "prod"))):
        vpc = Vpc(id=f"vpc-0000000000000000{i}", account=ACCOUNT, region=region,
                  cidrs=[ipaddress.ip_network(f"10.{i}.0.0/16")])
        subnet = Subnet(id=f"subnet-000000000000000{i}", account=ACCOUNT, region=region,
                        vpc_id=vpc.id, cidr=ipaddress.ip_network(f"10.{i}.1.0/24"),
                        availability_zone=f"{region}a")
        with state.write() as w:
            for r in (vpc, subnet):
                state.network.add(r)
                w.save(r)
        att = _call(state, "CreateVpcAttachment", CoreNetworkId=core["CoreNetworkId"],
                    VpcArn=f"arn:aws:ec2:{region}:{ACCOUNT}:vpc/{vpc.id}",
                    SubnetArns=[f"arn:aws:ec2:{region}:{ACCOUNT}:subnet/{subnet.id}"],
                    Tags=[{"Key": "segment", "Value": segment}])
        attachments[f"{segment}@{region}"] = att["VpcAttachment"]["Attachment"]["AttachmentId"]
    state.store.close()
    return {"path": path, "core": core["CoreNetworkId"], "global": gn["GlobalNetworkId"],
            "attachments": attachments}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "localvpc", "cloudwan", "topology", *args],
                          capture_output=True, text=True, timeout=120, env=env)


def test_tree_from_a_state_file(wan: dict[str, Any]) -> None:
    p = run("--state", str(wan["path"]))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()

    def line_of(text: str) -> int:
        return next(i for i, line in enumerate(lines) if text in line)

    assert line_of(wan["global"]) < line_of(wan["core"]) < line_of("edge us-east-1 (ASN 64512)")
    assert "edge ap-south-1 (ASN 64514)" in p.stdout
    assert "segment shared (shares with dev, prod)" in p.stdout
    # prod@us-east-1's attachment sits under the us-east-1 edge's prod segment.
    east = line_of("edge us-east-1")
    prod = next(i for i in range(east, len(lines)) if "segment prod" in lines[i])
    assert wan["attachments"]["prod@us-east-1"] in lines[prod + 1]
    # dev requires acceptance: its attachment waits without a segment.
    pending = line_of("without a segment")
    assert wan["attachments"]["dev@us-east-1"] in p.stdout.split("without a segment")[1]
    assert "PENDING_ATTACHMENT_ACCEPTANCE -> dev once accepted" in lines[pending + 1]


def _texts(svg_path: Path, cls: str) -> list[str]:
    root = ET.parse(svg_path).getroot()
    assert root.tag == f"{SVG}svg"
    return [t.text or "" for t in root.iter(f"{SVG}text") if t.get("class") == cls]


def test_svg_has_every_edge_segment_and_attachment(wan: dict[str, Any], tmp_path: Path
                                                   ) -> None:
    out = tmp_path / "wan.svg"
    p = run("--state", str(wan["path"]), "--core-network-id", wan["core"], "--svg", str(out))
    assert p.returncode == 0, p.stderr
    assert _texts(out, "edge") == ["us-east-1", "eu-west-1", "ap-south-1"]
    assert _texts(out, "segment") == ["prod", "dev", "shared"]
    assert _texts(out, "unassociated") == ["(no segment)"]
    labels = " ".join(_texts(out, "attachment"))
    for att_id in wan["attachments"].values():
        assert att_id in labels
    root = ET.parse(out).getroot()
    shares = sorted(t.text or "" for path in root.iter(f"{SVG}path")
                    if path.get("class") == "share" for t in path.iter(f"{SVG}title"))
    assert shares == ["dev shares with shared", "prod shares with shared"]


def test_no_png_option(wan: dict[str, Any], tmp_path: Path) -> None:
    # PNG needed cairosvg, which localvpc does not depend on: the option is gone, not
    # silently broken, and nothing is written.
    p = run("--state", str(wan["path"]), "--png", str(tmp_path / "wan.png"))
    assert p.returncode == 2 and "No such option" in p.stderr
    assert not (tmp_path / "wan.png").exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_tree_from_a_running_server_matches_the_state_file(wan: dict[str, Any],
                                                           tmp_path: Path) -> None:
    port = _free_port()
    state_copy = tmp_path / "served.db"
    state_copy.write_bytes(Path(wan["path"]).read_bytes())
    proc = subprocess.Popen([sys.executable, "-m", "localvpc", "serve", "--port", str(port),
                             "--state", str(state_copy), "--no-dns"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{url}/_localvpc/health", timeout=1).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        env_key = {"AWS_ACCESS_KEY_ID": ACCOUNT}
        p = subprocess.run([sys.executable, "-m", "localvpc", "cloudwan", "topology",
                            "--endpoint-url", url], capture_output=True, text=True, timeout=120,
                           env={**os.environ, "COLUMNS": "200", **env_key})
        assert p.returncode == 0, p.stderr
        local = run("--state", str(wan["path"]))
        assert p.stdout == local.stdout
    finally:
        proc.terminate()
        proc.wait(timeout=10)

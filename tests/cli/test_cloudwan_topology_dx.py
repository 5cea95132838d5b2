"""``localvpc cloudwan topology`` with a Direct Connect gateway attachment at two of three
edges: it is drawn at each of its edges (tree and SVG), like any attachment at its one edge,
and nowhere else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from localvpc.api.context import RequestContext
from localvpc.api.providers.networkmanager import NetworkManagerProvider
from localvpc.api.state import ServerState
from localvpc.store import Store

ACCOUNT = "111122223333"
SVG = "{http://www.w3.org/2000/svg}"
EDGES = ["us-east-1", "eu-west-1", "ap-south-1"]
DXGW = f"arn:aws:directconnect::{ACCOUNT}:dx-gateway/6a5b4c3d-1111-2222-3333-444455556666"
POLICY = {
    "version": "2021.12",
    "core-network-configuration": {"asn-ranges": ["64512-65534"],
                                   "edge-locations": [{"location": e} for e in EDGES]},
    "segments": [{"name": "hybrid", "require-attachment-acceptance": False},
                 {"name": "lab"}],
    "attachment-policies": [
        {"rule-number": 10, "conditions": [{"type": "tag-value", "key": "segment",
                                            "operator": "equals", "value": "lab"}],
         "action": {"association-method": "constant", "segment": "lab"}},
        {"rule-number": 20, "conditions": [{"type": "attachment-type", "operator": "equals",
                                            "value": "direct-connect-gateway"}],
         "action": {"association-method": "constant", "segment": "hybrid"}}]}


def _call(state: ServerState, op: str, **params: Any) -> dict[str, Any]:
    ctx = RequestContext("networkmanager", op, ACCOUNT, "us-west-2", "req", state)
    handler = NetworkManagerProvider().handler(op)
    assert handler is not None
    return handler(ctx, params)


@pytest.fixture(scope="module")
def wan(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A core network over three edges; an available DX gateway attachment at us-east-1 and
    ap-south-1, and one waiting for acceptance (lab) at eu-west-1 and ap-south-1."""
    path = tmp_path_factory.mktemp("wan-dx") / "state.db"
    state = ServerState(Store.open(str(path)))
    gn = _call(state, "CreateGlobalNetwork")["GlobalNetwork"]
    core = _call(state, "CreateCoreNetwork", GlobalNetworkId=gn["GlobalNetworkId"],
                 PolicyDocument=json.dumps(POLICY))["CoreNetwork"]
    dx = _call(state, "CreateDirectConnectGatewayAttachment",
               CoreNetworkId=core["CoreNetworkId"], DirectConnectGatewayArn=DXGW,
               EdgeLocations=["us-east-1", "ap-south-1"])
    waiting = _call(state, "CreateDirectConnectGatewayAttachment",
                    CoreNetworkId=core["CoreNetworkId"],
                    DirectConnectGatewayArn=DXGW.replace("6a5b", "7a5b"),
                    EdgeLocations=["eu-west-1", "ap-south-1"],
                    Tags=[{"Key": "segment", "Value": "lab"}])
    state.store.close()
    return {"path": path, "core": core["CoreNetworkId"],
            "dx": dx["DirectConnectGatewayAttachment"]["Attachment"]["AttachmentId"],
            "waiting": waiting["DirectConnectGatewayAttachment"]["Attachment"]["AttachmentId"]}


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "localvpc", "cloudwan", "topology", *args],
                          capture_output=True, text=True, timeout=120, env=env)


def test_tree_shows_the_dx_attachment_under_each_of_its_edges(wan: dict[str, Any]) -> None:
    p = run("--state", str(wan["path"]))
    assert p.returncode == 0, p.stderr
    tree, _, loose = p.stdout.partition("without a segment")
    blocks: dict[str, str] = {}
    for edge in EDGES:
        start = tree.index(f"edge {edge}")
        ends = [tree.index(f"edge {e}") for e in EDGES if tree.index(f"edge {e}") > start]
        blocks[edge] = tree[start:min(ends, default=len(tree))]
    for edge in ("us-east-1", "ap-south-1"):
        block = blocks[edge]
        assert "segment hybrid" in block
        assert wan["dx"] in block.split("segment hybrid", 1)[1]
        assert "DIRECT_CONNECT_GATEWAY" in block
    assert wan["dx"] not in blocks["eu-west-1"]
    # Without a segment it waits once, not once per edge.
    assert wan["waiting"] not in tree and loose.count(wan["waiting"]) == 1
    assert "-> lab once accepted" in loose


def test_svg_draws_the_dx_attachment_in_each_of_its_edge_columns(wan: dict[str, Any],
                                                                 tmp_path: Path) -> None:
    out = tmp_path / "dx.svg"
    p = run("--state", str(wan["path"]), "--svg", str(out))
    assert p.returncode == 0, p.stderr
    root = ET.parse(out).getroot()
    texts = list(root.iter(f"{SVG}text"))
    column_x = {t.text: float(t.get("x") or 0) for t in texts if t.get("class") == "edge"}
    assert list(column_x) == EDGES

    def columns_of(att_id: str) -> list[str]:
        """The edges whose column holds a label of ``att_id`` (labels start 18px into a
        column that is centred on its edge heading)."""
        xs = [float(t.get("x") or 0) for t in texts
              if t.get("class") == "attachment" and att_id in (t.text or "")]
        return sorted(e for e, cx in column_x.items() for x in xs if 0 < cx - x < 125)

    assert columns_of(wan["dx"]) == ["ap-south-1", "us-east-1"]
    assert columns_of(wan["waiting"]) == ["ap-south-1", "eu-west-1"]  # the (no segment) row

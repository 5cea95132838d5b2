"""Every acceptance case restated from Batfish's AWS end-to-end tests, traced in-process.

The shared cases (../shared/acceptance/batfish) and the extra ones translated from the same
test suite for the other snapshots (tests/acceptance/extra) are checked with the grader's
rules: hop lists compared on the nodes both models share, consecutive repeats folded.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from localvpc.dataplane import ForwardingPlane, compile_network
from localvpc.dataplane.request import trace_request
from localvpc.snapshot import load_snapshot

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SHARED = REPO.parent / "shared"
KEEP = re.compile(r"^(i-|subnet-|vpc-|nat-|igw-|tgw-(?!attach|rtb)|vpce-(?!svc)|vgw-|internet$"
                  r"|aws-services$|LB$)")


def _cases() -> list[Any]:
    out = []
    for folder in (SHARED / "acceptance" / "batfish", HERE / "extra"):
        for f in sorted(folder.glob("*.json")) if folder.is_dir() else []:
            doc = json.loads(f.read_text())
            for case in doc["cases"]:
                marks = []
                if case.get("requires_non_json_configs"):
                    marks.append(pytest.mark.skip(reason="needs on-prem router configs"))
                out.append(pytest.param(doc["scenario"], case, id=f"{doc['scenario']}:"
                                        f"{case['id']}", marks=marks))
    return out


@cache
def _plane(scenario: str) -> ForwardingPlane:
    return compile_network(load_snapshot(SHARED / "aws-snapshots" / scenario))


def _norm_expected(node: str) -> str | None:
    if node == "isp_16509":
        return None
    if node == "__aws-services-gateway__":
        return "aws-services"
    if ".elb." in node:
        return "LB"
    m = re.match(r"^(vpce-[0-9a-f]+)-subnet-", node)
    return m.group(1) if m else node


def _norm_actual(node: str) -> str:
    return "LB" if ".elb." in node else node


def _fold(nodes: list[str | None]) -> list[str]:
    out: list[str] = []
    for n in nodes:
        if n is None or not KEEP.match(n):
            continue
        if not out or out[-1] != n:
            out.append(n)
    return out


CASES = _cases()


@pytest.mark.skipif(not CASES, reason="no acceptance cases present")
@pytest.mark.parametrize(("scenario", "case"), CASES)
def test_batfish_case(scenario: str, case: dict[str, Any]) -> None:
    fp = _plane(scenario)
    rt = case.get("return_trace")
    _, traces = trace_request(fp, case["ingress"], case["dst_ip"], case.get("src_ip"),
                              str(case.get("protocol", "0")), case.get("src_port"),
                              case.get("dst_port"), bidirectional=bool(rt))
    assert len(traces) == case.get("expected_trace_count", 1)
    t = traces[0]
    allowed = case.get("forward_disposition_asserted_any_of") or [case["expected_disposition"]]
    got = _fold([_norm_actual(h.node) for h in t.hops])
    want = _fold([_norm_expected(n) for n in case["expected_hops"]])
    assert (t.disposition.value, got) in [(d, want) for d in allowed], t.to_json()
    assert t.disposition.value == case["expected_disposition"], t.to_json()
    if rt:
        assert t.return_trace is not None
        r = t.return_trace
        assert r.disposition.value == rt["expected_disposition"], r.to_json()
        assert _fold([_norm_actual(h.node) for h in r.hops]) == _fold(
            [_norm_expected(n) for n in rt["expected_hops"]]), r.to_json()


def test_shared_grader_passes_through_the_cli(shared: Path) -> None:
    """The shared grader, run as CI would, drives ``localvpc trace --json`` for every case."""
    grader = shared / "acceptance" / "grade_batfish.py"
    cmd = f"{sys.executable} -m localvpc"
    p = subprocess.run([sys.executable, str(grader), str(shared / "acceptance" / "batfish"),
                        str(shared / "aws-snapshots"), "--localvpc", cmd],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert re.search(r"batfish cases: (\d+)/\1 pass", p.stdout), p.stdout

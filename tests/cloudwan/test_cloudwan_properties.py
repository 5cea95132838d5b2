"""Properties: a random valid policy compiles, and every route it installs is explainable;
a randomly mutated document either validates or yields errors with JSON paths (no crash)."""

from __future__ import annotations

import copy
import ipaddress
import json
from typing import Any

from cloudwan_lab import attachment, vpc_network
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from localvpc.cloudwan.compile import apply_plan, compile_core_network, plan_attachment
from localvpc.cloudwan.policy import REGIONS, check_policy

REGION_LIST = sorted(REGIONS)
names = st.from_regex(r"[a-z][a-z0-9]{0,5}", fullmatch=True)


@st.composite
def policies(draw: Any) -> dict[str, Any]:
    edges = draw(st.lists(st.sampled_from(REGION_LIST), min_size=1, max_size=4, unique=True))
    segs = draw(st.lists(names, min_size=1, max_size=5, unique=True))
    segments = []
    for s in segs:
        seg: dict[str, Any] = {"name": s}
        if draw(st.booleans()):
            seg["edge-locations"] = draw(st.lists(st.sampled_from(edges), min_size=1,
                                                  unique=True))
        seg["isolate-attachments"] = draw(st.booleans())
        seg["require-attachment-acceptance"] = draw(st.booleans())
        segments.append(seg)
    actions = []
    for s in draw(st.lists(st.sampled_from(segs), max_size=3)):
        share_with = draw(st.one_of(st.just("*"), st.lists(st.sampled_from(segs), min_size=1,
                                                           unique=True)))
        actions.append({"action": "share", "mode": "attachment-route", "segment": s,
                        "share-with": share_with})
    rules = [{"rule-number": i + 1, "conditions": [{"type": "tag-value", "key": "seg",
                                                    "operator": "equals", "value": s}],
              "action": {"association-method": "constant", "segment": s}}
             for i, s in enumerate(segs)]
    rules.append({"rule-number": 1000, "conditions": [{"type": "tag-exists", "key": "t"}],
                  "action": {"association-method": "tag", "tag-value-of-key": "t"}})
    return {"version": "2021.12",
            "core-network-configuration": {"asn-ranges": ["64512-65534"],
                                           "edge-locations": [{"location": e} for e in edges]},
            "segments": segments, "segment-actions": actions, "attachment-policies": rules}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), st.lists(st.tuples(st.integers(0, 9), st.integers(0, 3), st.booleans()),
                            max_size=12))
def test_random_valid_policy_compiles(doc: dict[str, Any],
                                      atts_spec: list[tuple[int, int, bool]]) -> None:
    check = check_policy(json.dumps(doc))
    assert check.ok, check.errors
    p = check.policy
    assert p is not None
    segs = list(p.segments)
    atts, cidrs = [], {}
    for n, (si, ei, by_tag) in enumerate(atts_spec, 1):
        seg = segs[si % len(segs)]
        edge = p.config.locations[ei % len(p.config.locations)]
        a = attachment(n, region=edge, tags={"t" if by_tag else "seg": seg}, state="CREATING")
        apply_plan(a, plan_attachment(p, a, accept=False))
        apply_plan(a, plan_attachment(p, a, accept=True))
        atts.append(a)
        cidrs[n] = f"10.{n}.0.0/16"
    c = compile_core_network(p, atts, vpc_network(cidrs))
    for a in atts:
        if a.segment_name is not None:  # routed: its segment is there at its edge
            assert a.region in p.segments[a.segment_name].edge_locations
            assert c.segment_of(a.id) == a.segment_name
    for s in segs:
        for e in p.segments[s].edge_locations:
            for r in c.routes(s, e):
                origin = r.segment_name
                assert origin == s or origin in c.shared[s]
                assert not (origin == s and p.segments[s].isolate_attachments)
                got = c.lookup(s, e, r.destination.network_address)
                assert got is not None and got.destination == r.destination
    for a in atts:  # every decision is a forward or a drop with one of the known reasons
        d = c.forward(a.id, ipaddress.ip_address("10.1.0.1"))
        assert d.action == "forward" or d.reason in {"isolated", "not-shared", "no-route",
                                                     "blackhole", "unassociated"}


def _paths(doc: Any, prefix: str = "$") -> list[tuple[str, Any, Any]]:
    """(path, parent, key) for every value in the document."""
    out: list[tuple[str, Any, Any]] = []
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(
        doc, list) else []
    for k, v in items:
        path = f"{prefix}.{k}" if isinstance(doc, dict) else f"{prefix}[{k}]"
        out.append((path, doc, k))
        out.extend(_paths(v, path))
    return out


junk = st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.text(max_size=6),
                 st.lists(st.text(max_size=3), max_size=2), st.just({}), st.just("blackhole"))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(policies(), st.data())
def test_mutated_policy_is_valid_or_explained(doc: dict[str, Any], data: Any) -> None:
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        paths = _paths(doc)
        _, parent, key = data.draw(st.sampled_from(paths))
        if data.draw(st.booleans()) and isinstance(parent, dict):
            del parent[key]
        else:
            parent[key] = data.draw(junk)
    check = check_policy(json.dumps(doc))
    if check.ok:
        assert check.policy is not None
        compiled = compile_core_network(check.policy, [])
        assert compiled.segments == list(check.policy.segments)
    else:
        for e in check.errors:
            assert e.path.startswith("$") and e.message.startswith(e.path + ": ")
            assert e.code.isupper()

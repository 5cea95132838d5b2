"""Policy document validation (cloudwan.md §1-5, §8, E1, E3, E4): AWS's codes, messages and
JSON paths, every error at once, schema errors apart from generation errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cloudwan_lab import e1

from localvpc.cloudwan.policy import (
    PolicyInvalid,
    check_policy,
    edges_of,
    parse_policy,
    segment_infos,
)

ATT = "attachment-0123456789abcdef0"


def codes(doc: Any) -> set[tuple[str, str]]:
    check = check_policy(doc)
    return {(e.code, e.path) for e in check.errors}


def test_e1_minimal_policy_is_accepted_and_parsed() -> None:
    check = check_policy(json.dumps(e1()))
    assert check.ok and check.policy is not None
    p = check.policy
    assert list(p.segments) == ["prod", "dev", "shared"]
    assert p.segments["dev"].require_attachment_acceptance is True  # default (§3)
    assert p.segments["prod"].edge_locations == ["us-east-1", "eu-west-1"]  # omitted -> all
    assert p.shares[0].share_with == ["prod", "dev"]
    assert [e.asn for e in edges_of(p)] == [64512, 64513]  # auto-picked from asn-ranges
    infos = {s.name: s.shared_segments for s in segment_infos(p)}
    assert infos == {"prod": ["shared"], "dev": ["shared"], "shared": ["dev", "prod"]}


def test_e4_missing_core_network_configuration() -> None:
    doc = e1()
    del doc["core-network-configuration"]
    check = check_policy(doc)
    assert [e.to_api() for e in check.schema_errors] == [{
        "ErrorCode": "REQUIRED_PROPERTY",
        "Message": "$.core-network-configuration: is missing but it is required",
        "Path": "$.core-network-configuration"}]
    assert check.policy is None
    with pytest.raises(PolicyInvalid) as info:
        parse_policy(doc)
    assert str(info.value) == "Incorrect policy."


def test_e3_blackhole_with_attachment_and_unknown_constant() -> None:
    doc = e1()
    doc["segment-actions"] += [
        {"action": "create-route", "segment": "prod", "destination-cidr-blocks": ["0.0.0.0/0"],
         "destinations": ["blackhole", ATT]},
        {"action": "create-route", "segment": "prod", "destination-cidr-blocks": ["0.0.0.0/0"],
         "destinations": ["drop"]},
    ]
    errors = {(e.code, e.path): e.message for e in check_policy(doc).schema_errors}
    assert errors[("MAXIMUM_ITEMS_EXCEEDED", "$.segment-actions[1].destinations")] == (
        "$.segment-actions[1].destinations: blackhole may only exist in a singleton list")
    assert errors[("CONSTANT_VIOLATION", "$.segment-actions[2].destinations[0]")] == (
        "$.segment-actions[2].destinations[0]: must be a constant value blackhole")
    assert errors[("INVALID_STRING", "$.segment-actions[2].destinations[0]")].startswith(
        '$.segment-actions[2].destinations[0]: attachment identifiers must be prefixed with '
        '"attachment-"')
    # the valid singleton blackhole and a list of attachment ids pass
    ok = e1()
    ok["segment-actions"] += [
        {"action": "create-route", "segment": "prod", "destination-cidr-blocks": ["10.9.0.0/16"],
         "destinations": ["blackhole"]},
        {"action": "create-route", "segment": "dev", "destination-cidr-blocks": ["0.0.0.0/0"],
         "destinations": [ATT]}]
    assert check_policy(ok).schema_errors == []


@pytest.mark.parametrize(("mutate", "code", "path"), [
    (lambda d: d.update(version="2020.01"), "INVALID_STRING", "$.version"),
    (lambda d: d.pop("version"), "REQUIRED_PROPERTY", "$.version"),
    (lambda d: d.pop("segments"), "REQUIRED_PROPERTY", "$.segments"),
    (lambda d: d.update(segments=[]), "MINIMUM_ITEMS_NOT_MET", "$.segments"),
    (lambda d: d.update(extra=1), "ADDITIONAL_PROPERTIES", "$.extra"),
    (lambda d: d.update({"routing-policies": []}), "ADDITIONAL_PROPERTIES",
     "$.routing-policies"),  # a 2025.11 key in a 2021.12 document
    (lambda d: d["core-network-configuration"].pop("asn-ranges"), "REQUIRED_PROPERTY",
     "$.core-network-configuration.asn-ranges"),
    (lambda d: d["core-network-configuration"].update({"asn-ranges": ["64512..65534"]}),
     "INVALID_STRING", "$.core-network-configuration.asn-ranges[0]"),
    (lambda d: d["core-network-configuration"].update({"inside-cidr-blocks": ["10.0.0.0/33"]}),
     "INVALID_STRING", "$.core-network-configuration.inside-cidr-blocks[0]"),
    (lambda d: d["core-network-configuration"]["edge-locations"][0].update(location="mars-1"),
     "INVALID_STRING", "$.core-network-configuration.edge-locations[0].location"),
    (lambda d: d["core-network-configuration"]["edge-locations"][0].update(asn="64512"),
     "INVALID_TYPE", "$.core-network-configuration.edge-locations[0].asn"),
    (lambda d: d["core-network-configuration"].update({"dns-support": "yes"}),
     "INVALID_TYPE", "$.core-network-configuration.dns-support"),
    (lambda d: d["segments"][0].update(name="prod-1"), "INVALID_STRING", "$.segments[0].name"),
    (lambda d: d["segments"][0].update(name="1prod"), "INVALID_STRING", "$.segments[0].name"),
    (lambda d: d["segments"][1].update({"isolate-attachments": "true"}), "INVALID_TYPE",
     "$.segments[1].isolate-attachments"),
    (lambda d: d["segments"][1].update({"edge-locations": ["moon-1"]}), "INVALID_STRING",
     "$.segments[1].edge-locations[0]"),
    (lambda d: d["segment-actions"][0].update(mode="all"), "CONSTANT_VIOLATION",
     "$.segment-actions[0].mode"),
    (lambda d: d["segment-actions"][0].pop("share-with"), "REQUIRED_PROPERTY",
     "$.segment-actions[0].share-with"),
    (lambda d: d["segment-actions"][0].update({"share-with": "all"}), "CONSTANT_VIOLATION",
     "$.segment-actions[0].share-with"),
    (lambda d: d["segment-actions"][0].update(action="copy"), "ENUM_VIOLATION",
     "$.segment-actions[0].action"),
    (lambda d: d["attachment-policies"][0].update({"rule-number": 0}), "MINIMUM_VALUE_NOT_MET",
     "$.attachment-policies[0].rule-number"),
    (lambda d: d["attachment-policies"][0].update({"rule-number": 65536}),
     "MAXIMUM_VALUE_EXCEEDED", "$.attachment-policies[0].rule-number"),
    (lambda d: d["attachment-policies"][0]["conditions"].append({"type": "any"}),
     "REQUIRED_PROPERTY", "$.attachment-policies[0].condition-logic"),  # AP-2
    (lambda d: d["attachment-policies"][0].update({"condition-logic": "xor"}),
     "ENUM_VIOLATION", "$.attachment-policies[0].condition-logic"),
    (lambda d: d["attachment-policies"][0]["conditions"][0].update(type="colour"),
     "ENUM_VIOLATION", "$.attachment-policies[0].conditions[0].type"),
    (lambda d: d["attachment-policies"][0]["conditions"][0].pop("key"),
     "REQUIRED_PROPERTY", "$.attachment-policies[0].conditions[0].key"),
    (lambda d: d["attachment-policies"][0]["conditions"].__setitem__(
        0, {"type": "tag-value", "key": "k", "operator": "matches", "value": "v"}),
     "ENUM_VIOLATION", "$.attachment-policies[0].conditions[0].operator"),
    (lambda d: d["attachment-policies"][0]["conditions"].__setitem__(
        0, {"type": "tag-value", "key": "k", "operator": "equals"}),
     "REQUIRED_PROPERTY", "$.attachment-policies[0].conditions[0].value"),
    (lambda d: d["attachment-policies"][0]["conditions"].__setitem__(
        0, {"type": "attachment-type", "operator": "equals", "value": "peering"}),
     "ENUM_VIOLATION", "$.attachment-policies[0].conditions[0].value"),
    (lambda d: d["attachment-policies"][0]["conditions"].__setitem__(
        0, {"type": "attachment-type", "operator": "contains", "value": "vpc"}),
     "CONSTANT_VIOLATION", "$.attachment-policies[0].conditions[0].operator"),
    (lambda d: d["attachment-policies"][0]["conditions"].__setitem__(
        0, {"type": "account-id", "operator": "equals", "value": "1234"}),
     "INVALID_STRING", "$.attachment-policies[0].conditions[0].value"),
    (lambda d: d["attachment-policies"][0]["conditions"].__setitem__(
        0, {"type": "any", "key": "x"}),
     "ADDITIONAL_PROPERTIES", "$.attachment-policies[0].conditions[0].key"),
    (lambda d: d["attachment-policies"][0]["action"].pop("tag-value-of-key"),
     "REQUIRED_PROPERTY", "$.attachment-policies[0].action.tag-value-of-key"),
    (lambda d: d["attachment-policies"][0].update(action={"association-method": "constant"}),
     "REQUIRED_PROPERTY", "$.attachment-policies[0].action.segment"),
    (lambda d: d["attachment-policies"][0]["action"].update({"require-acceptance": False}),
     "CONSTANT_VIOLATION", "$.attachment-policies[0].action.require-acceptance"),  # AP-6
    (lambda d: d["attachment-policies"][0]["action"].update({"association-method": "guess"}),
     "ENUM_VIOLATION", "$.attachment-policies[0].action.association-method"),
])
def test_schema_errors(mutate: Any, code: str, path: str) -> None:
    doc = e1()
    mutate(doc)
    check = check_policy(doc)
    assert (code, path) in {(e.code, e.path) for e in check.schema_errors}
    assert all(e.message.startswith(f"{e.path}: ") for e in check.schema_errors)
    assert check.policy is None


@pytest.mark.parametrize(("mutate", "code", "path"), [
    (lambda d: d["core-network-configuration"].update({"asn-ranges": ["100-200"]}),
     "OUT_OF_RANGE", "$.core-network-configuration.asn-ranges[0]"),
    (lambda d: d["core-network-configuration"].update({"asn-ranges": ["65000-64600"]}),
     "OUT_OF_RANGE", "$.core-network-configuration.asn-ranges[0]"),
    (lambda d: d["core-network-configuration"].update({"asn-ranges": ["64512-64512"]}),
     "OUT_OF_RANGE", "$.core-network-configuration.asn-ranges"),  # 2 edges, 1 ASN
    (lambda d: d["core-network-configuration"]["edge-locations"][0].update(asn=65535),
     "OUT_OF_RANGE", "$.core-network-configuration.edge-locations[0].asn"),
    (lambda d: [e.update(asn=64600) for e in d["core-network-configuration"]["edge-locations"]],
     "DUPLICATE_VALUE", "$.core-network-configuration.edge-locations[1].asn"),
    (lambda d: d["core-network-configuration"]["edge-locations"].append(
        {"location": "us-east-1"}),
     "DUPLICATE_VALUE", "$.core-network-configuration.edge-locations[2].location"),
    (lambda d: d["core-network-configuration"].update({"inside-cidr-blocks": ["10.0.0.0/25"]}),
     "OUT_OF_RANGE", "$.core-network-configuration.inside-cidr-blocks[0]"),
    (lambda d: d["core-network-configuration"].update({"inside-cidr-blocks": ["fd00::/65"]}),
     "OUT_OF_RANGE", "$.core-network-configuration.inside-cidr-blocks[0]"),
    (lambda d: (d["core-network-configuration"].update({"inside-cidr-blocks": ["10.0.0.0/16"]}),
                d["core-network-configuration"]["edge-locations"][0].update(
                    {"inside-cidr-blocks": ["10.1.0.0/24"]})),
     "OUT_OF_RANGE", "$.core-network-configuration.edge-locations[0].inside-cidr-blocks[0]"),
    (lambda d: d["segments"].append({"name": "dev"}), "DUPLICATE_VALUE", "$.segments[3].name"),
    (lambda d: d["segments"][0].update({"edge-locations": ["us-west-2"]}),
     "UNKNOWN_REFERENCE", "$.segments[0].edge-locations[0]"),
    (lambda d: d["segments"][0].update({"allow-filter": ["dev"], "deny-filter": ["shared"]}),
     "CONFLICT", "$.segments[0]"),
    (lambda d: d["segments"][0].update({"deny-filter": ["nope"]}),
     "UNKNOWN_REFERENCE", "$.segments[0].deny-filter[0]"),
    (lambda d: d["segment-actions"][0].update(segment="nope"),
     "UNKNOWN_REFERENCE", "$.segment-actions[0].segment"),
    (lambda d: d["segment-actions"][0].update({"share-with": ["prod", "qa"]}),
     "UNKNOWN_REFERENCE", "$.segment-actions[0].share-with[1]"),
    (lambda d: d["segment-actions"][0].update({"share-with": {"except": ["qa"]}}),
     "UNKNOWN_REFERENCE", "$.segment-actions[0].share-with.except[0]"),
    (lambda d: d["attachment-policies"].append(
        {"rule-number": 100, "conditions": [{"type": "any"}],
         "action": {"association-method": "constant", "segment": "dev"}}),
     "DUPLICATE_VALUE", "$.attachment-policies[1].rule-number"),
    (lambda d: d["attachment-policies"].append(
        {"rule-number": 200, "conditions": [{"type": "any"}],
         "action": {"association-method": "constant", "segment": "qa"}}),
     "UNKNOWN_REFERENCE", "$.attachment-policies[1].action.segment"),
    (lambda d: d["segment-actions"].append(
        {"action": "send-to", "segment": "prod", "via": {"network-function-groups": ["fw"]}}),
     "UNKNOWN_REFERENCE", "$.segment-actions[1].via.network-function-groups[0]"),
])
def test_generation_errors(mutate: Any, code: str, path: str) -> None:
    doc = e1()
    mutate(doc)
    check = check_policy(doc)
    assert check.schema_errors == []
    assert check.policy is not None  # the version is created; generation fails (VE-3)
    assert (code, path) in {(e.code, e.path) for e in check.generation_errors}


def test_every_error_is_returned_at_once() -> None:
    doc = e1()
    doc["segments"][0]["name"] = "bad-name"
    doc["attachment-policies"][0]["rule-number"] = 0
    doc["segment-actions"][0]["mode"] = "x"
    found = codes(doc)
    assert {("INVALID_STRING", "$.segments[0].name"),
            ("MINIMUM_VALUE_NOT_MET", "$.attachment-policies[0].rule-number"),
            ("CONSTANT_VIOLATION", "$.segment-actions[0].mode")} <= found


def test_not_json_and_not_an_object() -> None:
    assert codes("{nope") == {("INVALID_JSON", "$")}
    assert codes("[]") == {("INVALID_TYPE", "$")}


def test_version_2025_11_allows_its_features() -> None:
    doc = e1()
    doc["version"] = "2025.11"
    doc["routing-policies"] = []
    doc["attachment-policies"][0]["conditions"] = [
        {"type": "account", "operator": "equals", "value": "111122223333"}]
    assert check_policy(doc).ok
    doc["version"] = "2021.12"
    assert ("ENUM_VIOLATION", "$.attachment-policies[0].conditions[0].type") in codes(doc)

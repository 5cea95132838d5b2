"""Parse and validate a Cloud WAN core network policy document (cloudwan.md §1-5, §8).

Validation returns every error at once, as AWS does, split in two lists because AWS reports
them at two moments (VE-1, VE-3):

* ``schema_errors``: what a JSON schema can say (types, required keys, enums, patterns,
  constants, item counts, number ranges, unknown keys). ``PutCoreNetworkPolicy`` rejects the
  document with ``CoreNetworkPolicyException`` and creates no version.
* ``generation_errors``: what needs the whole document (duplicate names and rule numbers,
  references to unknown segments, edges or network function groups, ASN and inside-CIDR
  arithmetic). The version is created and its change set ends in ``FAILED_GENERATION``.

Messages are ``"<json path>: <text>"`` in the wording of the JSON-schema validator AWS uses
(``is missing but it is required``, ``must be a constant value blackhole``). Codes AWS has been
seen to return: REQUIRED_PROPERTY, INVALID_STRING, CONSTANT_VIOLATION, MAXIMUM_ITEMS_EXCEEDED.
ASSUMED codes (AWS does not document them): INVALID_JSON, INVALID_TYPE, ENUM_VIOLATION,
ADDITIONAL_PROPERTIES, MINIMUM_ITEMS_NOT_MET, MINIMUM_VALUE_NOT_MET, MAXIMUM_VALUE_EXCEEDED,
and for generation errors DUPLICATE_VALUE, UNKNOWN_REFERENCE, OUT_OF_RANGE, CONFLICT.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from localvpc.model.base import IPNetwork
from localvpc.model.cloudwan import CoreNetworkEdge, CoreNetworkSegmentInfo, PolicyError

VERSIONS = ("2021.12", "2025.11")
MAX_DOCUMENT_CHARS = 10_000_000  # PD-3

# Regions where a Core Network Edge can live (AWS commercial Regions; CN-1).
REGIONS = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "af-south-1", "ap-east-1", "ap-east-2",
    "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3",
    "ap-southeast-4", "ap-southeast-5", "ap-southeast-7", "ap-northeast-1", "ap-northeast-2",
    "ap-northeast-3", "ca-central-1", "ca-west-1", "eu-central-1", "eu-central-2", "eu-west-1",
    "eu-west-2", "eu-west-3", "eu-south-1", "eu-south-2", "eu-north-1", "il-central-1",
    "me-south-1", "me-central-1", "mx-central-1", "sa-east-1",
})

# Private ASN blocks an ``asn-ranges`` entry must fall in (§2).
ASN_BLOCKS = ((64512, 65534), (4200000000, 4294967294))

NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
ATTACHMENT_ID_RE = re.compile(r"^attachment-[0-9a-f]{17}$")
ASN_RANGE_RE = re.compile(r"^(\d+)-(\d+)$")
ACCOUNT_RE = re.compile(r"^\d{12}$")

OPERATORS = ("equals", "not-equals", "contains", "begins-with")
CONDITION_TYPES_2021 = ("any", "resource-id", "account-id", "region", "attachment-type",
                        "tag-exists", "tag-value")
CONDITION_TYPES_2025 = (*CONDITION_TYPES_2021, "account", "routing-policy-label")
ATTACHMENT_TYPES = ("vpc", "site-to-site-vpn", "connect", "transit-gateway-route-table",
                    "direct-connect-gateway")
ACTIONS_2021 = ("share", "create-route", "send-via", "send-to")
ACTIONS_2025 = (*ACTIONS_2021, "associate-routing-policy")

_ATTACHMENT_ID_TEXT = ('attachment identifiers must be prefixed with "attachment-" and must end '
                       'in 17 characters where all characters are from the set "a..f" or "0..9"')


# ----------------------------------------------------------------------------- parsed policy
@dataclass(slots=True)
class EdgeConfig:
    location: str
    asn: int | None = None
    inside_cidr_blocks: list[str] = field(default_factory=list)


@dataclass(slots=True)
class CoreConfig:
    asn_ranges: list[tuple[int, int]]
    edges: list[EdgeConfig]
    inside_cidr_blocks: list[str] = field(default_factory=list)
    vpn_ecmp_support: bool = True
    dns_support: bool = True
    security_group_referencing_support: bool = False

    @property
    def locations(self) -> list[str]:
        return [e.location for e in self.edges]


@dataclass(slots=True)
class Segment:
    name: str
    edge_locations: list[str]  # resolved: all core edges when the policy omits them
    description: str = ""
    isolate_attachments: bool = False
    require_attachment_acceptance: bool = True
    allow_filter: list[str] | None = None
    deny_filter: list[str] | None = None
    explicit_edges: bool = False


@dataclass(slots=True)
class NetworkFunctionGroup:
    name: str
    description: str = ""
    require_attachment_acceptance: bool = True


@dataclass(slots=True)
class ShareAction:
    segment: str
    share_with: list[str]  # resolved to segment names (``*`` and ``except`` expanded)
    index: int = 0


@dataclass(slots=True)
class CreateRouteAction:
    segment: str
    destination_cidr_blocks: list[IPNetwork]
    destinations: list[str]  # attachment ids, or ["blackhole"]
    description: str = ""
    index: int = 0

    @property
    def blackhole(self) -> bool:
        return self.destinations == ["blackhole"]


@dataclass(slots=True)
class ServiceInsertionAction:
    """``send-via`` (east-west, ``when_sent_to`` segments) or ``send-to`` (north-south)."""

    action: str
    segment: str
    network_function_groups: list[str]
    mode: str | None = None
    when_sent_to: list[str] = field(default_factory=list)
    edge_overrides: list[tuple[list[list[str]], str]] = field(default_factory=list)
    index: int = 0


@dataclass(slots=True)
class Condition:
    type: str
    operator: str | None = None
    key: str | None = None
    value: str | None = None


@dataclass(slots=True)
class AttachmentPolicy:
    rule_number: int
    conditions: list[Condition]
    condition_logic: str = "and"
    association_method: str = "constant"
    segment: str | None = None
    tag_value_of_key: str | None = None
    network_function_group: str | None = None
    require_acceptance: bool = False
    description: str = ""


@dataclass(slots=True)
class Policy:
    """A policy document that passed schema validation, in typed form. ``document`` is the
    decoded JSON, kept for change sets of whole configuration blocks."""

    version: str
    config: CoreConfig
    segments: dict[str, Segment]
    network_function_groups: dict[str, NetworkFunctionGroup]
    shares: list[ShareAction]
    routes: list[CreateRouteAction]
    service_insertion: list[ServiceInsertionAction]
    attachment_policies: list[AttachmentPolicy]  # ascending rule number (AP-1)
    document: dict[str, Any] = field(default_factory=dict)


class PolicyInvalid(ValueError):
    """A document with errors; ``errors`` lists them all."""

    def __init__(self, errors: list[PolicyError]) -> None:
        self.errors = errors
        super().__init__("Incorrect policy.")


@dataclass(slots=True)
class PolicyCheck:
    """The outcome of ``check_policy`` (see the module docstring for the two lists)."""

    schema_errors: list[PolicyError]
    generation_errors: list[PolicyError]
    policy: Policy | None

    @property
    def ok(self) -> bool:
        return not self.schema_errors and not self.generation_errors

    @property
    def errors(self) -> list[PolicyError]:
        return [*self.schema_errors, *self.generation_errors]


# ----------------------------------------------------------------------------- public API
def check_policy(document: str | Mapping[str, Any]) -> PolicyCheck:
    """Validate a policy document (JSON text or decoded) and parse it when the schema holds."""
    if isinstance(document, str):
        if len(document) > MAX_DOCUMENT_CHARS:
            return PolicyCheck([_err("MAXIMUM_VALUE_EXCEEDED", "$", "may only be "
                                     f"{MAX_DOCUMENT_CHARS} characters long")], [], None)
        try:
            data = json.loads(document)
        except ValueError as exc:
            return PolicyCheck([_err("INVALID_JSON", "$", f"invalid JSON: {exc}")], [], None)
    else:
        data = document
    schema = _Schema()
    schema.document(data)
    if schema.errors:
        return PolicyCheck(schema.errors, [], None)
    policy = _build(data)
    return PolicyCheck([], _semantic_errors(policy, data), policy)


def parse_policy(document: str | Mapping[str, Any]) -> Policy:
    """The typed policy; ``PolicyInvalid`` with every error if there is any."""
    check = check_policy(document)
    if not check.ok or check.policy is None:
        raise PolicyInvalid(check.errors)
    return check.policy


def edges_of(policy: Policy, previous: Iterable[CoreNetworkEdge] = ()) -> list[CoreNetworkEdge]:
    """The CNEs of ``policy``: explicit ASNs, else the ASN the edge already had (CN-2: it cannot
    change), else the lowest free ASN of ``asn-ranges`` in edge order."""
    before = {e.location: e.asn for e in previous}
    used = {e.asn for e in policy.config.edges if e.asn is not None}
    used |= {asn for loc, asn in before.items() if loc in policy.config.locations}
    out: list[CoreNetworkEdge] = []
    candidates = _asn_candidates(policy.config.asn_ranges)
    for edge in policy.config.edges:
        asn = edge.asn if edge.asn is not None else before.get(edge.location)
        if asn is None:
            asn = next((a for a in candidates if a not in used), 0)
            used.add(asn)
        cidrs = edge.inside_cidr_blocks
        out.append(CoreNetworkEdge(edge.location, asn, list(cidrs)))
    return out


def segment_infos(policy: Policy) -> list[CoreNetworkSegmentInfo]:
    """Segments as ``GetCoreNetwork`` lists them, with the segments each one shares with."""
    shared = shared_segments(policy)
    return [CoreNetworkSegmentInfo(s.name, list(s.edge_locations), sorted(shared[s.name]))
            for s in policy.segments.values()]


def shared_segments(policy: Policy) -> dict[str, set[str]]:
    """For each segment, the segments whose attachment routes it receives: the two-way
    ``share`` pairs (SA-1, SA-2) after the receiver's allow/deny filter (SEG-3)."""
    out: dict[str, set[str]] = {name: set() for name in policy.segments}
    for share in policy.shares:
        for other in share.share_with:
            if other == share.segment or other not in out or share.segment not in out:
                continue
            out[share.segment].add(other)
            out[other].add(share.segment)
    for name, sources in out.items():
        seg = policy.segments[name]
        if seg.allow_filter is not None:
            sources.intersection_update(seg.allow_filter)
        if seg.deny_filter is not None:
            sources.difference_update(seg.deny_filter)
    return out


def _asn_candidates(ranges: list[tuple[int, int]]) -> Iterable[int]:
    for lo, hi in sorted(ranges):
        yield from range(lo, hi + 1)


def _err(code: str, path: str, text: str) -> PolicyError:
    return PolicyError(code, f"{path}: {text}", path)


def _type_name(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def _cidr(text: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None


# ----------------------------------------------------------------------------- schema pass
class _Schema:
    """The JSON-schema half of validation; collects errors instead of stopping."""

    def __init__(self) -> None:
        self.errors: list[PolicyError] = []
        self.version = "2021.12"

    def add(self, code: str, path: str, text: str) -> None:
        self.errors.append(_err(code, path, text))

    # -- primitives
    def typed(self, value: object, path: str, expected: str) -> bool:
        actual = _type_name(value)
        if actual == expected or (expected == "number" and actual == "integer"):
            return True
        self.add("INVALID_TYPE", path, f"{actual} found, {expected} expected")
        return False

    def obj(self, value: object, path: str, required: Iterable[str],
            allowed: Iterable[str]) -> dict[str, Any] | None:
        if not self.typed(value, path, "object"):
            return None
        assert isinstance(value, dict)
        known = set(allowed) | set(required)
        for key in value:
            if key not in known:
                self.add("ADDITIONAL_PROPERTIES", f"{path}.{key}", "is not defined in the schema "
                         "and the schema does not allow additional properties")
        for key in required:
            if key not in value:
                self.add("REQUIRED_PROPERTY", f"{path}.{key}", "is missing but it is required")
        return value

    def array(self, value: object, path: str, min_items: int = 0) -> list[Any] | None:
        if not self.typed(value, path, "array"):
            return None
        assert isinstance(value, list)
        if len(value) < min_items:
            self.add("MINIMUM_ITEMS_NOT_MET", path,
                     f"there must be a minimum of {min_items} items in the array")
        return value

    def string(self, value: object, path: str) -> str | None:
        return value if self.typed(value, path, "string") else None  # type: ignore[return-value]

    def strings(self, value: object, path: str, min_items: int = 0) -> list[tuple[str, str]]:
        """The string items of an array with their paths (other items are type errors)."""
        items = self.array(value, path, min_items)
        if items is None:
            return []
        out = []
        for i, v in enumerate(items):
            if (text := self.string(v, f"{path}[{i}]")) is not None:
                out.append((f"{path}[{i}]", text))
        return out

    def boolean(self, parent: Mapping[str, Any], key: str, path: str) -> None:
        if key in parent:
            self.typed(parent[key], f"{path}.{key}", "boolean")

    def enum(self, value: object, path: str, choices: Iterable[str]) -> None:
        choices = tuple(choices)
        if self.string(value, path) is not None and value not in choices:
            self.add("ENUM_VIOLATION", path,
                     f"does not have a value in the enumeration [{', '.join(choices)}]")

    def name(self, value: object, path: str) -> None:
        text = self.string(value, path)
        if text is not None and not NAME_RE.match(text):
            self.add("INVALID_STRING", path, "names must start with a letter and contain only "
                     "alphanumeric characters")

    def region(self, value: object, path: str) -> None:
        text = self.string(value, path)
        if text is not None and text not in REGIONS:
            self.add("INVALID_STRING", path, f"{text} is not a supported AWS Region code")

    def cidr(self, value: object, path: str) -> None:
        text = self.string(value, path)
        if text is not None and _cidr(text) is None:
            self.add("INVALID_STRING", path, "does not match the cidr pattern")

    def integer(self, value: object, path: str, lo: int, hi: int) -> None:
        if not self.typed(value, path, "integer"):
            return
        assert isinstance(value, int)
        if value < lo:
            self.add("MINIMUM_VALUE_NOT_MET", path, f"must have a minimum value of {lo}")
        elif value > hi:
            self.add("MAXIMUM_VALUE_EXCEEDED", path, f"must have a maximum value of {hi}")

    # -- document
    def document(self, data: object) -> None:
        version = data.get("version") if isinstance(data, dict) else None
        if version == "2025.11":
            self.version = version
        allowed = ["segment-actions", "attachment-policies", "network-function-groups"]
        if self.version == "2025.11":
            allowed += ["routing-policies", "attachment-routing-policy-rules"]
        doc = self.obj(data, "$", ["version", "core-network-configuration", "segments"], allowed)
        if doc is None:
            return
        if "version" in doc and self.string(doc["version"], "$.version") is not None \
                and doc["version"] not in VERSIONS:
            self.add("INVALID_STRING", "$.version",
                     f"does not have a value in the enumeration [{', '.join(VERSIONS)}]")
        if "core-network-configuration" in doc:
            self.core(doc["core-network-configuration"], "$.core-network-configuration")
        if "segments" in doc:
            items = self.array(doc["segments"], "$.segments", 1) or []
            for i, seg in enumerate(items):
                self.segment(seg, f"$.segments[{i}]")
        for i, nfg in enumerate(self.array(doc.get("network-function-groups", []),
                                           "$.network-function-groups") or []):
            path = f"$.network-function-groups[{i}]"
            obj = self.obj(nfg, path, ["name", "require-attachment-acceptance"], ["description"])
            if obj is not None:
                if "name" in obj:
                    self.name(obj["name"], f"{path}.name")
                self.boolean(obj, "require-attachment-acceptance", path)
                if "description" in obj:
                    self.string(obj["description"], f"{path}.description")
        for i, act in enumerate(self.array(doc.get("segment-actions", []),
                                           "$.segment-actions") or []):
            self.segment_action(act, f"$.segment-actions[{i}]")
        for i, rule in enumerate(self.array(doc.get("attachment-policies", []),
                                            "$.attachment-policies") or []):
            self.attachment_policy(rule, f"$.attachment-policies[{i}]")
        for key in ("routing-policies", "attachment-routing-policy-rules"):
            if key in doc:  # 2025.11 routing policies: shape only (not modelled further)
                self.array(doc[key], f"$.{key}")

    def core(self, value: object, path: str) -> None:
        cfg = self.obj(value, path, ["asn-ranges", "edge-locations"],
                       ["inside-cidr-blocks", "vpn-ecmp-support", "dns-support",
                        "security-group-referencing-support"])
        if cfg is None:
            return
        if "asn-ranges" in cfg:
            for ipath, text in self.strings(cfg["asn-ranges"], f"{path}.asn-ranges", 1):
                if not ASN_RANGE_RE.match(text):
                    self.add("INVALID_STRING", ipath,
                             "does not match the regex pattern ^[0-9]+-[0-9]+$")
        if "inside-cidr-blocks" in cfg:
            for ipath, text in self.strings(cfg["inside-cidr-blocks"],
                                            f"{path}.inside-cidr-blocks"):
                self.cidr(text, ipath)
        for key in ("vpn-ecmp-support", "dns-support", "security-group-referencing-support"):
            self.boolean(cfg, key, path)
        if "edge-locations" in cfg:
            edges = self.array(cfg["edge-locations"], f"{path}.edge-locations", 1) or []
            for i, edge in enumerate(edges):
                epath = f"{path}.edge-locations[{i}]"
                e = self.obj(edge, epath, ["location"], ["asn", "inside-cidr-blocks"])
                if e is None:
                    continue
                if "location" in e:
                    self.region(e["location"], f"{epath}.location")
                if "asn" in e:
                    self.integer(e["asn"], f"{epath}.asn", 1, 4294967295)
                if "inside-cidr-blocks" in e:
                    for ipath, text in self.strings(e["inside-cidr-blocks"],
                                                    f"{epath}.inside-cidr-blocks"):
                        self.cidr(text, ipath)

    def segment(self, value: object, path: str) -> None:
        seg = self.obj(value, path, ["name"], ["description", "edge-locations",
                                               "isolate-attachments",
                                               "require-attachment-acceptance",
                                               "allow-filter", "deny-filter"])
        if seg is None:
            return
        if "name" in seg:
            self.name(seg["name"], f"{path}.name")
        if "description" in seg:
            self.string(seg["description"], f"{path}.description")
        if "edge-locations" in seg:
            for ipath, text in self.strings(seg["edge-locations"], f"{path}.edge-locations"):
                self.region(text, ipath)
        self.boolean(seg, "isolate-attachments", path)
        self.boolean(seg, "require-attachment-acceptance", path)
        for key in ("allow-filter", "deny-filter"):
            if key in seg:
                self.strings(seg[key], f"{path}.{key}", 1)

    def segment_action(self, value: object, path: str) -> None:
        actions = ACTIONS_2025 if self.version == "2025.11" else ACTIONS_2021
        if not self.typed(value, path, "object"):
            return
        assert isinstance(value, dict)
        kind = value.get("action")
        if kind is None:
            self.add("REQUIRED_PROPERTY", f"{path}.action", "is missing but it is required")
            return
        self.enum(kind, f"{path}.action", actions)
        if kind == "share":
            allowed = ["description"]
            if self.version == "2025.11":
                allowed.append("routing-policy-names")
            act = self.obj(value, path, ["action", "segment", "mode", "share-with"], allowed)
            if act is None:
                return
            if "mode" in act and self.string(act["mode"], f"{path}.mode") is not None \
                    and act["mode"] != "attachment-route":
                self.add("CONSTANT_VIOLATION", f"{path}.mode",
                         "must be a constant value attachment-route")
            if "share-with" in act:
                self.share_with(act["share-with"], f"{path}.share-with")
        elif kind == "create-route":
            act = self.obj(value, path, ["action", "segment", "destination-cidr-blocks",
                                         "destinations"], ["description"])
            if act is None:
                return
            if "destination-cidr-blocks" in act:
                cpath = f"{path}.destination-cidr-blocks"
                for ipath, text in self.strings(act["destination-cidr-blocks"], cpath, 1):
                    self.cidr(text, ipath)
            if "destinations" in act:
                self.destinations(act["destinations"], f"{path}.destinations")
        elif kind in ("send-via", "send-to"):
            required = ["action", "segment", "via"]
            allowed = ["description"]
            if kind == "send-via":
                required += ["mode", "when-sent-to"]
            act = self.obj(value, path, required, allowed)
            if act is None:
                return
            if "mode" in act:
                self.enum(act["mode"], f"{path}.mode", ("single-hop", "dual-hop"))
            if "when-sent-to" in act:
                wst = self.obj(act["when-sent-to"], f"{path}.when-sent-to", ["segments"], [])
                if wst is not None and "segments" in wst:
                    self.share_with(wst["segments"], f"{path}.when-sent-to.segments",
                                    allow_except=False)
            if "via" in act:
                self.via(act["via"], f"{path}.via")
        elif kind == "associate-routing-policy":
            act = self.obj(value, path, ["action", "segment", "routing-policy-names"],
                           ["description", "edge-location-association"])
            if act is not None and "routing-policy-names" in act:
                self.strings(act["routing-policy-names"], f"{path}.routing-policy-names", 1)
        else:
            return
        if "segment" in value:
            self.name(value["segment"], f"{path}.segment")
        if "description" in value:
            self.string(value["description"], f"{path}.description")

    def share_with(self, value: object, path: str, allow_except: bool = True) -> None:
        if value == "*":
            return
        if isinstance(value, list):
            for ipath, text in self.strings(value, path, 1):
                self.name(text, ipath)
            return
        if allow_except and isinstance(value, dict):
            obj = self.obj(value, path, ["except"], [])
            if obj is not None and "except" in obj:
                for ipath, text in self.strings(obj["except"], f"{path}.except", 1):
                    self.name(text, ipath)
            return
        if isinstance(value, str):
            self.add("CONSTANT_VIOLATION", path, "must be a constant value *")
            return
        expected = "string, array or object" if allow_except else "string or array"
        self.add("INVALID_TYPE", path, f"{_type_name(value)} found, {expected} expected")

    def destinations(self, value: object, path: str) -> None:
        """Either attachment ids or the singleton ``["blackhole"]``; like AWS's validator,
        when neither branch holds the errors of both branches are reported (SA-4)."""
        items = self.array(value, path, 1)
        if not items:
            return
        if items == ["blackhole"]:
            return
        if all(isinstance(v, str) and ATTACHMENT_ID_RE.match(v) for v in items):
            return
        if len(items) > 1:
            self.add("MAXIMUM_ITEMS_EXCEEDED", path, "blackhole may only exist in a singleton list")
        for i, item in enumerate(items):
            ipath = f"{path}[{i}]"
            if not isinstance(item, str):
                self.add("INVALID_TYPE", ipath, f"{_type_name(item)} found, string expected")
                continue
            if not ATTACHMENT_ID_RE.match(item):
                self.add("INVALID_STRING", ipath, _ATTACHMENT_ID_TEXT)
            if item != "blackhole":
                self.add("CONSTANT_VIOLATION", ipath, "must be a constant value blackhole")

    def via(self, value: object, path: str) -> None:
        via = self.obj(value, path, ["network-function-groups"], ["with-edge-overrides"])
        if via is None:
            return
        if "network-function-groups" in via:
            npath = f"{path}.network-function-groups"
            for ipath, text in self.strings(via["network-function-groups"], npath, 1):
                self.name(text, ipath)
        for i, ov in enumerate(self.array(via.get("with-edge-overrides", []),
                                          f"{path}.with-edge-overrides") or []):
            opath = f"{path}.with-edge-overrides[{i}]"
            o = self.obj(ov, opath, ["edge-sets", "use-edge-location"], [])
            if o is None:
                continue
            for j, edge_set in enumerate(self.array(o.get("edge-sets", []),
                                                    f"{opath}.edge-sets") or []):
                spath = f"{opath}.edge-sets[{j}]"
                for ipath, text in self.strings(edge_set, spath, 1):
                    self.region(text, ipath)
            if "use-edge-location" in o:
                self.region(o["use-edge-location"], f"{opath}.use-edge-location")

    def attachment_policy(self, value: object, path: str) -> None:
        rule = self.obj(value, path, ["rule-number", "conditions", "action"],
                        ["description", "condition-logic"])
        if rule is None:
            return
        if "rule-number" in rule:
            self.integer(rule["rule-number"], f"{path}.rule-number", 1, 65535)
        if "description" in rule:
            self.string(rule["description"], f"{path}.description")
        if "condition-logic" in rule:
            self.enum(rule["condition-logic"], f"{path}.condition-logic", ("and", "or"))
        if "conditions" in rule:
            conds = self.array(rule["conditions"], f"{path}.conditions", 1) or []
            if len(conds) > 1 and "condition-logic" not in rule:  # AP-2
                self.add("REQUIRED_PROPERTY", f"{path}.condition-logic",
                         "is missing but it is required")
            for i, cond in enumerate(conds):
                self.condition(cond, f"{path}.conditions[{i}]")
        if "action" in rule:
            self.rule_action(rule["action"], f"{path}.action")

    def condition(self, value: object, path: str) -> None:
        types = CONDITION_TYPES_2025 if self.version == "2025.11" else CONDITION_TYPES_2021
        if not self.typed(value, path, "object"):
            return
        assert isinstance(value, dict)
        kind = value.get("type")
        if kind is None:
            self.add("REQUIRED_PROPERTY", f"{path}.type", "is missing but it is required")
            return
        self.enum(kind, f"{path}.type", types)
        if kind not in types:
            return
        if kind == "any":
            required: list[str] = []
        elif kind == "tag-exists":
            required = ["key"]
        elif kind == "tag-value":
            required = ["key", "operator", "value"]
        else:
            required = ["operator", "value"]
        cond = self.obj(value, path, ["type", *required], [])
        if cond is None:
            return
        if "key" in cond:
            self.string(cond["key"], f"{path}.key")
        if "operator" in cond:
            if kind == "attachment-type":
                if self.string(cond["operator"], f"{path}.operator") is not None \
                        and cond["operator"] != "equals":
                    self.add("CONSTANT_VIOLATION", f"{path}.operator",
                             "must be a constant value equals")
            else:
                self.enum(cond["operator"], f"{path}.operator", OPERATORS)
        if "value" in cond:
            text = self.string(cond["value"], f"{path}.value")
            if text is None:
                return
            if kind == "attachment-type":
                self.enum(text, f"{path}.value", ATTACHMENT_TYPES)
            elif kind in ("account-id", "account") and cond.get("operator") in (
                    "equals", "not-equals") and not ACCOUNT_RE.match(text):
                self.add("INVALID_STRING", f"{path}.value",
                         "does not match the regex pattern ^[0-9]{12}$")

    def rule_action(self, value: object, path: str) -> None:
        act = self.obj(value, path, ["association-method"],
                       ["segment", "tag-value-of-key", "require-acceptance",
                        "add-to-network-function-group"])
        if act is None:
            return
        method = act.get("association-method")
        if method is not None:
            self.enum(method, f"{path}.association-method", ("constant", "tag"))
        if method == "constant":
            has_seg, has_nfg = "segment" in act, "add-to-network-function-group" in act
            if not has_seg and not has_nfg:
                self.add("REQUIRED_PROPERTY", f"{path}.segment", "is missing but it is required")
            elif has_seg and has_nfg:  # AP-7
                self.add("ADDITIONAL_PROPERTIES", f"{path}.add-to-network-function-group",
                         "is not allowed together with segment")
        elif method == "tag" and "tag-value-of-key" not in act:
            self.add("REQUIRED_PROPERTY", f"{path}.tag-value-of-key",
                     "is missing but it is required")
        if "segment" in act:
            self.name(act["segment"], f"{path}.segment")
        if "add-to-network-function-group" in act:
            self.name(act["add-to-network-function-group"],
                      f"{path}.add-to-network-function-group")
        if "tag-value-of-key" in act:
            self.string(act["tag-value-of-key"], f"{path}.tag-value-of-key")
        if "require-acceptance" in act and self.typed(
                act["require-acceptance"], f"{path}.require-acceptance", "boolean") \
                and act["require-acceptance"] is not True:  # AP-6
            self.add("CONSTANT_VIOLATION", f"{path}.require-acceptance",
                     "must be a constant value true")


# ----------------------------------------------------------------------------- building
def _build(doc: Mapping[str, Any]) -> Policy:
    """The typed policy of a schema-valid document (no cross-checks here)."""
    cfg = doc["core-network-configuration"]
    ranges: list[tuple[int, int]] = []
    for text in cfg["asn-ranges"]:
        m = ASN_RANGE_RE.match(text)
        if m:
            ranges.append((int(m.group(1)), int(m.group(2))))
    edges = [EdgeConfig(e["location"], e.get("asn"), list(e.get("inside-cidr-blocks", [])))
             for e in cfg["edge-locations"]]
    config = CoreConfig(ranges, edges, list(cfg.get("inside-cidr-blocks", [])),
                        cfg.get("vpn-ecmp-support", True), cfg.get("dns-support", True),
                        cfg.get("security-group-referencing-support", False))
    all_edges = config.locations
    segments: dict[str, Segment] = {}
    for s in doc["segments"]:
        segments.setdefault(s["name"], Segment(
            name=s["name"], edge_locations=list(s.get("edge-locations", all_edges)),
            description=s.get("description", ""),
            isolate_attachments=s.get("isolate-attachments", False),
            require_attachment_acceptance=s.get("require-attachment-acceptance", True),
            allow_filter=s.get("allow-filter"), deny_filter=s.get("deny-filter"),
            explicit_edges="edge-locations" in s))
    nfgs = {n["name"]: NetworkFunctionGroup(n["name"], n.get("description", ""),
                                            n.get("require-attachment-acceptance", True))
            for n in doc.get("network-function-groups", [])}
    shares: list[ShareAction] = []
    routes: list[CreateRouteAction] = []
    insertion: list[ServiceInsertionAction] = []
    for i, act in enumerate(doc.get("segment-actions", [])):
        kind = act["action"]
        if kind == "share":
            shares.append(ShareAction(act["segment"],
                                      _expand(act["share-with"], act["segment"], segments), i))
        elif kind == "create-route":
            cidrs = [c for t in act["destination-cidr-blocks"] if (c := _cidr(t)) is not None]
            routes.append(CreateRouteAction(act["segment"], cidrs, list(act["destinations"]),
                                            act.get("description", ""), i))
        elif kind in ("send-via", "send-to"):
            via = act["via"]
            overrides = [(list(o.get("edge-sets", [])), o.get("use-edge-location", ""))
                         for o in via.get("with-edge-overrides", [])]
            sent_to = act.get("when-sent-to", {}).get("segments", [])
            insertion.append(ServiceInsertionAction(
                kind, act["segment"], list(via["network-function-groups"]), act.get("mode"),
                _expand(sent_to, act["segment"], segments), overrides, i))
    rules = [
        AttachmentPolicy(
            rule_number=r["rule-number"],
            conditions=[Condition(c["type"], c.get("operator"), c.get("key"), c.get("value"))
                        for c in r["conditions"]],
            condition_logic=r.get("condition-logic", "and"),
            association_method=r["action"]["association-method"],
            segment=r["action"].get("segment"),
            tag_value_of_key=r["action"].get("tag-value-of-key"),
            network_function_group=r["action"].get("add-to-network-function-group"),
            require_acceptance=r["action"].get("require-acceptance", False),
            description=r.get("description", ""))
        for r in doc.get("attachment-policies", [])]
    rules.sort(key=lambda r: r.rule_number)
    return Policy(doc["version"], config, segments, nfgs, shares, routes, insertion, rules,
                  dict(doc))


def _expand(value: Any, segment: str, segments: Mapping[str, Segment]) -> list[str]:
    """``*`` -> every other segment; ``{"except": [...]}`` -> every other minus those."""
    if value == "*":
        return [s for s in segments if s != segment]
    if isinstance(value, dict):
        excluded = set(value.get("except", []))
        return [s for s in segments if s != segment and s not in excluded]
    return list(value)


# ----------------------------------------------------------------------------- semantic pass
def _semantic_errors(policy: Policy, doc: Mapping[str, Any]) -> list[PolicyError]:
    errors: list[PolicyError] = []
    add = errors.append
    cfg_path = "$.core-network-configuration"
    cfg = policy.config

    # asn-ranges: lo <= hi inside one private block (§2).
    for i, (lo, hi) in enumerate(cfg.asn_ranges):
        if lo > hi or not any(b_lo <= lo and hi <= b_hi for b_lo, b_hi in ASN_BLOCKS):
            add(_err("OUT_OF_RANGE", f"{cfg_path}.asn-ranges[{i}]",
                     f"{lo}-{hi} must be a range inside 64512-65534 or 4200000000-4294967294"))
    # inside CIDRs: IPv4 /24 or larger, IPv6 /64 or larger (§2).
    top_cidrs: list[IPNetwork] = []
    for i, text in enumerate(cfg.inside_cidr_blocks):
        net = _cidr(text)
        if net is None:
            continue
        top_cidrs.append(net)
        limit = 24 if net.version == 4 else 64
        if net.prefixlen > limit:
            add(_err("OUT_OF_RANGE", f"{cfg_path}.inside-cidr-blocks[{i}]",
                     f"{text} must be a /{limit} or larger block"))
    # Edges: unique locations and ASNs, ASN inside the ranges (CN-1, CN-2, CN-3).
    seen_loc: set[str] = set()
    seen_asn: dict[int, int] = {}
    auto = 0
    for i, edge in enumerate(cfg.edges):
        path = f"{cfg_path}.edge-locations[{i}]"
        if edge.location in seen_loc:
            add(_err("DUPLICATE_VALUE", f"{path}.location",
                     f"edge location {edge.location} is listed more than once"))
        seen_loc.add(edge.location)
        if edge.asn is None:
            auto += 1
        else:
            if not any(lo <= edge.asn <= hi for lo, hi in cfg.asn_ranges):
                add(_err("OUT_OF_RANGE", f"{path}.asn",
                         f"ASN {edge.asn} is not inside the core network's asn-ranges"))
            if edge.asn in seen_asn:
                add(_err("DUPLICATE_VALUE", f"{path}.asn",
                         f"ASN {edge.asn} is already used by edge-locations[{seen_asn[edge.asn]}]"))
            seen_asn.setdefault(edge.asn, i)
        for j, text in enumerate(edge.inside_cidr_blocks):
            net = _cidr(text)
            if net is not None and not any(net.version == t.version and net.subnet_of(t)  # type: ignore[arg-type]
                                           for t in top_cidrs):
                add(_err("OUT_OF_RANGE", f"{path}.inside-cidr-blocks[{j}]",
                         f"{text} is not inside the core network's inside-cidr-blocks"))
    free = sum(hi - lo + 1 for lo, hi in cfg.asn_ranges if lo <= hi) - len(seen_asn)
    if auto > free:
        add(_err("OUT_OF_RANGE", f"{cfg_path}.asn-ranges",
                 "not enough ASNs in asn-ranges for every edge location"))

    # Segments and network function groups: unique names, edges within the core's (SEG-4).
    names: dict[str, str] = {}
    for i, seg in enumerate(doc["segments"]):
        path = f"$.segments[{i}]"
        if seg["name"] in names:
            add(_err("DUPLICATE_VALUE", f"{path}.name",
                     f"segment name {seg['name']} is already used by {names[seg['name']]}"))
        names.setdefault(seg["name"], path)
    for i, nfg in enumerate(doc.get("network-function-groups", [])):
        path = f"$.network-function-groups[{i}]"
        if nfg["name"] in names:
            add(_err("DUPLICATE_VALUE", f"{path}.name",
                     f"name {nfg['name']} is already used by {names[nfg['name']]}"))
        names.setdefault(nfg["name"], path)

    def known_segment(name: str, path: str) -> None:
        if name not in policy.segments:
            add(_err("UNKNOWN_REFERENCE", path, f"segment {name} is not defined in segments"))

    def known_nfg(name: str, path: str) -> None:
        if name not in policy.network_function_groups:
            add(_err("UNKNOWN_REFERENCE", path,
                     f"network function group {name} is not defined in network-function-groups"))

    def known_edge(name: str, path: str) -> None:
        if name not in seen_loc:
            add(_err("UNKNOWN_REFERENCE", path,
                     f"{name} is not an edge location of the core network"))

    for i, seg in enumerate(doc["segments"]):
        path = f"$.segments[{i}]"
        for j, loc in enumerate(seg.get("edge-locations", [])):
            known_edge(loc, f"{path}.edge-locations[{j}]")
        if "allow-filter" in seg and "deny-filter" in seg:  # SEG-3
            add(_err("CONFLICT", path, "allow-filter and deny-filter cannot both be set"))
        for key in ("allow-filter", "deny-filter"):
            for j, name in enumerate(seg.get(key, [])):
                known_segment(name, f"{path}.{key}[{j}]")

    for i, act in enumerate(doc.get("segment-actions", [])):
        path = f"$.segment-actions[{i}]"
        if "segment" in act:
            known_segment(act["segment"], f"{path}.segment")
        kind = act["action"]
        if kind == "share":
            sw = act["share-with"]
            if isinstance(sw, list):
                for j, name in enumerate(sw):
                    known_segment(name, f"{path}.share-with[{j}]")
            elif isinstance(sw, dict):
                for j, name in enumerate(sw.get("except", [])):
                    known_segment(name, f"{path}.share-with.except[{j}]")
        elif kind in ("send-via", "send-to"):
            segs = act.get("when-sent-to", {}).get("segments", [])
            if isinstance(segs, list):
                for j, name in enumerate(segs):
                    known_segment(name, f"{path}.when-sent-to.segments[{j}]")
            via = act["via"]
            for j, name in enumerate(via["network-function-groups"]):
                known_nfg(name, f"{path}.via.network-function-groups[{j}]")
            for j, ov in enumerate(via.get("with-edge-overrides", [])):
                opath = f"{path}.via.with-edge-overrides[{j}]"
                for k, edge_set in enumerate(ov.get("edge-sets", [])):
                    for m, loc in enumerate(edge_set):
                        known_edge(loc, f"{opath}.edge-sets[{k}][{m}]")
                if "use-edge-location" in ov:
                    known_edge(ov["use-edge-location"], f"{opath}.use-edge-location")

    rule_paths: dict[int, str] = {}
    for i, rule in enumerate(doc.get("attachment-policies", [])):
        path = f"$.attachment-policies[{i}]"
        num = rule["rule-number"]
        if num in rule_paths:
            add(_err("DUPLICATE_VALUE", f"{path}.rule-number",
                     f"rule number {num} is already used by {rule_paths[num]}"))
        rule_paths.setdefault(num, path)
        action = rule["action"]
        if "segment" in action:
            known_segment(action["segment"], f"{path}.action.segment")
        if "add-to-network-function-group" in action:
            known_nfg(action["add-to-network-function-group"],
                      f"{path}.action.add-to-network-function-group")
    return errors

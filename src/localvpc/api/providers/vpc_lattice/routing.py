"""Rule actions and matches: AWS shapes <-> model, with the checks the model cannot express.

The botocore model already bounds lengths, ranges (weights 0-999, 1-10 target groups,
priorities 1-2000) and patterns; here: union members (exactly one), target groups that exist
and suit the listener, fixed responses (lattice.md RU-2..RU-8, LI-5).
"""

from __future__ import annotations

from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.vpc_lattice.common import TARGET_GROUP, lookup, validation
from localvpc.model.lattice import (
    HeaderMatch,
    HttpMatch,
    LatticeTargetGroup,
    PathMatch,
    RuleAction,
    WeightedTargetGroup,
)

#: The documented fixed-response codes (RU-8); the model allows 100-599.
FIXED_RESPONSE_CODES = (404, 500)


def _one_of(value: dict[str, Any], keys: tuple[str, ...], field: str) -> str:
    present = [k for k in keys if value.get(k) is not None]
    if len(present) != 1:
        raise validation(f"Exactly one of {', '.join(keys)} must be specified.", field)
    return present[0]


def parse_action(ctx: RequestContext, action: dict[str, Any], field: str,
                 listener_protocol: str) -> RuleAction:
    """A ``RuleAction`` for a listener of ``listener_protocol``: forward to target groups of a
    matching kind (TCP groups behind TLS_PASSTHROUGH only, LI-5), or a fixed 404/500."""
    kind = _one_of(action, ("forward", "fixedResponse"), field)
    if kind == "fixedResponse":
        status = int(action["fixedResponse"]["statusCode"])
        if listener_protocol == "TLS_PASSTHROUGH":
            raise validation("TLS_PASSTHROUGH listeners support only forward actions.", field)
        if status not in FIXED_RESPONSE_CODES:
            raise validation(f"Fixed response status code {status} is not supported; use 404 "
                             "or 500.", f"{field}.fixedResponse.statusCode")
        return RuleAction(fixed_response_status=status)
    entries = action["forward"]["targetGroups"]
    forward: list[WeightedTargetGroup] = []
    tcp = 0
    for index, entry in enumerate(entries):
        tg: LatticeTargetGroup = lookup(ctx, TARGET_GROUP, entry["targetGroupIdentifier"])
        if any(w.target_group_id == tg.id for w in forward):
            raise validation(f"Target group {tg.id} appears more than once.",
                             f"{field}.forward.targetGroups")
        if tg.protocol == "TCP":
            tcp += 1
        if listener_protocol == "TLS_PASSTHROUGH" and tg.protocol != "TCP":
            raise validation(f"Target group {tg.id} must use protocol TCP behind a "
                             "TLS_PASSTHROUGH listener.",
                             f"{field}.forward.targetGroups.{index + 1}")
        if listener_protocol != "TLS_PASSTHROUGH" and tg.protocol == "TCP":
            raise validation(f"Target group {tg.id} uses protocol TCP, which needs a "
                             "TLS_PASSTHROUGH listener.",
                             f"{field}.forward.targetGroups.{index + 1}")
        weight = entry.get("weight")
        forward.append(WeightedTargetGroup(tg.id, 100 if weight is None else int(weight)))
    return RuleAction(forward=forward)


def action_view(action: RuleAction) -> dict[str, Any]:
    if action.fixed_response_status is not None:
        return {"fixedResponse": {"statusCode": action.fixed_response_status}}
    return {"forward": {"targetGroups": [
        {"targetGroupIdentifier": w.target_group_id, "weight": w.weight}
        for w in action.forward]}}


def parse_match(match: dict[str, Any], field: str) -> HttpMatch:
    """``match.httpMatch``: at least one condition (ASSUMED: an empty match is invalid)."""
    _one_of(match, ("httpMatch",), field)
    http = match["httpMatch"]
    where = f"{field}.httpMatch"
    method = http.get("method")
    path: PathMatch | None = None
    if http.get("pathMatch") is not None:
        pm = http["pathMatch"]
        kind = _one_of(pm.get("match") or {}, ("exact", "prefix"), f"{where}.pathMatch.match")
        path = PathMatch(kind, pm["match"][kind], bool(pm.get("caseSensitive", False)))
    headers: list[HeaderMatch] = []
    for index, hm in enumerate(http.get("headerMatches") or []):
        hwhere = f"{where}.headerMatches.{index + 1}"
        kind = _one_of(hm.get("match") or {}, ("exact", "prefix", "contains"),
                       f"{hwhere}.match")
        headers.append(HeaderMatch(hm["name"], kind, hm["match"][kind],
                                   bool(hm.get("caseSensitive", False))))
    if not method and path is None and not headers:
        raise validation("A rule must match on at least one of method, path or headers.",
                         where)
    return HttpMatch(method=method or None, path=path, headers=headers)


def match_view(match: HttpMatch) -> dict[str, Any]:
    http: dict[str, Any] = {}
    if match.method is not None:
        http["method"] = match.method
    if match.path is not None:
        http["pathMatch"] = {"match": {match.path.kind: match.path.value},
                             "caseSensitive": match.path.case_sensitive}
    if match.headers:
        http["headerMatches"] = [{"name": h.name, "match": {h.kind: h.value},
                                  "caseSensitive": h.case_sensitive} for h in match.headers]
    return {"httpMatch": http}

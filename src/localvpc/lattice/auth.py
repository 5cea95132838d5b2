"""VPC Lattice auth policies: who is calling (SigV4 with service ``vpc-lattice-svcs``) and
whether the service network's and the service's IAM resource policies let them in.

Only levels whose ``auth_type`` is AWS_IAM are evaluated (AU-1); every such level must allow
and an explicit Deny anywhere wins (AU-2); AWS_IAM without a policy denies (AU-3). Unsigned
requests are the anonymous principal, matched only by ``"Principal": "*"`` (AU-6). The
caller's own identity policy is not modelled (there are no IAM users here): a request the
resource policies allow is allowed, as with an account admin calling.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import ipaddress
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from localvpc.lattice.request import Request
from localvpc.model.base import DEFAULT_ACCOUNT
from localvpc.model.lattice import LatticeService, ServiceNetwork
from localvpc.model.network import Network

SIGNING_SERVICE = "vpc-lattice-svcs"
INVOKE = "vpc-lattice-svcs:Invoke"
ANONYMOUS = "anonymous"
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
MAX_SKEW = dt.timedelta(minutes=15)
_AUTH = re.compile(r"AWS4-HMAC-SHA256\s+Credential=(?P<cred>[^,\s]+),\s*"
                   r"SignedHeaders=(?P<signed>[^,\s]+),\s*Signature=(?P<sig>[0-9a-f]+)")


@dataclass(frozen=True, slots=True)
class Key:
    """What the server knows of an access key. ``principal_arn`` defaults to the account's
    root (there are no IAM users or roles in the model)."""

    account: str
    secret: str | None = None
    principal_arn: str | None = None
    org_id: str | None = None
    session_name: str | None = None


KeyLookup = Callable[[str], "Key | None"]


@dataclass(slots=True)
class Caller:
    """Who sent a request. ``error`` is set when a signature was present but wrong (such a
    request is denied wherever auth is on, whatever the policy says)."""

    principal: str = ANONYMOUS  # the ARN, or "anonymous"
    account: str | None = None
    org_id: str | None = None
    session_name: str | None = None
    access_key: str | None = None
    error: str | None = None

    @property
    def authenticated(self) -> bool:
        return self.principal != ANONYMOUS and self.error is None


@dataclass(slots=True)
class Verdict:
    """The outcome for one request: ``allowed``, else ``denied_by`` ``Network``/``Service``
    (AU-7's ``authDeniedReason``) and a ``reason`` for the log."""

    allowed: bool
    denied_by: str | None = None
    reason: str = ""
    caller: Caller = field(default_factory=Caller)


# ---------------------------------------------------------------------- who is calling
class Authorizer:
    """Identifies callers and evaluates auth policies. ``lookup`` maps an access key to its
    ``Key`` (the server adapts its accounts file); ``strict`` makes an unknown key or a key
    without a secret a failed signature, else (like the API's open mode) the signature is
    trusted when it cannot be checked and a 12-digit key names its account."""

    def __init__(self, lookup: KeyLookup | None = None, strict: bool = False,
                 clock: Callable[[], dt.datetime] | None = None) -> None:
        self.lookup = lookup or (lambda _key: None)
        self.strict = strict
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))

    def identify(self, req: Request) -> Caller:
        header = req.header("authorization")
        if not header:
            return Caller()
        m = _AUTH.match(header)
        if m is None:
            # SigV4A and other schemes are not checked (ASSUMED: treated as a bad signature).
            return Caller(error="unsupported or malformed Authorization header")
        access_key, _date, region, service, _ = (m["cred"].split("/") + [""] * 5)[:5]
        key = self.lookup(access_key)
        if key is None:
            if self.strict:
                return Caller(access_key=access_key,
                              error="the security token included in the request is invalid")
            account = access_key if access_key.isdigit() and len(access_key) == 12 \
                else DEFAULT_ACCOUNT
            key = Key(account)
        if service != SIGNING_SERVICE:
            return Caller(access_key=access_key,
                          error=f"credential scope names service {service!r}, "
                                f"expected {SIGNING_SERVICE!r}")
        if key.secret is not None or self.strict:
            if key.secret is None:
                return Caller(access_key=access_key, error="no secret known for the key")
            problem = _check_signature(req, m["signed"].split(";"), m["sig"], key.secret,
                                       access_key, region, self.clock())
            if problem:
                return Caller(access_key=access_key, error=problem)
        return Caller(principal=key.principal_arn or f"arn:aws:iam::{key.account}:root",
                      account=key.account, org_id=key.org_id, session_name=key.session_name,
                      access_key=access_key)

    def authorize(self, network: Network, req: Request, service: LatticeService,
                  service_network: ServiceNetwork | None,
                  caller: Caller | None = None) -> Verdict:
        """AU-1/AU-2: every AWS_IAM level must allow; the network is checked first."""
        caller = caller if caller is not None else self.identify(req)
        levels: list[tuple[str, ServiceNetwork | LatticeService]] = []
        if service_network is not None and service_network.auth_type == "AWS_IAM":
            levels.append(("Network", service_network))
        if service.auth_type == "AWS_IAM":
            levels.append(("Service", service))
        if not levels:
            return Verdict(True, caller=caller)
        if caller.error:
            return Verdict(False, levels[0][0], f"signature: {caller.error}", caller)
        ctx = request_context(network, req, service, service_network, caller)
        for level, owner in levels:
            if owner.auth_policy is None:
                return Verdict(False, level, f"{level.lower()} has AWS_IAM auth and no auth "
                                             f"policy", caller)
            outcome = evaluate_policy(owner.auth_policy.policy, ctx)
            if outcome != "allow":
                why = "explicitly denied" if outcome == "deny" else "not allowed"
                return Verdict(False, level, f"{why} by the {level.lower()} auth policy",
                               caller)
        return Verdict(True, caller=caller)


def _check_signature(req: Request, signed: list[str], signature: str, secret: str,
                     access_key: str, region: str, now: dt.datetime) -> str | None:
    """Recompute the SigV4 signature with botocore's signer; a problem, or None."""
    stamp = req.header("x-amz-date") or ""
    try:
        when = dt.datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    except ValueError:
        return "X-Amz-Date is missing or malformed"
    if abs(now - when) > MAX_SKEW:
        return "the request has expired"
    declared = req.header("x-amz-content-sha256")
    if declared and declared != UNSIGNED_PAYLOAD \
            and declared != hashlib.sha256(req.body).hexdigest():
        return "x-amz-content-sha256 does not match the body"
    host = req.header("host") or req.host or "localhost"
    url = f"{req.scheme}://{host}{req.target}"
    headers = {name: ",".join(v.strip() for v in req.header_values(name)) for name in signed}
    aws = AWSRequest(method=req.method, url=url, headers=headers, data=req.body)
    aws.context["timestamp"] = stamp
    signer = SigV4Auth(Credentials(access_key, secret), SIGNING_SERVICE, region)
    canonical = signer.canonical_request(aws)
    expected = signer.signature(signer.string_to_sign(aws, canonical), aws)
    if expected != signature:
        return "the request signature does not match"
    return None


# ---------------------------------------------------------------------- request context
def request_context(network: Network, req: Request, service: LatticeService,
                    service_network: ServiceNetwork | None, caller: Caller) -> dict[str, Any]:
    """The action, resource and condition keys of a request (AU-4/AU-5). Keys are lower
    case (IAM compares condition key names ignoring case); header keys use the lower-cased
    header name. There is no path key: AWS matches paths through the resource ARN
    (``.../service/svc-x/orders/*``), so a policy naming one finds it absent, as on AWS."""
    keys: dict[str, Any] = {
        "vpc-lattice-svcs:requestmethod": req.method,
        "vpc-lattice-svcs:servicearn": service.arn,
        "vpc-lattice-svcs:port": str(req.port),
        "aws:sourceip": req.client_ip,
        "aws:securetransport": "true" if req.tls else "false",
        "aws:principaltype": "Anonymous" if caller.principal == ANONYMOUS else "Account",
    }
    if service_network is not None:
        keys["vpc-lattice-svcs:servicenetworkarn"] = service_network.arn
    if req.client_vpc_id:
        keys["vpc-lattice-svcs:sourcevpc"] = req.client_vpc_id
        vpc = network.vpcs.get(req.client_vpc_id)
        if vpc is not None:
            keys["vpc-lattice-svcs:sourcevpcowneraccount"] = vpc.account
    for name, value in req.headers:
        keys.setdefault(f"vpc-lattice-svcs:requestheader/{name.lower()}", value)
    for k, v in req.query_pairs():
        keys.setdefault(f"vpc-lattice-svcs:requestquerystring/{k.lower()}", v)
    if caller.principal != ANONYMOUS:
        keys["aws:principalarn"] = caller.principal
        if caller.account:
            keys["aws:principalaccount"] = caller.account
        if caller.org_id:
            keys["aws:principalorgid"] = caller.org_id
    return {"principal": caller.principal, "account": caller.account,
            "action": INVOKE, "resource": f"{service.arn}{req.path or '/'}", "keys": keys}


# ---------------------------------------------------------------------- policies
def evaluate_policy(policy: str | dict[str, Any], ctx: dict[str, Any]) -> str:
    """``deny`` if a matching statement denies, else ``allow`` if one allows, else
    ``implicit`` (not allowed). A policy that is not valid JSON allows nothing."""
    try:
        doc = json.loads(policy) if isinstance(policy, str) else policy
    except ValueError:
        return "implicit"
    statements = doc.get("Statement", []) if isinstance(doc, dict) else []
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for st in statements:
        if not isinstance(st, dict) or not _statement_matches(st, ctx):
            continue
        if st.get("Effect") == "Deny":
            return "deny"
        if st.get("Effect") == "Allow":
            allowed = True
    return "allow" if allowed else "implicit"


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _statement_matches(st: dict[str, Any], ctx: dict[str, Any]) -> bool:
    if "Principal" in st and not _principal_matches(st["Principal"], ctx):
        return False
    if "NotPrincipal" in st and _principal_matches(st["NotPrincipal"], ctx):
        return False
    if "Principal" not in st and "NotPrincipal" not in st:
        return False  # a resource policy statement needs a principal
    if "Action" in st and not _any_like(_as_list(st["Action"]), ctx["action"], True):
        return False
    if "NotAction" in st and _any_like(_as_list(st["NotAction"]), ctx["action"], True):
        return False
    if "Resource" in st and not _any_like(_as_list(st["Resource"]), ctx["resource"], False):
        return False
    if "NotResource" in st and _any_like(_as_list(st["NotResource"]), ctx["resource"], False):
        return False
    return _conditions_hold(st.get("Condition") or {}, ctx["keys"])


def _principal_matches(spec: Any, ctx: dict[str, Any]) -> bool:
    if spec == "*":
        return True
    if not isinstance(spec, dict):
        return False
    values = [str(v) for v in _as_list(spec.get("AWS"))]
    if "*" in values:
        return True
    principal, account = ctx["principal"], ctx["account"]
    if principal == ANONYMOUS:
        return False
    for value in values:
        if value == principal:
            return True
        if account and value in (account, f"arn:aws:iam::{account}:root"):
            return True
        if _role_session_of(principal) == value:
            return True
    return False


def _role_session_of(principal: str) -> str | None:
    """``arn:aws:sts::A:assumed-role/R/S`` -> ``arn:aws:iam::A:role/R`` (a role ARN in a
    policy covers its sessions)."""
    m = re.match(r"arn:aws:sts::(\d{12}):assumed-role/([^/]+)/", principal)
    return f"arn:aws:iam::{m[1]}:role/{m[2]}" if m else None


@functools.lru_cache(maxsize=1024)
def _like(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    """IAM wildcards: ``*`` any run, ``?`` one character, nothing else special."""
    rx = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(rx, re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def _any_like(patterns: Iterable[Any], value: str, ignore_case: bool) -> bool:
    return any(_like(str(p), ignore_case).fullmatch(value) for p in patterns)


# ---------------------------------------------------------------------- conditions
def _cmp_string(op: str, got: str, want: str) -> bool:
    if op in ("stringequals", "stringnotequals", "arnequals", "arnnotequals"):
        return got == want
    if op in ("stringequalsignorecase", "stringnotequalsignorecase"):
        return got.lower() == want.lower()
    if op in ("stringlike", "stringnotlike", "arnlike", "arnnotlike"):
        return _like(want, False).fullmatch(got) is not None
    if op == "bool":
        return got.lower() == want.lower()
    if op in ("ipaddress", "notipaddress"):
        try:
            return ipaddress.ip_address(got) in ipaddress.ip_network(want, strict=False)
        except ValueError:
            return False
    if op.startswith("numeric"):
        try:
            a, b = float(got), float(want)
        except ValueError:
            return False
        return {"numericequals": a == b, "numericnotequals": a == b,
                "numericlessthan": a < b, "numericlessthanequals": a <= b,
                "numericgreaterthan": a > b, "numericgreaterthanequals": a >= b}.get(op, False)
    return False


_NEGATED = {"stringnotequals", "stringnotequalsignorecase", "stringnotlike", "arnnotequals",
            "arnnotlike", "notipaddress", "numericnotequals"}
_KNOWN = {"stringequals", "stringequalsignorecase", "stringlike", "arnequals", "arnlike", "bool",
          "ipaddress", "numericequals", "numericlessthan", "numericlessthanequals",
          "numericgreaterthan", "numericgreaterthanequals", "null"} | _NEGATED


def _conditions_hold(conditions: dict[str, Any], keys: dict[str, Any]) -> bool:
    """Operators AND, keys within an operator AND, values within a key OR (a negated
    operator holds when no value matches). A missing key fails a plain operator and passes a
    negated one or an ``...IfExists`` one; an unknown operator never holds."""
    for raw_op, block in conditions.items():
        op = raw_op.lower()
        qualifier = ""
        if ":" in op:
            qualifier, op = op.split(":", 1)  # ForAnyValue / ForAllValues: single values here
        if_exists = op.endswith("ifexists")
        op = op.removesuffix("ifexists")
        if op not in _KNOWN or not isinstance(block, dict):
            return False
        for key, wanted in block.items():
            got = keys.get(key.lower())
            wants = [str(w).lower() if isinstance(w, bool) else str(w) for w in _as_list(wanted)]
            if op == "null":
                if (got is None) != (wants[0].lower() == "true" if wants else True):
                    return False
                continue
            if got is None:
                if if_exists or op in _NEGATED or qualifier == "forallvalues":
                    continue
                return False
            hit = any(_cmp_string(op, str(got), w) for w in wants)
            if hit == (op in _NEGATED):
                return False
    return True


def wildcard_match(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """Shared with the ALB conditions: ``*``/``?`` wildcards."""
    return _like(pattern, ignore_case).fullmatch(value) is not None


__all__ = ["ANONYMOUS", "INVOKE", "SIGNING_SERVICE", "Authorizer", "Caller", "Key", "Verdict",
           "evaluate_policy", "request_context", "wildcard_match"]

"""ELBv2 plumbing shared by the operation modules: ARNs and ids, lookups with AWS's
NotFound errors, Marker/PageSize pagination, tags, and the link from listeners to the
target groups they use."""

from __future__ import annotations

import base64
import binascii
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from localvpc.api.protocols.request import ServiceError
from localvpc.api.providers.ec2.common import scoped
from localvpc.model.elb import Listener, ListenerRule, LoadBalancer, TargetGroup

if TYPE_CHECKING:
    from localvpc.api.context import RequestContext
    from localvpc.api.state import Changes
    from localvpc.model.network import Network

T = TypeVar("T")

SHORT_TYPE = {"application": "app", "network": "net", "gateway": "gwy"}

# Route 53 hosted zone ids of load balancer DNS names, per Region. Source: AWS General
# Reference, "Elastic Load Balancing endpoints and quotas"
# (https://docs.aws.amazon.com/general/latest/gr/elb.html), columns "Route 53 Hosted Zone ID
# (Application Load Balancers, Classic Load Balancers)" and "(Network Load Balancers)".
# Only Regions where two independent public copies of that table agree are listed; elsewhere
# CanonicalHostedZoneId is left out rather than guessed.
ALB_HOSTED_ZONES = {
    "us-east-1": "Z35SXDOTRQ7X7K", "us-east-2": "Z3AADJGX6KTTL2",
    "us-west-1": "Z368ELLRRE2KJ0", "us-west-2": "Z1H1FL5HABSF5",
    "ca-central-1": "ZQSVJUPU6J1EY", "eu-west-1": "Z32O12XQLNTSW2",
    "eu-west-2": "ZHURV8PSTC4K8", "eu-central-1": "Z215JYRZR1TBD5",
    "ap-south-1": "ZP97RAFLXTNZK", "ap-southeast-1": "Z1LMS91P8CMLE5",
    "ap-southeast-2": "Z1GM3OXH4ZPM65", "ap-northeast-1": "Z14GRHDCWA56QT",
}
NLB_HOSTED_ZONES = {
    "us-east-1": "Z26RNL4JYFTOTI", "us-east-2": "ZLMOA37VPKANP",
    "us-west-1": "Z24FKFUX50B4VW", "us-west-2": "Z18D5FSROUN65G",
    "eu-west-1": "Z2IFOLAFXWLO4F", "eu-west-2": "ZD4D7Y8KGAS4G",
    "eu-central-1": "Z3F0SRJ5LGBH90", "ap-south-1": "ZVDDRBQ08TROA",
    "ap-southeast-2": "ZCT6FZBF4DROD", "ap-northeast-1": "Z31USIVHYNEOWT",
    "sa-east-1": "ZTK26PT1VY4CU",
}


def fail(code: str, message: str) -> ServiceError:
    """An ELBv2 error; the HTTP status is the one botocore's model gives the code."""
    return ServiceError(code, message)


def validation(message: str) -> ServiceError:
    return fail("ValidationError", message)


def hex_id() -> str:
    """The 16 hex digits that end every ELBv2 ARN."""
    return secrets.token_hex(8)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def arn(ctx: RequestContext, resource: str) -> str:
    return f"arn:aws:elasticloadbalancing:{ctx.region}:{ctx.account}:{resource}"


def hosted_zone_id(lb: LoadBalancer) -> str | None:
    table = ALB_HOSTED_ZONES if lb.lb_type == "application" else (
        NLB_HOSTED_ZONES if lb.lb_type == "network" else {})
    return table.get(lb.region)


# ------------------------------------------------------------------ lookups
def load_balancers(ctx: RequestContext) -> dict[str, LoadBalancer]:
    return scoped(ctx.state.network.load_balancers, ctx.account, ctx.region)


def target_groups(ctx: RequestContext) -> dict[str, TargetGroup]:
    return scoped(ctx.state.network.target_groups, ctx.account, ctx.region)


def load_balancer(ctx: RequestContext, lb_arn: str) -> LoadBalancer:
    lb = load_balancers(ctx).get(lb_arn)
    if lb is None:
        raise fail("LoadBalancerNotFound", "One or more load balancers not found")
    return lb


def target_group(ctx: RequestContext, tg_arn: str) -> TargetGroup:
    tg = target_groups(ctx).get(tg_arn)
    if tg is None:
        raise fail("TargetGroupNotFound", "One or more target groups not found")
    return tg


def _parent(child_arn: str, kind: str, parent_kind: str) -> str:
    """``...:listener/app/n/lbid/lid`` -> ``...:loadbalancer/app/n/lbid`` (one path step up)."""
    head, sep, path = child_arn.partition(f":{kind}/")
    if not sep or "/" not in path:
        return ""
    return f"{head}:{parent_kind}/{path.rsplit('/', 1)[0]}"


def listener(ctx: RequestContext, listener_arn: str) -> tuple[LoadBalancer, Listener]:
    lb = load_balancers(ctx).get(_parent(listener_arn, "listener", "loadbalancer"))
    found = lb.listener(listener_arn) if lb is not None else None
    if lb is None or found is None:
        raise fail("ListenerNotFound", "One or more listeners not found")
    return lb, found


def rule(ctx: RequestContext, rule_arn: str
         ) -> tuple[LoadBalancer, Listener, ListenerRule | None]:
    """The rule's load balancer, listener and rule (None: the listener's default rule)."""
    listener_arn = _parent(rule_arn, "listener-rule", "listener")
    lb = load_balancers(ctx).get(_parent(listener_arn, "listener", "loadbalancer"))
    li = lb.listener(listener_arn) if lb is not None else None
    if lb is not None and li is not None:
        if li.default_rule_arn == rule_arn:
            return lb, li, None
        for r in li.rules:
            if r.arn == rule_arn:
                return lb, li, r
    raise fail("RuleNotFound", "One or more rules not found")


# ------------------------------------------------------------------ pagination
_MARK = "localvpc-elbv2:"


def page(items: Iterable[T], params: dict[str, Any], key: Callable[[T], str]
         ) -> tuple[list[T], str | None]:
    """``Marker``/``PageSize`` (1-400, default 400) over a stable order by ``key``; the
    marker holds the key of the last item returned, so changes between pages shift nothing."""
    ordered = sorted(items, key=key)
    start = 0
    marker = params.get("Marker")
    if marker:
        try:
            text = base64.urlsafe_b64decode(marker.encode()).decode()
        except (ValueError, binascii.Error, UnicodeDecodeError):
            text = ""
        if not text.startswith(_MARK):
            # ASSUMED: AWS does not document the error for a marker it did not issue.
            raise validation(f"Invalid marker '{marker}'")
        after = text[len(_MARK):]
        start = next((i for i, it in enumerate(ordered) if key(it) > after), len(ordered))
    size = params.get("PageSize") or 400
    chunk = ordered[start:start + size]
    more = start + size < len(ordered)
    next_marker = (base64.urlsafe_b64encode((_MARK + key(chunk[-1])).encode()).decode()
                   if more and chunk else None)
    return chunk, next_marker


# ------------------------------------------------------------------ tags
def tag_dict(tags: list[dict[str, Any]] | None) -> dict[str, str]:
    out: dict[str, str] = {}
    for t in tags or []:
        if t["Key"] in out:
            raise fail("DuplicateTagKeys", f"Tag key '{t['Key']}' is duplicated")
        out[t["Key"]] = t.get("Value") or ""
    if len(out) > 50:
        raise fail("TooManyTags", "You've reached the limit on the number of tags per "
                   "load balancer")
    return out


# ------------------------------------------------------------------ links
def sync_links(net: Network, w: Changes, lb: LoadBalancer, also: Iterable[str] = ()) -> None:
    """After listeners of ``lb`` changed: each listener's ``target_group_arns`` (what a
    trace forwards to) follows its actions, and each target group names the load balancers
    that use it (``LoadBalancerArns``; a target group no listener uses is ``unused``)."""
    before = {a for li in lb.listeners for a in li.target_group_arns} | set(also)
    for li in lb.listeners:
        li.target_group_arns = li.forward_target_groups()
    used = {a for li in lb.listeners for a in li.target_group_arns}
    if lb.id not in net.load_balancers:
        used = set()
    for tg_arn in before | used:
        tg = net.target_groups.get(tg_arn)
        if tg is None:
            continue
        if tg_arn in used and lb.id not in tg.load_balancer_arns:
            tg.load_balancer_arns.append(lb.id)
            w.save(tg)
        elif tg_arn not in used and lb.id in tg.load_balancer_arns:
            tg.load_balancer_arns.remove(lb.id)
            w.save(tg)

"""AddTags, RemoveTags and DescribeTags on load balancers, target groups, listeners and
rules (the resource kind is read from the ARN)."""

from __future__ import annotations

import copy
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.elbv2.common import (
    fail,
    listener,
    load_balancer,
    rule,
    sync_links,
    tag_dict,
    target_group,
)
from localvpc.model.elb import LoadBalancer, TargetGroup

MAX_TAGS = 50  # tags per resource


class _Tagged:
    """Where one ARN's tags live: a target group, or a load balancer (itself, one of its
    listeners or rules), which is changed on a copy and committed whole."""

    def __init__(self, ctx: RequestContext, resource_arn: str) -> None:
        self.tg: TargetGroup | None = None
        self.lb: LoadBalancer | None = None
        self.arn = resource_arn
        if ":targetgroup/" in resource_arn:
            self.tg = target_group(ctx, resource_arn)
        elif ":loadbalancer/" in resource_arn:
            self.lb = load_balancer(ctx, resource_arn)
        elif ":listener/" in resource_arn:
            self.lb, _ = listener(ctx, resource_arn)
        elif ":listener-rule/" in resource_arn:
            self.lb, _, found = rule(ctx, resource_arn)
            if found is None:
                raise fail("ValidationError", "Default rules cannot be tagged")
        else:
            raise fail("ValidationError", f"'{resource_arn}' is not a valid resource ARN")

    def tags_in(self, lb: LoadBalancer | None) -> dict[str, str]:
        if self.tg is not None:
            return self.tg.tags
        assert lb is not None
        if ":loadbalancer/" in self.arn:
            return lb.tags
        for li in lb.listeners:
            if li.arn == self.arn:
                return li.tags
            for r in li.rules:
                if r.arn == self.arn:
                    return r.tags
        raise AssertionError(self.arn)


def _change(ctx: RequestContext, arns: list[str],
            edit: Any) -> None:
    """Apply ``edit(tags)`` to each resource's tags, checked on copies, then commit."""
    net = ctx.state.network
    targets = [_Tagged(ctx, a) for a in arns]
    copies: dict[str, Any] = {}
    for t in targets:
        owner = t.tg if t.tg is not None else t.lb
        assert owner is not None
        copied = copies.setdefault(owner.id, copy.deepcopy(owner))
        tags = t.tags_in(copied if t.lb is not None else None) if t.lb is not None \
            else copied.tags
        edit(tags)
        if len(tags) > MAX_TAGS:
            raise fail("TooManyTags", "You've reached the limit on the number of tags for "
                       f"'{t.arn}'")
    with ctx.state.write() as w:
        for rid, copied in copies.items():
            if isinstance(copied, TargetGroup):
                net.target_groups[rid] = copied
            else:
                net.load_balancers[rid] = copied
                sync_links(net, w, copied)
            w.save(copied)


class TagOperations:
    def AddTags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        new = tag_dict(params["Tags"])
        _change(ctx, params["ResourceArns"], lambda tags: tags.update(new))
        return {}

    def RemoveTags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        keys = params["TagKeys"]

        def drop(tags: dict[str, str]) -> None:
            for k in keys:
                tags.pop(k, None)

        _change(ctx, params["ResourceArns"], drop)
        return {}

    def DescribeTags(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        out = []
        for resource_arn in params["ResourceArns"]:
            t = _Tagged(ctx, resource_arn)
            tags = t.tags_in(t.lb)
            out.append({"ResourceArn": resource_arn,
                        "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]})
        return {"TagDescriptions": out}

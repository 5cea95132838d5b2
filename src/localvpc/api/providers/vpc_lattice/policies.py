"""Auth policies, resource policies, access log subscriptions and tags (AU-3, AL-1).

Policies are kept verbatim (the proxy parses them); they must be JSON objects. Reading a
policy that was never set answers an empty result rather than an error (ASSUMED, as AWS's
Terraform provider expects). Log destinations are checked by ARN shape only: the CloudWatch
Logs group, bucket or stream may be created later (the proxy delivers to whatever exists).
"""

from __future__ import annotations

import json
import re
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.vpc_lattice.common import (
    ACCESS_LOG,
    KINDS,
    SERVICE,
    SERVICE_NETWORK,
    Params,
    conflict,
    delete,
    find_any,
    lookup,
    mine,
    new_id,
    not_found,
    now,
    paginate,
    save,
    save_new,
    split_identifier,
    tags_param,
    validation,
)
from localvpc.model.lattice import (
    AccessLogSubscription,
    LatticeService,
    PolicyDocument,
    ServiceNetwork,
)

MAX_AUTH_POLICY_BYTES = 10 * 1024  # quota, not adjustable
_DESTINATION = re.compile(
    r"^arn:aws[a-z-]*:(?:logs:[a-z0-9-]+:\d{12}:log-group:[^:]+(?::\*)?"
    r"|s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](?:/.*)?"
    r"|firehose:[a-z0-9-]+:\d{12}:deliverystream/[A-Za-z0-9_.-]+)$")


def _owner(ctx: RequestContext, identifier: str) -> ServiceNetwork | LatticeService:
    owner: ServiceNetwork | LatticeService = find_any(ctx, identifier,
                                                      (SERVICE_NETWORK, SERVICE))
    return owner


def _policy_text(text: str, field: str, limit: int | None = None) -> str:
    try:
        doc = json.loads(text)
    except ValueError:
        raise validation("The policy is not valid JSON.", field) from None
    if not isinstance(doc, dict):
        raise validation("The policy must be a JSON object.", field)
    if limit is not None and len(text.encode()) > limit:
        raise validation(f"The policy exceeds {limit} bytes.", field)
    return text


class PolicyOperations:
    # ------------------------------------------------------------------ auth policies
    def PutAuthPolicy(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        owner = _owner(ctx, params["resourceIdentifier"])
        text = _policy_text(params["policy"], "policy", MAX_AUTH_POLICY_BYTES)
        stamp = now()
        created = owner.auth_policy.created if owner.auth_policy else stamp
        owner.auth_policy = PolicyDocument(text, created, stamp)
        save(ctx, owner)
        return {"policy": text, "state": _state(owner)}

    def GetAuthPolicy(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        owner = _owner(ctx, params["resourceIdentifier"])
        doc = owner.auth_policy
        if doc is None:
            return {"state": _state(owner)}
        return {"policy": doc.policy, "state": _state(owner), "createdAt": doc.created,
                "lastUpdatedAt": doc.updated}

    def DeleteAuthPolicy(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        owner = _owner(ctx, params["resourceIdentifier"])
        if owner.auth_policy is not None:
            owner.auth_policy = None
            save(ctx, owner)
        return {}

    # ------------------------------------------------------------------ resource policies
    def PutResourcePolicy(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        owner = _owner(ctx, params["resourceArn"])
        text = _policy_text(params["policy"], "policy")
        stamp = now()
        created = owner.resource_policy.created if owner.resource_policy else stamp
        owner.resource_policy = PolicyDocument(text, created, stamp)
        save(ctx, owner)
        return {}

    def GetResourcePolicy(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        owner = _owner(ctx, params["resourceArn"])
        return {"policy": owner.resource_policy.policy} if owner.resource_policy else {}

    def DeleteResourcePolicy(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        owner = _owner(ctx, params["resourceArn"])
        if owner.resource_policy is not None:
            owner.resource_policy = None
            save(ctx, owner)
        return {}

    # ------------------------------------------------------------------ access logs
    def CreateAccessLogSubscription(self, ctx: RequestContext, params: Params
                                    ) -> dict[str, Any]:
        owner = _owner(ctx, params["resourceIdentifier"])
        destination = _destination(params["destinationArn"])
        log_type = params.get("serviceNetworkLogType")
        if isinstance(owner, LatticeService) and log_type is not None:
            raise validation("serviceNetworkLogType applies to service networks only.",
                             "serviceNetworkLogType")
        if isinstance(owner, ServiceNetwork):
            log_type = log_type or "SERVICE"
        _check_one_per_kind(ctx, owner.id, destination, log_type, None)
        stamp = now()
        sub = AccessLogSubscription(id=new_id("als"), account=ctx.account, region=ctx.region,
                                    tags=tags_param(params), resource_id=owner.id,
                                    destination_arn=destination,
                                    service_network_log_type=log_type, created=stamp,
                                    updated=stamp)
        save_new(ctx, sub)
        return _log_view(sub, owner, full=False)

    def GetAccessLogSubscription(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        sub: AccessLogSubscription = lookup(ctx, ACCESS_LOG,
                                            params["accessLogSubscriptionIdentifier"])
        return _log_view(sub, _owner(ctx, sub.resource_id), full=True)

    def ListAccessLogSubscriptions(self, ctx: RequestContext, params: Params
                                   ) -> dict[str, Any]:
        owner = _owner(ctx, params["resourceIdentifier"])
        items = [s for s in mine(ctx, ACCESS_LOG.table).values() if s.resource_id == owner.id]
        page, token = paginate(items, params, lambda s: s.id)
        return {"items": [_log_view(s, owner, full=True) for s in page], "nextToken": token}

    def UpdateAccessLogSubscription(self, ctx: RequestContext, params: Params
                                    ) -> dict[str, Any]:
        sub: AccessLogSubscription = lookup(ctx, ACCESS_LOG,
                                            params["accessLogSubscriptionIdentifier"])
        destination = _destination(params["destinationArn"])
        _check_one_per_kind(ctx, sub.resource_id, destination, sub.service_network_log_type,
                            sub.id)
        sub.destination_arn = destination
        sub.updated = now()
        save(ctx, sub)
        return _log_view(sub, _owner(ctx, sub.resource_id), full=False)

    def DeleteAccessLogSubscription(self, ctx: RequestContext, params: Params
                                    ) -> dict[str, Any]:
        sub = lookup(ctx, ACCESS_LOG, params["accessLogSubscriptionIdentifier"])
        delete(ctx, (ACCESS_LOG, sub.id))
        return {}

    # ------------------------------------------------------------------ tags
    def TagResource(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        resource = _tagged(ctx, params["resourceArn"])
        resource.tags.update(tags_param(params))
        save(ctx, resource)
        return {}

    def UntagResource(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        resource = _tagged(ctx, params["resourceArn"])
        for key in params.get("tagKeys") or []:
            resource.tags.pop(key, None)
        save(ctx, resource)
        return {}

    def ListTagsForResource(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        return {"tags": dict(_tagged(ctx, params["resourceArn"]).tags)}


def _state(owner: ServiceNetwork | LatticeService) -> str:
    """AU-3: a policy is enforced only while its owner's auth type is AWS_IAM."""
    return "Active" if owner.auth_type == "AWS_IAM" else "Inactive"


def _destination(arn: str) -> str:
    if not _DESTINATION.match(arn):
        raise validation("The destination must be the ARN of a CloudWatch Logs log group, an "
                         "S3 bucket or a Kinesis Data Firehose delivery stream.",
                         "destinationArn")
    return arn


def _check_one_per_kind(ctx: RequestContext, resource_id: str, destination: str,
                        log_type: str | None, skip: str | None) -> None:
    """AL-1 (ASSUMED): one subscription per destination type (and log type) per resource."""
    kind = destination.split(":")[2]
    for other in mine(ctx, ACCESS_LOG.table).values():
        if other.id != skip and other.resource_id == resource_id \
                and other.destination_kind == kind \
                and other.service_network_log_type == log_type:
            raise conflict(f"{resource_id} already has an access log subscription to a {kind} "
                           "destination.", other.id, ACCESS_LOG.error_type)


def _log_view(sub: AccessLogSubscription, owner: ServiceNetwork | LatticeService, *,
              full: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": sub.id, "arn": sub.arn, "resourceId": owner.id,
                           "resourceArn": owner.arn, "destinationArn": sub.destination_arn,
                           "serviceNetworkLogType": sub.service_network_log_type}
    if full:
        out.update(createdAt=sub.created, lastUpdatedAt=sub.updated)
    return out


def _tagged(ctx: RequestContext, arn: str) -> Any:
    """Any taggable Lattice resource by ARN (its last path part is its id)."""
    rid, account, _ = split_identifier(arn)
    if account is None:
        raise validation("The resource ARN is not valid.", "resourceArn")
    prefix = rid.split("-", 1)[0]
    kind = next((k for k in KINDS if k.prefix == prefix), None)
    if kind is None:
        raise not_found(arn, "RESOURCE")
    resource = lookup(ctx, kind, arn)
    if resource.arn != arn:
        raise not_found(arn, kind.error_type)
    return resource

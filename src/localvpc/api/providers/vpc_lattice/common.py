"""Shared VPC Lattice plumbing: AWS's errors, ids, identifier lookup, pagination, tags.

Error messages are not documented by AWS; the codes, HTTP statuses and extra members
(``resourceId``/``resourceType``, ``reason``/``fieldList``) are the model's. Resource types in
errors are the kinds' upper-snake names (ASSUMED, e.g. ``SERVICE_NETWORK``).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from localvpc.api.protocols.request import ServiceError
from localvpc.api.providers.paging import BadPageToken, keyed_page
from localvpc.model.base import Resource
from localvpc.model.vpc import Vpc

if TYPE_CHECKING:
    from localvpc.api.context import RequestContext

T = TypeVar("T")
Params = dict[str, Any]

DEFAULT_PAGE = 100
_TOKEN_MARK = "localvpc-lattice:"


# ------------------------------------------------------------------ errors
def validation(message: str, field: str | None = None) -> ServiceError:
    """``ValidationException``: ``fieldValidationFailed`` naming ``field``, else ``other``."""
    fields: dict[str, Any] = {"reason": "other"}
    if field is not None:
        fields = {"reason": "fieldValidationFailed",
                  "fieldList": [{"name": field, "message": message}]}
    return ServiceError("ValidationException", message, status=400, fields=fields)


def conflict(message: str, resource_id: str, resource_type: str) -> ServiceError:
    return ServiceError("ConflictException", message, status=409,
                        fields={"resourceId": resource_id, "resourceType": resource_type})


def not_found(identifier: str, resource_type: str) -> ServiceError:
    label = resource_type.replace("_", " ").lower()
    return ServiceError("ResourceNotFoundException",
                        f"The {label} '{identifier}' was not found.", status=404,
                        fields={"resourceId": identifier, "resourceType": resource_type})


def quota(message: str, resource_type: str) -> ServiceError:
    return ServiceError("ServiceQuotaExceededException", message, status=402,
                        fields={"resourceType": resource_type, "serviceCode": "vpc-lattice"})


# ------------------------------------------------------------------ ids and time
def new_id(prefix: str) -> str:
    """``<prefix>-`` + 17 lower-case hex digits, as Lattice makes them."""
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def now() -> float:
    return time.time()


def hosted_zone_id(region: str) -> str:
    """The zone id of generated service names: stable per Region (ASSUMED format)."""
    digest = hashlib.sha256(f"vpc-lattice-svcs/{region}".encode()).hexdigest().upper()
    return "Z" + digest[:13]


# ------------------------------------------------------------------ lookup
@dataclass(frozen=True, slots=True)
class Kind:
    """A resource kind: its ``Network`` table, id prefix, ARN path word and error type."""

    table: str
    prefix: str
    arn_word: str
    error_type: str


SERVICE_NETWORK = Kind("lattice_service_networks", "sn", "servicenetwork", "SERVICE_NETWORK")
SERVICE = Kind("lattice_services", "svc", "service", "SERVICE")
LISTENER = Kind("lattice_listeners", "listener", "listener", "LISTENER")
RULE = Kind("lattice_rules", "rule", "rule", "RULE")
TARGET_GROUP = Kind("lattice_target_groups", "tg", "targetgroup", "TARGET_GROUP")
VPC_ASSOCIATION = Kind("lattice_vpc_associations", "snva", "servicenetworkvpcassociation",
                       "SERVICE_NETWORK_VPC_ASSOCIATION")
SERVICE_ASSOCIATION = Kind("lattice_service_associations", "snsa",
                           "servicenetworkserviceassociation",
                           "SERVICE_NETWORK_SERVICE_ASSOCIATION")
ACCESS_LOG = Kind("lattice_access_log_subscriptions", "als", "accesslogsubscription",
                  "ACCESS_LOG_SUBSCRIPTION")
KINDS = (SERVICE_NETWORK, SERVICE, LISTENER, RULE, TARGET_GROUP, VPC_ASSOCIATION,
         SERVICE_ASSOCIATION, ACCESS_LOG)
KIND_BY_PREFIX = {k.prefix: k for k in KINDS}


def split_identifier(identifier: str) -> tuple[str, str | None, str | None]:
    """``(id, account, region)`` of an id or a Lattice ARN (the id is the last path part)."""
    if not identifier.startswith("arn:"):
        return identifier, None, None
    parts = identifier.split(":", 5)
    if len(parts) < 6:
        return identifier, None, None
    return parts[5].rsplit("/", 1)[-1], parts[4], parts[3]


def mine(ctx: RequestContext, table: str) -> dict[str, Any]:
    """The caller's resources of ``table`` in its Region."""
    items: Mapping[str, Resource] = getattr(ctx.state.network, table)
    return {k: r for k, r in items.items()
            if r.account == ctx.account and r.region == ctx.region}


def lookup(ctx: RequestContext, kind: Kind, identifier: str) -> Any:
    """The caller's resource named by id or ARN, else ``ResourceNotFoundException``."""
    rid, account, region = split_identifier(identifier)
    resource: Resource | None = getattr(ctx.state.network, kind.table).get(rid)
    if resource is None or resource.account != ctx.account or resource.region != ctx.region \
            or (account is not None and account != resource.account) \
            or (region is not None and region != resource.region):
        raise not_found(identifier, kind.error_type)
    return resource


def own_vpc(ctx: RequestContext, vpc_id: str) -> Vpc:
    """The caller's VPC in its Region, else ``ResourceNotFoundException`` (type ``VPC``)."""
    vpc = ctx.state.network.vpcs.get(vpc_id)
    if vpc is None or vpc.account != ctx.account or vpc.region != ctx.region:
        raise not_found(vpc_id, "VPC")
    return vpc


def check_new_name(ctx: RequestContext, kind: Kind, name: str, name_of: Callable[[Any], str],
                   limit: int) -> None:
    """A new resource of ``kind`` needs a name none of the caller's others has, and room
    under the quota of ``limit`` per account and Region."""
    label = kind.error_type.replace("_", " ").lower()
    existing = mine(ctx, kind.table)
    for other in existing.values():
        if name_of(other) == name:
            raise conflict(f"A {label} named '{name}' already exists.", other.id,
                           kind.error_type)
    if len(existing) >= limit:
        raise quota(f"The maximum number of {label}s has been reached.", kind.error_type)


def find_any(ctx: RequestContext, identifier: str, kinds: Iterable[Kind]) -> Any:
    """A resource of one of ``kinds`` by id or ARN (the id prefix says which kind)."""
    rid = split_identifier(identifier)[0]
    allowed = list(kinds)
    kind = KIND_BY_PREFIX.get(rid.split("-", 1)[0])
    if kind is None or kind not in allowed:
        raise not_found(identifier, allowed[0].error_type if len(allowed) == 1 else "RESOURCE")
    return lookup(ctx, kind, identifier)


# ------------------------------------------------------------------ pagination and tags
def paginate(items: list[T], params: Params, key: Callable[[T], str]
             ) -> tuple[list[T], str | None]:
    """``maxResults``/``nextToken`` over ``items`` in ``key`` order (``keyed_page``)."""
    try:
        return keyed_page(items, key, params.get("nextToken"),
                          int(params.get("maxResults") or DEFAULT_PAGE), _TOKEN_MARK)
    except BadPageToken:
        raise validation("The nextToken is not valid.", "nextToken") from None


def tags_param(params: Params) -> dict[str, str]:
    tags: dict[str, str] = dict(params.get("tags") or {})
    for key in tags:
        if key.lower().startswith("aws:"):
            raise validation(f"Tag keys starting with 'aws:' are reserved: {key}", "tags")
    return tags


def save_new(ctx: RequestContext, *resources: Resource) -> None:
    """Add new resources to the model and commit them, in one write."""
    net = ctx.state.network
    with ctx.state.write() as w:
        for r in resources:
            net.add(r)
            w.save(r)


def save(ctx: RequestContext, *resources: Resource) -> None:
    with ctx.state.write() as w:
        for r in resources:
            w.save(r)


def delete(ctx: RequestContext, *pairs: tuple[Kind | str, str]) -> None:
    """Remove ``(kind or table, id)`` pairs from the model and the store, in one write."""
    net = ctx.state.network
    with ctx.state.write() as w:
        for kind, rid in pairs:
            table = kind if isinstance(kind, str) else kind.table
            getattr(net, table).pop(rid, None)
            w.deleted.append((table, rid))

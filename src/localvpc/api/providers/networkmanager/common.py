"""Shared Network Manager plumbing: AWS's errors, ids, ARNs, lookups, pagination and tags.

Network Manager is a global service homed in us-west-2: whatever Region a client signs for,
its global and core networks are the same ones, so lookups here are by account only and the
home Region is what the model records for Region-less resources (attachments and peerings
record their edge location instead). Error messages are not documented by AWS; codes,
statuses and members are botocore's (``ResourceId``/``ResourceType``, ``Reason``/``Fields``).
"""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

from localvpc.api.protocols.request import ServiceError
from localvpc.api.providers.paging import BadPageToken, keyed_page
from localvpc.api.providers.ram import GLOBAL_SHARE_REGION, shared_with
from localvpc.cloudwan.advertised import ADVERTISE_TAG, AdvertisedInvalid, parse_advertised
from localvpc.model.base import Resource
from localvpc.model.cloudwan import (
    ConnectPeer,
    CoreNetwork,
    CoreNetworkAttachment,
    CoreNetworkPeering,
    GlobalNetwork,
)

if TYPE_CHECKING:
    from localvpc.api.context import RequestContext

T = TypeVar("T")
Params = dict[str, Any]

HOME_REGION = "us-west-2"
DEFAULT_PAGE = 100
_TOKEN_MARK = "localvpc-networkmanager:"
_ARN = re.compile(r"^arn:aws[a-z-]*:(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):"
                  r"(?P<account>\d{12}|):(?P<kind>[a-z-]+)/(?P<id>[^/]+)$")


# ------------------------------------------------------------------ errors
def validation(message: str, field: str | None = None, reason: str = "FieldValidationFailed"
               ) -> ServiceError:
    """``ValidationException`` with ``Reason`` and, for a field, ``Fields``."""
    fields: dict[str, Any] = {"Reason": reason if field is not None else "Other"}
    if field is not None:
        fields["Fields"] = [{"Name": field, "Message": message}]
    return ServiceError("ValidationException", message, status=400, fields=fields)


def not_found(resource_id: str, resource_type: str) -> ServiceError:
    label = resource_type.replace("-", " ")
    return ServiceError("ResourceNotFoundException", f"The {label} {resource_id} was not found.",
                        status=404, fields={"ResourceId": resource_id,
                                            "ResourceType": resource_type})


def conflict(message: str, resource_id: str, resource_type: str) -> ServiceError:
    return ServiceError("ConflictException", message, status=409,
                        fields={"ResourceId": resource_id, "ResourceType": resource_type})


# ------------------------------------------------------------------ ids, time, ARNs
def new_id(prefix: str) -> str:
    """``<prefix>-`` + 17 lower-case hex digits (``core-network-0d47f6t230mz46dy4``-like)."""
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def now() -> float:
    return time.time()


def parse_arn(arn: str) -> dict[str, str] | None:
    """``service``, ``region``, ``account``, ``kind`` and ``id`` of an ARN with a
    ``kind/id`` resource part, else None."""
    m = _ARN.match(arn or "")
    return m.groupdict() if m else None


def ec2_arn(region: str, account: str, kind: str, rid: str) -> str:
    return f"arn:aws:ec2:{region}:{account}:{kind}/{rid}"


def attachment_arn(att: CoreNetworkAttachment) -> str:
    return f"arn:aws:networkmanager::{att.account}:attachment/{att.id}"


def peering_arn(p: CoreNetworkPeering) -> str:
    return f"arn:aws:networkmanager::{p.account}:peering/{p.id}"


def connect_peer_arn(p: ConnectPeer) -> str:
    return f"arn:aws:networkmanager::{p.account}:connect-peer/{p.id}"


def arn_of(resource: Resource) -> str:
    if isinstance(resource, (GlobalNetwork, CoreNetwork)):
        return resource.arn
    if isinstance(resource, CoreNetworkAttachment):
        return attachment_arn(resource)
    if isinstance(resource, CoreNetworkPeering):
        return peering_arn(resource)
    if isinstance(resource, ConnectPeer):
        return connect_peer_arn(resource)
    return ""


# ------------------------------------------------------------------ lookups
def _mine(ctx: RequestContext, table: str, rid: str, kind: str) -> Any:
    resource: Resource | None = getattr(ctx.state.network, table).get(rid)
    if resource is None or resource.account != ctx.account:
        raise not_found(rid, kind)
    return resource


def global_network(ctx: RequestContext, rid: str) -> GlobalNetwork:
    gn: GlobalNetwork = _mine(ctx, "global_networks", rid, "global-network")
    return gn


def core_network(ctx: RequestContext, rid: str) -> CoreNetwork:
    cn: CoreNetwork = _mine(ctx, "core_networks", rid, "core-network")
    return cn


def attachable_core_network(ctx: RequestContext, rid: str) -> CoreNetwork:
    """A core network the caller owns or that its owner shares with the caller through RAM
    (an accepted share of its ARN): either may attach to it. Shares of global resources live
    in us-east-1 (RAM's rule for global resources). A core network the caller cannot see is
    ``ResourceNotFoundException`` (ASSUMED: AWS does not document the code)."""
    cn: CoreNetwork | None = ctx.state.network.core_networks.get(rid)
    if cn is not None and cn.account == ctx.account:
        return cn
    if cn is not None and shared_with(ctx.state, ctx.account, GLOBAL_SHARE_REGION,
                                      "networkmanager:CoreNetwork").get(cn.id) == cn.account:
        return cn
    raise not_found(rid, "core-network")


def attachment(ctx: RequestContext, rid: str) -> CoreNetworkAttachment:
    """An attachment the caller owns, or one on a core network the caller owns (the core
    network owner accepts and rejects attachments from other accounts)."""
    att: CoreNetworkAttachment | None = ctx.state.network.core_network_attachments.get(rid)
    if att is None:
        raise not_found(rid, "attachment")
    if att.account != ctx.account:
        cn = ctx.state.network.core_networks.get(att.core_network_id)
        if cn is None or cn.account != ctx.account:
            raise not_found(rid, "attachment")
    return att


def peering(ctx: RequestContext, rid: str) -> CoreNetworkPeering:
    p: CoreNetworkPeering = _mine(ctx, "core_network_peerings", rid, "peering")
    return p


def by_arn(ctx: RequestContext, arn: str) -> Resource:
    """The taggable resource named by ``arn`` (global or core network, attachment, peering)."""
    parts = parse_arn(arn)
    if parts is None or parts["service"] != "networkmanager":
        raise validation(f"Invalid resource ARN {arn}.", "ResourceArn")
    tables = {"global-network": "global_networks", "core-network": "core_networks",
              "attachment": "core_network_attachments", "peering": "core_network_peerings",
              "connect-peer": "core_network_connect_peers"}
    table = tables.get(parts["kind"])
    if table is None:
        raise validation(f"Unsupported resource type in ARN {arn}.", "ResourceArn")
    found: Resource = _mine(ctx, table, parts["id"], parts["kind"])
    return found


# ------------------------------------------------------------------ pagination and tags
def paginate(items: list[T], params: Params, key: Callable[[T], str]
             ) -> tuple[list[T], str | None]:
    """``MaxResults``/``NextToken`` over ``items`` in ``key`` order (``keyed_page``)."""
    try:
        return keyed_page(items, key, params.get("NextToken"),
                          int(params.get("MaxResults") or DEFAULT_PAGE), _TOKEN_MARK)
    except BadPageToken:
        raise validation("The NextToken is not valid.", "NextToken") from None


def tags_param(params: Params, name: str = "Tags") -> dict[str, str]:
    tags: dict[str, str] = {}
    for tag in params.get(name) or []:
        key = tag.get("Key") or ""
        if key.lower().startswith("aws:"):
            raise validation(f"Tag keys starting with 'aws:' are reserved: {key}", name)
        tags[key] = tag.get("Value", "")
    return tags


def check_advertised(tags: dict[str, str], field: str = "Tags") -> None:
    """The localvpc-only ``localvpc:advertise`` tag (``cloudwan.advertised``) must list
    network CIDRs: a ``ValidationException`` naming the bad entry, before anything changes."""
    if ADVERTISE_TAG in tags:
        try:
            parse_advertised(tags[ADVERTISE_TAG])
        except AdvertisedInvalid as e:
            raise validation(str(e), field) from None


def tags_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def save(ctx: RequestContext, *resources: Resource, new: bool = False) -> None:
    """Commit ``resources`` in one write (``new``: add them to the model first)."""
    with ctx.state.write() as w:
        for r in resources:
            if new:
                ctx.state.network.add(r)
            w.save(r)


def delete(ctx: RequestContext, *pairs: tuple[str, str]) -> None:
    net = ctx.state.network
    with ctx.state.write() as w:
        for table, rid in pairs:
            getattr(net, table).pop(rid, None)
            w.deleted.append((table, rid))

"""AWS Resource Access Manager (service ``ram``, rest-json): resource shares and invitations.

A resource share belongs to one account in one Region. It lists resources of that account
(transit gateways, subnets, customer-managed prefix lists, resolver rules and, shared from
us-east-1 as a global resource, Cloud WAN core networks) and principals (other accounts).
There are no AWS Organizations here, so every principal is *external*: it gets an invitation
that stays ``PENDING`` until the principal accepts (its principal association is
``ASSOCIATING`` until then) or rejects it. Only an accepted invitation gives the principal
access, which EC2 asks about through :func:`shared_with`.

State lives in meta, one JSON record per share (``ram/share/<id>``) and per invitation
(``ram/invitation/<id>``); client tokens under ``ram-token/``.

Semantics chosen where AWS does not document them:

* a resource that does not exist in the caller's account and Region, whatever the ARN says,
  is ``UnknownResourceException``; an ARN of a type RAM does not share here is
  ``InvalidParameterException``; a string that is not an ARN is ``MalformedArnException``;
* principals are 12-digit account ids; the owner itself is ``InvalidParameterException``;
  an organization or OU ARN is ``UnknownResourceException`` (there is no organization);
  with ``allowExternalPrincipals=false`` any account is ``OperationNotPermittedException``;
* the principal sees a shared-with-me share as ``PENDING`` until it accepts (``ACTIVE``
  after); a rejected or withdrawn invitation hides it again;
* a rejected invitation leaves the principal association ``FAILED``; disassociating a
  principal or deleting the share expires its pending invitation (``EXPIRED``);
* a deleted share stays visible to its owner as ``DELETED`` with every association
  ``DISASSOCIATED``; changing it again is ``InvalidStateTransitionException``;
* a share of another account is ``UnknownResourceException`` to accounts it is not shared
  with and ``OperationNotPermittedException`` to its principals;
* a resource deleted from EC2 drops out of ListResources (AWS removes it from its shares).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from localvpc.api.context import RequestContext
from localvpc.api.protocols.request import ServiceError
from localvpc.api.providers.paging import BadPageToken, keyed_page
from localvpc.api.registry import Provider
from localvpc.api.state import ServerState
from localvpc.model.network import Network

T = TypeVar("T")

SHARE_PREFIX = "ram/share/"
INVITATION_PREFIX = "ram/invitation/"
TOKEN_PREFIX = "ram-token/"

SELF, OTHERS = "SELF", "OTHER-ACCOUNTS"

# Association states that still count as associated (listed by ListResources/ListPrincipals).
LIVE = ("ASSOCIATING", "ASSOCIATED")

_ARN = re.compile(r"^arn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):"
                  r"(?P<region>[a-z0-9-]*):(?P<account>\d{12}|aws|):(?P<resource>.+)$")
_ACCOUNT = re.compile(r"^\d{12}$")
_TOKEN_MARK = "localvpc-ram-page:"


@dataclass(frozen=True, slots=True)
class ResourceKind:
    """A shareable resource type: its RAM name, its ARN resource prefix, its model table."""

    ram_type: str
    arn_type: str
    table: str
    service: str = "ec2"  # the ARN's service
    # Global resources (Region-less ARNs, e.g. Cloud WAN core networks) are shared from
    # GLOBAL_SHARE_REGION only, RAM's rule for global resources.
    global_scope: bool = False

    @property
    def region_scope(self) -> str:
        return "GLOBAL" if self.global_scope else "REGIONAL"


KINDS: tuple[ResourceKind, ...] = (
    ResourceKind("ec2:TransitGateway", "transit-gateway", "transit_gateways"),
    ResourceKind("ec2:Subnet", "subnet", "subnets"),
    ResourceKind("ec2:PrefixList", "prefix-list", "prefix_lists"),
    ResourceKind("route53resolver:ResolverRule", "resolver-rule", "resolver_rules",
                 "route53resolver"),
    ResourceKind("networkmanager:CoreNetwork", "core-network", "core_networks",
                 "networkmanager", global_scope=True),
)
GLOBAL_SHARE_REGION = "us-east-1"
KIND_BY_ARN_TYPE = {k.arn_type: k for k in KINDS}
KIND_BY_RAM_TYPE = {k.ram_type.lower(): k for k in KINDS}


def err(code: str, message: str) -> ServiceError:
    return ServiceError(code, message)


def now() -> str:
    return datetime.now(UTC).isoformat()


# ------------------------------------------------------------------ ARNs
@dataclass(frozen=True, slots=True)
class Arn:
    service: str
    region: str
    account: str
    resource: str


def parse_arn(text: Any) -> Arn:
    found = _ARN.match(text) if isinstance(text, str) else None
    if found is None:
        raise err("MalformedArnException", f"The format of ARN {text} is not valid.")
    return Arn(found["service"], found["region"], found["account"], found["resource"])


def share_arn(region: str, account: str, share_id: str) -> str:
    return f"arn:aws:ram:{region}:{account}:resource-share/{share_id}"


def invitation_arn(region: str, account: str, invitation_id: str) -> str:
    return f"arn:aws:ram:{region}:{account}:resource-share-invitation/{invitation_id}"


def _arn_id(text: str, resource_type: str) -> str | None:
    """The id of a RAM ARN of ``resource_type`` (``resource-share``), or None for another
    kind; a string that is not an ARN at all is MalformedArnException."""
    arn = parse_arn(text)
    head, _, rid = arn.resource.partition("/")
    if arn.service != "ram" or head != resource_type or not rid:
        return None
    return rid


# ------------------------------------------------------------------ stored records
def _records(state: ServerState, prefix: str) -> dict[str, dict[str, Any]]:
    """Records under ``prefix`` by ARN, as the store has them (read each time: a write of meta
    alone need not invalidate the server's cached indexes). Do not mutate them."""
    return {v["arn"]: v for v in state.store.meta_items(prefix).values()
            if isinstance(v, dict) and "arn" in v}


def shares(state: ServerState) -> dict[str, dict[str, Any]]:
    return _records(state, SHARE_PREFIX)


def invitations(state: ServerState) -> dict[str, dict[str, Any]]:
    return _records(state, INVITATION_PREFIX)


def _share_key(share: dict[str, Any]) -> str:
    return SHARE_PREFIX + str(share["id"])


def _invitation_key(inv: dict[str, Any]) -> str:
    return INVITATION_PREFIX + str(inv["id"])


def _kind_of_arn(arn: str) -> ResourceKind | None:
    found = _ARN.match(arn)
    if found is None:
        return None
    return KIND_BY_ARN_TYPE.get(found["resource"].partition("/")[0])


def _resource_exists(net: Network, arn: str, owner: str, region: str) -> bool:
    """The ARN names a resource that ``owner`` has in ``region`` (customer-managed for a
    prefix list)."""
    found = _ARN.match(arn)
    if found is None:
        return False
    kind_name, _, rid = found["resource"].partition("/")
    kind = KIND_BY_ARN_TYPE.get(kind_name)
    if kind is None or found["service"] != kind.service or found["account"] != owner:
        return False
    if kind.global_scope:
        # A global resource's ARN has no Region; the model keeps its home Region.
        resource = getattr(net, kind.table).get(rid)
        return found["region"] == "" and region == GLOBAL_SHARE_REGION and \
            resource is not None and resource.account == owner
    if found["region"] != region:
        return False
    resource = getattr(net, kind.table).get(rid)
    if resource is None or resource.account != owner or resource.region != region:
        return False
    return kind.arn_type != "prefix-list" or getattr(resource, "owner_id", owner) == owner


def shared_with(state: ServerState, account: str, region: str, ram_type: str
                ) -> dict[str, str]:
    """Ids of resources of ``ram_type`` (``ec2:TransitGateway``) that other accounts share
    with ``account`` in ``region`` and that ``account`` accepted: id -> owning account."""
    found: dict[str, str] = {}
    for share in shares(state).values():
        if share["status"] != "ACTIVE" or share["region"] != region or \
                share["principals"].get(account, {}).get("status") != "ASSOCIATED":
            continue
        for arn, assoc in share["resources"].items():
            kind = _kind_of_arn(arn)
            if kind is not None and kind.ram_type == ram_type and \
                    assoc["status"] == "ASSOCIATED":
                found[arn.rsplit("/", 1)[-1]] = share["owner"]
    return found


# ------------------------------------------------------------------ views
def share_view(share: dict[str, Any], status: str | None = None) -> dict[str, Any]:
    return {"resourceShareArn": share["arn"], "name": share["name"],
            "owningAccountId": share["owner"],
            "allowExternalPrincipals": share["allowExternalPrincipals"],
            "status": status or share["status"], "tags": list(share["tags"]),
            "creationTime": share["created"], "lastUpdatedTime": share["updated"],
            "featureSet": "STANDARD"}


def invitation_view(inv: dict[str, Any], share: dict[str, Any] | None,
                    status: str | None = None) -> dict[str, Any]:
    return {"resourceShareInvitationArn": inv["arn"],
            "resourceShareName": share["name"] if share else None,
            "resourceShareArn": inv["shareArn"], "senderAccountId": inv["sender"],
            "receiverAccountId": inv["receiver"], "invitationTimestamp": inv["created"],
            "status": status or inv["status"]}


def association_view(share: dict[str, Any], entity: str, kind: str, assoc: dict[str, Any],
                     status: str | None = None) -> dict[str, Any]:
    out = {"resourceShareArn": share["arn"], "resourceShareName": share["name"],
           "associatedEntity": entity, "associationType": kind,
           "status": status or assoc["status"], "creationTime": assoc["created"],
           "lastUpdatedTime": assoc["updated"], "external": kind == "PRINCIPAL"}
    if assoc.get("message"):
        out["statusMessage"] = assoc["message"]
    return out


# ------------------------------------------------------------------ pagination
def paginate(rows: list[T], params: dict[str, Any], key: Callable[[T], str]
             ) -> tuple[list[T], str | None]:
    """``maxResults``/``nextToken`` over rows sorted by ``key`` (``keyed_page``; the model
    bounds maxResults, the protocol layer checks it)."""
    try:
        return keyed_page(rows, key, params.get("nextToken"), params.get("maxResults"),
                          _TOKEN_MARK)
    except BadPageToken:
        raise err("InvalidNextTokenException", "The specified value for NextToken is not "
                  "valid.") from None


def _owner_param(params: dict[str, Any]) -> str:
    owner = params.get("resourceOwner")
    if owner not in (SELF, OTHERS):
        raise err("InvalidParameterException", f"The resourceOwner {owner} is not valid: "
                  "use SELF or OTHER-ACCOUNTS.")
    return str(owner)


def _ram_type(params: dict[str, Any]) -> ResourceKind | None:
    given = params.get("resourceType")
    if not given:
        return None
    kind = KIND_BY_RAM_TYPE.get(str(given).lower())
    if kind is None:
        raise err("InvalidResourceTypeException", f"The resource type {given} is not valid "
                  "or not supported.")
    return kind


class RamProvider(Provider):
    service = "ram"

    # ------------------------------------------------------------------ helpers
    def _idempotent(self, ctx: RequestContext, params: dict[str, Any],
                    run: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``clientToken``: a retry with the same parameters gets the first answer."""
        token = params.get("clientToken")
        if not token:
            return run()
        key = f"{TOKEN_PREFIX}{ctx.account}/{ctx.region}/{ctx.operation}/{token}"
        fingerprint = hashlib.sha256(json.dumps(params, sort_keys=True, default=str)
                                     .encode()).hexdigest()
        earlier = ctx.state.meta(key)
        if isinstance(earlier, dict):
            if earlier.get("params") != fingerprint:
                raise err("IdempotentParameterMismatchException", f"The client token {token} "
                          "was already used with different parameters.")
            return dict(earlier["result"])
        result = {**run(), "clientToken": token}
        with ctx.state.write() as w:
            w.meta[key] = {"params": fingerprint,
                           "result": json.loads(json.dumps(result, default=str))}
        return result

    def _share_of(self, ctx: RequestContext, arn: Any) -> dict[str, Any]:
        """A share the caller owns, as a private copy to change."""
        share_id = _arn_id(arn, "resource-share")
        share = shares(ctx.state).get(arn) if share_id else None
        if share is None or share["region"] != ctx.region:
            raise err("UnknownResourceException", f"The resource share {arn} does not exist.")
        if share["owner"] != ctx.account:
            if ctx.account in share["principals"]:
                raise err("OperationNotPermittedException", f"Only the owner of {arn}, "
                          f"{share['owner']}, can change or delete it.")
            raise err("UnknownResourceException", f"The resource share {arn} does not exist.")
        return copy.deepcopy(share)

    @staticmethod
    def _live_share(share: dict[str, Any]) -> None:
        if share["status"] != "ACTIVE":
            raise err("InvalidStateTransitionException", f"The resource share "
                      f"{share['arn']} is {share['status']}.")

    def _check_resources(self, ctx: RequestContext, arns: Iterable[Any]) -> list[str]:
        out: list[str] = []
        for arn in arns:
            parsed = parse_arn(arn)
            kind = KIND_BY_ARN_TYPE.get(parsed.resource.partition("/")[0])
            if kind is None or parsed.service != kind.service:
                raise err("InvalidParameterException", f"The resource {arn} is of a type "
                          "that cannot be shared here (supported: "
                          + ", ".join(k.ram_type for k in KINDS) + ").")
            if kind.global_scope and ctx.region != GLOBAL_SHARE_REGION:
                # ASSUMED code: RAM shares global resources from us-east-1 only.
                raise err("InvalidParameterException", f"The resource {arn} is a global "
                          f"resource: share it from {GLOBAL_SHARE_REGION}.")
            if not _resource_exists(ctx.state.network, arn, ctx.account, ctx.region):
                raise err("UnknownResourceException", f"The resource {arn} does not exist "
                          f"in account {ctx.account} in {ctx.region}.")
            out.append(str(arn))
        return list(dict.fromkeys(out))

    def _check_principals(self, ctx: RequestContext, principals: Iterable[Any],
                          allow_external: bool) -> list[str]:
        out: list[str] = []
        for p in principals:
            text = str(p)
            if text.startswith("arn:"):
                arn = parse_arn(text)
                if arn.service == "organizations":
                    raise err("UnknownResourceException", f"The principal {text} does not "
                              "exist: this account is not part of an organization.")
                raise err("InvalidParameterException", f"The principal {text} is not "
                          "supported: share with AWS account ids.")
            if not _ACCOUNT.match(text):
                raise err("InvalidParameterException", f"The principal {text} is not a valid "
                          "AWS account id.")
            if text == ctx.account:
                raise err("InvalidParameterException", f"The principal {text} owns the "
                          "resource share and cannot be a principal of it.")
            if not allow_external:
                raise err("OperationNotPermittedException", f"The principal {text} is "
                          "outside your organization and the resource share does not allow "
                          "external principals.")
            out.append(text)
        return list(dict.fromkeys(out))

    @staticmethod
    def _invite(ctx: RequestContext, share: dict[str, Any], principal: str, stamp: str,
                meta: dict[str, Any]) -> None:
        inv_id = str(uuid.uuid4())
        inv = {"id": inv_id, "arn": invitation_arn(ctx.region, ctx.account, inv_id),
               "shareArn": share["arn"], "sender": ctx.account, "receiver": principal,
               "region": ctx.region, "status": "PENDING", "created": stamp}
        meta[_invitation_key(inv)] = inv
        share["principals"][principal] = {"status": "ASSOCIATING", "created": stamp,
                                          "updated": stamp, "invitation": inv["arn"]}

    def _expire_invitation(self, ctx: RequestContext, share: dict[str, Any], principal: str,
                           meta: dict[str, Any]) -> None:
        inv = invitations(ctx.state).get(share["principals"][principal].get("invitation", ""))
        if inv is not None and inv["status"] == "PENDING":
            meta[_invitation_key(inv)] = {**inv, "status": "EXPIRED"}

    # ------------------------------------------------------------------ shares
    def CreateResourceShare(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        return self._idempotent(ctx, params, lambda: self._create(ctx, params))

    def _create(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = params.get("name") or ""
        if not name.strip():
            raise err("InvalidParameterException", "The resource share name must not be "
                      "empty.")
        allow = params.get("allowExternalPrincipals")
        allow = True if allow is None else bool(allow)
        if params.get("sources"):
            raise err("InvalidParameterException", "Sources apply to service principals, "
                      "which are not supported.")
        resources = self._check_resources(ctx, params.get("resourceArns") or [])
        principals = self._check_principals(ctx, params.get("principals") or [], allow)
        stamp = now()
        share_id = str(uuid.uuid4())
        share: dict[str, Any] = {
            "id": share_id, "arn": share_arn(ctx.region, ctx.account, share_id),
            "name": name, "owner": ctx.account, "region": ctx.region,
            "allowExternalPrincipals": allow, "status": "ACTIVE", "created": stamp,
            "updated": stamp, "tags": [{"key": t["key"], "value": t.get("value", "")}
                                       for t in params.get("tags") or []],
            "resources": {arn: {"status": "ASSOCIATED", "created": stamp, "updated": stamp}
                          for arn in resources},
            "principals": {}}
        with ctx.state.write() as w:
            for principal in principals:
                self._invite(ctx, share, principal, stamp, w.meta)
            w.meta[_share_key(share)] = share
        return {"resourceShare": share_view(share)}

    def GetResourceShares(self, ctx: RequestContext, params: dict[str, Any]
                          ) -> dict[str, Any]:
        owner = _owner_param(params)
        rows: list[dict[str, Any]] = []
        for share in shares(ctx.state).values():
            if share["region"] != ctx.region:
                continue
            if owner == SELF and share["owner"] == ctx.account:
                rows.append(share_view(share))
            elif owner == OTHERS and share["owner"] != ctx.account and share["status"] != \
                    "DELETED":
                mine = share["principals"].get(ctx.account)
                if mine is not None and mine["status"] in LIVE:
                    pending = mine["status"] == "ASSOCIATING"
                    rows.append(share_view(share, "PENDING" if pending else None))
        wanted = params.get("resourceShareArns")
        if wanted:
            known = {r["resourceShareArn"] for r in rows}
            for arn in wanted:
                parse_arn(arn)
                if arn not in known:
                    raise err("UnknownResourceException", f"The resource share {arn} does "
                              "not exist.")
            rows = [r for r in rows if r["resourceShareArn"] in wanted]
        if params.get("resourceShareStatus"):
            rows = [r for r in rows if r["status"] == params["resourceShareStatus"]]
        if params.get("name"):
            rows = [r for r in rows if r["name"] == params["name"]]
        for f in params.get("tagFilters") or []:
            key, values = f.get("tagKey"), f.get("tagValues") or []
            rows = [r for r in rows if any(t["key"] == key and (not values or t["value"] in
                                                                values) for t in r["tags"])]
        page, token = paginate(rows, params, lambda r: str(r["resourceShareArn"]))
        return {"resourceShares": page, "nextToken": token}

    def DeleteResourceShare(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        return self._idempotent(ctx, params, lambda: self._delete(ctx, params))

    def _delete(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        share = self._share_of(ctx, params.get("resourceShareArn"))
        self._live_share(share)
        stamp = now()
        with ctx.state.write() as w:
            for principal in share["principals"]:
                self._expire_invitation(ctx, share, principal, w.meta)
            for assoc in (*share["resources"].values(), *share["principals"].values()):
                if assoc["status"] != "DISASSOCIATED":
                    assoc.update(status="DISASSOCIATED", updated=stamp)
            share.update(status="DELETED", updated=stamp)
            w.meta[_share_key(share)] = share
        return {"returnValue": True}

    # ------------------------------------------------------------------ associations
    def AssociateResourceShare(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        return self._idempotent(ctx, params, lambda: self._associate(ctx, params))

    def _associate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        share = self._share_of(ctx, params.get("resourceShareArn"))
        self._live_share(share)
        if not params.get("resourceArns") and not params.get("principals"):
            raise err("InvalidParameterException", "Specify at least one resource ARN or "
                      "principal to associate.")
        resources = self._check_resources(ctx, params.get("resourceArns") or [])
        principals = self._check_principals(ctx, params.get("principals") or [],
                                            share["allowExternalPrincipals"])
        stamp = now()
        out: list[dict[str, Any]] = []
        with ctx.state.write() as w:
            for arn in resources:
                assoc = share["resources"].get(arn)
                if assoc is None or assoc["status"] not in LIVE:
                    assoc = {"status": "ASSOCIATED", "created": stamp, "updated": stamp}
                    share["resources"][arn] = assoc
                    out.append(association_view(share, arn, "RESOURCE", assoc, "ASSOCIATING"))
                else:
                    out.append(association_view(share, arn, "RESOURCE", assoc))
            for principal in principals:
                current = share["principals"].get(principal)
                if current is None or current["status"] not in LIVE:
                    self._invite(ctx, share, principal, stamp, w.meta)
                out.append(association_view(share, principal, "PRINCIPAL",
                                            share["principals"][principal]))
            share["updated"] = stamp
            w.meta[_share_key(share)] = share
        return {"resourceShareAssociations": out}

    def DisassociateResourceShare(self, ctx: RequestContext, params: dict[str, Any]
                                  ) -> dict[str, Any]:
        return self._idempotent(ctx, params, lambda: self._disassociate(ctx, params))

    def _disassociate(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        share = self._share_of(ctx, params.get("resourceShareArn"))
        self._live_share(share)
        resources = [str(a) for a in params.get("resourceArns") or []]
        principals = [str(p) for p in params.get("principals") or []]
        if not resources and not principals:
            raise err("InvalidParameterException", "Specify at least one resource ARN or "
                      "principal to disassociate.")
        for arn in resources:
            parse_arn(arn)
            if share["resources"].get(arn, {}).get("status") not in LIVE:
                raise err("UnknownResourceException", f"The resource {arn} is not associated "
                          f"with {share['arn']}.")
        for principal in principals:
            if principal.startswith("arn:"):
                parse_arn(principal)
            if principal not in share["principals"] or \
                    share["principals"][principal]["status"] == "DISASSOCIATED":
                raise err("UnknownResourceException", f"The principal {principal} is not "
                          f"associated with {share['arn']}.")
        stamp = now()
        out: list[dict[str, Any]] = []
        with ctx.state.write() as w:
            for arn in dict.fromkeys(resources):
                assoc = share["resources"][arn]
                assoc.update(status="DISASSOCIATED", updated=stamp)
                out.append(association_view(share, arn, "RESOURCE", assoc, "DISASSOCIATING"))
            for principal in dict.fromkeys(principals):
                self._expire_invitation(ctx, share, principal, w.meta)
                assoc = share["principals"][principal]
                assoc.update(status="DISASSOCIATED", updated=stamp)
                assoc.pop("message", None)
                out.append(association_view(share, principal, "PRINCIPAL", assoc,
                                            "DISASSOCIATING"))
            share["updated"] = stamp
            w.meta[_share_key(share)] = share
        return {"resourceShareAssociations": out}

    def GetResourceShareAssociations(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        kind = params.get("associationType")
        if kind not in ("PRINCIPAL", "RESOURCE"):
            raise err("InvalidParameterException", f"The associationType {kind} is not "
                      "valid: use PRINCIPAL or RESOURCE.")
        if kind == "PRINCIPAL" and params.get("resourceArn"):
            raise err("InvalidParameterException", "resourceArn applies to RESOURCE "
                      "associations only.")
        if kind == "RESOURCE" and params.get("principal"):
            raise err("InvalidParameterException", "principal applies to PRINCIPAL "
                      "associations only.")
        wanted = set(params.get("resourceShareArns") or [])
        for arn in wanted:
            parse_arn(arn)
        if params.get("resourceArn"):
            parse_arn(params["resourceArn"])
        entity = params.get("resourceArn") or params.get("principal")
        rows: list[dict[str, Any]] = []
        for share in self._owned(ctx):
            if wanted and share["arn"] not in wanted:
                continue
            table = share["resources"] if kind == "RESOURCE" else share["principals"]
            for name, assoc in table.items():
                if entity and name != entity:
                    continue
                rows.append(association_view(share, name, str(kind), assoc))
        if params.get("associationStatus"):
            rows = [r for r in rows if r["status"] == params["associationStatus"]]
        page, token = paginate(rows, params, lambda r: f"{r['resourceShareArn']} "
                               f"{r['associatedEntity']}")
        return {"resourceShareAssociations": page, "nextToken": token}

    def _owned(self, ctx: RequestContext) -> list[dict[str, Any]]:
        return [s for s in shares(ctx.state).values()
                if s["owner"] == ctx.account and s["region"] == ctx.region]

    def _received(self, ctx: RequestContext) -> list[dict[str, Any]]:
        """Active shares of other accounts whose invitation the caller accepted."""
        return [s for s in shares(ctx.state).values()
                if s["region"] == ctx.region and s["owner"] != ctx.account
                and s["status"] == "ACTIVE"
                and s["principals"].get(ctx.account, {}).get("status") == "ASSOCIATED"]

    # ------------------------------------------------------------------ invitations
    def GetResourceShareInvitations(self, ctx: RequestContext, params: dict[str, Any]
                                    ) -> dict[str, Any]:
        mine = {arn: inv for arn, inv in invitations(ctx.state).items()
                if inv["receiver"] == ctx.account and inv["region"] == ctx.region}
        wanted = params.get("resourceShareInvitationArns")
        if wanted:
            for arn in wanted:
                parse_arn(arn)
                if arn not in mine:
                    raise err("ResourceShareInvitationArnNotFoundException",
                              f"The invitation {arn} was not found.")
            mine = {a: i for a, i in mine.items() if a in wanted}
        share_arns = params.get("resourceShareArns")
        if share_arns:
            for arn in share_arns:
                parse_arn(arn)
            mine = {a: i for a, i in mine.items() if i["shareArn"] in share_arns}
        all_shares = shares(ctx.state)
        rows = [invitation_view(i, all_shares.get(i["shareArn"])) for i in mine.values()]
        page, token = paginate(rows, params, lambda r: str(r["resourceShareInvitationArn"]))
        return {"resourceShareInvitations": page, "nextToken": token}

    def _invitation(self, ctx: RequestContext, arn: Any) -> dict[str, Any]:
        inv_id = _arn_id(arn, "resource-share-invitation")
        inv = invitations(ctx.state).get(arn) if inv_id else None
        if inv is None or inv["receiver"] != ctx.account or inv["region"] != ctx.region:
            raise err("ResourceShareInvitationArnNotFoundException",
                      f"The invitation {arn} was not found.")
        status = inv["status"]
        if status == "ACCEPTED":
            raise err("ResourceShareInvitationAlreadyAcceptedException",
                      f"The invitation {arn} has already been accepted.")
        if status == "REJECTED":
            raise err("ResourceShareInvitationAlreadyRejectedException",
                      f"The invitation {arn} has already been rejected.")
        if status == "EXPIRED":
            raise err("ResourceShareInvitationExpiredException",
                      f"The invitation {arn} has expired.")
        return dict(inv)

    def _answer(self, ctx: RequestContext, params: dict[str, Any], accept: bool
                ) -> dict[str, Any]:
        inv = self._invitation(ctx, params.get("resourceShareInvitationArn"))
        share = copy.deepcopy(shares(ctx.state)[inv["shareArn"]])
        stamp = now()
        inv["status"] = "ACCEPTED" if accept else "REJECTED"
        with ctx.state.write() as w:
            w.meta[_invitation_key(inv)] = inv
            assoc = share["principals"].get(ctx.account)
            if assoc is not None and assoc.get("invitation") == inv["arn"]:
                assoc.update(status="ASSOCIATED" if accept else "FAILED", updated=stamp)
                if not accept:
                    assoc["message"] = "The principal rejected the invitation."
                w.meta[_share_key(share)] = share
        return {"resourceShareInvitation": invitation_view(inv, share)}

    def AcceptResourceShareInvitation(self, ctx: RequestContext, params: dict[str, Any]
                                      ) -> dict[str, Any]:
        return self._idempotent(ctx, params, lambda: self._answer(ctx, params, True))

    def RejectResourceShareInvitation(self, ctx: RequestContext, params: dict[str, Any]
                                      ) -> dict[str, Any]:
        return self._idempotent(ctx, params, lambda: self._answer(ctx, params, False))

    # ------------------------------------------------------------------ listings
    def ListResources(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        owner = _owner_param(params)
        kind = _ram_type(params)
        principal = params.get("principal")
        wanted_shares = params.get("resourceShareArns")
        wanted_arns = params.get("resourceArns")
        for arn in [*(wanted_shares or []), *(wanted_arns or [])]:
            parse_arn(arn)
        net = ctx.state.network
        rows: list[dict[str, Any]] = []
        for share in (self._owned(ctx) if owner == SELF else self._received(ctx)):
            if share["status"] != "ACTIVE":
                continue
            if principal:
                if owner == SELF and share["principals"].get(principal, {}).get(
                        "status") not in LIVE:
                    continue
                if owner == OTHERS and share["owner"] != principal:
                    continue
            if wanted_shares and share["arn"] not in wanted_shares:
                continue
            for arn, assoc in share["resources"].items():
                rkind = _kind_of_arn(arn)
                if assoc["status"] not in LIVE or rkind is None or (kind and rkind != kind):
                    continue
                if wanted_arns and arn not in wanted_arns:
                    continue
                if not _resource_exists(net, arn, share["owner"], share["region"]):
                    continue
                rows.append({"arn": arn, "type": rkind.ram_type,
                             "resourceShareArn": share["arn"], "status": "AVAILABLE",
                             "creationTime": assoc["created"],
                             "lastUpdatedTime": assoc["updated"],
                             "resourceRegionScope": rkind.region_scope})
        page, token = paginate(rows, params, lambda r: f"{r['arn']} {r['resourceShareArn']}")
        return {"resources": page, "nextToken": token}

    def ListPrincipals(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        owner = _owner_param(params)
        kind = _ram_type(params)
        resource = params.get("resourceArn")
        if resource:
            parse_arn(resource)
        wanted_shares = params.get("resourceShareArns")
        for arn in wanted_shares or []:
            parse_arn(arn)
        wanted = params.get("principals")
        rows: list[dict[str, Any]] = []
        for share in (self._owned(ctx) if owner == SELF else self._received(ctx)):
            if share["status"] != "ACTIVE":
                continue
            if wanted_shares and share["arn"] not in wanted_shares:
                continue
            live = [a for a, r in share["resources"].items() if r["status"] in LIVE]
            if resource and resource not in live:
                continue
            if kind and not any(_kind_of_arn(a) == kind for a in live):
                continue
            if owner == SELF:
                found = [(p, a) for p, a in share["principals"].items() if a["status"] in LIVE]
            else:
                found = [(share["owner"], share["principals"][ctx.account])]
            for pid, assoc in found:
                if wanted and pid not in wanted:
                    continue
                rows.append({"id": pid, "resourceShareArn": share["arn"],
                             "creationTime": assoc["created"],
                             "lastUpdatedTime": assoc["updated"], "external": True})
        page, token = paginate(rows, params, lambda r: f"{r['id']} {r['resourceShareArn']}")
        return {"principals": page, "nextToken": token}

    def ListResourceTypes(self, ctx: RequestContext, params: dict[str, Any]
                          ) -> dict[str, Any]:
        rows = [{"resourceType": k.ram_type, "serviceName": k.service,
                 "resourceRegionScope": k.region_scope} for k in KINDS]
        page, token = paginate(rows, params, lambda r: str(r["resourceType"]))
        return {"resourceTypes": page, "nextToken": token}

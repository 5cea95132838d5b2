"""Global networks, core networks, policy versions and change sets, transit gateway
registrations and tags (cloudwan.md §7, CS-1..CS-6).

The two-step change set: ``PutCoreNetworkPolicy`` validates the document (schema errors:
``CoreNetworkPolicyException``, no version), creates the version in ``PENDING_GENERATION``
and computes its change set against the LIVE network at once; the first read of the version
(Get, List, the change set, Execute) moves it to ``READY_TO_EXECUTE`` or, with generation
errors, ``FAILED_GENERATION``, as AWS's asynchronous generation would. Change sets and change
events are kept as meta records (``networkmanager/changes/<core>/<version>``), not resources.
"""

from __future__ import annotations

from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.protocols.request import ServiceError
from localvpc.api.providers.networkmanager.common import (
    HOME_REGION,
    Params,
    by_arn,
    check_advertised,
    conflict,
    core_network,
    delete,
    global_network,
    new_id,
    now,
    paginate,
    parse_arn,
    save,
    tags_list,
    tags_param,
    validation,
)
from localvpc.cloudwan.changes import CoreNetworkChange, change_events, change_set
from localvpc.cloudwan.changes import generation_errors as live_generation_errors
from localvpc.cloudwan.compile import apply_plan, plan_attachment
from localvpc.cloudwan.policy import Policy, check_policy, edges_of, parse_policy, segment_infos
from localvpc.model.cloudwan import (
    DELETING,
    DIRECT_CONNECT_GATEWAY,
    EXECUTION_SUCCEEDED,
    FAILED_GENERATION,
    OUT_OF_DATE,
    PENDING_GENERATION,
    READY_TO_EXECUTE,
    ConnectPeer,
    CoreNetwork,
    CoreNetworkAttachment,
    GlobalNetwork,
    PolicyVersion,
    TransitGatewayRegistration,
)

CHANGES_KEY = "networkmanager/changes/{core}/{version}"
EVENTS_KEY = "networkmanager/events/{core}/{version}"


# ------------------------------------------------------------------ views
def global_network_view(gn: GlobalNetwork) -> dict[str, Any]:
    return {"GlobalNetworkId": gn.id, "GlobalNetworkArn": gn.arn, "Description": gn.description,
            "CreatedAt": gn.created, "State": gn.state, "Tags": tags_list(gn.tags)}


def core_network_view(cn: CoreNetwork) -> dict[str, Any]:
    return {"GlobalNetworkId": cn.global_network_id, "CoreNetworkId": cn.id,
            "CoreNetworkArn": cn.arn, "Description": cn.description, "CreatedAt": cn.created,
            "State": cn.state,
            "Segments": [{"Name": s.name, "EdgeLocations": s.edge_locations,
                          "SharedSegments": s.shared_segments} for s in cn.segments],
            "NetworkFunctionGroups": [{"Name": n} for n in cn.network_function_groups],
            "Edges": [{"EdgeLocation": e.location, "Asn": e.asn,
                       "InsideCidrBlocks": e.inside_cidr_blocks} for e in cn.edges],
            "Tags": tags_list(cn.tags)}


def policy_view(cn: CoreNetwork, v: PolicyVersion, document: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {"CoreNetworkId": cn.id, "PolicyVersionId": v.version_id,
                           "Alias": v.alias, "Description": v.description,
                           "CreatedAt": v.created, "ChangeSetState": v.change_set_state}
    if document:
        out["PolicyErrors"] = ([e.to_api() for e in v.errors]
                               if v.change_set_state == FAILED_GENERATION else [])
        out["PolicyDocument"] = v.document
    return out


def registration_view(r: TransitGatewayRegistration) -> dict[str, Any]:
    state: dict[str, Any] = {"Code": r.state}
    if r.message:
        state["Message"] = r.message
    return {"GlobalNetworkId": r.global_network_id, "TransitGatewayArn": r.transit_gateway_arn,
            "State": state}


# ------------------------------------------------------------------ policy helpers
def policy_exception(errors: list[dict[str, str]]) -> ServiceError:
    """VE-1: the document breaks the schema; AWS's fixed message and every error."""
    return ServiceError("CoreNetworkPolicyException", "Incorrect policy.", status=400,
                        fields={"Errors": errors})


def attachments_of(ctx: RequestContext, core_id: str) -> list[CoreNetworkAttachment]:
    return [a for a in ctx.state.network.core_network_attachments.values()
            if a.core_network_id == core_id]


def live_policy(cn: CoreNetwork) -> Policy | None:
    live = cn.live
    return parse_policy(live.document) if live is not None else None


def realias(cn: CoreNetwork) -> None:
    """One LIVE version, one LATEST (the newest, unless it is the LIVE one)."""
    latest = cn.latest
    for v in cn.versions:
        if v.version_id == cn.live_version_id:
            v.alias = "LIVE"
        elif latest is not None and v.version_id == latest.version_id:
            v.alias = "LATEST"
        else:
            v.alias = None


def promote(ctx: RequestContext, cn: CoreNetwork) -> None:
    """Finish generation of pending versions (see the module docstring)."""
    pending = [v for v in cn.versions if v.change_set_state == PENDING_GENERATION]
    if not pending:
        return
    for v in pending:
        v.change_set_state = FAILED_GENERATION if v.errors else READY_TO_EXECUTE
    save(ctx, cn)


def new_version(ctx: RequestContext, cn: CoreNetwork, document: str, description: str
                ) -> PolicyVersion:
    """Validate ``document`` and add it as the next version (not saved)."""
    check = check_policy(document)
    if check.schema_errors or check.policy is None:
        raise policy_exception([e.to_api() for e in check.schema_errors])
    policy = check.policy
    atts = attachments_of(ctx, cn.id)
    errors = list(check.generation_errors)
    if not errors:
        errors = live_generation_errors(cn.edges, policy, atts)
    version = PolicyVersion(cn.next_version_id(), document, description,
                            change_set_state=PENDING_GENERATION, created=now(), errors=errors)
    cn.versions.append(version)
    realias(cn)
    if not errors:
        changes = change_set(live_policy(cn), policy, atts, ctx.state.network,
                             previous_edges=cn.edges)
        key = CHANGES_KEY.format(core=cn.id, version=version.version_id)
        with ctx.state.write() as w:
            w.meta[key] = [c.to_api() for c in changes]
    return version


def execute(ctx: RequestContext, cn: CoreNetwork, version: PolicyVersion) -> None:
    """Step 2 (CS-4): the version becomes LIVE, edges and segments follow it, attachments
    are re-evaluated against its attachment policies; then everything is saved."""
    policy = parse_policy(version.document)
    for v in cn.versions:
        if v.version_id < version.version_id and v.change_set_state in (
                READY_TO_EXECUTE, PENDING_GENERATION):
            v.change_set_state = OUT_OF_DATE
    version.change_set_state = EXECUTION_SUCCEEDED
    cn.live_version_id = version.version_id
    realias(cn)
    cn.edges = edges_of(policy, cn.edges)
    cn.segments = segment_infos(policy)
    cn.network_function_groups = list(policy.network_function_groups)
    changed = []
    stamp = now()
    for att in attachments_of(ctx, cn.id):
        if apply_plan(att, plan_attachment(policy, att)):
            att.updated = stamp
            changed.append(att)
    stored = ctx.state.meta(CHANGES_KEY.format(core=cn.id, version=version.version_id)) or []
    changes = [CoreNetworkChange(c["Type"], c["Action"], c.get("Identifier", ""),
                                 c.get("IdentifierPath", ""), c.get("PreviousValues"),
                                 c.get("NewValues")) for c in stored]
    with ctx.state.write() as w:
        w.save(cn)
        for att in changed:
            w.save(att)
        w.meta[EVENTS_KEY.format(core=cn.id, version=version.version_id)] = change_events(
            changes, stamp)


def find_version(cn: CoreNetwork, version_id: int) -> PolicyVersion:
    v = cn.version(int(version_id))
    if v is None:
        raise ServiceError("ResourceNotFoundException",
                           f"Policy version {version_id} of core network {cn.id} was not found.",
                           status=404, fields={"ResourceId": str(version_id),
                                               "ResourceType": "core-network-policy"})
    return v


def _retag(ctx: RequestContext, resource: Any) -> None:
    """AP-4: an attachment's tags changed: evaluate it again under the LIVE policy."""
    if not isinstance(resource, CoreNetworkAttachment):
        return
    cn = ctx.state.network.core_networks.get(resource.core_network_id)
    policy = live_policy(cn) if cn is not None else None
    if policy is not None and apply_plan(resource, plan_attachment(policy, resource)):
        resource.updated = now()


def _advertises(resource: Any) -> bool:
    """Resources whose ``localvpc:advertise`` tag states BGP routes (cloudwan.advertised)."""
    return isinstance(resource, ConnectPeer) or (
        isinstance(resource, CoreNetworkAttachment)
        and resource.attachment_type == DIRECT_CONNECT_GATEWAY)


class NetworkOperations:
    # ------------------------------------------------------------------ global networks
    def CreateGlobalNetwork(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        gn = GlobalNetwork(id=new_id("global-network"), account=ctx.account, region=HOME_REGION,
                           tags=tags_param(params), description=params.get("Description") or "",
                           created=now())
        save(ctx, gn, new=True)
        return {"GlobalNetwork": {**global_network_view(gn), "State": "PENDING"}}

    def DescribeGlobalNetworks(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        wanted = set(params.get("GlobalNetworkIds") or [])
        items = [g for g in ctx.state.network.global_networks.values()
                 if g.account == ctx.account and (not wanted or g.id in wanted)]
        page, token = paginate(items, params, lambda g: g.id)
        return {"GlobalNetworks": [global_network_view(g) for g in page], "NextToken": token}

    def UpdateGlobalNetwork(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        gn = global_network(ctx, params["GlobalNetworkId"])
        if "Description" in params:
            gn.description = params["Description"] or ""
        save(ctx, gn)
        return {"GlobalNetwork": global_network_view(gn)}

    def DeleteGlobalNetwork(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        gn = global_network(ctx, params["GlobalNetworkId"])
        net = ctx.state.network
        if any(c.global_network_id == gn.id for c in net.core_networks.values()):
            raise conflict(f"Global network {gn.id} still has a core network; delete it first.",
                           gn.id, "global-network")
        if any(r.global_network_id == gn.id for r in net.transit_gateway_registrations.values()):
            raise conflict(f"Global network {gn.id} still has registered transit gateways; "
                           "deregister them first.", gn.id, "global-network")
        delete(ctx, ("global_networks", gn.id))
        return {"GlobalNetwork": {**global_network_view(gn), "State": DELETING}}

    # ------------------------------------------------------------------ core networks
    def CreateCoreNetwork(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        gn = global_network(ctx, params["GlobalNetworkId"])
        cn = CoreNetwork(id=new_id("core-network"), account=ctx.account, region=HOME_REGION,
                         tags=tags_param(params), global_network_id=gn.id,
                         description=params.get("Description") or "", created=now())
        document = params.get("PolicyDocument")
        version = new_version(ctx, cn, document, "") if document else None
        if version is not None and not version.errors:
            # ASSUMED (AWS documents it only through Terraform's "base policy"): a policy given
            # at creation is generated and executed at once, so attachments can be made.
            ctx.state.network.add(cn)
            version.change_set_state = READY_TO_EXECUTE
            execute(ctx, cn, version)
        else:
            save(ctx, cn, new=True)
        return {"CoreNetwork": {**core_network_view(cn), "State": "CREATING"}}

    def GetCoreNetwork(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        return {"CoreNetwork": core_network_view(core_network(ctx, params["CoreNetworkId"]))}

    def ListCoreNetworks(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        items = [c for c in ctx.state.network.core_networks.values() if c.account == ctx.account]
        page, token = paginate(items, params, lambda c: c.id)
        return {"CoreNetworks": [
            {"CoreNetworkId": c.id, "CoreNetworkArn": c.arn, "GlobalNetworkId":
             c.global_network_id, "OwnerAccountId": c.account, "State": c.state,
             "Description": c.description, "Tags": tags_list(c.tags)} for c in page],
            "NextToken": token}

    def UpdateCoreNetwork(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        cn = core_network(ctx, params["CoreNetworkId"])
        if "Description" in params:
            cn.description = params["Description"] or ""
        save(ctx, cn)
        return {"CoreNetwork": core_network_view(cn)}

    def DeleteCoreNetwork(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        cn = core_network(ctx, params["CoreNetworkId"])
        net = ctx.state.network
        if attachments_of(ctx, cn.id):
            raise conflict(f"Core network {cn.id} still has attachments; delete them first.",
                           cn.id, "core-network")
        if any(p.core_network_id == cn.id for p in net.core_network_peerings.values()):
            raise conflict(f"Core network {cn.id} still has peerings; delete them first.",
                           cn.id, "core-network")
        delete(ctx, ("core_networks", cn.id))
        return {"CoreNetwork": {**core_network_view(cn), "State": DELETING}}

    # ------------------------------------------------------------------ policy versions
    def PutCoreNetworkPolicy(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        cn = core_network(ctx, params["CoreNetworkId"])
        expected = params.get("LatestVersionId")
        latest = cn.latest
        if expected is not None and (latest is None or latest.version_id != int(expected)):
            # ASSUMED: LatestVersionId is an optimistic lock (CS-2).
            raise conflict(f"LatestVersionId {expected} is not the latest policy version of "
                           f"core network {cn.id}.", cn.id, "core-network-policy")
        version = new_version(ctx, cn, params["PolicyDocument"], params.get("Description") or "")
        save(ctx, cn)
        return {"CoreNetworkPolicy": policy_view(cn, version)}

    def GetCoreNetworkPolicy(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        cn = core_network(ctx, params["CoreNetworkId"])
        promote(ctx, cn)
        version_id = params.get("PolicyVersionId")
        if version_id is not None:
            v = find_version(cn, version_id)
        else:
            # ASSUMED default alias: LIVE when there is one, else LATEST.
            alias = params.get("Alias") or ("LIVE" if cn.live is not None else "LATEST")
            v_or_none = cn.live if alias == "LIVE" else cn.latest
            if v_or_none is None:
                raise ServiceError("ResourceNotFoundException",
                                   f"Core network {cn.id} has no {alias} policy.", status=404,
                                   fields={"ResourceId": cn.id,
                                           "ResourceType": "core-network-policy"})
            v = v_or_none
        return {"CoreNetworkPolicy": policy_view(cn, v)}

    def ListCoreNetworkPolicyVersions(self, ctx: RequestContext, params: Params
                                      ) -> dict[str, Any]:
        cn = core_network(ctx, params["CoreNetworkId"])
        promote(ctx, cn)
        page, token = paginate(cn.versions, params, lambda v: f"{v.version_id:010d}")
        return {"CoreNetworkPolicyVersions": [policy_view(cn, v, document=False) for v in page],
                "NextToken": token}

    def DeleteCoreNetworkPolicyVersion(self, ctx: RequestContext, params: Params
                                       ) -> dict[str, Any]:
        cn = core_network(ctx, params["CoreNetworkId"])
        v = find_version(cn, params["PolicyVersionId"])
        if v.version_id == cn.live_version_id:
            raise validation(f"Policy version {v.version_id} is LIVE and cannot be deleted.",
                             "PolicyVersionId")
        cn.versions.remove(v)
        realias(cn)
        with ctx.state.write() as w:
            w.save(cn)
            w.meta[CHANGES_KEY.format(core=cn.id, version=v.version_id)] = None
        return {"CoreNetworkPolicy": policy_view(cn, v)}

    def RestoreCoreNetworkPolicyVersion(self, ctx: RequestContext, params: Params
                                        ) -> dict[str, Any]:
        cn = core_network(ctx, params["CoreNetworkId"])
        old = find_version(cn, params["PolicyVersionId"])
        version = new_version(ctx, cn, old.document, old.description)
        save(ctx, cn)
        return {"CoreNetworkPolicy": policy_view(cn, version)}

    # ------------------------------------------------------------------ change sets
    def GetCoreNetworkChangeSet(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        cn = core_network(ctx, params["CoreNetworkId"])
        promote(ctx, cn)
        v = find_version(cn, params["PolicyVersionId"])
        stored = ctx.state.meta(CHANGES_KEY.format(core=cn.id, version=v.version_id)) or []
        indexed = [(f"{i:08d}", c) for i, c in enumerate(stored)]
        page, token = paginate(indexed, params, lambda p: p[0])
        return {"CoreNetworkChanges": [c for _, c in page], "NextToken": token}

    def ExecuteCoreNetworkChangeSet(self, ctx: RequestContext, params: Params
                                    ) -> dict[str, Any]:
        cn = core_network(ctx, params["CoreNetworkId"])
        promote(ctx, cn)
        v = find_version(cn, params["PolicyVersionId"])
        if v.change_set_state != READY_TO_EXECUTE:
            raise validation(f"The change set of policy version {v.version_id} is "
                             f"{v.change_set_state}, not READY_TO_EXECUTE.", "PolicyVersionId")
        execute(ctx, cn, v)
        return {}

    def GetCoreNetworkChangeEvents(self, ctx: RequestContext, params: Params
                                   ) -> dict[str, Any]:
        cn = core_network(ctx, params["CoreNetworkId"])
        v = find_version(cn, params["PolicyVersionId"])
        stored = ctx.state.meta(EVENTS_KEY.format(core=cn.id, version=v.version_id)) or []
        indexed = [(f"{i:08d}", e) for i, e in enumerate(stored)]
        page, token = paginate(indexed, params, lambda p: p[0])
        return {"CoreNetworkChangeEvents": [e for _, e in page], "NextToken": token}

    # ------------------------------------------------------------------ TGW registrations
    def RegisterTransitGateway(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        gn = global_network(ctx, params["GlobalNetworkId"])
        arn = params["TransitGatewayArn"]
        parts = parse_arn(arn)
        if parts is None or parts["service"] != "ec2" or parts["kind"] != "transit-gateway":
            raise validation(f"Invalid transit gateway ARN {arn}.", "TransitGatewayArn")
        tgw = ctx.state.network.transit_gateways.get(parts["id"])
        if tgw is None or tgw.account != parts["account"] or tgw.region != parts["region"]:
            raise ServiceError("ResourceNotFoundException",
                               f"Transit gateway {arn} was not found.", status=404,
                               fields={"ResourceId": arn, "ResourceType": "transit-gateway"})
        for r in ctx.state.network.transit_gateway_registrations.values():
            if r.transit_gateway_arn == arn:
                raise conflict(f"Transit gateway {arn} is already registered with global "
                               f"network {r.global_network_id}.", arn, "transit-gateway")
        reg = TransitGatewayRegistration(id=f"{gn.id}|{arn}", account=ctx.account,
                                         region=parts["region"], global_network_id=gn.id,
                                         transit_gateway_arn=arn)
        save(ctx, reg, new=True)
        return {"TransitGatewayRegistration": {**registration_view(reg),
                                               "State": {"Code": "PENDING"}}}

    def DeregisterTransitGateway(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        gn = global_network(ctx, params["GlobalNetworkId"])
        arn = params["TransitGatewayArn"]
        reg = ctx.state.network.transit_gateway_registrations.get(f"{gn.id}|{arn}")
        if reg is None:
            raise ServiceError("ResourceNotFoundException",
                               f"Transit gateway {arn} is not registered with {gn.id}.",
                               status=404, fields={"ResourceId": arn,
                                                   "ResourceType": "transit-gateway"})
        delete(ctx, ("transit_gateway_registrations", reg.id))
        return {"TransitGatewayRegistration": {**registration_view(reg),
                                               "State": {"Code": "DELETING"}}}

    def GetTransitGatewayRegistrations(self, ctx: RequestContext, params: Params
                                       ) -> dict[str, Any]:
        gn = global_network(ctx, params["GlobalNetworkId"])
        wanted = set(params.get("TransitGatewayArns") or [])
        items = [r for r in ctx.state.network.transit_gateway_registrations.values()
                 if r.global_network_id == gn.id
                 and (not wanted or r.transit_gateway_arn in wanted)]
        page, token = paginate(items, params, lambda r: r.transit_gateway_arn)
        return {"TransitGatewayRegistrations": [registration_view(r) for r in page],
                "NextToken": token}

    # ------------------------------------------------------------------ tags
    def TagResource(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        resource = by_arn(ctx, params["ResourceArn"])
        tags = tags_param(params)
        if _advertises(resource):
            check_advertised({**resource.tags, **tags})
        resource.tags.update(tags)
        _retag(ctx, resource)
        save(ctx, resource)
        return {}

    def UntagResource(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        resource = by_arn(ctx, params["ResourceArn"])
        for key in params.get("TagKeys") or []:
            resource.tags.pop(key, None)
        _retag(ctx, resource)
        save(ctx, resource)
        return {}

    def ListTagsForResource(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        resource = by_arn(ctx, params["ResourceArn"])
        return {"TagList": tags_list(resource.tags)}

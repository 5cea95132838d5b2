"""Direct Connect gateway attachments: a Direct Connect gateway placed on a core network at
one or more edge locations (Create/Get/Update here; delete and list are the generic
``DeleteAttachment``/``ListAttachments``).

The attachment maps to a segment by the attachment policies like any other (``resource-id``
is the gateway's id, ``attachment-type`` is ``direct-connect-gateway``) and is local at each
of its edge locations. localvpc does not model Direct Connect gateways, their virtual
interfaces or BGP, so it cannot know what the on-premises routers advertise: the attachment
propagates exactly the CIDRs of its ``localvpc:advertise`` tag (``cloudwan.advertised``) and
nothing until that tag is set; the gateway ARN is taken on trust (only its shape is checked).
"""

from __future__ import annotations

import re
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.networkmanager.attachments import (
    _attach,
    _core_of,
    _core_with_policy,
    _new,
    _typed,
    typed_view,
)
from localvpc.api.providers.networkmanager.common import (
    Params,
    check_advertised,
    conflict,
    now,
    save,
    validation,
)
from localvpc.api.providers.networkmanager.networks import live_policy
from localvpc.cloudwan.compile import apply_plan, plan_attachment
from localvpc.model.cloudwan import (
    CREATING,
    DELETING,
    DIRECT_CONNECT_GATEWAY,
    FAILED,
    REJECTED,
    CoreNetwork,
)

# botocore's ``DirectConnectGatewayArn`` pattern (Direct Connect gateway ids are UUIDs).
_DXGW_ARN = re.compile(r"^arn:[^:]{1,63}:directconnect::[^:]{0,63}:dx-gateway/"
                       r"(?P<id>[0-9a-f]{8}-(?:[0-9a-f]{4}-){3}[0-9a-f]{12})$")


def _edge_locations(cn: CoreNetwork, given: list[str] | None) -> list[str]:
    """At least one edge location, each an edge of the core network, none twice."""
    edges = list(given or [])
    if not edges:
        raise validation("At least one edge location is required for a Direct Connect gateway "
                         "attachment.", "EdgeLocations")
    known = {e.location for e in cn.edges}
    for i, edge in enumerate(edges):
        if edge in edges[:i]:
            raise validation(f"Edge location {edge} is listed more than once.", "EdgeLocations")
        if edge not in known:
            raise validation(f"{edge} is not an edge location of core network {cn.id}.",
                             "EdgeLocations")
    return edges


class DirectConnectOperations:
    def CreateDirectConnectGatewayAttachment(self, ctx: RequestContext, params: Params
                                             ) -> dict[str, Any]:
        cn, policy = _core_with_policy(ctx, params["CoreNetworkId"])
        arn = params["DirectConnectGatewayArn"]
        m = _DXGW_ARN.match(arn or "")
        if m is None:
            raise validation(f"Invalid Direct Connect gateway ARN {arn}.",
                             "DirectConnectGatewayArn")
        edges = _edge_locations(cn, params.get("EdgeLocations"))
        att = _new(ctx, cn, params, DIRECT_CONNECT_GATEWAY, edges[0], arn, m["id"])
        check_advertised(att.tags)
        att.edge_locations = edges
        _attach(ctx, cn, policy, att)  # the same gateway twice: ConflictException
        return typed_view(att, cn, CREATING)

    def GetDirectConnectGatewayAttachment(self, ctx: RequestContext, params: Params
                                          ) -> dict[str, Any]:
        att = _typed(ctx, params["AttachmentId"], DIRECT_CONNECT_GATEWAY)
        return typed_view(att, _core_of(ctx, att))

    def UpdateDirectConnectGatewayAttachment(self, ctx: RequestContext, params: Params
                                             ) -> dict[str, Any]:
        """The given edge locations replace the old ones; the attachment is evaluated again
        (a ``region`` condition or the segment's edges may now decide otherwise). Without
        ``EdgeLocations`` nothing changes."""
        att = _typed(ctx, params["AttachmentId"], DIRECT_CONNECT_GATEWAY)
        cn = _core_of(ctx, att)
        if att.state in (REJECTED, FAILED, DELETING):
            # ASSUMED: AWS lists ConflictException for an attachment in a state that does not
            # allow changes.
            raise conflict(f"Attachment {att.id} is {att.state} and cannot be updated.",
                           att.id, "attachment")
        if params.get("EdgeLocations") is not None and cn is not None:
            edges = _edge_locations(cn, params["EdgeLocations"])
            if edges != att.edge_locations:
                att.edge_locations = edges
                att.region = edges[0]
                policy = live_policy(cn)
                if policy is not None:
                    apply_plan(att, plan_attachment(policy, att))
                att.updated = now()
                save(ctx, att)
        return typed_view(att, cn)

"""Transit gateway policy tables: the tables that route traffic arriving on a transit
gateway's peering attachment to a Cloud WAN core network by its segment.

A table only records which attachments it is associated with; its entries are not stored
but derived from the Cloud WAN model (the transit gateway route table attachments on the
peering and their segments), as AWS fills them in itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from localvpc.model.base import Resource


@dataclass(slots=True)
class TransitGatewayPolicyTable(Resource):
    """A policy table (``tgw-ptb-...``) of one transit gateway; an attachment is associated
    with at most one policy table and then with no route table."""

    transit_gateway_id: str = ""
    state: str = "available"  # pending | available | deleting | deleted
    created: float = 0.0
    associated_attachment_ids: list[str] = field(default_factory=list)

"""VPC peering connections (same or cross account and region)."""

from __future__ import annotations

from dataclasses import dataclass

from localvpc.model.base import Resource


@dataclass(slots=True)
class VpcPeeringConnection(Resource):
    """A peering connection; only ``status == "active"`` carries traffic (PX-1)."""

    requester_vpc_id: str = ""
    accepter_vpc_id: str = ""
    requester_account: str | None = None
    accepter_account: str | None = None
    requester_region: str | None = None
    accepter_region: str | None = None
    status: str = "active"
    # PX-9: AllowDnsResolutionFromRemoteVpc, set by each side's owner.
    requester_allow_dns: bool = False
    accepter_allow_dns: bool = False

    def peer_of(self, vpc_id: str) -> str | None:
        if vpc_id == self.requester_vpc_id:
            return self.accepter_vpc_id
        if vpc_id == self.accepter_vpc_id:
            return self.requester_vpc_id
        return None

"""Elastic IP transfers between accounts of one Region (a two-step handshake).

The source account offers an address to another account (EnableAddressTransfer); that
account has seven days to take it (AcceptAddressTransfer, naming the public IP), after which
the offer lapses and the address simply stays where it is. The source can withdraw a pending
offer (DisableAddressTransfer) and lists its offers with DescribeAddressTransfers, accepted
ones for 14 days after acceptance (VPC User Guide, "Transfer Elastic IP addresses").

On acceptance the ``ElasticIp`` changes owner and keeps its allocation id and public IP; its
tags and reverse DNS name stay behind with the old owner (they are the source's settings),
and the receiver may tag it on acceptance. An address that is associated (with an ENI, an
instance or a NAT gateway) cannot be offered or accepted.
"""

from __future__ import annotations

import re
import secrets
import time
from datetime import UTC, datetime
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import apply_tag_specs, error, paginate, scoped
from localvpc.model.gateways import AddressTransfer, ElasticIp

OFFER_SECONDS = 7 * 24 * 3600  # the transfer account has seven days to accept
ACCEPTED_VISIBLE_SECONDS = 14 * 24 * 3600  # the source sees accepted transfers this long
ACCOUNT_ID = re.compile(r"^\d{12}$")


def _stamp(seconds: float | None) -> datetime | None:
    return datetime.fromtimestamp(seconds, tz=UTC) if seconds is not None else None


def status_of(t: AddressTransfer, now: float) -> str:
    """A pending offer past its seven days has lapsed: AWS's status list has no ``expired``,
    and the offer can no longer be accepted, so it reads as ``disabled``."""
    if t.status == "pending" and now > t.expires:
        return "disabled"
    return t.status


def transfer_view(t: AddressTransfer, now: float) -> dict[str, Any]:
    return {"PublicIp": str(t.public_ip), "AllocationId": t.allocation_id,
            "TransferAccountId": t.transfer_account_id,
            "TransferOfferExpirationTimestamp": _stamp(t.expires),
            "TransferOfferAcceptedTimestamp": _stamp(t.accepted),
            "AddressTransferStatus": status_of(t, now)}


def _check_unassociated(eip: ElasticIp) -> None:
    # AWS does not document the code for an associated address; InvalidIPAddress.InUse is
    # the one EC2 uses for an address that is busy (ReleaseAddress of an associated EIP).
    if eip.network_interface_id or eip.association_id:
        raise error("InvalidIPAddress.InUse", f"Address {eip.public_ip} ({eip.id}) is "
                    f"associated with {eip.network_interface_id or eip.association_id}; "
                    "disassociate it before transferring it.")


class AddressTransferOperations:
    def _transfer_eip(self, ctx: RequestContext, allocation_id: str) -> ElasticIp:
        eip = scoped(ctx.state.network.elastic_ips, ctx.account, ctx.region).get(
            allocation_id)
        if eip is None:
            raise error("InvalidAllocationID.NotFound",
                        f"The allocation ID '{allocation_id}' does not exist")
        return eip

    def _pending_of(self, ctx: RequestContext, eip: ElasticIp, now: float
                    ) -> AddressTransfer | None:
        return next((t for t in ctx.state.network.address_transfers.values()
                     if t.allocation_id == eip.id and t.account == eip.account
                     and t.region == eip.region and status_of(t, now) == "pending"), None)

    def EnableAddressTransfer(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        now = time.time()
        eip = self._transfer_eip(ctx, params["AllocationId"])
        target = str(params["TransferAccountId"]).strip()
        if not ACCOUNT_ID.match(target):
            raise error("InvalidParameterValue", f"Value ({target}) for parameter "
                        "transferAccountId is invalid. Expected a 12-digit AWS account ID.")
        if target == ctx.account:
            raise error("InvalidParameterValue", f"The transfer account {target} is the "
                        "account that owns the address.")
        _check_unassociated(eip)
        # A new offer replaces the address's pending or withdrawn one (one record each).
        offer = next((t for t in ctx.state.network.address_transfers.values()
                      if t.allocation_id == eip.id and t.account == eip.account
                      and t.region == eip.region and t.status != "accepted"), None) \
            or AddressTransfer(
            "eiptransfer-" + secrets.token_hex(8), ctx.account, ctx.region,
            allocation_id=eip.id, public_ip=eip.public_ip)
        offer.transfer_account_id, offer.status = target, "pending"
        offer.expires, offer.accepted = now + OFFER_SECONDS, None
        with ctx.state.write() as w:
            ctx.state.network.add(offer)
            w.save(offer)
        return {"AddressTransfer": transfer_view(offer, now)}

    def DisableAddressTransfer(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        now = time.time()
        eip = self._transfer_eip(ctx, params["AllocationId"])
        offer = self._pending_of(ctx, eip, now)
        if offer is None:  # not documented; the address has no offer to withdraw
            raise error("InvalidParameterValue", f"The Elastic IP address {eip.id} has no "
                        "pending transfer.")
        with ctx.state.write() as w:
            offer.status = "disabled"
            w.save(offer)
        return {"AddressTransfer": transfer_view(offer, now)}

    def DescribeAddressTransfers(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        """The caller's offers (as the source account), newest state of each."""
        now = time.time()
        net = ctx.state.network
        mine = [t for t in net.address_transfers.values()
                if t.account == ctx.account and t.region == ctx.region
                and not (t.status == "accepted" and t.accepted is not None
                         and now - t.accepted > ACCEPTED_VISIBLE_SECONDS)]
        wanted = list(dict.fromkeys(params.get("AllocationIds") or []))
        if wanted:
            known = {t.allocation_id for t in mine} | set(
                scoped(net.elastic_ips, ctx.account, ctx.region))
            missing = [a for a in wanted if a not in known]
            if missing:
                raise error("InvalidAllocationID.NotFound", "The allocation ID "
                            f"'{missing[0]}' does not exist")
            mine = [t for t in mine if t.allocation_id in wanted]
        page, token = paginate(mine, params, lambda t: f"{t.allocation_id}/{t.id}",
                               minimum=5, maximum=1000)
        return {"AddressTransfers": [transfer_view(t, now) for t in page], "NextToken": token}

    def AcceptAddressTransfer(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        now = time.time()
        net = ctx.state.network
        address = str(params["Address"]).strip()
        offer = next((t for t in net.address_transfers.values()
                      if str(t.public_ip) == address and t.region == ctx.region
                      and t.transfer_account_id == ctx.account
                      and status_of(t, now) == "pending"), None)
        eip = net.elastic_ips.get(offer.allocation_id) if offer is not None else None
        if offer is None or eip is None or eip.account != offer.account:
            # No offer to this account (never made, withdrawn, lapsed or taken).
            raise error("InvalidAddress.NotFound", f"Address '{address}' not found.")
        _check_unassociated(eip)
        with ctx.state.write() as w:
            eip.account, eip.tags, eip.ptr_record = ctx.account, {}, None
            apply_tag_specs(eip, params, "elastic-ip")
            offer.status, offer.accepted = "accepted", now
            w.save(eip)
            w.save(offer)
        return {"AddressTransfer": transfer_view(offer, now)}

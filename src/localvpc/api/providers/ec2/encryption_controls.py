"""VPC Encryption Controls: one control per VPC in ``monitor`` or ``enforce`` mode, its
resource exclusions, the resources that block enforcement, and the refusal of new
clear-traffic resources in an enforced VPC (``refuse_if_enforced``, called where instances
and gateways are created or attached, and peering connections requested or accepted). A
control can also come with its VPC (``control_for_new_vpc``, CreateVpc) and goes with it
(``drop_vpc_control``, DeleteVpc). The control lives in the model
(``model/encryption_controls.py``) because flow logs read it too.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    error,
    new_id,
    owned,
    paginate,
    persist_new,
    select_ids,
    tags_list,
    visible,
)
from localvpc.api.state import Changes
from localvpc.model.encryption_controls import (
    EXCLUSION_KINDS,
    Blocker,
    EncryptionMode,
    VpcEncryptionControl,
    blockers,
    control_of,
    encrypts_in_transit,
)
from localvpc.model.network import Network

NOT_FOUND = "InvalidVpcEncryptionControlId.NotFound"
# The code ModifyVpcEncryptionControl answers when the switch to enforce mode cannot be made
# (the Terraform AWS provider reacts to it by listing GetVpcResourcesBlocking... results).
TRANSITION_FAILED = "VpcEncryptionControlStateTransitionFailed"
# ASSUMED: AWS documents no EC2 code for creating a clear-traffic resource in an enforced
# VPC; this one follows RDS's documented VpcEncryptionControlViolationException.
VIOLATION = "VpcEncryptionControlViolation"


def control_view(c: VpcEncryptionControl, state: str | None = None) -> dict[str, Any]:
    """The ``VpcEncryptionControl`` structure. AWS reports ``ResourceExclusions`` in enforce
    mode only (exclusions do nothing while monitoring)."""
    out: dict[str, Any] = {"VpcId": c.vpc_id, "VpcEncryptionControlId": c.id,
                           "Mode": c.mode.value, "State": state or c.state,
                           "StateMessage": c.state_message, "Tags": tags_list(c.tags)}
    if c.mode == EncryptionMode.ENFORCE:
        out["ResourceExclusions"] = {
            kind: {"State": c.exclusions.get(kind, "disabled"), "StateMessage": "succeeded"}
            for kind in EXCLUSION_KINDS}
    return out


def vpc_encryption_view(network: Network, vpc_id: str) -> dict[str, Any] | None:
    """``Vpc.EncryptionControl`` in DescribeVpcs: the VPC's control, if it has one."""
    c = control_of(network, vpc_id)
    return control_view(c) if c is not None else None


def blocker_view(b: Blocker) -> dict[str, Any]:
    return {"Id": b.id, "Type": b.type, "Description": b.description,
            "IsExcludable": b.excludable}


def refuse_if_enforced(network: Network, vpc_id: str | None, *, instance_type: str | None = None,
                       kind: str | None = None) -> None:
    """Enforce mode: refuse an instance whose type does not encrypt in transit
    (``instance_type``), or a resource of an exclusion ``kind`` the control does not exclude.
    Monitor mode and VPCs without a control allow everything."""
    control = control_of(network, vpc_id)
    if control is None or not control.enforcing:
        return
    if instance_type is not None and not encrypts_in_transit(instance_type):
        raise error(VIOLATION, f"The instance type {instance_type} does not support encryption"
                    f" in transit, which the VPC encryption control {control.id} of {vpc_id} "
                    "enforces.")
    if kind is not None and not control.excluded(kind):
        raise error(VIOLATION, f"The VPC encryption control {control.id} of {vpc_id} is in "
                    f"enforce mode and does not exclude {kind} resources.")


def refuse_if_any_enforced(network: Network, vpc_ids: Iterable[str | None], kind: str) -> None:
    """``refuse_if_enforced`` for a resource that joins several VPCs (a peering connection:
    an enforced control on either side refuses it unless it excludes ``kind``)."""
    for vpc_id in vpc_ids:
        refuse_if_enforced(network, vpc_id, kind=kind)


def _exclusion_states(config: dict[str, Any], current: dict[str, str]) -> dict[str, str]:
    """``current`` with the ``<kind>Exclusion`` inputs (``enable``/``disable``) of a
    ``VpcEncryptionControlConfiguration`` or ModifyVpcEncryptionControl applied."""
    exclusions = dict(current)
    for kind in EXCLUSION_KINDS:
        value = config.get(f"{kind}Exclusion")
        if value is None:
            continue
        if value not in ("enable", "disable"):  # the protocol layer checks it first
            raise error("InvalidParameterValue", f"Value ({value}) for parameter "
                        f"{kind[0].lower()}{kind[1:]}Exclusion is invalid. Valid values: "
                        "enable, disable.")
        exclusions[kind] = "enabled" if value == "enable" else "disabled"
    return exclusions


def control_for_new_vpc(ctx: RequestContext, vpc_id: str, params: dict[str, Any]
                        ) -> tuple[VpcEncryptionControl, ...]:
    """The control CreateVpc's ``VpcEncryptionControl`` asks for (none without it), for the
    caller to save with the VPC in the same write. A new VPC holds nothing that could carry
    clear traffic, so it may start in enforce mode (AWS: only existing VPCs must be
    monitored first). Raises before anything is written when the configuration is bad."""
    config = params.get("VpcEncryptionControl")
    if config is None:
        return ()
    mode = config.get("Mode")
    if mode not in [m.value for m in EncryptionMode]:  # the protocol layer checks it first
        raise error("InvalidParameterValue", f"Value ({mode}) for parameter "
                    "vpcEncryptionControl.mode is invalid. Valid values: monitor, enforce.")
    return (VpcEncryptionControl(new_id("vpcec"), ctx.account, ctx.region, vpc_id=vpc_id,
                                 mode=EncryptionMode(mode), created=time.time(),
                                 exclusions=_exclusion_states(config, {})),)


def drop_vpc_control(network: Network, vpc_id: str, w: Changes) -> None:
    """A deleted VPC's control goes with it, so DescribeVpcEncryptionControls stops listing
    it. ASSUMED: AWS does not document this; a control of a VPC that no longer exists would
    govern nothing."""
    for cid in [c.id for c in network.vpc_encryption_controls.values() if c.vpc_id == vpc_id]:
        del network.vpc_encryption_controls[cid]
        w.deleted.append(("vpc_encryption_controls", cid))


CONTROL_FILTERS = {  # ASSUMED: AWS lists no filter names for this call
    "vpc-id": lambda c: [c.vpc_id],
    "vpc-encryption-control-id": lambda c: [c.id],
    "mode": lambda c: [c.mode.value],
    "state": lambda c: [c.state],
}


class EncryptionControlOperations:
    def CreateVpcEncryptionControl(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        """Every control starts in monitor mode (AWS: an existing VPC must be monitored
        before it can be enforced); localvpc makes it ``available`` at once."""
        vpc_id = params["VpcId"]
        owned(ctx, "vpcs", vpc_id, "InvalidVpcID.NotFound", "vpc")
        existing = control_of(ctx.state.network, vpc_id)
        if existing is not None:
            # ASSUMED: AWS documents no code for a second control of the same VPC.
            raise error("InvalidParameterValue", f"The VPC {vpc_id} already has the "
                        f"encryption control {existing.id}.")
        c = VpcEncryptionControl(new_id("vpcec"), ctx.account, ctx.region, vpc_id=vpc_id,
                                 created=time.time())
        apply_tag_specs(c, params, "vpc-encryption-control")
        persist_new(ctx, c)
        return {"VpcEncryptionControl": control_view(c, "creating")}

    def DescribeVpcEncryptionControls(self, ctx: RequestContext, params: dict[str, Any]
                                      ) -> dict[str, Any]:
        items = visible(ctx, "vpc_encryption_controls")
        found = select_ids(items, params.get("VpcEncryptionControlIds"),
                           "VPC encryption control", NOT_FOUND)
        vpc_ids = set(params.get("VpcIds") or [])
        if vpc_ids:  # ASSUMED: VPC ids without a control (or unknown) just match nothing
            found = [c for c in found if c.vpc_id in vpc_ids]
        found = apply_filters(found, params.get("Filters"), CONTROL_FILTERS)
        page, token = paginate(found, params, lambda c: c.id)
        return {"VpcEncryptionControls": [control_view(c) for c in page], "NextToken": token}

    def _encryption_control(self, ctx: RequestContext, control_id: str) -> VpcEncryptionControl:
        c: VpcEncryptionControl = owned(ctx, "vpc_encryption_controls", control_id,
                                        NOT_FOUND, "VPC encryption control")
        return c

    def ModifyVpcEncryptionControl(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        """Mode and exclusions change together. The switch to (or a change while in)
        enforce mode fails with VpcEncryptionControlStateTransitionFailed while anything in
        the VPC would carry clear traffic; the control then stays as it was."""
        c = self._encryption_control(ctx, params["VpcEncryptionControlId"])
        mode = EncryptionMode(params.get("Mode") or c.mode.value)
        exclusions = _exclusion_states(params, c.exclusions)
        if mode == EncryptionMode.ENFORCE:
            trial = VpcEncryptionControl(c.id, c.account, c.region, vpc_id=c.vpc_id,
                                         mode=mode, exclusions=exclusions)
            found = blockers(ctx.state.network, c.vpc_id, trial)
            if found:
                listed = ", ".join(f"{b.id} ({b.type})" for b in found[:10])
                more = f" and {len(found) - 10} more" if len(found) > 10 else ""
                raise error(TRANSITION_FAILED, f"The VPC {c.vpc_id} cannot be put in enforce "
                            f"mode: {listed}{more} would carry unencrypted traffic. Use "
                            "GetVpcResourcesBlockingEncryptionEnforcement for the list.")
        changed = mode != c.mode
        with ctx.state.write() as w:
            c.mode, c.exclusions = mode, exclusions
            c.state, c.state_message = "available", "succeeded"
            w.save(c)
        # AWS answers the transition in progress and settles moments later; localvpc
        # settles at once, so Describe shows "available" right after.
        state = f"{mode.value}-in-progress" if changed else None
        return {"VpcEncryptionControl": control_view(c, state)}

    def DeleteVpcEncryptionControl(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        """Answers ``deleting``; the control is then gone from Describe (AWS drops it once
        deleted, which is what waiters for its removal expect)."""
        c = self._encryption_control(ctx, params["VpcEncryptionControlId"])
        with ctx.state.write() as w:
            del ctx.state.network.vpc_encryption_controls[c.id]
            w.deleted.append(("vpc_encryption_controls", c.id))
        return {"VpcEncryptionControl": control_view(c, "deleting")}

    def GetVpcResourcesBlockingEncryptionEnforcement(self, ctx: RequestContext,
                                                     params: dict[str, Any]) -> dict[str, Any]:
        """What keeps the VPC from enforce mode under its current exclusions (all of it when
        the VPC has no control)."""
        vpc_id = params["VpcId"]
        owned(ctx, "vpcs", vpc_id, "InvalidVpcID.NotFound", "vpc")
        net = ctx.state.network
        found = blockers(net, vpc_id, control_of(net, vpc_id))
        page, token = paginate(found, params, lambda b: b.id)
        return {"NonCompliantResources": [blocker_view(b) for b in page], "NextToken": token}


"""VPC Block Public Access (BPA): the account's mode per Region and its exclusions.

Kept in the model (not beside it) because the data plane enforces them: a packet through an
internet gateway or egress-only internet gateway is dropped when BPA blocks it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from localvpc.model.base import Resource


class BlockMode(StrEnum):
    """``InternetGatewayBlockMode``: the account's BPA mode in one Region."""

    OFF = "off"
    BIDIRECTIONAL = "block-bidirectional"
    INGRESS = "block-ingress"


class ExclusionMode(StrEnum):
    """``InternetGatewayExclusionMode``: what an exclusion lets through for its VPC/subnet."""

    BIDIRECTIONAL = "allow-bidirectional"
    EGRESS = "allow-egress"  # only matters while the account mode is block-bidirectional


def options_id(account: str, region: str) -> str:
    """The key of an account's options in a Region (AWS gives them no id of their own)."""
    return f"vpcbpa-options-{account}-{region}"


@dataclass(slots=True)
class VpcBlockPublicAccessOptions(Resource):
    """The BPA options of ``account`` in ``region``; ``id`` is ``options_id(...)``. Absent
    means AWS's ``default-state``: mode off."""

    internet_gateway_block_mode: BlockMode = BlockMode.OFF
    last_update: float | None = None  # epoch seconds


# Exclusion states in which the exclusion is in force.
LIVE_EXCLUSION_STATES = ("create-in-progress", "create-complete", "update-in-progress",
                         "update-complete")


@dataclass(slots=True)
class VpcBlockPublicAccessExclusion(Resource):
    """An exclusion (``vpcbpa-exclude-...``) of one VPC or one subnet from the account's
    mode. A deleted one stays visible as ``delete-complete``, as AWS shows it."""

    vpc_id: str | None = None
    subnet_id: str | None = None
    mode: ExclusionMode = ExclusionMode.BIDIRECTIONAL
    state: str = "create-complete"
    created: float | None = None
    last_update: float | None = None
    deleted: float | None = None

    @property
    def live(self) -> bool:
        return self.state in LIVE_EXCLUSION_STATES

    @property
    def resource_id(self) -> str:
        return self.subnet_id or self.vpc_id or ""

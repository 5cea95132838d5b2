"""Regions, availability zones, Local Zones, Wavelength zones and Outposts."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ZoneType(StrEnum):
    AVAILABILITY_ZONE = "availability-zone"
    LOCAL_ZONE = "local-zone"
    WAVELENGTH_ZONE = "wavelength-zone"


@dataclass(slots=True)
class Zone:
    """One zone as DescribeAvailabilityZones reports it."""

    name: str
    zone_id: str
    region: str
    zone_type: ZoneType = ZoneType.AVAILABILITY_ZONE
    group_name: str | None = None
    network_border_group: str | None = None
    parent_zone_name: str | None = None
    parent_zone_id: str | None = None
    opt_in_status: str = "opt-in-not-required"
    state: str = "available"
    group_long_name: str | None = None


@dataclass(slots=True)
class Outpost:
    """An Outpost rack anchored to an availability zone of its region."""

    id: str
    arn: str
    availability_zone: str
    availability_zone_id: str | None = None
    account: str = "000000000000"
    region: str = "us-east-1"

"""The zone catalogue and instance-type offerings, with the EC2 query semantics on them.

Data: ``localvpc/data/zones.json`` (Regions, Availability Zones, Local Zones, Wavelength
Zones) and ``localvpc/data/instance-type-offerings.json``. Every record there names its
public source and date; ``localvpc/data/README.md`` explains both files.

This module is pure Python with no HTTP. It answers the questions behind three EC2 actions,
following the rules in the project reference (``zones-and-pricing.md``):

* ``DescribeAvailabilityZones``: :func:`describe_zones` (AZ-1 to AZ-3),
* ``ModifyAvailabilityZoneGroup``: :func:`modify_zone_group` (OI-1 to OI-4),
* ``DescribeInstanceTypeOfferings``: :func:`describe_offerings` (IO-1 to IO-3).

Opt-in state belongs to the caller (it is per account and Region). These functions take the
set of opted-in group names and, for opt-in, return the new set.

Zone names of AZs in the oldest Regions are mapped to AZ ids per account (AZ-4). The
catalogue ships one published mapping per Region. ``ParentZoneName`` is derived from
``ParentZoneId`` through that mapping. Offerings are stored by zone id, which means the same
zone in every account, and are shown by zone name through the same mapping.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from typing import Any, Final

from localvpc.model.errors import CatalogError
from localvpc.model.zones import Zone, ZoneType

ZONES_FILE: Final = "zones.json"
OFFERINGS_FILE: Final = "instance-type-offerings.json"

#: ``OptInStatus`` values.
OPT_IN_NOT_REQUIRED: Final = "opt-in-not-required"
OPTED_IN: Final = "opted-in"
NOT_OPTED_IN: Final = "not-opted-in"

#: ``LocationType`` values of DescribeInstanceTypeOfferings (IO-1).
LOCATION_TYPES: Final = ("region", "availability-zone", "availability-zone-id", "outpost")

#: DescribeAvailabilityZones filter name -> response field (AZ-2). ``message`` is special.
_ZONE_FILTER_FIELDS: Final[Mapping[str, str]] = {
    "group-long-name": "GroupLongName",
    "group-name": "GroupName",
    "opt-in-status": "OptInStatus",
    "parent-zone-id": "ParentZoneId",
    "parent-zone-name": "ParentZoneName",
    "region-name": "RegionName",
    "state": "State",
    "zone-id": "ZoneId",
    "zone-name": "ZoneName",
    "zone-type": "ZoneType",
}
ZONE_FILTER_NAMES: Final = (*sorted(_ZONE_FILTER_FIELDS), "message")
OFFERING_FILTER_NAMES: Final = ("instance-type", "location")

_TYPE_RANK: Final[Mapping[ZoneType, int]] = {
    ZoneType.AVAILABILITY_ZONE: 0,
    ZoneType.LOCAL_ZONE: 1,
    ZoneType.WAVELENGTH_ZONE: 2,
}


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class CatalogSource:
    """One public source named by the data files."""

    key: str
    title: str
    as_of: str
    url: str | None = None
    path: str | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class RegionEntry:
    """A Region of the catalogue. ``availability_zones_known`` is False where only its
    Local Zones are catalogued (their parent AZs are then unknown too)."""

    name: str
    availability_zones_known: bool
    sources: tuple[str, ...]
    as_of: str
    zone_name_mapping: str | None = None


@dataclass(frozen=True, slots=True)
class ZoneEntry:
    """One zone as the catalogue stores it (immutable; :meth:`Catalog.zones` hands out
    mutable :class:`~localvpc.model.zones.Zone` copies)."""

    name: str
    zone_id: str
    zone_type: ZoneType
    region: str
    network_border_group: str
    sources: tuple[str, ...]
    as_of: str
    group_name: str | None = None
    group_long_name: str | None = None
    parent_zone_id: str | None = None
    parent_zone_name: str | None = None

    @property
    def opt_in_required(self) -> bool:
        return self.zone_type is not ZoneType.AVAILABILITY_ZONE


@dataclass(frozen=True, slots=True)
class ZoneGroup:
    """A zone group: the unit of opt-in (OI-4). AZ groups never need opt-in (OI-2)."""

    name: str
    region: str
    zone_type: ZoneType
    zone_names: tuple[str, ...]
    long_name: str | None = None

    @property
    def opt_in_required(self) -> bool:
        return self.zone_type is not ZoneType.AVAILABILITY_ZONE


@dataclass(frozen=True, slots=True)
class OfferingList:
    """The instance types known to be offered in one location, with provenance."""

    instance_types: tuple[str, ...]
    sources: tuple[str, ...]
    as_of: str


# --------------------------------------------------------------------------- JSON helpers


def _obj(value: object, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ValueError(f"{where}: expected a JSON object")
    return value


def _str(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: '{key}' must be a non-empty string")
    return value


def _opt_str(obj: Mapping[str, Any], key: str, where: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise ValueError(f"{where}: '{key}' must be a non-empty string when present")
    return value


def _str_tuple(value: object, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValueError(f"{where}: expected a list of non-empty strings")
    return tuple(value)


def _read_package_json(name: str) -> dict[str, Any]:
    text = (resources.files("localvpc") / "data" / name).read_text(encoding="utf-8")
    return _obj(json.loads(text), name)


# --------------------------------------------------------------------------- wildcards


@lru_cache(maxsize=512)
def _wildcard_regex(pattern: str) -> re.Pattern[str]:
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*?\\":
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        if char == "*":
            parts.append(".*")
        elif char == "?":
            parts.append(".")
        else:
            parts.append(re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def wildcard_match(pattern: str, value: str) -> bool:
    """EC2 filter-value matching: case-sensitive, ``*`` = any run of characters, ``?`` =
    exactly one, and a backslash makes the next ``*``, ``?`` or backslash literal."""
    return _wildcard_regex(pattern).fullmatch(value) is not None


def _matches_any(patterns: Iterable[str], values: Iterable[str]) -> bool:
    values = list(values)
    return any(wildcard_match(p, v) for p in patterns for v in values)


# --------------------------------------------------------------------------- catalogue


class Catalog:
    """The zone catalogue and offerings, loaded from the two data documents."""

    def __init__(self, zones_doc: Mapping[str, Any], offerings_doc: Mapping[str, Any]) -> None:
        self.sources: dict[str, CatalogSource] = {}
        self._regions: dict[str, RegionEntry] = {}
        self._zones: dict[str, list[ZoneEntry]] = {}
        self._region_offerings: dict[str, OfferingList] = {}
        self._zone_offerings: dict[str, dict[str, OfferingList]] = {}
        self._load_sources(zones_doc, ZONES_FILE)
        self._load_sources(offerings_doc, OFFERINGS_FILE)
        self._load_zones(zones_doc)
        self._load_offerings(offerings_doc)

    @classmethod
    def from_package(cls) -> Catalog:
        """The catalogue shipped in ``localvpc/data``."""
        return cls(_read_package_json(ZONES_FILE), _read_package_json(OFFERINGS_FILE))

    # ---------------------------------------------------------------- loading

    def _load_sources(self, doc: Mapping[str, Any], where: str) -> None:
        for key, raw in _obj(doc.get("sources"), f"{where}: sources").items():
            rec = _obj(raw, f"{where}: sources.{key}")
            here = f"{where}: sources.{key}"
            self.sources.setdefault(
                key,
                CatalogSource(
                    key=key,
                    title=_str(rec, "title", here),
                    as_of=_str(rec, "as_of", here),
                    url=_opt_str(rec, "url", here),
                    path=_opt_str(rec, "path", here),
                    note=_opt_str(rec, "note", here),
                ),
            )

    def _sources_of(self, rec: Mapping[str, Any], where: str) -> tuple[str, ...]:
        keys = _str_tuple(rec.get("source"), f"{where}: source")
        unknown = [k for k in keys if k not in self.sources]
        if not keys or unknown:
            raise ValueError(f"{where}: source must name known sources, got {list(keys)}")
        return keys

    def _load_zones(self, doc: Mapping[str, Any]) -> None:
        regions = doc.get("regions")
        if not isinstance(regions, list):
            raise ValueError(f"{ZONES_FILE}: 'regions' must be a list")
        for i, raw in enumerate(regions):
            where = f"{ZONES_FILE}: regions[{i}]"
            rec = _obj(raw, where)
            known = rec.get("availability_zones_known")
            if not isinstance(known, bool):
                raise ValueError(f"{where}: 'availability_zones_known' must be true or false")
            entry = RegionEntry(
                name=_str(rec, "name", where),
                availability_zones_known=known,
                sources=self._sources_of(rec, where),
                as_of=_str(rec, "as_of", where),
                zone_name_mapping=_opt_str(rec, "zone_name_mapping", where),
            )
            self._regions[entry.name] = entry
            self._zones[entry.name] = []

        zones = doc.get("zones")
        if not isinstance(zones, list):
            raise ValueError(f"{ZONES_FILE}: 'zones' must be a list")
        parsed: list[ZoneEntry] = []
        for i, raw in enumerate(zones):
            where = f"{ZONES_FILE}: zones[{i}]"
            rec = _obj(raw, where)
            region = _str(rec, "region", where)
            if region not in self._regions:
                raise ValueError(f"{where}: region {region!r} is not in 'regions'")
            try:
                zone_type = ZoneType(_str(rec, "type", where))
            except ValueError as exc:
                raise ValueError(f"{where}: unknown zone type {rec.get('type')!r}") from exc
            parsed.append(
                ZoneEntry(
                    name=_str(rec, "name", where),
                    zone_id=_str(rec, "zone_id", where),
                    zone_type=zone_type,
                    region=region,
                    network_border_group=_str(rec, "network_border_group", where),
                    sources=self._sources_of(rec, where),
                    as_of=_str(rec, "as_of", where),
                    group_name=_opt_str(rec, "group_name", where),
                    group_long_name=_opt_str(rec, "group_long_name", where),
                    parent_zone_id=_opt_str(rec, "parent_zone_id", where),
                )
            )
        names = [z.name for z in parsed]
        ids = [z.zone_id for z in parsed]
        if len(set(names)) != len(names) or len(set(ids)) != len(ids):
            raise ValueError(f"{ZONES_FILE}: zone names and zone ids must be unique")
        # ParentZoneName is the account's name for the parent zone id (AZ-4).
        az_name_by_id = {
            z.zone_id: z.name for z in parsed if z.zone_type is ZoneType.AVAILABILITY_ZONE
        }
        for zone in parsed:
            parent_name = az_name_by_id.get(zone.parent_zone_id or "")
            if parent_name is not None:
                zone = replace(zone, parent_zone_name=parent_name)
            self._zones[zone.region].append(zone)
        for entries in self._zones.values():
            entries.sort(key=lambda z: (_TYPE_RANK[z.zone_type], z.name))

    def _load_offerings(self, doc: Mapping[str, Any]) -> None:
        regions = _obj(doc.get("regions"), f"{OFFERINGS_FILE}: regions")
        for region, raw in regions.items():
            where = f"{OFFERINGS_FILE}: regions.{region}"
            if region not in self._regions:
                raise ValueError(f"{where}: Region is not in {ZONES_FILE}")
            rec = _obj(raw, where)
            if "region" in rec:
                self._region_offerings[region] = self._offering_list(
                    _obj(rec["region"], f"{where}.region"), f"{where}.region"
                )
            known_ids = {z.zone_id for z in self._zones[region]}
            per_zone: dict[str, OfferingList] = {}
            for zone_id, zraw in _obj(rec.get("zones", {}), f"{where}.zones").items():
                zwhere = f"{where}.zones.{zone_id}"
                if zone_id not in known_ids:
                    raise ValueError(f"{zwhere}: zone id is not in {ZONES_FILE} for {region}")
                per_zone[zone_id] = self._offering_list(_obj(zraw, zwhere), zwhere)
            self._zone_offerings[region] = per_zone

    def _offering_list(self, rec: Mapping[str, Any], where: str) -> OfferingList:
        types = _str_tuple(rec.get("instance_types"), f"{where}: instance_types")
        return OfferingList(
            instance_types=tuple(sorted(set(types))),
            sources=self._sources_of(rec, where),
            as_of=_str(rec, "as_of", where),
        )

    # ---------------------------------------------------------------- plain look-ups

    def regions(self) -> list[str]:
        """Names of the catalogued Regions, sorted."""
        return sorted(self._regions)

    def region(self, name: str) -> RegionEntry | None:
        return self._regions.get(name)

    def zone_entries(self, region: str) -> list[ZoneEntry]:
        """Every catalogued zone of ``region``: AZs, then Local Zones, then Wavelength Zones,
        each by name. An uncatalogued Region has none."""
        return list(self._zones.get(region, ()))

    def zones(self, region: str, opted_in_groups: Iterable[str] = ()) -> list[Zone]:
        """Every zone of ``region`` as a model :class:`Zone`, opt-in status applied."""
        opted = set(opted_in_groups)
        return [
            Zone(
                name=e.name,
                zone_id=e.zone_id,
                region=e.region,
                zone_type=e.zone_type,
                group_name=e.group_name,
                network_border_group=e.network_border_group,
                parent_zone_name=e.parent_zone_name,
                parent_zone_id=e.parent_zone_id,
                opt_in_status=_opt_in_status(e, opted),
                group_long_name=e.group_long_name,
            )
            for e in self._zones.get(region, ())
        ]

    def zone_groups(self, region: str) -> list[ZoneGroup]:
        """The zone groups of ``region`` with a known group name, sorted by name."""
        members: dict[str, list[ZoneEntry]] = {}
        for entry in self._zones.get(region, ()):
            if entry.group_name is not None:
                members.setdefault(entry.group_name, []).append(entry)
        groups: list[ZoneGroup] = []
        for name in sorted(members):
            entries = members[name]
            long_names = {e.group_long_name for e in entries if e.group_long_name}
            groups.append(
                ZoneGroup(
                    name=name,
                    region=region,
                    zone_type=entries[0].zone_type,
                    zone_names=tuple(e.name for e in entries),
                    long_name=long_names.pop() if len(long_names) == 1 else None,
                )
            )
        return groups

    def region_offerings(self, region: str) -> OfferingList | None:
        return self._region_offerings.get(region)

    def zone_offerings(self, region: str, zone_id: str) -> OfferingList | None:
        return self._zone_offerings.get(region, {}).get(zone_id)

    def offerings(self, location_type: str, region: str) -> list[tuple[str, str]]:
        """``(instance_type, location)`` pairs offered in ``region`` for ``location_type``
        (IO-1). ``location`` is the Region code, the zone name or the zone id. The
        catalogue holds no Outposts, so ``outpost`` gives none. Only locations with
        offering data appear; a zone without data is simply absent."""
        _check_location_type(location_type)
        if location_type == "region":
            listed = self._region_offerings.get(region)
            return [(t, region) for t in listed.instance_types] if listed else []
        if location_type == "outpost":
            return []
        pairs: list[tuple[str, str]] = []
        per_zone = self._zone_offerings.get(region, {})
        for entry in self._zones.get(region, ()):
            listed = per_zone.get(entry.zone_id)
            if listed is None:
                continue
            location = entry.name if location_type == "availability-zone" else entry.zone_id
            pairs.extend((t, location) for t in listed.instance_types)
        return pairs

    # ---------------------------------------------------------------- EC2 semantics

    def describe_zones(
        self,
        region: str,
        opted_in_groups: Iterable[str] = (),
        all_zones: bool = False,
        zone_names: Sequence[str] | None = None,
        zone_ids: Sequence[str] | None = None,
        filters: Mapping[str, Sequence[str]] | None = None,
    ) -> list[dict[str, Any]]:
        """``DescribeAvailabilityZones`` for one account in ``region``.

        * AZ-1: without ``all_zones`` the answer holds every AZ plus the Local and
          Wavelength Zones whose group is in ``opted_in_groups``; with it, every zone,
          each with its ``OptInStatus``.
        * AZ-2: filters (case-sensitive, ``*``/``?`` wildcards) OR within one filter's
          values and AND across filters. An unknown filter name is
          ``InvalidParameterValue`` (ASSUMED text).
        * AZ-3: every ``zone_names``/``zone_ids`` value must exist in the Region, else
          ``InvalidParameterValue``. Named zones are returned even when not opted in
          (ASSUMED). When both lists are given, a zone named by either is returned
          (ASSUMED).

        Fields the catalogue does not know (``GroupLongName``, ``ParentZoneId``, ...) are
        left out of the zone's dict rather than guessed.
        """
        filters = dict(filters or {})
        for name in filters:
            if name not in _ZONE_FILTER_FIELDS and name != "message":
                raise CatalogError("InvalidParameterValue", f"The filter '{name}' is invalid")
        entries = self._zones.get(region, [])
        names = list(zone_names or ())
        ids = list(zone_ids or ())
        known_names = {e.name for e in entries}
        known_ids = {e.zone_id for e in entries}
        for zone_name in names:
            if zone_name not in known_names:
                raise CatalogError(
                    "InvalidParameterValue", f"Invalid availability zone: [{zone_name}]"
                )
        for zone_id in ids:
            if zone_id not in known_ids:
                raise CatalogError(
                    "InvalidParameterValue", f"Invalid availability zone ID: [{zone_id}]"
                )
        opted = set(opted_in_groups)
        named = bool(names or ids)
        result: list[dict[str, Any]] = []
        for entry in entries:
            status = _opt_in_status(entry, opted)
            if named:
                if entry.name not in names and entry.zone_id not in ids:
                    continue
            elif status == NOT_OPTED_IN and not all_zones:
                continue
            item = _zone_dict(entry, status)
            if all(_zone_filter_matches(item, n, v) for n, v in filters.items()):
                result.append(item)
        return result

    def modify_zone_group(
        self,
        region: str,
        group: str,
        status: str,
        current: Iterable[str],
        *,
        allow_opt_out: bool = False,
    ) -> set[str]:
        """``ModifyAvailabilityZoneGroup``: the account's new set of opted-in groups.

        OI-1: both parameters are required (``MissingParameter``). OI-2: only Local and
        Wavelength Zone groups take opt-in; an AZ group (or the Region name, which older
        API versions return as the AZ group name) and an unknown group are
        ``InvalidParameterValue`` (ASSUMED). OI-3: ``not-opted-in`` is rejected unless
        ``allow_opt_out`` (the caller decides, e.g. when no resources use the group).
        OI-4: opt-in covers every zone of the group and repeating it is harmless.
        ``current`` is not modified.
        """
        if not group:
            raise CatalogError(
                "MissingParameter", "The request must contain the parameter GroupName"
            )
        if not status:
            raise CatalogError(
                "MissingParameter", "The request must contain the parameter OptInStatus"
            )
        if status not in (OPTED_IN, NOT_OPTED_IN):
            raise CatalogError(
                "InvalidParameterValue",
                f"Value ({status}) for parameter OptInStatus is invalid. "
                f"Valid values: {OPTED_IN}, {NOT_OPTED_IN}",
            )
        groups = {g.name: g for g in self.zone_groups(region)}
        found = groups.get(group)
        if group == region or (found is not None and not found.opt_in_required):
            raise CatalogError(
                "InvalidParameterValue",
                f"The zone group '{group}' is an Availability Zone group; Availability Zones "
                f"are always {OPT_IN_NOT_REQUIRED}",
            )
        if found is None:
            raise CatalogError(
                "InvalidParameterValue", f"The zone group '{group}' does not exist in {region}"
            )
        updated = set(current)
        if status == OPTED_IN:
            updated.add(group)
            return updated
        if not allow_opt_out:
            raise CatalogError(
                "InvalidParameterValue",
                f"Opting out of zone group '{group}' requires AWS Support; the only valid "
                f"value is {OPTED_IN}",
            )
        updated.discard(group)
        return updated

    def describe_offerings(
        self,
        location_type: str,
        region: str,
        opted_in_groups: Iterable[str] = (),
        filters: Mapping[str, Sequence[str]] | None = None,
    ) -> list[dict[str, str]]:
        """``DescribeInstanceTypeOfferings`` in ``region``.

        IO-1: ``location_type`` is one of :data:`LOCATION_TYPES` (else
        ``InvalidParameterValue``). IO-2: filters ``instance-type`` and ``location``,
        case-sensitive with ``*``/``?`` wildcards; a location of another type simply
        matches nothing. IO-3 (ASSUMED): offerings do not depend on opt-in, so
        ``opted_in_groups`` does not change the answer; it is accepted so callers pass the
        account state uniformly.
        """
        del opted_in_groups  # IO-3: catalogue data, independent of opt-in
        filters = dict(filters or {})
        for name in filters:
            if name not in OFFERING_FILTER_NAMES:
                raise CatalogError("InvalidParameterValue", f"The filter '{name}' is invalid")
        type_patterns = filters.get("instance-type")
        location_patterns = filters.get("location")
        result: list[dict[str, str]] = []
        for instance_type, location in self.offerings(location_type, region):
            if type_patterns is not None and not _matches_any(type_patterns, [instance_type]):
                continue
            if location_patterns is not None and not _matches_any(location_patterns, [location]):
                continue
            result.append(
                {"InstanceType": instance_type, "LocationType": location_type, "Location": location}
            )
        return result


# --------------------------------------------------------------------------- helpers


def _check_location_type(location_type: str) -> None:
    if location_type not in LOCATION_TYPES:
        raise CatalogError(
            "InvalidParameterValue",
            f"Value ({location_type}) for parameter LocationType is invalid. "
            f"Valid values: {', '.join(LOCATION_TYPES)}",
        )


def _opt_in_status(entry: ZoneEntry, opted_in_groups: set[str]) -> str:
    if not entry.opt_in_required:
        return OPT_IN_NOT_REQUIRED
    return OPTED_IN if entry.group_name in opted_in_groups else NOT_OPTED_IN


def _zone_dict(entry: ZoneEntry, status: str) -> dict[str, Any]:
    item: dict[str, Any] = {
        "State": "available",
        "OptInStatus": status,
        "Messages": [],
        "RegionName": entry.region,
        "ZoneName": entry.name,
        "ZoneId": entry.zone_id,
    }
    if entry.group_name is not None:
        item["GroupName"] = entry.group_name
    item["NetworkBorderGroup"] = entry.network_border_group
    item["ZoneType"] = entry.zone_type.value
    if entry.parent_zone_name is not None:
        item["ParentZoneName"] = entry.parent_zone_name
    if entry.parent_zone_id is not None:
        item["ParentZoneId"] = entry.parent_zone_id
    if entry.group_long_name is not None:
        item["GroupLongName"] = entry.group_long_name
    return item


def _zone_filter_matches(item: Mapping[str, Any], name: str, patterns: Sequence[str]) -> bool:
    if name == "message":
        values = [str(m.get("Message", "")) for m in item.get("Messages", [])]
    else:
        value = item.get(_ZONE_FILTER_FIELDS[name])
        values = [value] if isinstance(value, str) else []
    return _matches_any(patterns, values)


# --------------------------------------------------------------------------- module API


@lru_cache(maxsize=1)
def default_catalog() -> Catalog:
    """The shipped catalogue, loaded once."""
    return Catalog.from_package()


def zones(region: str, opted_in_groups: Iterable[str] = ()) -> list[Zone]:
    """Every catalogued zone of ``region`` (see :meth:`Catalog.zones`)."""
    return default_catalog().zones(region, opted_in_groups)


def zone_groups(region: str) -> list[ZoneGroup]:
    """The zone groups of ``region`` (see :meth:`Catalog.zone_groups`)."""
    return default_catalog().zone_groups(region)


def offerings(location_type: str, region: str) -> list[tuple[str, str]]:
    """``(instance_type, location)`` pairs (see :meth:`Catalog.offerings`)."""
    return default_catalog().offerings(location_type, region)


def describe_zones(
    region: str,
    opted_in_groups: Iterable[str] = (),
    all_zones: bool = False,
    zone_names: Sequence[str] | None = None,
    zone_ids: Sequence[str] | None = None,
    filters: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, Any]]:
    """DescribeAvailabilityZones (see :meth:`Catalog.describe_zones`)."""
    return default_catalog().describe_zones(
        region, opted_in_groups, all_zones, zone_names, zone_ids, filters
    )


def modify_zone_group(
    region: str,
    group: str,
    status: str,
    current: Iterable[str],
    *,
    allow_opt_out: bool = False,
) -> set[str]:
    """ModifyAvailabilityZoneGroup (see :meth:`Catalog.modify_zone_group`)."""
    return default_catalog().modify_zone_group(
        region, group, status, current, allow_opt_out=allow_opt_out
    )


def describe_offerings(
    location_type: str,
    region: str,
    opted_in_groups: Iterable[str] = (),
    filters: Mapping[str, Sequence[str]] | None = None,
) -> list[dict[str, str]]:
    """DescribeInstanceTypeOfferings (see :meth:`Catalog.describe_offerings`)."""
    return default_catalog().describe_offerings(location_type, region, opted_in_groups, filters)

"""The zone catalogue, opt-in and instance-type offerings (rules AZ-*, OI-*, IO-*)."""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import pytest

from localvpc.model import catalog
from localvpc.model.catalog import Catalog, wildcard_match
from localvpc.model.errors import CatalogError, LocalVpcError
from localvpc.model.zones import ZoneType

ATL = "us-east-1-atl-1"

#: The seed walk-through's DescribeAvailabilityZones entry after opting in to Atlanta.
SEED_ATLANTA = {
    "State": "available",
    "OptInStatus": "opted-in",
    "Messages": [],
    "RegionName": "us-east-1",
    "ZoneName": "us-east-1-atl-1a",
    "ZoneId": "use1-atl1-az1",
    "GroupName": "us-east-1-atl-1",
    "NetworkBorderGroup": "us-east-1-atl-1",
    "ZoneType": "local-zone",
    "ParentZoneName": "us-east-1d",
    "ParentZoneId": "use1-az4",
}


def _data(name: str) -> dict[str, Any]:
    text = (resources.files("localvpc") / "data" / name).read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


def _names(items: list[dict[str, Any]]) -> list[str]:
    return [z["ZoneName"] for z in items]


# ----------------------------------------------------------------- provenance


@pytest.mark.parametrize("name", ["zones.json", "instance-type-offerings.json"])
def test_every_source_has_a_location_and_a_date(name: str) -> None:
    sources = _data(name)["sources"]
    assert sources
    for key, src in sources.items():
        assert src.get("url") or src.get("path"), key
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", src["as_of"]), key


def test_every_zone_and_region_record_names_known_sources_and_a_date() -> None:
    doc = _data("zones.json")
    for rec in [*doc["regions"], *doc["zones"]]:
        assert rec["source"], rec
        assert set(rec["source"]) <= set(doc["sources"]), rec
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rec["as_of"]), rec


def test_every_offering_list_names_known_sources_and_a_date() -> None:
    doc = _data("instance-type-offerings.json")
    for region, entry in doc["regions"].items():
        lists = [entry["region"], *entry["zones"].values()]
        for rec in lists:
            assert set(rec["source"]) <= set(doc["sources"]), region
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rec["as_of"]), region
            assert rec["instance_types"], region


def test_catalogue_counts() -> None:
    cat = catalog.default_catalog()
    by_type: dict[ZoneType, int] = {}
    for region in cat.regions():
        for entry in cat.zone_entries(region):
            by_type[entry.zone_type] = by_type.get(entry.zone_type, 0) + 1
    assert by_type == {
        ZoneType.AVAILABILITY_ZONE: 13,  # us-east-1 a-f, us-east-2 a-c, us-west-2 a-d
        ZoneType.LOCAL_ZONE: 38,
        ZoneType.WAVELENGTH_ZONE: 6,
    }


def test_a_record_naming_an_unknown_source_is_rejected() -> None:
    zones_doc = _data("zones.json")
    zones_doc["zones"][0]["source"] = ["no-such-source"]
    with pytest.raises(ValueError, match="source"):
        Catalog(zones_doc, _data("instance-type-offerings.json"))


# ----------------------------------------------------------------- AZ-1: listing and opt-in


def test_fresh_account_sees_six_azs_and_no_local_zone() -> None:
    items = catalog.describe_zones("us-east-1")
    assert sorted(z["ZoneId"] for z in items) == [f"use1-az{i}" for i in range(1, 7)]
    assert {z["ZoneType"] for z in items} == {"availability-zone"}
    assert {z["OptInStatus"] for z in items} == {"opt-in-not-required"}
    assert {z["GroupName"] for z in items} == {"us-east-1-zg-1"}
    assert {z["NetworkBorderGroup"] for z in items} == {"us-east-1"}
    assert all("ParentZoneId" not in z for z in items)


def test_seed_atlanta_entry_appears_only_after_opt_in() -> None:
    assert "us-east-1-atl-1a" not in _names(catalog.describe_zones("us-east-1"))
    everything = catalog.describe_zones("us-east-1", all_zones=True)
    atlanta = next(z for z in everything if z["ZoneName"] == "us-east-1-atl-1a")
    assert atlanta["OptInStatus"] == "not-opted-in"

    opted = catalog.modify_zone_group("us-east-1", ATL, "opted-in", set())
    assert opted == {ATL}
    after = catalog.describe_zones("us-east-1", opted)
    atlanta = next(z for z in after if z["ZoneName"] == "us-east-1-atl-1a")
    # The seed's fields exactly, plus GroupLongName that newer API versions return.
    assert atlanta == {**SEED_ATLANTA, "GroupLongName": "US East (Atlanta)"}
    # Opting in to Atlanta does not reveal other Local Zones.
    assert [z["ZoneName"] for z in after if z["ZoneType"] != "availability-zone"] == [
        "us-east-1-atl-1a"
    ]


def test_all_zones_lists_every_local_and_wavelength_zone_with_its_status() -> None:
    items = catalog.describe_zones("us-east-1", {ATL}, all_zones=True)
    statuses = {z["ZoneName"]: z["OptInStatus"] for z in items}
    assert len(items) == 6 + 20 + 6
    assert statuses["us-east-1-atl-1a"] == "opted-in"
    assert statuses["us-east-1-bos-1a"] == "not-opted-in"
    assert statuses["us-east-1-wl1-bos-wlz-1"] == "not-opted-in"
    assert statuses["us-east-1a"] == "opt-in-not-required"


def test_opt_in_covers_every_zone_of_the_group() -> None:
    opted = catalog.modify_zone_group("us-west-2", "us-west-2-lax-1", "opted-in", set())
    local = [z for z in catalog.describe_zones("us-west-2", opted) if z["ZoneType"] == "local-zone"]
    assert _names(local) == ["us-west-2-lax-1a", "us-west-2-lax-1b"]
    assert {z["GroupLongName"] for z in local} == {"US West (Los Angeles)"}


def test_wavelength_group_opt_in_reveals_its_zones() -> None:
    opted = catalog.modify_zone_group("us-east-1", "us-east-1-wl1", "opted-in", set())
    wave = [
        z
        for z in catalog.describe_zones("us-east-1", opted)
        if z["ZoneType"] != "availability-zone"
    ]
    assert len(wave) == 6
    assert {z["GroupName"] for z in wave} == {"us-east-1-wl1"}
    boston = next(z for z in wave if z["ZoneName"] == "us-east-1-wl1-bos-wlz-1")
    assert boston["NetworkBorderGroup"] == "us-east-1-wl1-bos-wlz-1"
    assert "ParentZoneId" not in boston  # unknown, so absent


def test_unknown_facts_are_absent_rather_than_guessed() -> None:
    items = catalog.describe_zones("us-east-1", all_zones=True, zone_names=["us-east-1-iah-1a"])
    assert items[0]["GroupName"] == "us-east-1-iah-1"
    assert "GroupLongName" not in items[0]
    assert "ParentZoneId" not in items[0] and "ParentZoneName" not in items[0]


def test_parent_zone_name_follows_the_shipped_name_mapping() -> None:
    by_id = {z["ZoneId"]: z["ZoneName"] for z in catalog.describe_zones("us-east-1")}
    for item in catalog.describe_zones("us-east-1", all_zones=True):
        if "ParentZoneId" in item:
            assert item["ParentZoneName"] == by_id[item["ParentZoneId"]]
    qro = catalog.describe_zones("us-east-1", zone_names=["us-east-1-qro-1a"])[0]
    assert (qro["ParentZoneId"], qro["ParentZoneName"]) == ("use1-az1", "us-east-1b")


def test_zones_returns_model_zones_with_opt_in_applied() -> None:
    zones = {z.name: z for z in catalog.zones("us-east-1", {ATL})}
    atlanta = zones["us-east-1-atl-1a"]
    assert atlanta.zone_type is ZoneType.LOCAL_ZONE
    assert atlanta.opt_in_status == "opted-in"
    assert atlanta.group_long_name == "US East (Atlanta)"
    assert atlanta.parent_zone_name == "us-east-1d"
    assert zones["us-east-1-bos-1a"].opt_in_status == "not-opted-in"
    assert zones["us-east-1a"].opt_in_status == "opt-in-not-required"
    zones["us-east-1a"].state = "impaired"  # a copy: the catalogue is unaffected
    assert catalog.zones("us-east-1")[0].state == "available"


def test_zone_groups_of_a_region() -> None:
    groups = {g.name: g for g in catalog.zone_groups("us-west-2")}
    assert groups["us-west-2-zg-1"].opt_in_required is False
    assert groups["us-west-2-zg-1"].zone_names == (
        "us-west-2a",
        "us-west-2b",
        "us-west-2c",
        "us-west-2d",
    )
    assert groups["us-west-2-lax-1"].opt_in_required is True
    assert groups["us-west-2-lax-1"].long_name == "US West (Los Angeles)"
    assert catalog.zone_groups("eu-west-9") == []


def test_region_with_only_local_zones_catalogued() -> None:
    cat = catalog.default_catalog()
    entry = cat.region("eu-central-1")
    assert entry is not None and entry.availability_zones_known is False
    assert _names(cat.describe_zones("eu-central-1", all_zones=True)) == [
        "eu-central-1-ham-1a",
        "eu-central-1-waw-1a",
    ]


# ----------------------------------------------------------------- AZ-2: filters


def test_filters_parent_zone_and_type_together() -> None:
    items = catalog.describe_zones(
        "us-east-1",
        all_zones=True,
        filters={"parent-zone-id": ["use1-az4"], "zone-type": ["local-zone"]},
    )
    assert _names(items) == ["us-east-1-atl-1a", "us-east-1-bos-1a", "us-east-1-dfw-2a"]


def test_filter_values_or_together_and_filters_and_together() -> None:
    either = catalog.describe_zones(
        "us-east-1", all_zones=True, filters={"zone-id": ["use1-az1", "use1-atl1-az1"]}
    )
    assert _names(either) == ["us-east-1b", "us-east-1-atl-1a"]
    both = catalog.describe_zones(
        "us-east-1",
        all_zones=True,
        filters={"zone-id": ["use1-az1", "use1-atl1-az1"], "zone-type": ["local-zone"]},
    )
    assert _names(both) == ["us-east-1-atl-1a"]


def test_filter_wildcards_and_case_sensitivity() -> None:
    atl = catalog.describe_zones("us-east-1", all_zones=True, filters={"zone-name": ["*-atl-?a"]})
    assert _names(atl) == ["us-east-1-atl-1a", "us-east-1-atl-2a"]
    upper = catalog.describe_zones(
        "us-east-1", all_zones=True, filters={"zone-type": ["Local-Zone"]}
    )
    assert upper == []
    status = catalog.describe_zones(
        "us-east-1", {ATL}, all_zones=True, filters={"opt-in-status": ["opted-in"]}
    )
    assert _names(status) == ["us-east-1-atl-1a"]
    long_name = catalog.describe_zones(
        "us-east-1", all_zones=True, filters={"group-long-name": ["US East (Atlanta)*"]}
    )
    assert _names(long_name) == ["us-east-1-atl-1a", "us-east-1-atl-2a"]


def test_message_filter_and_missing_fields_match_nothing() -> None:
    assert catalog.describe_zones("us-east-1", all_zones=True, filters={"message": ["*"]}) == []
    azs = catalog.describe_zones("us-east-1", filters={"parent-zone-name": ["*"]})
    assert azs == []


def test_unknown_filter_name_is_invalid_parameter_value() -> None:
    with pytest.raises(CatalogError) as err:
        catalog.describe_zones("us-east-1", filters={"zone-colour": ["red"]})
    assert err.value.code == "InvalidParameterValue"
    assert isinstance(err.value, LocalVpcError)


# ----------------------------------------------------------------- AZ-3: names and ids


def test_unknown_zone_name_is_invalid_parameter_value() -> None:
    with pytest.raises(CatalogError) as err:
        catalog.describe_zones("us-east-1", zone_names=["us-east-1-zz-9z"])
    assert err.value.code == "InvalidParameterValue"
    assert err.value.message == "Invalid availability zone: [us-east-1-zz-9z]"


def test_zone_of_another_region_is_unknown_here() -> None:
    with pytest.raises(CatalogError) as err:
        catalog.describe_zones("us-east-1", zone_names=["us-west-2a"])
    assert err.value.code == "InvalidParameterValue"
    with pytest.raises(CatalogError):
        catalog.describe_zones("us-east-1", zone_ids=["usw2-az1"])


def test_named_zones_are_returned_even_when_not_opted_in() -> None:
    items = catalog.describe_zones("us-east-1", zone_names=["us-east-1-atl-1a", "us-east-1c"])
    assert {z["ZoneName"]: z["OptInStatus"] for z in items} == {
        "us-east-1c": "opt-in-not-required",
        "us-east-1-atl-1a": "not-opted-in",
    }
    by_id = catalog.describe_zones("us-east-1", zone_ids=["use1-az4"])
    assert _names(by_id) == ["us-east-1d"]


# ----------------------------------------------------------------- OI: opt-in


def test_opt_in_to_an_az_group_is_rejected() -> None:
    for group in ("us-east-1-zg-1", "us-east-1"):
        with pytest.raises(CatalogError) as err:
            catalog.modify_zone_group("us-east-1", group, "opted-in", set())
        assert err.value.code == "InvalidParameterValue"


def test_opt_in_to_an_unknown_group_is_rejected() -> None:
    with pytest.raises(CatalogError) as err:
        catalog.modify_zone_group("us-east-1", "us-east-1-xyz-1", "opted-in", set())
    assert err.value.code == "InvalidParameterValue"
    with pytest.raises(CatalogError):  # a group of another Region
        catalog.modify_zone_group("us-east-1", "us-west-2-lax-1", "opted-in", set())


def test_opt_in_parameters_are_required_and_checked() -> None:
    with pytest.raises(CatalogError) as err:
        catalog.modify_zone_group("us-east-1", "", "opted-in", set())
    assert err.value.code == "MissingParameter"
    with pytest.raises(CatalogError) as err:
        catalog.modify_zone_group("us-east-1", ATL, "", set())
    assert err.value.code == "MissingParameter"
    with pytest.raises(CatalogError) as err:
        catalog.modify_zone_group("us-east-1", ATL, "yes", set())
    assert err.value.code == "InvalidParameterValue"


def test_opt_in_is_idempotent_and_does_not_mutate_its_input() -> None:
    current = {ATL}
    again = catalog.modify_zone_group("us-east-1", ATL, "opted-in", current)
    assert again == {ATL}
    more = catalog.modify_zone_group("us-east-1", "us-east-1-bos-1", "opted-in", current)
    assert more == {ATL, "us-east-1-bos-1"}
    assert current == {ATL}


def test_opt_out_needs_explicit_permission() -> None:
    with pytest.raises(CatalogError) as err:
        catalog.modify_zone_group("us-east-1", ATL, "not-opted-in", {ATL})
    assert err.value.code == "InvalidParameterValue"
    assert (
        catalog.modify_zone_group("us-east-1", ATL, "not-opted-in", {ATL}, allow_opt_out=True)
        == set()
    )


# ----------------------------------------------------------------- IO: offerings


def _types(items: list[dict[str, str]]) -> set[str]:
    return {o["InstanceType"] for o in items}


def test_seed_offerings_query_for_atlanta() -> None:
    items = catalog.describe_offerings(
        "availability-zone", "us-east-1", set(), {"location": ["us-east-1-atl-1a"]}
    )
    assert {
        "InstanceType": "t3.medium",
        "LocationType": "availability-zone",
        "Location": "us-east-1-atl-1a",
    } in items
    assert _types(items) == {"t3.medium", "t3.xlarge", "m6i.xlarge"}
    assert {o["Location"] for o in items} == {"us-east-1-atl-1a"}


def test_atlanta_offerings_differ_from_us_east_1a() -> None:
    atl = _types(
        catalog.describe_offerings(
            "availability-zone", "us-east-1", set(), {"location": ["us-east-1-atl-1a"]}
        )
    )
    az_a = _types(
        catalog.describe_offerings(
            "availability-zone", "us-east-1", set(), {"location": ["us-east-1a"]}
        )
    )
    assert atl != az_a
    assert "t3.medium" in az_a
    assert len(az_a) > 100 > len(atl)


def test_offerings_do_not_depend_on_opt_in() -> None:
    query = {"location": ["us-east-1-atl-1a"]}
    before = catalog.describe_offerings("availability-zone", "us-east-1", set(), query)
    after = catalog.describe_offerings("availability-zone", "us-east-1", {ATL}, query)
    assert before == after != []


def test_location_of_the_wrong_type_matches_nothing() -> None:
    assert (
        catalog.describe_offerings("region", "us-east-1", set(), {"location": ["us-east-1-atl-1a"]})
        == []
    )
    by_id = catalog.describe_offerings(
        "availability-zone-id", "us-east-1", set(), {"location": ["use1-atl1-az1"]}
    )
    assert _types(by_id) == {"t3.medium", "t3.xlarge", "m6i.xlarge"}
    assert {o["LocationType"] for o in by_id} == {"availability-zone-id"}


def test_offerings_by_name_follow_the_zone_id_mapping() -> None:
    by_name: dict[str, set[str]] = {}
    for itype, loc in catalog.offerings("availability-zone", "us-east-1"):
        by_name.setdefault(loc, set()).add(itype)
    by_id: dict[str, set[str]] = {}
    for itype, loc in catalog.offerings("availability-zone-id", "us-east-1"):
        by_id.setdefault(loc, set()).add(itype)
    ids = {z["ZoneName"]: z["ZoneId"] for z in catalog.describe_zones("us-east-1", all_zones=True)}
    assert by_name.keys() == {name for name, zid in ids.items() if zid in by_id}
    for name, types in by_name.items():
        assert types == by_id[ids[name]]
    # use1-az3 is the small, older zone; the shipped mapping calls it us-east-1e.
    assert len(by_name["us-east-1e"]) < 100


def test_instance_type_filter_supports_wildcards() -> None:
    t3 = catalog.describe_offerings("region", "us-east-1", set(), {"instance-type": ["t3.*"]})
    assert _types(t3) >= {"t3.nano", "t3.medium", "t3.2xlarge"}
    assert all(t.startswith("t3.") for t in _types(t3))
    one_char = catalog.describe_offerings(
        "region", "us-east-1", set(), {"instance-type": ["t3.?large"]}
    )
    assert _types(one_char) == {"t3.xlarge"}
    assert (
        catalog.describe_offerings("region", "us-east-1", set(), {"instance-type": ["T3.*"]}) == []
    )


def test_region_offerings_hold_the_cli_documentation_examples() -> None:
    listed = {t for t, _ in catalog.offerings("region", "us-east-2")}
    assert {"m5.2xlarge", "t3.micro", "c5.xlarge", "c5n.metal", "c5d.24xlarge"} <= listed


def test_bad_location_type_and_filter_are_rejected() -> None:
    with pytest.raises(CatalogError) as err:
        catalog.describe_offerings("zone", "us-east-1", set(), None)
    assert err.value.code == "InvalidParameterValue"
    with pytest.raises(CatalogError):
        catalog.describe_offerings("region", "us-east-1", set(), {"vcpu": ["2"]})
    assert catalog.describe_offerings("outpost", "us-east-1", set(), None) == []


def test_uncatalogued_region_has_no_zones_or_offerings() -> None:
    assert catalog.describe_zones("eu-west-9", all_zones=True) == []
    assert catalog.offerings("region", "eu-west-9") == []


# ----------------------------------------------------------------- wildcard helper


@pytest.mark.parametrize(
    ("pattern", "value", "expected"),
    [
        ("t3.*", "t3.medium", True),
        ("t3.*", "t3a.medium", False),
        ("us-east-1?", "us-east-1a", True),
        ("us-east-1?", "us-east-1-atl-1a", False),
        ("a.b", "axb", False),  # '.' is literal
        (r"a\*", "a*", True),
        (r"a\*", "ab", False),
        ("*", "", True),
        ("US*", "us-east-1", False),
    ],
)
def test_wildcard_match(pattern: str, value: str, expected: bool) -> None:
    assert wildcard_match(pattern, value) is expected

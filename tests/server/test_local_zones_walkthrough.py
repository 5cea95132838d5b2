"""The seed's first walk-through (Local Zones article), with the AWS CLI as printed there."""

from __future__ import annotations

import json

from conftest import Server


def test_opt_in_then_describe_shows_the_atlanta_local_zone(fresh: Server) -> None:
    before = fresh.aws("ec2", "describe-availability-zones", "--region", "us-east-1")
    assert "us-east-1-atl-1a" not in [z["ZoneName"] for z in before["AvailabilityZones"]]
    every = fresh.aws("ec2", "describe-availability-zones", "--region", "us-east-1",
                      "--all-availability-zones")
    atl = next(z for z in every["AvailabilityZones"] if z["ZoneName"] == "us-east-1-atl-1a")
    assert atl["OptInStatus"] == "not-opted-in"
    out = fresh.aws("ec2", "modify-availability-zone-group", "--region", "us-east-1",
                    "--group-name", "us-east-1-atl-1", "--opt-in-status", "opted-in")
    assert out == {"Return": True}
    after = fresh.aws("ec2", "describe-availability-zones", "--region", "us-east-1")
    atl = next(z for z in after["AvailabilityZones"] if z["ZoneName"] == "us-east-1-atl-1a")
    expected = {"State": "available", "OptInStatus": "opted-in", "Messages": [],
                "RegionName": "us-east-1", "ZoneName": "us-east-1-atl-1a",
                "ZoneId": "use1-atl1-az1", "GroupName": "us-east-1-atl-1",
                "NetworkBorderGroup": "us-east-1-atl-1", "ZoneType": "local-zone",
                "ParentZoneName": "us-east-1d", "ParentZoneId": "use1-az4"}
    assert {k: atl[k] for k in expected} == expected


def test_instance_type_offerings_in_the_local_zone(fresh: Server) -> None:
    fresh.aws("ec2", "modify-availability-zone-group", "--region", "us-east-1",
              "--group-name", "us-east-1-atl-1", "--opt-in-status", "opted-in")
    out = fresh.aws("ec2", "describe-instance-type-offerings", "--location-type",
                    "availability-zone", "--filters", "Name=location,Values=us-east-1-atl-1a",
                    "--region", "us-east-1")
    offers = out["InstanceTypeOfferings"]
    assert offers and {o["Location"] for o in offers} == {"us-east-1-atl-1a"}
    assert "t3.medium" in {o["InstanceType"] for o in offers}
    region = fresh.aws("ec2", "describe-instance-type-offerings", "--location-type",
                       "availability-zone", "--filters", "Name=location,Values=us-east-1a",
                       "--region", "us-east-1")["InstanceTypeOfferings"]
    assert {o["InstanceType"] for o in region} != {o["InstanceType"] for o in offers}


def test_pricing_get_products_in_atlanta(fresh: Server) -> None:
    # The article's command runs as printed. localvpc ships only prices with a public source
    # (src/localvpc/data/README.md); t3.medium in Atlanta is answered from that data, and a
    # user's imported offer file (localvpc pricing import) adds the rest.
    out = fresh.aws("pricing", "get-products", "--format-version", "aws_v1", "--service-code",
                    "AmazonEC2", "--region", "us-east-1",
                    "--filters", "Type=TERM_MATCH,Field=instanceType,Value=t3.medium",
                    "Type=TERM_MATCH,Field=location,Value=US East (Atlanta)")
    assert out["FormatVersion"] == "aws_v1"
    for raw in out["PriceList"]:
        attrs = json.loads(raw)["product"]["attributes"]
        assert (attrs["instanceType"], attrs["location"]) == ("t3.medium", "US East (Atlanta)")
    shipped = fresh.aws("pricing", "get-products", "--format-version", "aws_v1",
                        "--service-code", "AmazonEC2", "--region", "us-east-1",
                        "--filters", "Type=TERM_MATCH,Field=instanceType,Value=t3.xlarge",
                        "Type=TERM_MATCH,Field=regionCode,Value=us-east-1-atl-1")
    items = [json.loads(p) for p in shipped["PriceList"]]
    assert len(items) == 1
    assert items[0]["product"]["attributes"]["location"] == "US East (Atlanta)"
    (term,) = items[0]["terms"]["OnDemand"].values()
    (dimension,) = term["priceDimensions"].values()
    assert float(dimension["pricePerUnit"]["USD"]) > 0 and dimension["unit"] == "Hrs"

"""``localvpc pricing import``: an AWS bulk offer file, imported into the state, is what
GetProducts answers from (boto3 and the AWS CLI), next to the shipped prices."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import Server, start_server, stop_server

VERSION = "20240612181532"
FRANKFURT = "EU (Frankfurt)"


def product(sku: str, instance_type: str, location: str, region: str) -> dict[str, Any]:
    return {
        "sku": sku,
        "productFamily": "Compute Instance",
        "attributes": {
            "servicecode": "AmazonEC2", "location": location, "locationType": "AWS Region",
            "instanceType": instance_type, "currentGeneration": "Yes",
            "instanceFamily": "General purpose", "vcpu": "2", "memory": "8 GiB",
            "tenancy": "Shared", "operatingSystem": "Linux", "preInstalledSw": "NA",
            "capacitystatus": "Used", "licenseModel": "No License required",
            "usagetype": f"EUC1-BoxUsage:{instance_type}", "operation": "RunInstances",
            "regionCode": region, "servicename": "Amazon Elastic Compute Cloud",
        },
    }


def on_demand(sku: str, usd: str, instance_type: str) -> dict[str, Any]:
    term = f"{sku}.JRTCKXETXF"
    rate = f"{term}.6YS6EN2CT7"
    return {term: {
        "offerTermCode": "JRTCKXETXF", "sku": sku, "effectiveDate": "2024-06-01T00:00:00Z",
        "priceDimensions": {rate: {
            "rateCode": rate,
            "description": f"${usd} per On Demand Linux {instance_type} Instance Hour",
            "beginRange": "0", "endRange": "Inf", "unit": "Hrs",
            "pricePerUnit": {"USD": usd}, "appliesTo": [],
        }},
        "termAttributes": {},
    }}


def offer(products: list[tuple[str, str, str]], version: str = VERSION,
          region: str = "eu-central-1", location: str = FRANKFURT) -> dict[str, Any]:
    """An offer file in AWS's bulk format (``.../AmazonEC2/<version>/<region>/index.json``)."""
    return {
        "formatVersion": "v1.0",
        "disclaimer": "This pricing list is for informational purposes only.",
        "offerCode": "AmazonEC2",
        "version": version,
        "publicationDate": "2024-06-12T18:15:32Z",
        "products": {sku: product(sku, itype, location, region) for sku, itype, _ in products},
        "terms": {"OnDemand": {sku: on_demand(sku, usd, itype) for sku, itype, usd in products}},
        "attributesList": {},
    }


OFFER = offer([("LVPCT7IL4RGEM2XA", "m7i.large", "0.1160000000"),
               ("LVPCT7IX9KQ2D8ZB", "m7i.xlarge", "0.2320000000"),
               ("LVPCT6GM3WXN5E4C", "m6g.medium", "0.0460000000")])


def pricing_import(file: Path, state: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "localvpc", "pricing", "import", str(file),
                           "--state", str(state)], capture_output=True, text=True, timeout=120)


def write(path: Path, doc: object) -> Path:
    path.write_text(json.dumps(doc, indent=1), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def priced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    d = tmp_path_factory.mktemp("priced")
    p = pricing_import(write(d / "index.json", OFFER), d / "state.db")
    assert p.returncode == 0, p.stderr
    assert "imported 3 products of AmazonEC2 version " + VERSION in p.stdout
    s = start_server(d / "state.db")
    yield s
    stop_server(s)


def tm(field: str, value: str) -> dict[str, str]:
    return {"Type": "TERM_MATCH", "Field": field, "Value": value}


def usd(item: dict[str, Any]) -> str:
    (term,) = item["terms"]["OnDemand"].values()
    (dimension,) = term["priceDimensions"].values()
    price: str = dimension["pricePerUnit"]["USD"]
    return price


def test_boto3_get_products_answers_from_the_imported_offer(priced: Server) -> None:
    pricing = priced.client("pricing", "us-east-1")
    out = pricing.get_products(ServiceCode="AmazonEC2", FormatVersion="aws_v1",
                               Filters=[tm("location", FRANKFURT)])
    items = {json.loads(raw)["product"]["sku"]: json.loads(raw) for raw in out["PriceList"]}
    assert set(items) == set(OFFER["products"])
    large = items["LVPCT7IL4RGEM2XA"]
    assert large["product"] == OFFER["products"]["LVPCT7IL4RGEM2XA"]
    assert large["terms"] == {"OnDemand": OFFER["terms"]["OnDemand"]["LVPCT7IL4RGEM2XA"]}
    assert (large["serviceCode"], large["version"], large["publicationDate"]) == (
        "AmazonEC2", VERSION, "2024-06-12T18:15:32Z")
    assert usd(large) == "0.1160000000"
    one = pricing.get_products(ServiceCode="AmazonEC2",
                               Filters=[tm("instanceType", "m6g.medium"),
                                        tm("regionCode", "eu-central-1")])["PriceList"]
    assert [usd(json.loads(raw)) for raw in one] == ["0.0460000000"]
    values = pricing.get_attribute_values(ServiceCode="AmazonEC2",
                                          AttributeName="instanceType")["AttributeValues"]
    assert {"Value": "m7i.xlarge"} in values


def test_aws_cli_get_products_and_shipped_prices_stay(priced: Server) -> None:
    out = priced.aws("pricing", "get-products", "--format-version", "aws_v1", "--service-code",
                     "AmazonEC2", "--region", "us-east-1", "--filters",
                     "Type=TERM_MATCH,Field=instanceType,Value=m7i.xlarge",
                     "Type=TERM_MATCH,Field=location,Value=EU (Frankfurt)")
    (item,) = [json.loads(raw) for raw in out["PriceList"]]
    assert item["product"]["sku"] == "LVPCT7IX9KQ2D8ZB" and usd(item) == "0.2320000000"
    shipped = priced.aws("pricing", "get-products", "--format-version", "aws_v1",
                         "--service-code", "AmazonEC2", "--region", "us-east-1", "--filters",
                         "Type=TERM_MATCH,Field=instanceType,Value=t3.xlarge",
                         "Type=TERM_MATCH,Field=regionCode,Value=us-east-1-atl-1")
    assert len(shipped["PriceList"]) == 1


def test_import_into_a_running_server_is_answered_without_restart(
        priced: Server, tmp_path: Path) -> None:
    # AWS publishes one file per region for the same offer and version: they add up.
    paris = offer([("LVPCT7IPAR1S0001", "m7i.large", "0.1210000000")], region="eu-west-3",
                  location="EU (Paris)")
    p = pricing_import(write(tmp_path / "paris.json", paris), priced.state)
    assert p.returncode == 0, p.stderr
    assert "(4 stored for that offer and version)" in p.stdout
    pricing = priced.client("pricing", "us-east-1")
    found = pricing.get_products(ServiceCode="AmazonEC2",
                                 Filters=[tm("instanceType", "m7i.large")])["PriceList"]
    by_location = {json.loads(raw)["product"]["attributes"]["location"]: usd(json.loads(raw))
                   for raw in found}
    assert by_location[FRANKFURT] == "0.1160000000"
    assert by_location["EU (Paris)"] == "0.1210000000"


def test_reimport_is_idempotent(tmp_path: Path) -> None:
    file = write(tmp_path / "index.json", OFFER)
    for _ in range(2):
        p = pricing_import(file, tmp_path / "state.db")
        assert p.returncode == 0, p.stderr
        assert "(3 stored for that offer and version)" in p.stdout


@pytest.mark.parametrize("content", [
    "{not json",
    json.dumps({"formatVersion": "v1.0", "offerCode": "AmazonEC2", "version": VERSION,
                "products": [], "terms": {}}),
    json.dumps({"formatVersion": "v1.0", "products": {}, "terms": {}}),
    json.dumps(["an", "array"]),
])
def test_bad_offer_file_exits_2_naming_the_file(tmp_path: Path, content: str) -> None:
    file = tmp_path / "bad-offer.json"
    file.write_text(content, encoding="utf-8")
    p = pricing_import(file, tmp_path / "state.db")
    assert p.returncode == 2, p.stdout
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("localvpc: error: "), p.stderr
    assert str(file) in lines[0]


def test_missing_offer_file_exits_2(tmp_path: Path) -> None:
    file = tmp_path / "nowhere.json"
    p = pricing_import(file, tmp_path / "state.db")
    assert p.returncode == 2
    lines = p.stderr.strip().splitlines()
    assert len(lines) == 1 and str(file) in lines[0]

"""Price List Query API semantics over the shipped and imported offer files (rules PL-*)."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from localvpc.model.errors import LocalVpcError, PricingError
from localvpc.model.pricing import PriceList

EC2 = "AmazonEC2"


def tm(field: str, value: str) -> dict[str, str]:
    return {"Type": "TERM_MATCH", "Field": field, "Value": value}


def _items(raw: list[str]) -> list[dict[str, Any]]:
    parsed = [json.loads(s) for s in raw]
    assert all(isinstance(s, str) for s in raw)  # PL-2: each element is a JSON string
    return parsed


def _only_on_demand_price(item: dict[str, Any]) -> dict[str, Any]:
    (term,) = item["terms"]["OnDemand"].values()
    (dimension,) = term["priceDimensions"].values()
    assert isinstance(dimension, dict)
    return dimension


@pytest.fixture
def shipped() -> PriceList:
    return PriceList.shipped()


def _shipped_docs() -> dict[str, dict[str, Any]]:
    folder = resources.files("localvpc") / "data" / "prices"
    return {
        e.name: json.loads(e.read_text("utf-8"))
        for e in folder.iterdir()
        if e.name.endswith(".json")
    }


# ----------------------------------------------------------------- shipped data


def test_every_shipped_product_names_its_source_and_date() -> None:
    docs = _shipped_docs()
    assert set(docs) == {"AmazonEC2.json", "AmazonEC2.awscli-example.json"}
    skus = []
    for doc in docs.values():
        for sku in doc["products"]:
            source = doc["localvpc_sources"][sku]
            assert source["source"]
            assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", source["as_of"])
            # Made-up keys are marked; real AWS SKUs are recorded as such.
            if sku.startswith("LOCALVPC-"):
                assert source["aws_sku"] is None
            else:
                assert source["aws_sku"] == sku
            skus.append(sku)
    assert len(skus) == 5
    assert [s for s in skus if not s.startswith("LOCALVPC-")] == ["3MKHN58N7RDDVGKJ"]


def test_shipped_price_list_keeps_each_products_source(shipped: PriceList) -> None:
    product = shipped.product(EC2, "LOCALVPC-EC2-USE1-T3MEDIUM-LINUX")
    assert product is not None and product.source is not None
    assert "aws.amazon.com/ec2/pricing/on-demand" in product.source["source"]


# ----------------------------------------------------------------- GetProducts: seed and E4


def test_t3_medium_linux_on_demand_in_us_east_1(shipped: PriceList) -> None:
    raw, token = shipped.get_products(
        EC2,
        [
            tm("instanceType", "t3.medium"),
            tm("regionCode", "us-east-1"),
            tm("operatingSystem", "Linux"),
            tm("tenancy", "Shared"),
            tm("capacitystatus", "Used"),
            tm("preInstalledSw", "NA"),
        ],
        "aws_v1",
    )
    assert token is None
    (item,) = _items(raw)
    assert set(item) == {"product", "serviceCode", "terms", "version", "publicationDate"}
    assert item["serviceCode"] == EC2
    assert item["product"]["attributes"]["location"] == "US East (N. Virginia)"
    dimension = _only_on_demand_price(item)
    # Source (localvpc_sources): aws.amazon.com/ec2/pricing/on-demand via the reference.
    assert dimension["pricePerUnit"] == {"USD": "0.0416000000"}
    assert dimension["unit"] == "Hrs"
    assert dimension["rateCode"].endswith(".JRTCKXETXF.6YS6EN2CT7")


def test_seed_query_t3_medium_in_atlanta_has_no_shipped_product(shipped: PriceList) -> None:
    # No public source gives the Atlanta t3.medium price, so nothing is shipped for it and
    # the answer is empty in both filter styles the seed uses (unknown -> not in answer).
    by_location, _ = shipped.get_products(
        EC2, [tm("instanceType", "t3.medium"), tm("location", "US East (Atlanta)")]
    )
    by_region_code, _ = shipped.get_products(
        EC2, [tm("instanceType", "t3.medium"), tm("regionCode", "us-east-1-atl-1")]
    )
    assert by_location == by_region_code == []


def test_atlanta_products_answer_to_location_and_region_code_alike(shipped: PriceList) -> None:
    by_location, _ = shipped.get_products(EC2, [tm("location", "US East (Atlanta)")])
    by_region_code, _ = shipped.get_products(EC2, [tm("regionCode", "us-east-1-atl-1")])
    assert by_location == by_region_code
    items = {i["product"]["attributes"]["instanceType"]: i for i in _items(by_location)}
    assert set(items) == {"t3.xlarge", "m6i.xlarge"}
    t3 = items["t3.xlarge"]
    assert t3["product"]["attributes"]["locationType"] == "AWS Local Zone"
    # Source: third-party listing observed 2026-04-10 (reference, "Known prices").
    assert _only_on_demand_price(t3)["pricePerUnit"] == {"USD": "0.2816000000"}


def test_real_aws_example_item_is_reproduced_exactly(shipped: PriceList) -> None:
    awscli = pytest.importorskip("awscli")
    rst = Path(awscli.__file__).parent / "examples" / "pricing" / "get-products.rst"
    if not rst.is_file():
        pytest.skip("awscli examples are not installed")
    text = rst.read_text("utf-8")
    body = text[text.index("Output::") + len("Output::") :]
    example = json.loads(json.loads(body[body.index("{") :])["PriceList"][0])
    raw, _ = shipped.get_products(
        EC2,
        [
            {"Type": "TERM_MATCH", "Field": "ServiceCode", "Value": "AmazonEC2"},
            {"Type": "TERM_MATCH", "Field": "volumeType", "Value": "Provisioned IOPS"},
        ],
        max_results=1,
    )
    (item,) = _items(raw)
    assert item == example


# ----------------------------------------------------------------- filters


def test_filters_and_together(shipped: PriceList) -> None:
    windows, _ = shipped.get_products(EC2, [tm("operatingSystem", "Windows")])
    t3_medium, _ = shipped.get_products(EC2, [tm("instanceType", "t3.medium")])
    both, _ = shipped.get_products(
        EC2, [tm("operatingSystem", "Windows"), tm("instanceType", "t3.medium")]
    )
    assert len(windows) == 3 and len(t3_medium) == 1
    assert both == []


def test_filter_types(shipped: PriceList) -> None:
    def count(*filters: dict[str, str]) -> int:
        return len(shipped.get_products(EC2, list(filters))[0])

    assert count(tm("operatingSystem", "linux")) == 1  # TERM_MATCH ignores case
    assert count({"Type": "EQUALS", "Field": "operatingSystem", "Value": "linux"}) == 0
    assert count({"Type": "EQUALS", "Field": "operatingSystem", "Value": "Linux"}) == 1
    assert count({"Type": "CONTAINS", "Field": "location", "Value": "US East"}) == 3
    any_of = {"Type": "ANY_OF", "Field": "instanceType", "Value": "t3.medium, m5.xlarge"}
    assert count(any_of) == 2
    none_of = {"Type": "NONE_OF", "Field": "operatingSystem", "Value": "Windows"}
    assert count(none_of) == 1  # the io1 product has no operatingSystem: no match
    assert count(tm("productFamily", "Storage")) == 1
    assert count(tm("noSuchAttribute", "x")) == 0
    assert count(tm("ServiceCode", "AmazonS3")) == 0


def test_local_zone_products_lack_unstated_attributes(shipped: PriceList) -> None:
    # tenancy is not stated by the Atlanta source, so a tenancy filter cannot match it.
    raw, _ = shipped.get_products(
        EC2, [tm("location", "US East (Atlanta)"), tm("tenancy", "Shared")]
    )
    assert raw == []


# ----------------------------------------------------------------- importing a bulk offer file


def _offer(skus: list[str], offer_code: str = EC2, price: str = "0.1000000000") -> dict[str, Any]:
    """A small offer file in AWS's bulk price-list format (test SKUs, test prices)."""
    products = {}
    on_demand: dict[str, Any] = {}
    reserved: dict[str, Any] = {}
    for i, sku in enumerate(skus):
        products[sku] = {
            "sku": sku,
            "productFamily": "Compute Instance",
            "attributes": {
                "servicecode": offer_code,
                "location": "US East (Atlanta)",
                "locationType": "AWS Local Zone",
                "regionCode": "us-east-1-atl-1",
                "instanceType": f"c5.{['large', 'xlarge', '2xlarge', '4xlarge', '9xlarge'][i]}",
                "operatingSystem": "Linux",
                "tenancy": "Shared",
            },
        }
        od_key = f"{sku}.JRTCKXETXF"
        on_demand[sku] = {
            od_key: {
                "offerTermCode": "JRTCKXETXF",
                "sku": sku,
                "effectiveDate": "2026-01-01T00:00:00Z",
                "priceDimensions": {
                    f"{od_key}.6YS6EN2CT7": {
                        "rateCode": f"{od_key}.6YS6EN2CT7",
                        "description": "test price",
                        "beginRange": "0",
                        "endRange": "Inf",
                        "unit": "Hrs",
                        "pricePerUnit": {"USD": price},
                        "appliesTo": [],
                    }
                },
                "termAttributes": {},
            }
        }
        ri_key = f"{sku}.4NA7Y494T4"
        reserved[sku] = {
            ri_key: {
                "offerTermCode": "4NA7Y494T4",
                "sku": sku,
                "effectiveDate": "2026-01-01T00:00:00Z",
                "priceDimensions": {},
                "termAttributes": {
                    "LeaseContractLength": "1yr",
                    "OfferingClass": "standard",
                    "PurchaseOption": "No Upfront",
                },
            }
        }
    return {
        "formatVersion": "v1.0",
        "disclaimer": "test offer",
        "offerCode": offer_code,
        "version": "20260101000000",
        "publicationDate": "2026-01-01T00:00:00Z",
        "products": products,
        "terms": {"OnDemand": on_demand, "Reserved": reserved},
    }


def _write(tmp_path: Path, name: str, doc: dict[str, Any]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


TEST_SKUS = [f"TESTSKU{i}AAAAAAAAA" for i in range(5)]


def test_imported_offer_file_adds_products(shipped: PriceList, tmp_path: Path) -> None:
    before = len(shipped)
    assert shipped.import_offer_file(_write(tmp_path, "offer.json", _offer(TEST_SKUS[:2]))) == 2
    assert len(shipped) == before + 2
    raw, _ = shipped.get_products(
        EC2, [tm("regionCode", "us-east-1-atl-1"), tm("tenancy", "Shared")]
    )
    items = _items(raw)
    assert [i["product"]["sku"] for i in items] == TEST_SKUS[:2]
    first = items[0]
    assert set(first["terms"]) == {"OnDemand", "Reserved"}
    assert first["version"] == "20260101000000"
    assert first["publicationDate"] == "2026-01-01T00:00:00Z"
    assert _only_on_demand_price(first)["pricePerUnit"] == {"USD": "0.1000000000"}
    # The shipped Atlanta products are still there next to the imported ones.
    raw_all, _ = shipped.get_products(EC2, [tm("location", "US East (Atlanta)")])
    assert len(raw_all) == 4


def test_reimport_replaces_a_sku_and_new_services_appear(tmp_path: Path) -> None:
    prices = PriceList()
    prices.import_offer_file(_write(tmp_path, "a.json", _offer(TEST_SKUS[:1])))
    prices.import_offer_file(_write(tmp_path, "b.json", _offer(TEST_SKUS[:1], price="0.2")))
    (item,) = _items(prices.get_products(EC2)[0])
    assert _only_on_demand_price(item)["pricePerUnit"] == {"USD": "0.2"}
    prices.import_offer_file(_write(tmp_path, "c.json", _offer(TEST_SKUS[:1], "AmazonTest")))
    assert prices.service_codes() == ["AmazonEC2", "AmazonTest"]
    assert len(prices) == 2


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"products": []}',
        '{"offerCode": "X", "products": {"A": {"sku": "B", "attributes": {}}}}',
        '{"offerCode": "X", "products": {"A": {"attributes": {"n": 1}}}}',
        '{"products": {"A": {"attributes": {}}}}',
        '{"offerCode": "X", "products": {}, "terms": {"OnDemand": []}}',
    ],
)
def test_malformed_offer_files_are_rejected(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(PricingError) as err:
        PriceList().import_offer_file(path)
    assert err.value.code == "InvalidOfferFile"
    assert isinstance(err.value, LocalVpcError)


# ----------------------------------------------------------------- pagination and errors


def test_pagination_with_max_results_and_next_token(tmp_path: Path) -> None:
    prices = PriceList()
    prices.import_offer_file(_write(tmp_path, "offer.json", _offer(TEST_SKUS)))
    query = [tm("location", "US East (Atlanta)")]
    seen: list[str] = []
    sizes: list[int] = []
    token: str | None = None
    while True:
        raw, token = prices.get_products(EC2, query, max_results=2, next_token=token)
        sizes.append(len(raw))
        seen.extend(i["product"]["sku"] for i in _items(raw))
        if token is None:
            break
    assert sizes == [2, 2, 1]
    assert seen == TEST_SKUS


def test_next_token_belongs_to_its_query(tmp_path: Path) -> None:
    prices = PriceList()
    prices.import_offer_file(_write(tmp_path, "offer.json", _offer(TEST_SKUS)))
    _, token = prices.get_products(EC2, [tm("location", "US East (Atlanta)")], max_results=1)
    assert token is not None
    with pytest.raises(PricingError) as err:
        prices.get_products(EC2, [tm("instanceType", "c5.large")], max_results=1, next_token=token)
    assert err.value.code == "InvalidNextTokenException"
    with pytest.raises(PricingError) as err:
        prices.get_products(EC2, None, next_token="%%% not a token %%%")
    assert err.value.code == "InvalidNextTokenException"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"max_results": 0}, "InvalidParameterException"),
        ({"max_results": 101}, "InvalidParameterException"),
        ({"format_version": "aws_v2"}, "InvalidParameterException"),
        ({"service_code": ""}, "InvalidParameterException"),
        ({"service_code": "AmazonNothing"}, "NotFoundException"),
        ({"filters": [{"Type": "FUZZY", "Field": "a", "Value": "b"}]}, "InvalidParameterException"),
        ({"filters": [{"Type": "TERM_MATCH", "Value": "b"}]}, "InvalidParameterException"),
        ({"filters": [tm("location", "x")] * 51}, "InvalidParameterException"),
    ],
)
def test_get_products_errors(shipped: PriceList, kwargs: dict[str, Any], code: str) -> None:
    args: dict[str, Any] = {"service_code": EC2, **kwargs}
    with pytest.raises(PricingError) as err:
        shipped.get_products(**args)
    assert err.value.code == code


# ----------------------------------------------------------------- DescribeServices, attributes


def test_describe_services(shipped: PriceList) -> None:
    (service,) = shipped.describe_services(EC2)
    assert service["ServiceCode"] == EC2
    names = service["AttributeNames"]
    assert {"instanceType", "location", "regionCode", "productFamily", "volumeType"} <= set(names)
    assert names == sorted(names)
    assert shipped.describe_services() == [service]
    with pytest.raises(PricingError) as err:
        shipped.describe_services("AmazonNothing")
    assert err.value.code == "NotFoundException"


def test_get_attribute_values(shipped: PriceList) -> None:
    assert shipped.get_attribute_values(EC2, "regionCode") == [
        {"Value": "us-east-1"},
        {"Value": "us-east-1-atl-1"},
        {"Value": "us-west-2-lax-1"},
    ]
    assert shipped.get_attribute_values(EC2, "productFamily") == [
        {"Value": "Compute Instance"},
        {"Value": "Storage"},
    ]
    with pytest.raises(PricingError) as err:
        shipped.get_attribute_values(EC2, "noSuchAttribute")
    assert err.value.code == "NotFoundException"

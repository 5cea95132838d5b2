"""AWS Price List Query API semantics (GetProducts, DescribeServices, GetAttributeValues).

Products come from offer files in AWS's bulk price-list JSON format: the files shipped in
``localvpc/data/prices/`` (see ``localvpc/data/README.md`` for their sources and dates)
plus any real AWS offer file given to :meth:`PriceList.import_offer_file`. This module is
pure Python with no HTTP; it follows rules PL-2 to PL-5 of the project reference.

An offer file looks like this (only the keys read here are shown)::

    {"offerCode": "AmazonEC2", "version": "...", "publicationDate": "...",
     "products": {"<sku>": {"sku": "<sku>", "productFamily": "...", "attributes": {...}}},
     "terms": {"OnDemand": {"<sku>": {"<sku>.<offerTermCode>": {term}}}, "Reserved": {...}}}

Each GetProducts result is the JSON *string* AWS returns:
``{"product": {...}, "serviceCode": ..., "terms": {"OnDemand": {...}}, "version": ...,
"publicationDate": ...}``. A product that no offer file holds is simply not in the answer.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any, Final

from localvpc.model.errors import PricingError

#: The only FormatVersion the API accepts (PL-2).
FORMAT_VERSION: Final = "aws_v1"
#: GetProducts limits (PL-2).
MAX_RESULTS_LIMIT: Final = 100
MAX_FILTERS: Final = 50
FILTER_TYPES: Final = ("TERM_MATCH", "EQUALS", "CONTAINS", "ANY_OF", "NONE_OF")
#: Filter field naming the service rather than an attribute.
SERVICE_CODE_FIELD: Final = "ServiceCode"
#: Product field (not an attribute) that filters and DescribeServices also expose.
PRODUCT_FAMILY_FIELD: Final = "productFamily"
#: Top-level key of localvpc-compiled offer files naming each product's source and date.
SOURCES_KEY: Final = "localvpc_sources"

# Error codes (PL-4).
INVALID_PARAMETER: Final = "InvalidParameterException"
NOT_FOUND: Final = "NotFoundException"
INVALID_NEXT_TOKEN: Final = "InvalidNextTokenException"
#: localvpc's own code for an offer file that cannot be read.
INVALID_OFFER_FILE: Final = "InvalidOfferFile"


@dataclass(slots=True)
class PriceListProduct:
    """One SKU with its terms, as read from one offer file."""

    sku: str
    service_code: str
    product_family: str | None
    attributes: dict[str, str]
    terms: dict[str, dict[str, Any]] = field(default_factory=dict)
    version: str | None = None
    publication_date: str | None = None
    source: dict[str, Any] | None = None

    def field_value(self, name: str) -> str | None:
        """The value a filter on ``name`` sees (None: the product lacks the field)."""
        if name == SERVICE_CODE_FIELD:
            return self.service_code
        if name == PRODUCT_FAMILY_FIELD:
            return self.product_family
        return self.attributes.get(name)

    def to_price_list_item(self) -> dict[str, Any]:
        """The price-list item as AWS shapes it (before JSON encoding)."""
        product: dict[str, Any] = {}
        if self.product_family is not None:
            product["productFamily"] = self.product_family
        product["attributes"] = dict(self.attributes)
        product["sku"] = self.sku
        item: dict[str, Any] = {
            "product": product,
            "serviceCode": self.service_code,
            "terms": {kind: dict(terms) for kind, terms in self.terms.items()},
        }
        if self.version is not None:
            item["version"] = self.version
        if self.publication_date is not None:
            item["publicationDate"] = self.publication_date
        return item


@dataclass(frozen=True, slots=True)
class PriceFilter:
    """One GetProducts filter, validated."""

    type: str
    field: str
    value: str

    def matches(self, product: PriceListProduct) -> bool:
        actual = product.field_value(self.field)
        if actual is None:  # unknown field or missing attribute: no match (ASSUMED)
            return False
        if self.type == "TERM_MATCH":  # case-insensitive in practice (ASSUMED)
            return actual.casefold() == self.value.casefold()
        if self.type == "EQUALS":
            return actual == self.value
        if self.type == "CONTAINS":
            return self.value in actual
        choices = {part.strip() for part in self.value.split(",")}  # ASSUMED list syntax
        if self.type == "ANY_OF":
            return actual in choices
        return actual not in choices  # NONE_OF


def parse_filters(filters: Iterable[Mapping[str, Any]] | None) -> list[PriceFilter]:
    """Validate GetProducts filters (``{Type, Field, Value}``), raising
    ``InvalidParameterException`` for a malformed one or more than 50."""
    parsed: list[PriceFilter] = []
    for i, raw in enumerate(filters or ()):
        if not isinstance(raw, Mapping):
            raise PricingError(INVALID_PARAMETER, f"Filter {i + 1} must be an object")
        ftype, fname, fvalue = raw.get("Type"), raw.get("Field"), raw.get("Value")
        if ftype not in FILTER_TYPES:
            raise PricingError(
                INVALID_PARAMETER,
                f"Filter {i + 1}: Type must be one of {', '.join(FILTER_TYPES)}, got {ftype!r}",
            )
        if not isinstance(fname, str) or not fname:
            raise PricingError(INVALID_PARAMETER, f"Filter {i + 1}: Field is required")
        if not isinstance(fvalue, str):
            raise PricingError(INVALID_PARAMETER, f"Filter {i + 1}: Value is required")
        parsed.append(PriceFilter(type=ftype, field=fname, value=fvalue))
    if len(parsed) > MAX_FILTERS:
        raise PricingError(INVALID_PARAMETER, f"At most {MAX_FILTERS} filters are allowed")
    return parsed


class PriceList:
    """Products and terms from any number of offer files, queried like the Price List API.

    A later file replaces an earlier file's product with the same service code and SKU,
    terms included.
    """

    def __init__(self) -> None:
        self._products: dict[tuple[str, str], PriceListProduct] = {}

    # ---------------------------------------------------------------- loading

    @classmethod
    def shipped(cls) -> PriceList:
        """A price list holding the offer files shipped in ``localvpc/data/prices``."""
        price_list = cls()
        folder = resources.files("localvpc") / "data" / "prices"
        for entry in sorted(folder.iterdir(), key=lambda e: e.name):
            if entry.name.endswith(".json") and entry.is_file():
                doc = json.loads(entry.read_text(encoding="utf-8"))
                price_list.import_offer(doc, origin=f"localvpc/data/prices/{entry.name}")
        return price_list

    def import_offer_file(self, path: str | PathLike[str]) -> int:
        """Merge an AWS bulk offer file (JSON) into this price list.

        Returns the number of products read. A file that is not JSON or not in the offer
        format raises :class:`PricingError` with code ``InvalidOfferFile``.
        """
        file = Path(path)
        try:
            doc = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise PricingError(
                INVALID_OFFER_FILE, f"{file}: cannot read offer file: {exc}"
            ) from exc
        return self.import_offer(doc, origin=str(file))

    def import_offer(self, doc: object, origin: str = "<offer>") -> int:
        """Merge an already-decoded offer document; see :meth:`import_offer_file`."""
        if not isinstance(doc, dict):
            raise PricingError(INVALID_OFFER_FILE, f"{origin}: the offer must be a JSON object")
        products = doc.get("products")
        if not isinstance(products, dict):
            raise PricingError(INVALID_OFFER_FILE, f"{origin}: 'products' must be an object")
        terms = doc.get("terms", {})
        if not isinstance(terms, dict) or not all(isinstance(t, dict) for t in terms.values()):
            raise PricingError(
                INVALID_OFFER_FILE, f"{origin}: 'terms' must map term types to objects"
            )
        offer_code = _opt_text(doc, "offerCode", origin)
        version = _opt_text(doc, "version", origin)
        publication_date = _opt_text(doc, "publicationDate", origin)
        sources = doc.get(SOURCES_KEY, {})
        if not isinstance(sources, dict):
            raise PricingError(INVALID_OFFER_FILE, f"{origin}: '{SOURCES_KEY}' must be an object")

        loaded: list[PriceListProduct] = []
        for key, raw in products.items():
            where = f"{origin}: products.{key}"
            if not isinstance(raw, dict):
                raise PricingError(INVALID_OFFER_FILE, f"{where} must be an object")
            sku = raw.get("sku", key)
            if not isinstance(sku, str) or sku != key:
                raise PricingError(INVALID_OFFER_FILE, f"{where}: 'sku' must equal its key")
            attributes = raw.get("attributes", {})
            if not isinstance(attributes, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in attributes.items()
            ):
                raise PricingError(
                    INVALID_OFFER_FILE, f"{where}: 'attributes' must map names to strings"
                )
            service_code = offer_code or attributes.get("servicecode")
            if not service_code:
                raise PricingError(
                    INVALID_OFFER_FILE, f"{where}: no offerCode and no servicecode attribute"
                )
            family = raw.get("productFamily")
            if family is not None and not isinstance(family, str):
                raise PricingError(INVALID_OFFER_FILE, f"{where}: 'productFamily' must be a string")
            source = sources.get(sku)
            loaded.append(
                PriceListProduct(
                    sku=sku,
                    service_code=service_code,
                    product_family=family,
                    attributes=dict(attributes),
                    terms=_terms_for(terms, sku, origin),
                    version=version,
                    publication_date=publication_date,
                    source=dict(source) if isinstance(source, dict) else None,
                )
            )
        for product in loaded:
            self._products[(product.service_code, product.sku)] = product
        return len(loaded)

    # ---------------------------------------------------------------- queries

    def __len__(self) -> int:
        return len(self._products)

    def service_codes(self) -> list[str]:
        return sorted({code for code, _ in self._products})

    def product(self, service_code: str, sku: str) -> PriceListProduct | None:
        return self._products.get((service_code, sku))

    def get_products(
        self,
        service_code: str,
        filters: Iterable[Mapping[str, Any]] | None = None,
        format_version: str | None = FORMAT_VERSION,
        max_results: int | None = None,
        next_token: str | None = None,
    ) -> tuple[list[str], str | None]:
        """GetProducts: ``(PriceList, NextToken)``.

        Every filter must match (AND). ``TERM_MATCH`` compares case-insensitively
        (ASSUMED), ``EQUALS`` exactly, ``CONTAINS`` by substring, ``ANY_OF``/``NONE_OF``
        against a comma-separated list (ASSUMED syntax). A filter on a field the product
        lacks does not match. Results are in SKU order, at most ``max_results`` (1-100,
        default 100) per page; ``next_token`` continues the same query only.

        Errors (PL-4): ``InvalidParameterException`` (missing ServiceCode, bad
        FormatVersion, MaxResults out of range, bad filter), ``NotFoundException``
        (service code without products), ``InvalidNextTokenException``.
        """
        if not service_code:
            raise PricingError(INVALID_PARAMETER, "ServiceCode is required")
        _check_format_version(format_version)
        page_size = _page_size(max_results)
        parsed = parse_filters(filters)
        if service_code not in self.service_codes():
            raise PricingError(NOT_FOUND, f"Service code {service_code} was not found")
        fingerprint = _fingerprint(service_code, parsed)
        offset = _decode_token(next_token, fingerprint) if next_token else 0
        matching = sorted(
            (
                p
                for (code, _), p in self._products.items()
                if code == service_code and all(f.matches(p) for f in parsed)
            ),
            key=lambda p: p.sku,
        )
        if offset > len(matching):
            raise PricingError(INVALID_NEXT_TOKEN, "The NextToken is no longer valid")
        page = matching[offset : offset + page_size]
        items = [
            json.dumps(p.to_price_list_item(), separators=(",", ":"), ensure_ascii=False)
            for p in page
        ]
        end = offset + len(page)
        token = _encode_token(end, fingerprint) if end < len(matching) else None
        return items, token

    def describe_services(
        self, service_code: str | None = None, format_version: str | None = FORMAT_VERSION
    ) -> list[dict[str, Any]]:
        """DescribeServices: ``[{ServiceCode, AttributeNames}]`` for one or every service.

        ``AttributeNames`` are the attribute names found on the service's products, plus
        ``productFamily``. An unknown service code is ``NotFoundException`` (ASSUMED).
        """
        _check_format_version(format_version)
        codes = self.service_codes()
        if service_code is not None:
            if service_code not in codes:
                raise PricingError(NOT_FOUND, f"Service code {service_code} was not found")
            codes = [service_code]
        return [
            {"ServiceCode": code, "AttributeNames": self._attribute_names(code)} for code in codes
        ]

    def get_attribute_values(self, service_code: str, attribute_name: str) -> list[dict[str, str]]:
        """GetAttributeValues: ``[{Value}]``, sorted and distinct. An unknown service code
        or attribute name is ``NotFoundException`` (ASSUMED for the attribute)."""
        if service_code not in self.service_codes():
            raise PricingError(NOT_FOUND, f"Service code {service_code} was not found")
        if attribute_name not in self._attribute_names(service_code):
            raise PricingError(
                NOT_FOUND, f"Attribute {attribute_name} was not found for {service_code}"
            )
        values = {
            value
            for (code, _), p in self._products.items()
            if code == service_code and (value := p.field_value(attribute_name)) is not None
        }
        return [{"Value": v} for v in sorted(values)]

    def _attribute_names(self, service_code: str) -> list[str]:
        names: set[str] = set()
        for (code, _), product in self._products.items():
            if code == service_code:
                names.update(product.attributes)
                if product.product_family is not None:
                    names.add(PRODUCT_FAMILY_FIELD)
        return sorted(names)


# --------------------------------------------------------------------------- helpers


def _opt_text(doc: Mapping[str, Any], key: str, origin: str) -> str | None:
    value = doc.get(key)
    if value is not None and not isinstance(value, str):
        raise PricingError(INVALID_OFFER_FILE, f"{origin}: '{key}' must be a string")
    return value


def _terms_for(terms: Mapping[str, Any], sku: str, origin: str) -> dict[str, dict[str, Any]]:
    """The terms of one SKU, by term type (``OnDemand``, ``Reserved``, ...)."""
    found: dict[str, dict[str, Any]] = {}
    for kind, by_sku in terms.items():
        if not isinstance(by_sku, dict):
            raise PricingError(INVALID_OFFER_FILE, f"{origin}: terms.{kind} must be an object")
        sku_terms = by_sku.get(sku)
        if sku_terms is None:
            continue
        if not isinstance(sku_terms, dict) or not all(
            isinstance(t, dict) for t in sku_terms.values()
        ):
            raise PricingError(
                INVALID_OFFER_FILE, f"{origin}: terms.{kind}.{sku} must map term keys to objects"
            )
        found[str(kind)] = dict(sku_terms)
    return found


def _check_format_version(format_version: str | None) -> None:
    if format_version is not None and format_version != FORMAT_VERSION:
        raise PricingError(
            INVALID_PARAMETER, f"FormatVersion must be {FORMAT_VERSION}, got {format_version!r}"
        )


def _page_size(max_results: int | None) -> int:
    if max_results is None:
        return MAX_RESULTS_LIMIT
    if isinstance(max_results, bool) or not 1 <= max_results <= MAX_RESULTS_LIMIT:
        raise PricingError(
            INVALID_PARAMETER, f"MaxResults must be between 1 and {MAX_RESULTS_LIMIT}"
        )
    return max_results


def _fingerprint(service_code: str, filters: Sequence[PriceFilter]) -> str:
    canonical = json.dumps(
        [service_code, sorted([f.type, f.field, f.value] for f in filters)],
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]


def _encode_token(offset: int, fingerprint: str) -> str:
    raw = json.dumps({"o": offset, "q": fingerprint}, separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode("utf-8")).decode("ascii")


def _decode_token(token: str, fingerprint: str) -> int:
    try:
        decoded = json.loads(base64.urlsafe_b64decode(token.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise PricingError(INVALID_NEXT_TOKEN, "The NextToken is not valid") from exc
    if (
        not isinstance(decoded, dict)
        or decoded.get("q") != fingerprint
        or not isinstance(decoded.get("o"), int)
        or decoded["o"] < 0
    ):
        raise PricingError(INVALID_NEXT_TOKEN, "The NextToken does not belong to this query")
    offset: int = decoded["o"]
    return offset

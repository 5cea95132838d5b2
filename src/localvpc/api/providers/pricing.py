"""The Price List API (service ``pricing``): GetProducts, DescribeServices, GetAttributeValues.

AWS serves it only in us-east-1 and ap-south-1 (PL rules); elsewhere the endpoint does not
exist, which we answer like an unreachable endpoint would be reported by the SDK's service.

Prices are the offer files shipped with localvpc plus every AWS bulk offer file imported into
the server's store (``localvpc pricing import``, :func:`import_offer_file`): each is kept as
meta ``pricing/offer/<offerCode>/<version>`` (a compact copy of the offer; files of the same
offer and version, such as AWS's per-region files, are merged), and meta ``pricing/offers``
lists them with a revision that every import bumps. The provider builds its price list on first
use and again whenever that revision changes, so an import is answered without a restart.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, Final

from localvpc.api.context import RequestContext
from localvpc.api.protocols.request import ServiceError
from localvpc.api.registry import Provider
from localvpc.model.errors import PricingError
from localvpc.model.pricing import INVALID_OFFER_FILE, PriceList
from localvpc.store import Store

PRICING_REGIONS = ("us-east-1", "ap-south-1")

#: Meta key prefix of stored offers: ``pricing/offer/<offerCode>/<version>``.
OFFER_PREFIX: Final = "pricing/offer/"
#: Meta key of the index of stored offers: ``{"revision": n, "offers": {key: products}}``.
OFFER_INDEX: Final = "pricing/offers"
#: The parts of an offer file that GetProducts answers from.
_OFFER_FIELDS: Final = ("formatVersion", "offerCode", "version", "publicationDate")


@dataclass(frozen=True, slots=True)
class ImportedOffer:
    """The result of an import: the offer's key, and products read and now stored under it."""

    key: str
    offer_code: str
    version: str
    products_read: int
    products_stored: int


def offer_key(offer_code: str, version: str) -> str:
    return f"{OFFER_PREFIX}{offer_code}/{version}"


def import_offer_file(store: Store, path: str | PathLike[str]) -> ImportedOffer:
    """Validate an AWS bulk offer file and store it (merged with the same offer and version).

    Raises ``PricingError`` (code ``InvalidOfferFile``, message naming the file) for a file
    that cannot be read or is not an offer, and ``StoreError`` when the store fails.
    """
    file = Path(path)
    try:
        doc = json.loads(file.read_bytes().decode("utf-8-sig"))
    except OSError as exc:
        raise PricingError(INVALID_OFFER_FILE,
                           f"{file}: cannot read offer file: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise PricingError(INVALID_OFFER_FILE, f"{file}: not UTF-8 text (bad byte at offset "
                           f"{exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise PricingError(INVALID_OFFER_FILE, f"{file}: not JSON: {exc.msg} at line "
                           f"{exc.lineno}, column {exc.colno}") from exc
    except (ValueError, RecursionError) as exc:
        raise PricingError(INVALID_OFFER_FILE, f"{file}: not JSON: {exc}") from exc
    read = PriceList().import_offer(doc, origin=str(file))  # validates the whole offer
    assert isinstance(doc, dict)
    names: list[str] = []
    for name in ("offerCode", "version"):
        value = doc.get(name)
        if not isinstance(value, str) or not value or "/" in value:
            raise PricingError(INVALID_OFFER_FILE, f"{file}: not an AWS offer file: "
                               f"'{name}' must be a non-empty string without '/'")
        names.append(value)
    offer_code, version = names
    key = offer_key(offer_code, version)
    with store.transaction() as tx:
        merged = _merge(tx.get_meta(key), _compact(doc))
        tx.put_meta(key, merged)
        index = tx.get_meta(OFFER_INDEX)
        revision = index.get("revision", 0) if isinstance(index, dict) else 0
        offers = index.get("offers", {}) if isinstance(index, dict) else {}
        offers = {**offers, key: len(merged["products"])}
        tx.put_meta(OFFER_INDEX, {"revision": int(revision) + 1, "offers": offers})
    return ImportedOffer(key, offer_code, version, read, len(merged["products"]))


def load_price_list(store: Store | None) -> PriceList:
    """The shipped prices, then every offer stored in ``store`` (in key order, so a later
    version of an offer replaces the products it shares with an earlier one)."""
    prices = PriceList.shipped()
    if store is not None:
        for key, doc in sorted(store.meta_items(OFFER_PREFIX).items()):
            prices.import_offer(doc, origin=f"store meta {key}")
    return prices


def _compact(doc: dict[str, Any]) -> dict[str, Any]:
    """The offer without what GetProducts never returns (disclaimer, attributesList...)."""
    out: dict[str, Any] = {name: doc[name] for name in _OFFER_FIELDS if name in doc}
    out["products"] = {
        sku: {k: v for k, v in product.items() if k in ("sku", "productFamily", "attributes")}
        for sku, product in doc["products"].items()
    }
    out["terms"] = {kind: dict(by_sku) for kind, by_sku in doc.get("terms", {}).items()}
    return out


def _merge(old: Any, new: dict[str, Any]) -> dict[str, Any]:
    """``new`` over ``old``: products and each term type's SKUs united, ``new`` winning."""
    if not isinstance(old, dict):
        return new
    merged = {**old, **{k: v for k, v in new.items() if k not in ("products", "terms")}}
    merged["products"] = {**old.get("products", {}), **new["products"]}
    terms = {kind: dict(by_sku) for kind, by_sku in old.get("terms", {}).items()}
    for kind, by_sku in new["terms"].items():
        terms[kind] = {**terms.get(kind, {}), **by_sku}
    merged["terms"] = terms
    return merged


class PricingProvider(Provider):
    service = "pricing"

    def __init__(self, price_list: PriceList | None = None) -> None:
        """``price_list``: answer from it alone; else from the shipped offers plus the offers
        stored in the server's store (see the module's docstring)."""
        self._lock = threading.Lock()
        self._fixed = price_list
        self._prices: PriceList | None = price_list
        self._built_for: tuple[int, Any] | None = None

    @property
    def prices(self) -> PriceList:
        """The price list (the shipped offers only, when no request has named a store)."""
        with self._lock:
            if self._prices is None:
                self._prices = load_price_list(None)
            return self._prices

    def prices_for(self, store: Store | None) -> PriceList:
        """The price list for a server on ``store``, rebuilt when its stored offers change."""
        if self._fixed is not None:
            return self._fixed
        revision = store.get_meta(OFFER_INDEX) if store is not None else None
        marker = (id(store), revision)
        with self._lock:
            if self._prices is None or self._built_for != marker:
                try:
                    self._prices = load_price_list(store)
                except PricingError as e:  # a stored offer this version cannot read
                    raise ServiceError("InternalError", f"stored price list is unreadable: "
                                       f"{e.message}", status=500, sender_fault=False
                                       ) from None
                self._built_for = marker
            return self._prices

    def _check_region(self, ctx: RequestContext) -> None:
        if ctx.region not in PRICING_REGIONS:
            raise ServiceError("InvalidParameterException", f"The Price List API is available "
                               f"only in {' and '.join(PRICING_REGIONS)}, not {ctx.region}.")

    def _call(self, ctx: RequestContext, method: str, *args: Any) -> Any:
        self._check_region(ctx)
        prices = self.prices_for(getattr(ctx.state, "store", None))
        try:
            return getattr(prices, method)(*args)
        except PricingError as e:
            raise ServiceError(e.code, e.message) from None

    def GetProducts(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        items, token = self._call(ctx, "get_products", params.get("ServiceCode"),
                                  params.get("Filters"), params.get("FormatVersion", "aws_v1"),
                                  params.get("MaxResults"), params.get("NextToken"))
        return {"FormatVersion": params.get("FormatVersion", "aws_v1"), "PriceList": items,
                "NextToken": token}

    def DescribeServices(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        services = self._call(ctx, "describe_services", params.get("ServiceCode"),
                              params.get("FormatVersion", "aws_v1"))
        return {"Services": services, "FormatVersion": params.get("FormatVersion", "aws_v1")}

    def GetAttributeValues(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        values = self._call(ctx, "get_attribute_values", params["ServiceCode"],
                            params["AttributeName"])
        return {"AttributeValues": values}

"""The Price List API (service ``pricing``): GetProducts, DescribeServices, GetAttributeValues.

AWS serves it only in us-east-1 and ap-south-1 (PL rules); elsewhere the endpoint does not
exist, which we answer like an unreachable endpoint would be reported by the SDK's service.
"""

from __future__ import annotations

import threading
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.protocols.request import ServiceError
from localvpc.api.registry import Provider
from localvpc.model.errors import PricingError
from localvpc.model.pricing import PriceList

PRICING_REGIONS = ("us-east-1", "ap-south-1")


class PricingProvider(Provider):
    service = "pricing"

    def __init__(self, price_list: PriceList | None = None) -> None:
        self._lock = threading.Lock()
        self._prices = price_list

    @property
    def prices(self) -> PriceList:
        with self._lock:
            if self._prices is None:
                self._prices = PriceList.shipped()
            return self._prices

    def _check_region(self, ctx: RequestContext) -> None:
        if ctx.region not in PRICING_REGIONS:
            raise ServiceError("InvalidParameterException", f"The Price List API is available "
                               f"only in {' and '.join(PRICING_REGIONS)}, not {ctx.region}.")

    def _call(self, ctx: RequestContext, fn: Any, *args: Any) -> Any:
        self._check_region(ctx)
        try:
            return fn(*args)
        except PricingError as e:
            raise ServiceError(e.code, e.message) from None

    def GetProducts(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        items, token = self._call(ctx, self.prices.get_products, params.get("ServiceCode"),
                                  params.get("Filters"), params.get("FormatVersion", "aws_v1"),
                                  params.get("MaxResults"), params.get("NextToken"))
        return {"FormatVersion": params.get("FormatVersion", "aws_v1"), "PriceList": items,
                "NextToken": token}

    def DescribeServices(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        services = self._call(ctx, self.prices.describe_services, params.get("ServiceCode"),
                              params.get("FormatVersion", "aws_v1"))
        return {"Services": services, "FormatVersion": params.get("FormatVersion", "aws_v1")}

    def GetAttributeValues(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        values = self._call(ctx, self.prices.get_attribute_values, params["ServiceCode"],
                            params["AttributeName"])
        return {"AttributeValues": values}

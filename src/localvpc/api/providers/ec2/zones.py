"""Regions, availability zones, Local Zone opt-in and instance type offerings (catalog-backed)."""

from __future__ import annotations

from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import apply_filters, error, paginate
from localvpc.model import catalog
from localvpc.model.errors import CatalogError


def optin_key(account: str, region: str) -> str:
    return f"zone-optin/{account}/{region}"


def opted_in(ctx: RequestContext) -> set[str]:
    """Zone groups this account opted in to in this region (OI-4: per account and region)."""
    return set(ctx.state.meta(optin_key(ctx.account, ctx.region)) or [])


def _filters(params: dict[str, Any]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in params.get("Filters") or []:
        out.setdefault(f["Name"], []).extend(f.get("Values") or [])
    return out


class ZoneOperations:
    def DescribeRegions(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        names = params.get("RegionNames")
        known = catalog.default_catalog().regions()
        if names:
            missing = [n for n in names if n not in known]
            if missing:
                raise error("InvalidParameterValue", f"Invalid region: {missing[0]}")
            known = [n for n in known if n in names]
        regions = [{"RegionName": n, "Endpoint": f"ec2.{n}.amazonaws.com",
                    "OptInStatus": "opt-in-not-required"} for n in known]
        fields = {"region-name": lambda r: [r["RegionName"]],
                  "endpoint": lambda r: [r["Endpoint"]],
                  "opt-in-status": lambda r: [r["OptInStatus"]]}
        return {"Regions": apply_filters(regions, params.get("Filters"), fields)}

    def DescribeAvailabilityZones(self, ctx: RequestContext, params: dict[str, Any]
                                  ) -> dict[str, Any]:
        try:
            zones = catalog.describe_zones(ctx.region, opted_in(ctx),
                                           bool(params.get("AllAvailabilityZones")),
                                           params.get("ZoneNames"), params.get("ZoneIds"),
                                           _filters(params))
        except CatalogError as e:
            raise error(e.code, e.message) from None
        return {"AvailabilityZones": zones}

    def ModifyAvailabilityZoneGroup(self, ctx: RequestContext, params: dict[str, Any]
                                    ) -> dict[str, Any]:
        current = opted_in(ctx)
        try:
            new = catalog.modify_zone_group(ctx.region, params["GroupName"],
                                            params["OptInStatus"], current)
        except CatalogError as e:
            raise error(e.code, e.message) from None
        if new != current:
            with ctx.state.write() as w:
                w.meta[optin_key(ctx.account, ctx.region)] = sorted(new)
        return {"Return": True}

    def DescribeInstanceTypeOfferings(self, ctx: RequestContext, params: dict[str, Any]
                                      ) -> dict[str, Any]:
        try:
            rows = catalog.describe_offerings(params.get("LocationType") or "region",
                                              ctx.region, opted_in(ctx), _filters(params))
        except CatalogError as e:
            raise error(e.code, e.message) from None
        page, token = paginate(rows, params, lambda r: f"{r['Location']}\0{r['InstanceType']}",
                               minimum=5, maximum=1000)
        return {"InstanceTypeOfferings": page, "NextToken": token}

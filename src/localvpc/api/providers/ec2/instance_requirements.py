"""GetInstanceTypesFromInstanceRequirements over the shipped instance type data.

Attribute-based selection keeps the types whose specs meet every requirement. localvpc can
only judge what ``model/instance_types.py`` carries:

* applied: ``ArchitectureTypes``, ``VCpuCount``, ``MemoryMiB``, ``MemoryGiBPerVCpu``,
  ``InstanceGenerations`` (``CurrentGeneration``), ``NetworkInterfaceCount``
  (``MaximumNetworkInterfaces``), ``NetworkBandwidthGbps`` (the baseline bandwidth of the
  network cards, added up), ``RequireEncryptionInTransit``, ``AllowedInstanceTypes`` /
  ``ExcludedInstanceTypes`` (names, ``*`` wildcards);
* from the type's name, by AWS's own definition of the attribute: ``BurstablePerformance``
  (AWS: "burstable performance T instance types", i.e. the ``t`` families) and
  ``BareMetal`` (bare metal types are the ``metal`` sizes); both default to ``excluded`` as
  on AWS;
* ignored, because the data does not carry them (never guessed): ``VirtualizationTypes``,
  ``CpuManufacturers``, ``RequireHibernateSupport``, ``LocalStorage``,
  ``LocalStorageTypes``, ``TotalLocalStorageGB``, ``BaselineEbsBandwidthMbps``, every
  ``Accelerator*`` requirement, ``BaselinePerformanceFactors``, and the price protections
  (``SpotMaxPricePercentageOverLowestPrice``, ``OnDemandMaxPricePercentageOverLowestPrice``,
  ``MaxSpotPriceAsPercentageOfOptimalOnDemandPrice``).

As in DescribeInstanceTypes, a Region with an offering list answers only its types.
"""

from __future__ import annotations

import re
from typing import Any, Final

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import error, paginate
from localvpc.model import catalog
from localvpc.model import instance_types as types_model
from localvpc.model.instance_types import InstanceType

ARCHITECTURES: Final = ("i386", "x86_64", "arm64", "x86_64_mac", "arm64_mac")
INCLUSION: Final = ("included", "required", "excluded")
BURSTABLE: Final = re.compile(r"^t\d")


def _pattern(text: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(p) for p in text.split("*")))


def _range(req: dict[str, Any], key: str) -> tuple[float | None, float | None]:
    given = req.get(key) or {}
    low, high = given.get("Min"), given.get("Max")
    if (low is not None and low < 0) or (high is not None and high < 0) or (
            low is not None and high is not None and high < low):
        raise error("InvalidParameterValue", f"The {key} range Min={low}, Max={high} is "
                    "invalid: Min and Max must be non-negative and Min at most Max.")
    return low, high


def _within(value: float | None, bounds: tuple[float | None, float | None]) -> bool:
    low, high = bounds
    if low is None and high is None:
        return True
    if value is None:  # the data does not give the value: it cannot be shown to match
        return False
    return (low is None or value >= low) and (high is None or value <= high)


def _inclusion(req: dict[str, Any], key: str, has: bool) -> bool:
    mode = req.get(key) or "excluded"
    if mode not in INCLUSION:
        raise error("InvalidParameterValue", f"Value ({mode}) for parameter {key} is "
                    f"invalid. Valid values: {', '.join(INCLUSION)}.")
    return mode == "included" or (mode == "required") == has


def _bandwidth(t: InstanceType) -> float | None:
    cards = [c.baseline_bandwidth_in_gbps for c in t.network_cards]
    if not cards or any(c is None for c in cards):
        return None
    return float(sum(c for c in cards if c is not None))


def matches(t: InstanceType, archs: set[str], req: dict[str, Any]) -> bool:
    """Whether the type meets every requirement the data lets localvpc judge."""
    if not archs & set(t.supported_architectures):
        return False
    if not _within(t.default_vcpus, _range(req, "VCpuCount")):
        return False
    if not _within(t.memory_size_in_mib, _range(req, "MemoryMiB")):
        return False
    per_vcpu = (t.memory_size_in_mib / 1024 / t.default_vcpus
                if t.memory_size_in_mib is not None and t.default_vcpus else None)
    if not _within(per_vcpu, _range(req, "MemoryGiBPerVCpu")):
        return False
    if not _within(t.maximum_network_interfaces, _range(req, "NetworkInterfaceCount")):
        return False
    if not _within(_bandwidth(t), _range(req, "NetworkBandwidthGbps")):
        return False
    generations = req.get("InstanceGenerations") or []
    if generations and ("current" if t.current_generation else "previous") not in generations:
        return False
    if req.get("RequireEncryptionInTransit") and not t.encryption_in_transit_supported:
        return False
    size = t.name.split(".", 1)[-1]
    if not _inclusion(req, "BareMetal", size.startswith("metal")):
        return False
    if not _inclusion(req, "BurstablePerformance", bool(BURSTABLE.match(t.name))):
        return False
    allowed = req.get("AllowedInstanceTypes") or []
    if allowed and not any(_pattern(p).fullmatch(t.name) for p in allowed):
        return False
    excluded = req.get("ExcludedInstanceTypes") or []
    return not any(_pattern(p).fullmatch(t.name) for p in excluded)


class InstanceRequirementsOperations:
    def GetInstanceTypesFromInstanceRequirements(self, ctx: RequestContext,
                                                 params: dict[str, Any]) -> dict[str, Any]:
        archs = set(params.get("ArchitectureTypes") or [])
        unknown = sorted(archs - set(ARCHITECTURES))
        if unknown:
            raise error("InvalidParameterValue", f"Value ({unknown[0]}) for parameter "
                        f"ArchitectureTypes is invalid. Valid values: "
                        f"{', '.join(ARCHITECTURES)}.")
        req = dict(params.get("InstanceRequirements") or {})
        if req.get("AllowedInstanceTypes") and req.get("ExcludedInstanceTypes"):
            raise error("InvalidParameterCombination", "AllowedInstanceTypes and "
                        "ExcludedInstanceTypes cannot be specified together.")
        offered = catalog.default_catalog().region_offerings(ctx.region)
        names = set(offered.instance_types) if offered is not None else None
        rows = [t for n, t in types_model.instance_types().items()
                if (names is None or n in names) and matches(t, archs, req)]
        page, token = paginate(rows, params, lambda t: t.name, minimum=1, maximum=1000)
        return {"InstanceTypes": [{"InstanceType": t.name} for t in page],
                "NextToken": token}

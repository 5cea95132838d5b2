"""DescribeInstanceTypes over the shipped instance-type data (``localvpc.model.instance_types``).

Which types a Region supports comes from the zone catalogue's Region offering list
(``instance-type-offerings.json``). In a Region with such a list, only its types are
described unless ``IncludeUnsupportedInRegion`` is true, and a named type outside it is
``InvalidInstanceType`` as on AWS. In a Region without a list every shipped type is
described, since which of them the Region supports is unknown.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Final

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import apply_filters, error, paginate
from localvpc.model import catalog
from localvpc.model import instance_types as types_model
from localvpc.model.instance_types import InstanceType


def _one(value: object) -> list[object]:
    return [] if value is None else [value]


#: Filter name -> the values an instance type has for it (AWS filter names).
_FILTERS: Final[dict[str, Callable[[InstanceType], Iterable[object]]]] = {
    "instance-type": lambda t: [t.name],
    "current-generation": lambda t: _one(t.current_generation),
    "hypervisor": lambda t: _one(t.hypervisor),
    "processor-info.supported-architecture": lambda t: list(t.supported_architectures),
    "vcpu-info.default-vcpus": lambda t: _one(t.default_vcpus),
    "memory-info.size-in-mib": lambda t: _one(t.memory_size_in_mib),
    "network-info.network-performance": lambda t: _one(t.network_performance),
    "network-info.maximum-network-interfaces": lambda t: _one(t.maximum_network_interfaces),
    "network-info.maximum-network-cards": lambda t: _one(t.maximum_network_cards),
    "network-info.ipv4-addresses-per-interface":
        lambda t: _one(t.ipv4_addresses_per_interface),
    "network-info.ipv6-addresses-per-interface":
        lambda t: _one(t.ipv6_addresses_per_interface),
    "network-info.ipv6-supported": lambda t: _one(t.ipv6_supported),
    "network-info.ena-support": lambda t: _one(t.ena_support),
    "network-info.efa-supported": lambda t: _one(t.efa_supported),
    "network-info.encryption-in-transit-supported":
        lambda t: _one(t.encryption_in_transit_supported),
}

#: Filters the EC2 API Reference documents for DescribeInstanceTypes whose fields localvpc
#: does not ship. Answering them with "no match" would be wrong, so they are refused.
_UNSHIPPED_FILTERS: Final = frozenset({
    "auto-recovery-supported", "bare-metal", "burstable-performance-supported",
    "dedicated-hosts-supported", "ebs-info.attachment-limit-type",
    "ebs-info.maximum-ebs-attachments",
    "ebs-info.ebs-optimized-info.baseline-bandwidth-in-mbps",
    "ebs-info.ebs-optimized-info.baseline-iops",
    "ebs-info.ebs-optimized-info.baseline-throughput-in-mbps",
    "ebs-info.ebs-optimized-info.maximum-bandwidth-in-mbps",
    "ebs-info.ebs-optimized-info.maximum-iops",
    "ebs-info.ebs-optimized-info.maximum-throughput-in-mbps",
    "ebs-info.ebs-optimized-support", "ebs-info.encryption-support", "ebs-info.nvme-support",
    "free-tier-eligible", "hibernation-supported", "instance-storage-info.disk.count",
    "instance-storage-info.disk.size-in-gb", "instance-storage-info.disk.type",
    "instance-storage-info.encryption-support", "instance-storage-info.nvme-support",
    "instance-storage-info.total-size-in-gb", "instance-storage-supported",
    "network-info.bandwidth-weightings", "network-info.efa-info.maximum-efa-interfaces",
    "network-info.flexible-ena-queues-support", "nitro-enclaves-support", "nitro-tpm-support",
    "nitro-tpm-info.supported-versions", "processor-info.sustained-clock-speed-in-ghz",
    "processor-info.supported-features", "reboot-migration-support", "supported-boot-mode",
    "supported-root-device-type", "supported-usage-class", "supported-virtualization-type",
    "vcpu-info.default-cores", "vcpu-info.default-threads-per-core", "vcpu-info.valid-cores",
    "vcpu-info.valid-threads-per-core",
})

FILTER_NAMES: Final = tuple(sorted(_FILTERS))


def _check_filters(filters: list[dict[str, Any]] | None) -> None:
    for f in filters or []:
        name = f.get("Name", "")
        if name in _UNSHIPPED_FILTERS:
            raise error("InvalidParameterValue",
                        f"The filter '{name}' is not supported by localvpc: the instance type "
                        f"data it needs is not shipped. Supported filters: "
                        f"{', '.join(FILTER_NAMES)}")


class InstanceTypeOperations:
    def DescribeInstanceTypes(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        known = types_model.instance_types()
        offered = catalog.default_catalog().region_offerings(ctx.region)
        supported = set(offered.instance_types) if offered is not None else None
        include_unsupported = params.get("IncludeUnsupportedInRegion") is True

        def visible(name: str) -> bool:
            return include_unsupported or supported is None or name in supported

        names = list(dict.fromkeys(params.get("InstanceTypes") or []))
        if names:
            missing = [n for n in names if n not in known or not visible(n)]
            if missing:
                raise error("InvalidInstanceType", "The following supplied instance types do "
                            f"not exist: [{', '.join(missing)}]")
            rows = [known[n] for n in names]
        else:
            rows = [t for n, t in known.items() if visible(n)]

        filters = params.get("Filters")
        _check_filters(filters)
        rows = apply_filters(rows, filters, _FILTERS)
        page, token = paginate(rows, params, lambda t: t.name, minimum=5, maximum=100)

        items: list[dict[str, Any]] = []
        for t in page:
            item = t.to_api()
            if include_unsupported and supported is not None:
                item["SupportedInRegion"] = t.name in supported
            items.append(item)
        return {"InstanceTypes": items, "NextToken": token}

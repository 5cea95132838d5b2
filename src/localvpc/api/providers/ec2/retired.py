"""EC2-Classic operations: Elastic IP moves between platforms and ClassicLink.

EC2-Classic was retired in August 2023, and every Region is now VPC-only. AWS's API
reference marks MoveAddressToVpc, RestoreAddressToClassic, DescribeMovingAddresses and the
ClassicLink operations as deprecated. In Regions that never had EC2-Classic AWS answered the
ClassicLink calls, describes included, with ``UnsupportedOperation`` ("The functionality you
requested is not available in this region."), as reported in aws-sdk-java#754 and
terraform-provider-aws#17460; with EC2-Classic gone that is every Region, so localvpc
answers the same, its message saying why. What AWS answers for the address moves today is
not documented: localvpc answers ``UnsupportedOperation`` too, except for the two list
operations that can honestly be answered: no address is moving (DescribeMovingAddresses)
and no instance is linked (DescribeClassicLinkInstances), so both list nothing.
"""

from __future__ import annotations

from typing import Any, NoReturn

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import FilterFields, apply_filters, error, paginate

RETIRED = ("The functionality you requested is not available in this region: EC2-Classic "
           "was retired on 2023-08-15, so {what} no longer exists.")
MOVING_FILTERS: FilterFields = {"moving-status": lambda _: []}
LINKED_FILTERS: FilterFields = {"group-id": lambda _: [], "instance-id": lambda _: [],
                  "vpc-id": lambda _: []}


def _retired(what: str) -> NoReturn:
    raise error("UnsupportedOperation", RETIRED.format(what=what))


class RetiredOperations:
    # ------------------------------------------------------------------ address moves
    def MoveAddressToVpc(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        _retired("moving an Elastic IP address from EC2-Classic to a VPC")

    def RestoreAddressToClassic(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        _retired("restoring an Elastic IP address to EC2-Classic")

    def DescribeMovingAddresses(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        moving: list[Any] = apply_filters([], params.get("Filters"), MOVING_FILTERS)
        page, token = paginate(moving, params, str, minimum=5, maximum=1000)
        return {"MovingAddressStatuses": page, "NextToken": token}

    # ------------------------------------------------------------------ ClassicLink
    def AttachClassicLinkVpc(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        _retired("linking an EC2-Classic instance to a VPC (ClassicLink)")

    def DetachClassicLinkVpc(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        _retired("ClassicLink")

    def EnableVpcClassicLink(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        _retired("ClassicLink")

    def DisableVpcClassicLink(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        _retired("ClassicLink")

    def EnableVpcClassicLinkDnsSupport(self, ctx: RequestContext, params: dict[str, Any]
                                       ) -> dict[str, Any]:
        _retired("ClassicLink DNS support")

    def DisableVpcClassicLinkDnsSupport(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        _retired("ClassicLink DNS support")

    def DescribeVpcClassicLink(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        _retired("ClassicLink")

    def DescribeVpcClassicLinkDnsSupport(self, ctx: RequestContext, params: dict[str, Any]
                                         ) -> dict[str, Any]:
        _retired("ClassicLink DNS support")

    def DescribeClassicLinkInstances(self, ctx: RequestContext, params: dict[str, Any]
                                     ) -> dict[str, Any]:
        # Named instances are not checked: a VPC instance is simply not linked, and AWS
        # lists only linked EC2-Classic instances.
        linked: list[Any] = apply_filters([], params.get("Filters"), LINKED_FILTERS)
        page, token = paginate(linked, params, str, minimum=5, maximum=1000)
        return {"Instances": page, "NextToken": token}

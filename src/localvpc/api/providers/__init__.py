"""One provider per AWS service: thin translations between AWS shapes and the model."""

from __future__ import annotations

from localvpc.api.registry import Provider


def all_providers() -> list[Provider]:
    from localvpc.api.providers.ec2 import Ec2Provider
    from localvpc.api.providers.pricing import PricingProvider
    from localvpc.api.providers.ram import RamProvider

    return [Ec2Provider(), PricingProvider(), RamProvider()]

"""One provider per AWS service: thin translations between AWS shapes and the model."""

from __future__ import annotations

from localvpc.api.registry import Provider


def all_providers() -> list[Provider]:
    from localvpc.api.providers.ec2 import Ec2Provider
    from localvpc.api.providers.elbv2 import Elbv2Provider
    from localvpc.api.providers.firehose import FirehoseProvider
    from localvpc.api.providers.logs import LogsProvider
    from localvpc.api.providers.networkmanager import NetworkManagerProvider
    from localvpc.api.providers.pricing import PricingProvider
    from localvpc.api.providers.ram import RamProvider
    from localvpc.api.providers.route53 import Route53Provider
    from localvpc.api.providers.route53resolver import Route53ResolverProvider
    from localvpc.api.providers.s3 import S3Provider
    from localvpc.api.providers.vpc_lattice import VpcLatticeProvider

    return [Ec2Provider(), PricingProvider(), RamProvider(), S3Provider(), LogsProvider(),
            FirehoseProvider(), Route53Provider(), Route53ResolverProvider(),
            VpcLatticeProvider(), Elbv2Provider(), NetworkManagerProvider()]

"""The EC2 provider is one class made of a mixin per resource family, so two mixins that
define the same method name silently share one of them (the other family then calls the
wrong helper: this happened with ``_options``). Every name must come from one mixin only,
unless it is the same function object inherited from a shared base."""

from __future__ import annotations

from collections import defaultdict

from localvpc.api.providers.ec2 import Ec2Provider
from localvpc.api.registry import Provider


def test_no_two_ec2_mixins_define_the_same_name() -> None:
    owners: dict[str, list[str]] = defaultdict(list)
    for cls in Ec2Provider.__mro__[1:]:
        if cls in (object, Provider) or not cls.__module__.startswith(
                "localvpc.api.providers.ec2."):
            continue
        for name, value in vars(cls).items():
            method = callable(value) or isinstance(value, staticmethod | classmethod | property)
            if name.startswith("__") or not method:
                continue
            owners[name].append(cls.__qualname__)
    clashes = {name: who for name, who in owners.items() if len(who) > 1}
    assert clashes == {}, f"methods defined by more than one EC2 mixin: {clashes}"


def test_the_check_sees_the_mixins() -> None:
    mixins = [c for c in Ec2Provider.__mro__
              if c.__module__.startswith("localvpc.api.providers.ec2.")]
    assert len(mixins) >= 30  # one per resource family
    assert any("CreateVpc" in vars(c) for c in mixins)

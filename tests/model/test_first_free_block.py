"""``first_free_block`` walks the gaps between taken blocks; it must find exactly the block
the plain search (every aligned candidate in order) finds, which IPAM, default subnets and
Connect peer inside CIDRs all rely on."""

from __future__ import annotations

import ipaddress

from hypothesis import given, settings
from hypothesis import strategies as st

from localvpc.model.base import IPNetwork, first_free_block


def _plain(parents: list[IPNetwork], prefix: int, taken: list[IPNetwork]) -> IPNetwork | None:
    for parent in parents:
        if parent.prefixlen > prefix:
            continue
        for candidate in parent.subnets(new_prefix=prefix):
            if not any(candidate.overlaps(t) for t in taken if t.version == candidate.version):
                return candidate
    return None



@settings(max_examples=300, deadline=None)
@given(st.integers(0, 8), st.lists(st.tuples(st.integers(0, 0xFFFF), st.integers(4, 12)),
                                   max_size=12))
def test_the_gap_walk_finds_what_the_plain_search_finds(extra: int,
                                                        used: list[tuple[int, int]]) -> None:
    parents = [ipaddress.ip_network("10.0.0.0/16"), ipaddress.ip_network("10.1.0.0/20")]
    taken = [ipaddress.ip_network((0x0A000000 | bits, 16 + length), strict=False)
             for bits, length in used]
    prefix = 20 + extra
    assert first_free_block(parents, prefix, taken) == _plain(parents, prefix, taken)


def test_other_versions_and_small_parents_are_ignored_and_full_means_none() -> None:
    parent = ipaddress.ip_network("10.0.0.0/30")
    v6 = ipaddress.ip_network("::/0")
    assert first_free_block([parent], 31, [v6]) == ipaddress.ip_network("10.0.0.0/31")
    assert first_free_block([parent], 29, []) is None  # the parent is smaller
    assert first_free_block([parent], 31, [parent]) is None
    assert first_free_block([parent], 32, [ipaddress.ip_network("10.0.0.0/31")]) == \
        ipaddress.ip_network("10.0.0.2/32")

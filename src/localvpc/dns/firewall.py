"""DNS Firewall: domain lists compiled for lookups whose cost does not grow with the list,
and the evaluation order of rule groups and rules (dns.md section 5)."""

from __future__ import annotations

from dataclasses import dataclass

from localvpc.model.dns import (
    FirewallDomainList,
    FirewallRule,
    FirewallRuleGroup,
    FirewallRuleGroupAssociation,
)


class DomainMatcher:
    """A domain list as two sets: exact names and wildcard parents, both without the
    trailing dot. ``x.example.com`` is looked up as itself, then each ancestor in the
    wildcard set: one set probe per label, whatever the list's size (FW-6).
    ``*.example.com`` matches names under example.com, not example.com itself; a lone
    ``*`` matches every name. A name already in canonical form (lower case, no trailing
    dot, as the API stores lists) is shared with the list, not copied: a million names
    cost the sets' tables, not a second million strings."""

    __slots__ = ("everything", "exact", "wildcard")

    def __init__(self, domains: list[str]) -> None:
        self.exact: set[str] = set()
        self.wildcard: set[str] = set()
        self.everything = False
        for domain in domains:
            d = domain.strip()
            low = d.lower()
            if low == d:
                low = d  # keep the list's string; the lowered copy is dropped
            low = low.rstrip(".")
            if low == "*":
                self.everything = True
            elif low.startswith("*."):
                self.wildcard.add(low[2:])
            elif low:
                self.exact.add(low)

    def __len__(self) -> int:
        return len(self.exact) + len(self.wildcard) + int(self.everything)

    def match(self, name: str) -> bool:
        """``name`` in fqdn form (lower case, trailing dot)."""
        bare = name[:-1] if name.endswith(".") else name
        if self.everything or bare in self.exact:
            return True
        if not self.wildcard:
            return False
        rest = bare
        while True:
            dot = rest.find(".")
            if dot < 0:
                return False
            rest = rest[dot + 1:]
            if rest in self.wildcard:
                return True


@dataclass(slots=True)
class Verdict:
    """The first rule that matched (FW-3), with what it belongs to."""

    action: str  # ALLOW | ALERT | BLOCK
    rule: FirewallRule
    group: FirewallRuleGroup
    association: FirewallRuleGroupAssociation

    def describe(self) -> str:
        r = self.rule
        what = r.action if r.action != "BLOCK" else f"BLOCK ({r.block_response})"
        return (f"DNS Firewall: rule group {self.group.id} (association priority "
                f"{self.association.priority}) rule '{r.rule_name}' priority {r.priority} "
                f"on domain list {r.firewall_domain_list_id} -> {what}")


class FirewallUnavailable(Exception):
    """The firewall cannot evaluate the query (a rule's domain list is gone): the VPC's
    fail mode decides (FW-8). ASSUMED: AWS does not say when this happens; a dangling
    domain list is the one case the emulator can tell."""


class MatcherCache:
    """Compiled domain lists, kept across model generations while a list is unchanged
    (recompiling a million-name list on every unrelated write would cost seconds)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[tuple[object, ...], DomainMatcher]] = {}

    def get(self, lst: FirewallDomainList) -> DomainMatcher:
        stamp = (id(lst.domains), len(lst.domains), lst.modified, lst.status)
        hit = self._cache.get(lst.id)
        if hit is None or hit[0] != stamp:
            hit = (stamp, DomainMatcher(lst.domains))
            self._cache[lst.id] = hit
        return hit[1]

    def keep_only(self, ids: set[str]) -> None:
        for stale in set(self._cache) - ids:
            del self._cache[stale]


def evaluate(name: str, qtype: str,
             groups: list[tuple[FirewallRuleGroupAssociation, FirewallRuleGroup]],
             matchers: dict[str, DomainMatcher], *, chained: bool = False) -> Verdict | None:
    """The deciding rule for ``name`` (groups already in association-priority order), or
    None when no rule matches. ``chained``: the name is a CNAME target, so rules with
    ``TRUST_REDIRECTION_DOMAIN`` do not look at it (FW-7)."""
    for association, group in groups:
        for rule in group.sorted_rules():
            if chained and rule.firewall_domain_redirection_action == "TRUST_REDIRECTION_DOMAIN":
                continue
            if rule.qtype and rule.qtype.upper() != qtype:
                continue
            matcher = matchers.get(rule.firewall_domain_list_id)
            if matcher is None:
                raise FirewallUnavailable(
                    f"rule '{rule.rule_name}' of {group.id} names domain list "
                    f"{rule.firewall_domain_list_id}, which does not exist")
            if matcher.match(name):
                return Verdict(rule.action, rule, group, association)
    return None

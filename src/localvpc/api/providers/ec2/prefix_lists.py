"""Managed prefix lists: customer-managed lists with their versions, and the AWS-managed
lists of the gateway endpoint services (made in ``endpoints.py``).

A customer-managed list keeps its entry descriptions and every version's entries in the
server's meta store (``prefix-list/<id>``), so ``GetManagedPrefixListEntries`` with
``TargetVersion`` and ``RestoreManagedPrefixListVersion`` can go back to any version; the
model holds the current CIDRs the data plane uses (routes RS-5, SG rules SG-12).

Error codes: the managed-prefix-list calls answer ``InvalidPrefixListID.NotFound`` (upper-case
ID); only the older ``DescribePrefixLists`` answers ``InvalidPrefixListId.NotFound``.
"""

from __future__ import annotations

from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.ec2.common import (
    apply_filters,
    apply_tag_specs,
    error,
    new_id,
    paginate,
    select_ids,
    tags_list,
)
from localvpc.api.providers.ec2.endpoints import AWS_OWNER, ensure_managed
from localvpc.api.providers.ec2.sharing import shared_ids, unauthorized
from localvpc.model.base import IPNetwork, parse_cidr
from localvpc.model.filters import PrefixList, SgRule
from localvpc.model.network import Network

NOT_FOUND = "InvalidPrefixListID.NotFound"


def _meta_key(pl_id: str) -> str:
    return f"prefix-list/{pl_id}"


def visible_lists(ctx: RequestContext) -> dict[str, PrefixList]:
    """AWS-managed lists, the caller's, and those shared with it through RAM."""
    shared = shared_ids(ctx, "prefix_lists")
    return {k: pl for k, pl in ctx.state.network.prefix_lists.items()
            if pl.region == ctx.region and (pl.owner_id == AWS_OWNER
                                            or pl.account == ctx.account or k in shared)}


def _history(ctx: RequestContext, pl: PrefixList) -> dict[str, Any]:
    """Version and per-version entries ``[[cidr, description], ...]`` of a list."""
    stored = ctx.state.meta(_meta_key(pl.id))
    if isinstance(stored, dict) and "version" in stored:
        return stored
    return {"version": 1, "entries": {"1": [[str(c), ""] for c in pl.cidrs]}}


def managed_view(ctx: RequestContext, pl: PrefixList, state: str | None = None
                 ) -> dict[str, Any]:
    aws = pl.owner_id == AWS_OWNER
    owner = "aws" if aws else pl.account
    out: dict[str, Any] = {
        "PrefixListId": pl.id, "AddressFamily": pl.address_family,
        "PrefixListArn": f"arn:aws:ec2:{pl.region}:{owner}:prefix-list/{pl.id}",
        "PrefixListName": pl.prefix_list_name, "Tags": tags_list(pl.tags),
        "OwnerId": AWS_OWNER if aws else pl.account}
    if aws:
        out["State"] = state or "create-complete"
        return out
    history = _history(ctx, pl)
    version = int(history["version"])
    done = "restore-complete" if history.get("restored") else "modify-complete"
    out["State"] = state or ("create-complete" if version == 1 else done)
    out["MaxEntries"] = pl.max_entries
    out["Version"] = version
    return out


PL_FILTERS = {
    "prefix-list-id": lambda p: [p.id], "prefix-list-name": lambda p: [p.prefix_list_name],
    "owner-id": lambda p: [p.owner_id if p.owner_id == AWS_OWNER else p.account],
}


def _entries(given: list[dict[str, Any]], family: str) -> list[tuple[IPNetwork, str]]:
    out: list[tuple[IPNetwork, str]] = []
    for e in given:
        text = str(e.get("Cidr") or "")
        try:
            cidr = parse_cidr(text)
        except ValueError:
            raise error("InvalidParameterValue", f"Value ({text}) for parameter Cidr is "
                        "invalid. This is not a valid CIDR block.") from None
        if (cidr.version == 4) != (family == "IPv4"):
            raise error("InvalidParameterValue", f"The CIDR {text} does not match the "
                        f"prefix list's address family {family}.")
        out.append((cidr, str(e.get("Description") or "")))
    return out


def referenced_list(ctx: RequestContext, pl_id: str) -> PrefixList:
    """A prefix list named by an SG rule or a route: it must exist in the Region and be the
    caller's or AWS-managed, else ``InvalidPrefixListID.NotFound`` (the code AWS answers
    AuthorizeSecurityGroupIngress with; CreateRoute is not documented, ASSUMED the same)."""
    ensure_managed(ctx)
    pl = visible_lists(ctx).get(pl_id)
    if pl is None:
        raise error(NOT_FOUND, f"The prefix list ID '{pl_id}' does not exist")
    return pl


def rule_weight(net: Network, rule: SgRule) -> tuple[int, int]:
    """What an SG rule counts against the IPv4 and IPv6 rule quotas (SG-14): a CIDR rule 1
    in its family, an SG reference 1 in both, a prefix list its MaxEntries in its family
    (an AWS-managed list: its size, which localvpc uses as its weight)."""
    if rule.cidr is not None:
        return (1, 0) if rule.cidr.version == 4 else (0, 1)
    if rule.prefix_list_id:
        pl = net.prefix_lists.get(rule.prefix_list_id)
        if pl is None:
            return 1, 1
        weight = pl.max_entries or len(pl.cidrs) or 1
        return (weight, 0) if pl.address_family == "IPv4" else (0, weight)
    return 1, 1


def prefix_list_users(net: Network, pl_id: str) -> list[tuple[str, str]]:
    """``(resource id, owner)`` of every route table, security group and transit gateway
    route table that references the list (GetManagedPrefixListAssociations)."""
    out: list[tuple[str, str]] = []
    for rt in net.route_tables.values():
        if any(r.prefix_list_id == pl_id for r in rt.routes):
            out.append((rt.id, rt.account))
    for sg in net.security_groups.values():
        if any(r.prefix_list_id == pl_id for r in (*sg.ingress, *sg.egress)):
            out.append((sg.id, sg.account))
    for tgw_rt in net.transit_gateway_route_tables.values():
        refs = getattr(tgw_rt, "prefix_list_references", ())
        if any(ref.prefix_list_id == pl_id for ref in refs):
            out.append((tgw_rt.id, tgw_rt.account))
    return sorted(out)


class PrefixListOperations:
    # ------------------------------------------------------------------ prefix lists
    def _pl_lookup(self, ctx: RequestContext, pl_id: str, write: bool = True) -> PrefixList:
        """A list the caller sees; to change it (``write``) not one shared with it (AWS:
        consumers can read a shared list, not modify, restore or delete it)."""
        pl = visible_lists(ctx).get(pl_id)
        if pl is None:
            raise error(NOT_FOUND, f"The prefix list ID '{pl_id}' does not exist")
        if write and pl.owner_id != AWS_OWNER and pl.account != ctx.account:
            raise unauthorized()
        return pl

    def DescribePrefixLists(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        ensure_managed(ctx)
        aws = {k: pl for k, pl in visible_lists(ctx).items() if pl.owner_id == AWS_OWNER}
        found = select_ids(aws, params.get("PrefixListIds"), "prefix list",
                           "InvalidPrefixListId.NotFound")
        found = apply_filters(found, params.get("Filters"), PL_FILTERS)
        page, token = paginate(found, params, lambda p: p.id)
        return {"PrefixLists": [{"PrefixListId": p.id, "PrefixListName": p.prefix_list_name,
                                 "Cidrs": [str(c) for c in p.cidrs]} for p in page],
                "NextToken": token}

    def DescribeManagedPrefixLists(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        ensure_managed(ctx)
        found = select_ids(visible_lists(ctx), params.get("PrefixListIds"), "prefix list",
                           NOT_FOUND)
        found = apply_filters(found, params.get("Filters"), PL_FILTERS)
        page, token = paginate(found, params, lambda p: p.id, minimum=1, maximum=100)
        return {"PrefixLists": [managed_view(ctx, p) for p in page], "NextToken": token}

    def GetManagedPrefixListEntries(self, ctx: RequestContext, params: dict[str, Any]
                                    ) -> dict[str, Any]:
        ensure_managed(ctx)
        pl = self._pl_lookup(ctx, params["PrefixListId"], write=False)
        history = _history(ctx, pl)
        target = params.get("TargetVersion")
        if target is None or pl.owner_id == AWS_OWNER:
            rows = [[str(c), ""] for c in pl.cidrs] if pl.owner_id == AWS_OWNER else \
                history["entries"][str(history["version"])]
        else:
            rows = history["entries"].get(str(int(target)))
            if rows is None:
                raise error("InvalidParameterValue", f"Version {target} of {pl.id} does not "
                            f"exist (current version {history['version']}).")
        entries = [{"Cidr": c, "Description": d or None} for c, d in rows]
        page, token = paginate(entries, params, lambda e: str(e["Cidr"]), minimum=1,
                               maximum=100)
        return {"Entries": page, "NextToken": token}

    def CreateManagedPrefixList(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        net = ctx.state.network
        name = str(params["PrefixListName"])
        if not name or len(name) > 255 or name.lower().startswith("com.amazonaws"):
            raise error("InvalidParameterValue", f"The prefix list name '{name}' is not "
                        "valid: 1-255 characters, not starting with com.amazonaws.")
        family = params["AddressFamily"]
        if family not in ("IPv4", "IPv6"):
            raise error("InvalidParameterValue", f"Value ({family}) for parameter "
                        "AddressFamily is invalid. Valid values: IPv4, IPv6.")
        max_entries = int(params["MaxEntries"])
        if not 1 <= max_entries <= 1000:
            raise error("InvalidParameterValue", f"Value ({max_entries}) for parameter "
                        "MaxEntries is invalid. Expecting a value between 1 and 1000.")
        entries = _entries(list(params.get("Entries") or []), family)
        cidrs = [c for c, _ in entries]
        if len(set(cidrs)) != len(cidrs):
            raise error("InvalidParameterValue", "The request contains duplicate entries.")
        if len(entries) > max_entries:
            raise error("InvalidParameterValue", f"The number of entries ({len(entries)}) "
                        f"exceeds MaxEntries ({max_entries}).")
        pl = PrefixList(new_id("pl"), ctx.account, ctx.region, prefix_list_name=name,
                        cidrs=cidrs, max_entries=max_entries, owner_id=ctx.account,
                        address_family=family)
        apply_tag_specs(pl, params, "prefix-list")
        with ctx.state.write() as w:
            net.add(pl)
            w.save(pl)
            w.meta[_meta_key(pl.id)] = {"version": 1, "entries": {
                "1": [[str(c), d] for c, d in entries]}}
        return {"PrefixList": managed_view(ctx, pl, state="create-in-progress")}

    def ModifyManagedPrefixList(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        pl = self._pl_lookup(ctx, params["PrefixListId"])
        if pl.owner_id == AWS_OWNER:
            raise error("OperationNotPermitted", f"{pl.id} is an AWS-managed prefix list and "
                        "cannot be modified.")
        history = _history(ctx, pl)
        version = int(history["version"])
        adds, removes = params.get("AddEntries") or [], params.get("RemoveEntries") or []
        changing = bool(adds or removes)
        new_max = params.get("MaxEntries")
        if changing and new_max is not None:
            raise error("InvalidParameterCombination", "You cannot modify the entries of a "
                        "prefix list and its size (MaxEntries) in the same request.")
        if changing:
            current = params.get("CurrentVersion")
            if current is None:
                raise error("MissingParameter", "The request must contain the parameter "
                            "CurrentVersion")
            if int(current) != version:
                raise error("PrefixListVersionMismatch", f"The prefix list has the incorrect "
                            f"version number (current version {version}).")
        rows: dict[str, str] = dict(history["entries"][str(version)])
        for cidr, desc in _entries(list(adds), pl.address_family):
            rows[str(cidr)] = desc
        for cidr, _ in _entries(list(removes), pl.address_family):
            if str(cidr) not in rows:
                raise error("InvalidParameterValue", f"The prefix list {pl.id} has no entry "
                            f"{cidr}.")
            del rows[str(cidr)]
        limit = int(new_max) if new_max is not None else (pl.max_entries or 0)
        if new_max is not None and not 1 <= limit <= 1000:
            raise error("InvalidParameterValue", f"Value ({limit}) for parameter MaxEntries "
                        "is invalid. Expecting a value between 1 and 1000.")
        if len(rows) > limit:
            raise error("InvalidParameterValue", f"The prefix list {pl.id} would have "
                        f"{len(rows)} entries, more than its MaxEntries ({limit}).")
        with ctx.state.write() as w:
            if params.get("PrefixListName"):
                pl.prefix_list_name = str(params["PrefixListName"])
            pl.max_entries = limit
            if changing:
                pl.cidrs = [parse_cidr(c) for c in rows]
                entries = dict(history["entries"])
                entries[str(version + 1)] = [[c, d] for c, d in rows.items()]
                w.meta[_meta_key(pl.id)] = {"version": version + 1, "entries": entries}
            w.save(pl)
        view = managed_view(ctx, pl, state="modify-in-progress")
        if changing:
            view["Version"] = version + 1
        return {"PrefixList": view}

    def DeleteManagedPrefixList(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        net = ctx.state.network
        pl = self._pl_lookup(ctx, params["PrefixListId"])
        if pl.owner_id == AWS_OWNER:
            raise error("OperationNotPermitted", f"{pl.id} is an AWS-managed prefix list and "
                        "cannot be deleted.")
        users = prefix_list_users(net, pl.id)
        if users:
            # AWS may also accept the call and leave the list "delete-failed"; localvpc
            # refuses at once, naming what still references the list.
            raise error("DependencyViolation", f"The prefix list {pl.id} is referenced by "
                        f"{', '.join(r for r, _ in users)} and cannot be deleted.")
        view = managed_view(ctx, pl, state="delete-in-progress")
        with ctx.state.write() as w:
            del net.prefix_lists[pl.id]
            w.deleted.append(("prefix_lists", pl.id))
            w.meta[_meta_key(pl.id)] = None
        return {"PrefixList": view}

    def RestoreManagedPrefixListVersion(self, ctx: RequestContext, params: dict[str, Any]
                                        ) -> dict[str, Any]:
        pl = self._pl_lookup(ctx, params["PrefixListId"])
        if pl.owner_id == AWS_OWNER:
            raise error("OperationNotPermitted", f"{pl.id} is an AWS-managed prefix list and "
                        "cannot be modified.")
        history = _history(ctx, pl)
        version = int(history["version"])
        if int(params["CurrentVersion"]) != version:
            raise error("PrefixListVersionMismatch", f"The prefix list has the incorrect "
                        f"version number (current version {version}).")
        previous = int(params["PreviousVersion"])
        rows = history["entries"].get(str(previous))
        if rows is None or previous >= version:
            raise error("InvalidParameterValue", f"Version {previous} of {pl.id} cannot be "
                        f"restored: it must be an earlier version than {version}.")
        if len(rows) > (pl.max_entries or 0):
            raise error("InvalidParameterValue", f"Version {previous} of {pl.id} has "
                        f"{len(rows)} entries, more than its MaxEntries ({pl.max_entries}).")
        entries = dict(history["entries"])
        entries[str(version + 1)] = [list(r) for r in rows]
        with ctx.state.write() as w:
            pl.cidrs = [parse_cidr(c) for c, _ in rows]
            w.save(pl)
            w.meta[_meta_key(pl.id)] = {"version": version + 1, "entries": entries,
                                        "restored": True}
        view = managed_view(ctx, pl, state="restore-in-progress")
        view["Version"] = version + 1
        return {"PrefixList": view}

    def GetManagedPrefixListAssociations(self, ctx: RequestContext, params: dict[str, Any]
                                         ) -> dict[str, Any]:
        pl = self._pl_lookup(ctx, params["PrefixListId"])
        if pl.owner_id == AWS_OWNER:
            # AWS answers this call for the lists you own; its own lists are used by everyone.
            raise error("OperationNotPermitted", f"{pl.id} is an AWS-managed prefix list; "
                        "associations are listed for customer-managed lists only.")
        rows = [{"ResourceId": rid, "ResourceOwner": owner}
                for rid, owner in prefix_list_users(ctx.state.network, pl.id)]
        page, token = paginate(rows, params, lambda r: r["ResourceId"], minimum=5,
                               maximum=255)
        return {"PrefixListAssociations": page, "NextToken": token}

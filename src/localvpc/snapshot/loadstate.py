"""What the snapshot importer carries while it reads files: the Network being built, where
each file sits (its region and account), and indexes that keep every lookup O(1)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, TypedDict, TypeVar

from localvpc.model.network import _TABLE_OF, Network
from localvpc.model.zones import Zone
from localvpc.snapshot.awsjson import JsonDict, RecordError, as_dict, req_str, tags_of

T = TypeVar("T")

# ``OwnerId`` values that name AWS itself rather than an account (managed prefix lists...).
_NOT_ACCOUNTS = frozenset({"AWS", "aws", "amazon", "amazon-aws", "amazon-elb"})


class Identity(TypedDict):
    """The fields every account-scoped resource takes from its record and its file."""

    id: str
    account: str
    region: str
    tags: dict[str, str]


@dataclass(frozen=True, slots=True)
class SourceContext:
    """Where one file sits: its display name, region, and account.

    ``folder_account`` is the account named by an ``accounts/<id>/`` folder; it overrides any
    ``OwnerId`` in the data. Otherwise records carry their own ``OwnerId`` and fall back to
    ``default_account`` (the owner found in the folder's data, or the model's default).
    """

    file: str
    region: str
    default_account: str
    folder_account: str | None = None

    def account_for(self, rec: JsonDict, owner_key: str = "OwnerId") -> str:
        if self.folder_account is not None:
            return self.folder_account
        owner = rec.get(owner_key)
        if isinstance(owner, str) and owner and owner not in _NOT_ACCOUNTS:
            return owner
        return self.default_account

    def identity(self, rec: JsonDict, id_key: str, owner_key: str = "OwnerId") -> Identity:
        """Id (``rec[id_key]``), account, region and tags of the resource ``rec`` lists."""
        return Identity(id=req_str(rec, id_key), account=self.account_for(rec, owner_key),
                        region=self.region, tags=tags_of(rec))


def _is_empty(value: object) -> bool:
    return value is None or value == "" or value == [] or value == {}


def merge_into(existing: Any, new: Any) -> None:
    """Complete ``existing`` with what ``new`` knows: empty fields are filled, tags are united
    (existing values win). Used when one resource is listed in several files or accounts."""
    for f in fields(existing):
        old = getattr(existing, f.name)
        value = getattr(new, f.name)
        if f.name == "tags":
            for key, tag in value.items():
                old.setdefault(key, tag)
        elif _is_empty(old) and not _is_empty(value):
            setattr(existing, f.name, value)


@dataclass
class LoadState:
    """The Network under construction plus bookkeeping shared by all parsers."""

    network: Network = field(default_factory=Network)
    # Top-level keys (``InternetGateways``...) of which at least one file was loaded.
    loaded_keys: set[str] = field(default_factory=set)
    # Per list (TGW or local gateway routes, propagations): keys of the items already added,
    # so a table listed in several files or records gets each item once without quadratic
    # scans.
    seen_keys: dict[str, set[object]] = field(default_factory=dict)
    # (transit gateway, attachment, route table) of every association listed.
    tgw_associations: list[tuple[str, str, str]] = field(default_factory=list)
    _seen_warnings: set[str] = field(default_factory=set)

    def warn(self, message: str) -> None:
        """Add a warning once (the same problem seen in two accounts' files is one warning)."""
        if message not in self._seen_warnings:
            self._seen_warnings.add(message)
            self.network.warn(message)

    def referred(self, ctx: SourceContext, table: Mapping[str, T], rid: str, what: str
                 ) -> T | None:
        """The ``what`` ``rid`` (in ``table``) that a record of ``ctx.file`` refers to; None,
        with a warning, when the snapshot does not have it."""
        found = table.get(rid)
        if found is None:
            self.warn(f"{ctx.file} refers to {what} {rid}, which is not in the snapshot; "
                      "ignored")
        return found

    def put(self, resource: T) -> T:
        """Add a resource, or merge it into the one with the same id; returns the kept one."""
        res: Any = resource
        table: dict[str, Any] = getattr(self.network, _TABLE_OF[type(res)])
        key = res.name if isinstance(res, Zone) else res.id
        existing = table.get(key)
        if existing is None:
            table[key] = resource
            return resource
        merge_into(existing, res)
        kept: T = existing
        return kept

    def add_once(
        self, list_id: str, items: list[T], new: list[T], key: Callable[[T], object]
    ) -> None:
        """Append to ``items`` (the list known as ``list_id``) the ``new`` ones not in it."""
        seen = self.seen_keys.get(list_id)
        if seen is None:
            seen = {key(item) for item in items}
            self.seen_keys[list_id] = seen
        for item in new:
            k = key(item)
            if k not in seen:
                seen.add(k)
                items.append(item)

    def parse_each(
        self,
        items: list[object],
        what: str,
        ctx: SourceContext,
        parse: Callable[[JsonDict], T],
    ) -> list[T]:
        """``parse`` every item; a malformed one is skipped with a warning naming it."""
        out: list[T] = []
        for i, item in enumerate(items):
            try:
                out.append(parse(as_dict(item, "item")))
            except RecordError as exc:
                self.warn(f"skipped malformed {what} #{i} in {ctx.file}: {exc}")
        return out

"""Shared EC2 plumbing: ids, AWS filters with wildcards, tags, pagination, errors."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar, overload

from localvpc.api.protocols.request import ServiceError
from localvpc.api.providers.ec2.sharing import shared_ids, shared_owner, unauthorized
from localvpc.api.providers.paging import BadPageToken, keyed_page
from localvpc.model.base import IPNetwork, Resource, parse_cidr

if TYPE_CHECKING:
    from localvpc.api.context import RequestContext

T = TypeVar("T")
FilterFields = Mapping[str, Callable[[Any], Iterable[Any]]]


def new_id(prefix: str) -> str:
    """``vpc-`` + 17 hex digits, as AWS makes them."""
    return f"{prefix}-{secrets.token_hex(9)[:17]}"


def error(code: str, message: str, status: int = 400) -> ServiceError:
    return ServiceError(code, message, status=status)


def not_found(kind: str, code: str, ids: Sequence[str]) -> ServiceError:
    quoted = ", ".join(f"'{i}'" for i in ids)
    return error(code, f"The {kind} ID {quoted} does not exist")


def cidr_param(text: str, what: str = "CIDR block", param: str = "cidrBlock") -> IPNetwork:
    try:
        return parse_cidr(text)
    except ValueError:
        raise error("InvalidParameterValue",
                    f"Value ({text}) for parameter {param} is invalid. This is not a valid "
                    f"{what}.") from None


# ------------------------------------------------------------------ tags
def tags_list(tags: dict[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def apply_tag_specs(resource: Resource, params: dict[str, Any], resource_type: str) -> None:
    for spec in params.get("TagSpecifications") or []:
        if spec.get("ResourceType") in (None, resource_type):
            for tag in spec.get("Tags") or []:
                resource.tags[tag["Key"]] = tag.get("Value", "")


# ------------------------------------------------------------------ filters
@lru_cache(maxsize=1024)
def _pattern(pattern: str) -> re.Pattern[str]:
    """EC2 filter values: ``*`` any run, ``?`` one character, a backslash makes the next
    ``*``, ``?`` or backslash literal; everything else (``[``, ``.`` ...) is literal."""
    parts: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\" and i + 1 < len(pattern) and pattern[i + 1] in "*?\\":
            parts.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        parts.append(".*" if char == "*" else "." if char == "?" else re.escape(char))
        i += 1
    return re.compile("".join(parts), re.DOTALL)


def _matches(pattern: str, value: Any) -> bool:
    text = "true" if value is True else "false" if value is False else str(value)
    return _pattern(pattern).fullmatch(text) is not None


def _tags_of(item: Any) -> dict[str, str]:
    tags = item.get("Tags") if isinstance(item, dict) else getattr(item, "tags", None)
    if isinstance(tags, list):  # a response row: [{"Key": .., "Value": ..}]
        return {t["Key"]: t.get("Value", "") for t in tags}
    return dict(tags or {})


def apply_filters(items: Iterable[T], filters: Sequence[dict[str, Any]] | None,
                  fields: FilterFields) -> list[T]:
    """AWS semantics: values of one filter are OR-ed, filters are AND-ed; ``*`` and ``?`` are
    wildcards; ``tag:Key``, ``tag-key`` and ``tag-value`` work on every taggable resource."""
    result = list(items)
    for f in filters or []:
        name = f.get("Name", "")
        values = [str(v) for v in f.get("Values") or []]
        getter = _getter(name, fields)
        result = [item for item in result
                  if any(_matches(p, v) for v in getter(item) for p in values)]
    return result


def _getter(name: str, fields: FilterFields) -> Callable[[Any], Iterable[Any]]:
    if name in fields:
        return fields[name]
    if name.startswith("tag:"):
        key = name[4:]
        return lambda r: [t[key]] if key in (t := _tags_of(r)) else []
    if name == "tag-key":
        return lambda r: list(_tags_of(r))
    if name == "tag-value":
        return lambda r: list(_tags_of(r).values())
    raise error("InvalidParameterValue", f"The filter '{name}' is invalid")


def select_ids(items: dict[str, T], ids: Sequence[str] | None, kind: str, code: str
               ) -> list[T]:
    """Explicit ids must all exist (``Invalid...ID.NotFound`` names the missing ones)."""
    if not ids:
        return list(items.values())
    missing = [i for i in ids if i not in items]
    if missing:
        raise not_found(kind, code, missing)
    return [items[i] for i in dict.fromkeys(ids)]


_TOKEN_MARK = "localvpc-page:"


def paginate(items: list[T], params: dict[str, Any], key: Callable[[T], str],
             minimum: int = 5, maximum: int = 1000) -> tuple[list[T], str | None]:
    """``MaxResults``/``NextToken`` over a stable order (by id); see ``keyed_page``."""
    limit = params.get("MaxResults")
    try:
        page, next_token = keyed_page(items, key, params.get("NextToken"), limit, _TOKEN_MARK)
    except BadPageToken:
        raise error("InvalidNextToken", "The token provided is invalid") from None
    if limit is not None and not minimum <= limit <= maximum:
        raise error("InvalidParameterValue",
                    f"Value ( {limit} ) for parameter maxResults is invalid. Expecting a value "
                    f"between {minimum} and {maximum}.")
    return page, next_token


def scoped(resources: Mapping[str, T], account: str, region: str) -> dict[str, T]:
    """Only what the caller's account sees in its region."""
    return {k: r for k, r in resources.items()
            if getattr(r, "account", account) == account
            and getattr(r, "region", region) == region}


def owned(ctx: RequestContext, table: str, resource_id: str, code: str, kind: str = "",
          message: str | None = None) -> Any:
    """The caller's resource ``resource_id`` from ``ctx.state.network.<table>``, else AWS's
    NotFound error: ``code`` with ``message``, by default "The <kind> ID '<id>' does not
    exist"."""
    resource = scoped(getattr(ctx.state.network, table), ctx.account, ctx.region).get(
        resource_id)
    if resource is None:
        if shared_owner(ctx, table, resource_id) is not None:
            raise unauthorized()  # seen through a VPC share, but another account's
        raise error(code, message if message is not None
                    else f"The {kind} ID '{resource_id}' does not exist")
    return resource


@overload
def visible(ctx: RequestContext, table: str) -> dict[str, Any]: ...


@overload
def visible(ctx: RequestContext, table: str, among: Mapping[str, T]) -> dict[str, T]: ...


def visible(ctx: RequestContext, table: str, among: Mapping[str, Any] | None = None
            ) -> dict[str, Any]:
    """What the caller sees of ``table`` (or of its subset ``among``): its own resources in
    its Region, and other accounts' that VPC sharing shows it (``sharing.py``)."""
    items: Mapping[str, Any] = getattr(ctx.state.network, table) if among is None else among
    found = scoped(items, ctx.account, ctx.region)
    for rid in shared_ids(ctx, table):
        if rid in items:
            found[rid] = items[rid]
    return found


def usable(ctx: RequestContext, table: str, resource_id: str, code: str, kind: str) -> Any:
    """A resource the caller may build on: its own, or one shared with it (a participant
    launches into a shared subnet, makes security groups in a shared VPC)."""
    resource = visible(ctx, table).get(resource_id)
    if resource is None:
        raise error(code, f"The {kind} ID '{resource_id}' does not exist")
    return resource


def persist_new(ctx: RequestContext, *resources: Resource) -> None:
    """Add new resources to the caller's network and save them, in one write."""
    net = ctx.state.network
    with ctx.state.write() as w:
        for r in resources:
            net.add(r)
            w.save(r)


def describe(ctx: RequestContext, table: str, params: dict[str, Any], ids_param: str,
             kind: str, code: str, fields: FilterFields, filters_param: str = "Filters",
             **limits: int) -> tuple[list[Any], str | None]:
    """The Describe* pattern: the caller's resources of ``table`` (and those VPC sharing
    shows it), the explicit ids (all must exist), AWS filters, then one page in id order."""
    items = visible(ctx, table)
    found = select_ids(items, params.get(ids_param), kind, code)
    found = apply_filters(found, params.get(filters_param), fields)
    return paginate(found, params, lambda r: str(r.id), **limits)

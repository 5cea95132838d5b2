"""Pagination by key, for every provider: a page of ``items`` in ``key`` order, the token
holding the key of the last item returned, so resources created or deleted between pages
shift nothing. Each service wraps it with its own parameter names, limits and errors."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class BadPageToken(ValueError):
    """A token this service did not hand out."""


def keyed_page(items: list[T], key: Callable[[T], str], token: str | None,
               limit: int | None, mark: str) -> tuple[list[T], str | None]:
    """The page after ``token`` (``mark`` tells one service's tokens from another's);
    ``limit`` None: everything after it, and no next token."""
    ordered = sorted(items, key=key)
    start = 0
    if token:
        try:
            text = base64.urlsafe_b64decode(token.encode()).decode()
        except (ValueError, binascii.Error, UnicodeDecodeError):
            text = ""
        if not text.startswith(mark):
            raise BadPageToken(token)
        after = text[len(mark):]
        start = next((i for i, it in enumerate(ordered) if key(it) > after), len(ordered))
    if limit is None:
        return ordered[start:], None
    page = ordered[start:start + limit]
    more = start + limit < len(ordered) and bool(page)
    next_token = (base64.urlsafe_b64encode((mark + key(page[-1])).encode()).decode()
                  if more else None)
    return page, next_token

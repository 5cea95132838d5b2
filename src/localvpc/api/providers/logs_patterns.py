"""CloudWatch Logs filter patterns: terms and space-delimited patterns.

Supported: the empty pattern (everything); terms, all of which must occur (``ERROR``,
``"exact phrase"``), ``-term`` (must not occur) and ``?a ?b`` (any of them); the
space-delimited pattern flow-log users write, ``[version, account, eni, src, dst, srcport,
dstport="22", ..., action="REJECT", status]``, with ``...`` for any number of fields, ``*``
wildcards, ``=``/``!=`` on text and ``= != < <= > >=`` on numbers, and ``&&``/``||`` between
conditions on one field. JSON patterns (``{ $.x = 1 }``) are answered as invalid.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

Matcher = Callable[[str], bool]


class PatternError(ValueError):
    pass


def compile_pattern(pattern: str | None) -> Matcher:
    text = (pattern or "").strip()
    if not text:
        return lambda _message: True
    if text.startswith("["):
        return _space_delimited(text)
    if text.startswith("{"):
        raise PatternError("JSON filter patterns are not supported by localvpc")
    return _terms(text)


# ---------------------------------------------------------------------- terms
_TERM = re.compile(r'([?-]?)(?:"((?:[^"\\]|\\.)*)"|(\S+))')


def _terms(text: str) -> Matcher:
    required: list[str] = []
    excluded: list[str] = []
    optional: list[str] = []
    for match in _TERM.finditer(text):
        sign, quoted, bare = match.group(1), match.group(2), match.group(3)
        term = quoted.replace('\\"', '"') if quoted is not None else bare
        {"?": optional, "-": excluded}.get(sign, required).append(term)

    def matches(message: str) -> bool:
        if any(t in message for t in excluded):
            return False
        if not all(t in message for t in required):
            return False
        return not optional or any(t in message for t in optional)

    return matches


# ---------------------------------------------------------------------- space-delimited
_CONDITION = re.compile(r'^\s*([^\s=!<>]+)\s*(=|!=|<=|>=|<|>)\s*(?:"((?:[^"\\]|\\.)*)"|(\S+))\s*$')


@dataclass(slots=True)
class _Field:
    ellipsis: bool
    conditions: list[tuple[str, str, str]]  # (joiner "&&"/"||"/"", operator, value)


def _split_top(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    buf: list[str] = []
    depth, quoted = 0, False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if not quoted:
            if ch in "[(":
                depth += 1
            elif ch in "])":
                depth -= 1
        if ch == sep and not quoted and depth == 0:
            parts.append("".join(buf))
            buf = []
        else:
            buf.append(ch)
    parts.append("".join(buf))
    return parts


def _parse_field(text: str) -> _Field:
    text = text.strip()
    if text == "...":
        return _Field(True, [])
    if not text:
        raise PatternError("empty field in a space-delimited filter pattern")
    conditions: list[tuple[str, str, str]] = []
    pieces = re.split(r"(&&|\|\|)", text)
    if len(pieces) == 1 and _CONDITION.match(text) is None:
        if not re.fullmatch(r"[\w.-]+", text):
            raise PatternError(f"invalid field {text!r} in a filter pattern")
        return _Field(False, [])
    joiner = ""
    for piece in pieces:
        if piece in ("&&", "||"):
            joiner = piece
            continue
        match = _CONDITION.match(piece)
        if match is None:
            raise PatternError(f"invalid condition {piece.strip()!r} in a filter pattern")
        value = match.group(3).replace('\\"', '"') if match.group(3) is not None \
            else match.group(4)
        conditions.append((joiner, match.group(2), value))
    return _Field(False, conditions)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _wildcard(value: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else re.escape(c) for c in value), re.DOTALL)


def _check(op: str, expected: str, actual: str) -> bool:
    if op in ("<", "<=", ">", ">="):
        a, b = _number(actual), _number(expected)
        if a is None or b is None:
            return False
        return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
    a, b = _number(actual), _number(expected)
    if a is not None and b is not None and "*" not in expected:
        equal = a == b
    else:
        equal = _wildcard(expected).fullmatch(actual) is not None
    return equal if op == "=" else not equal


def _field_matches(field: _Field, actual: str) -> bool:
    result = True
    for joiner, op, value in field.conditions:
        ok = _check(op, value, actual)
        result = ok if joiner == "" else (result and ok) if joiner == "&&" else (result or ok)
    return result


def _tokens(message: str) -> list[str]:
    """Split a message on spaces; a quoted string or a [bracketed] run is one field."""
    out: list[str] = []
    for match in re.finditer(r'"([^"]*)"|\[([^\]]*)\]|(\S+)', message):
        out.append(next(g for g in match.groups() if g is not None))
    return out


def _space_delimited(text: str) -> Matcher:
    if not text.endswith("]"):
        raise PatternError("a space-delimited filter pattern ends with ']'")
    fields = [_parse_field(part) for part in _split_top(text[1:-1], ",")]

    def walk(fi: int, values: list[str], vi: int) -> bool:
        if fi == len(fields):
            return vi == len(values)
        field = fields[fi]
        if field.ellipsis:
            return any(walk(fi + 1, values, k) for k in range(vi, len(values) + 1))
        if vi >= len(values):
            return False
        return _field_matches(field, values[vi]) and walk(fi + 1, values, vi + 1)

    return lambda message: walk(0, _tokens(message), 0)

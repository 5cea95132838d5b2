"""Line-aware reading of topology YAML: a node tree that remembers where every value was written.

PyYAML's composer gives nodes with marks; :func:`compose` turns them into :class:`YNode` trees
(mapping keys are strings, scalars are constructed by the safe constructor) and :class:`Obj`
reads one mapping with typed accessors that record problems instead of raising, so a whole file
is checked before :class:`Problems` raises one error listing everything wrong.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from localvpc.model.base import IPAddress, IPNetwork
from localvpc.model.errors import TopologyError


class TopologyValidationError(TopologyError):
    """A :class:`TopologyError` that also carries each problem as one string."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = list(problems)


# ---------------------------------------------------------------------------------- problems
class Problems:
    """Collects ``file:line: path: message`` problems; raises them all at once."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._items: list[tuple[int, int, str]] = []
        self._seen: set[str] = set()

    def add(self, line: int, path: str, message: str) -> None:
        where = f"{self.source}:{line}"
        text = f"{where}: {path}: {message}" if path else f"{where}: {message}"
        if text in self._seen:  # an aliased node is walked once per use; report it once
            return
        self._seen.add(text)
        self._items.append((line, len(self._items), text))

    def __len__(self) -> int:
        return len(self._items)

    def messages(self) -> list[str]:
        return [text for _, _, text in sorted(self._items)]

    def raise_if_any(self) -> None:
        if self._items:
            raise TopologyValidationError(self.messages())


# ---------------------------------------------------------------------------------- nodes
@dataclass(slots=True)
class YNode:
    """One YAML value with its 1-based line and its field path (``vpcs[0].subnets[1].cidr``)."""

    value: Any  # dict[str, YNode] | list[YNode] | str | int | float | bool | None | ...
    line: int
    path: str
    key_lines: dict[str, int] = field(default_factory=dict)

    @property
    def is_map(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def is_seq(self) -> bool:
        return isinstance(self.value, list)


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def type_name(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int):
        return f"a number ({value})"
    if isinstance(value, float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"a string ('{value}')"
    return f"a {type(value).__name__} ({value})"


def compose(text: str, problems: Problems) -> YNode | None:
    """Parse ``text`` into a :class:`YNode` tree; a syntax error is recorded and gives None."""
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        problem = exc.problem or exc.context or "malformed YAML"
        problems.add(line, "", f"YAML syntax error: {problem}")
        return None
    except yaml.YAMLError as exc:
        problems.add(1, "", f"YAML syntax error: {exc}")
        return None
    if root is None:
        return YNode({}, 1, "")
    return _convert(root, "", SafeConstructor(), problems, ())


def _convert(
    node: Node, path: str, ctor: SafeConstructor, problems: Problems, stack: tuple[int, ...]
) -> YNode:
    line = node.start_mark.line + 1
    if id(node) in stack:
        problems.add(line, path, "recursive YAML alias")
        return YNode(None, line, path)
    stack = (*stack, id(node))
    if isinstance(node, MappingNode):
        try:
            ctor.flatten_mapping(node)  # resolves ``<<: *anchor`` merge keys
        except ConstructorError as exc:
            problems.add(line, path, f"bad merge key: {exc.problem}")
        out: dict[str, YNode] = {}
        key_lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            key = _scalar(key_node, ctor) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                problems.add(key_line, path, f"field names must be strings, got {type_name(key)}")
                continue
            child_path = join(path, key)
            if key in out:
                problems.add(
                    key_line, child_path,
                    f"field '{key}' given twice (first at line {key_lines[key]})",
                )
                continue
            out[key] = _convert(value_node, child_path, ctor, problems, stack)
            key_lines[key] = key_line
        return YNode(out, line, path, key_lines)
    if isinstance(node, SequenceNode):
        items = [
            _convert(item, join(path, i), ctor, problems, stack)
            for i, item in enumerate(node.value)
        ]
        return YNode(items, line, path)
    try:
        value = _scalar(node, ctor)
    except ConstructorError as exc:
        problems.add(line, path, f"unreadable value: {exc.problem}")
        value = None
    return YNode(value, line, path)


def _scalar(node: Node, ctor: SafeConstructor) -> Any:
    return ctor.construct_object(node, deep=True)


# ---------------------------------------------------------------------------------- parsers
def parse_cidr_text(text: str) -> IPNetwork:
    """A CIDR in ``address/prefix`` form, canonicalised (host bits cleared); ValueError if bad."""
    if "/" not in text:
        raise ValueError("missing /prefix")
    return ipaddress.ip_network(text.strip(), strict=False)


def parse_ports(value: Any) -> tuple[int, int] | None:
    """``80``, ``"80"``, ``"1024-65535"`` or ``"all"``; None means all ports. ValueError if bad."""
    if isinstance(value, bool):
        raise ValueError("expected a port or range")
    if isinstance(value, int):
        low = high = value
    elif isinstance(value, str):
        text = value.strip().lower()
        if text in ("all", "*", "any"):
            return None
        parts = text.split("-")
        if len(parts) == 1 and parts[0].isdigit():
            low = high = int(parts[0])
        elif len(parts) == 2 and parts[0].strip().isdigit() and parts[1].strip().isdigit():
            low, high = int(parts[0]), int(parts[1])
        else:
            raise ValueError("expected a port like 80 or a range like 1024-65535")
    else:
        raise ValueError("expected a port like 80 or a range like 1024-65535")
    if not (0 <= low <= 65535 and 0 <= high <= 65535):
        raise ValueError("ports are 0-65535")
    if low > high:
        raise ValueError("range start is after its end")
    return low, high


PROTOCOL_NUMBERS = {"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58}


def parse_protocol(value: Any) -> int:
    """``tcp|udp|icmp|icmpv6|all|-1`` or a number 0-255; returns the number, -1 for all."""
    if isinstance(value, bool):
        raise ValueError("expected tcp, udp, icmp, icmpv6, all or a protocol number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str):
        text = value.strip().lower()
        if text in PROTOCOL_NUMBERS:
            return PROTOCOL_NUMBERS[text]
        if text in ("all", "any", "-1"):
            return -1
        if not text.isdigit():
            raise ValueError("expected tcp, udp, icmp, icmpv6, all or a protocol number")
        number = int(text)
    else:
        raise ValueError("expected tcp, udp, icmp, icmpv6, all or a protocol number")
    if number == -1:
        return -1
    if not 0 <= number <= 255:
        raise ValueError("protocol numbers are 0-255")
    return number


# ---------------------------------------------------------------------------------- objects
class Obj:
    """One mapping of the file, read through typed accessors that record problems."""

    def __init__(self, problems: Problems, node: YNode, allowed: Iterable[str], what: str) -> None:
        self.p = problems
        self.node = node
        self.what = what
        self.allowed = tuple(allowed)
        self.values: dict[str, YNode] = node.value if isinstance(node.value, dict) else {}
        for key in self.values:
            if key not in self.allowed:
                self.p.add(
                    node.key_lines.get(key, node.line), join(node.path, key),
                    f"unknown field '{key}' in {what} (allowed: {', '.join(sorted(self.allowed))})",
                )

    # -------------------------------------------------------------- basics
    @property
    def line(self) -> int:
        return self.node.line

    @property
    def path(self) -> str:
        return self.node.path

    def has(self, key: str) -> bool:
        return key in self.values and key in self.allowed

    def child(self, key: str) -> YNode | None:
        return self.values.get(key) if key in self.allowed else None

    def err(self, key: str | None, message: str) -> None:
        """A problem about field ``key`` (at its line), or about the whole object."""
        node = self.values.get(key) if key is not None else None
        if node is not None:
            self.p.add(node.line, node.path, message)
        elif key is not None:
            self.p.add(self.line, join(self.path, key), message)
        else:
            self.p.add(self.line, self.path, message)

    def err_at(self, node: YNode, message: str) -> None:
        self.p.add(node.line, node.path, message)

    def missing(self, key: str) -> None:
        """Report that the required field ``key`` is absent."""
        self.p.add(self.line, join(self.path, key), f"required field '{key}' is missing")

    def present(self, key: str) -> YNode | None:
        """The node of ``key`` unless absent or null."""
        node = self.child(key)
        if node is None or node.value is None:
            return None
        return node

    # -------------------------------------------------------------- scalars
    def opt_str(self, key: str, choices: Sequence[str] | None = None) -> str | None:
        node = self.present(key)
        if node is None:
            return None
        return self._str_of(node, choices)

    def req_str(self, key: str, choices: Sequence[str] | None = None) -> str | None:
        if self.present(key) is None:
            self.missing(key)
            return None
        return self.opt_str(key, choices)

    def str_or(self, key: str, default: str, choices: Sequence[str] | None = None) -> str:
        value = self.opt_str(key, choices)
        return default if value is None else value

    def _str_of(self, node: YNode, choices: Sequence[str] | None = None) -> str | None:
        value = node.value
        if not isinstance(value, str):
            self.err_at(node, f"expected a string, got {type_name(value)}")
            return None
        if choices is not None and value not in choices:
            self.err_at(node, f"'{value}' is not one of: {', '.join(choices)}")
            return None
        return value

    def opt_bool(self, key: str) -> bool | None:
        node = self.present(key)
        if node is None:
            return None
        if not isinstance(node.value, bool):
            self.err_at(node, f"expected true or false, got {type_name(node.value)}")
            return None
        return bool(node.value)

    def bool_or(self, key: str, default: bool) -> bool:
        value = self.opt_bool(key)
        return default if value is None else value

    def opt_int(self, key: str, low: int | None = None, high: int | None = None) -> int | None:
        node = self.present(key)
        if node is None:
            return None
        value = node.value
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.err_at(node, f"expected a whole number, got {type_name(node.value)}")
            return None
        if (low is not None and value < low) or (high is not None and value > high):
            self.err_at(node, f"{value} is out of range {low}..{high}")
            return None
        return value

    def req_int(self, key: str, low: int | None = None, high: int | None = None) -> int | None:
        if self.present(key) is None:
            self.missing(key)
            return None
        return self.opt_int(key, low, high)

    def opt_account(self, key: str) -> str | None:
        """A 12-digit account id; unquoted numbers are zero-padded."""
        node = self.present(key)
        if node is None:
            return None
        value = node.value
        if isinstance(value, int) and not isinstance(value, bool):
            value = f"{value:012d}"
        if not isinstance(value, str) or not (len(value) == 12 and value.isdigit()):
            self.err_at(node, f"{_show(node.value)} is not a 12-digit AWS account id")
            return None
        return value

    # -------------------------------------------------------------- addresses
    def opt_cidr(self, key: str) -> IPNetwork | None:
        node = self.present(key)
        return None if node is None else self.cidr_of(node)

    def req_cidr(self, key: str) -> IPNetwork | None:
        if self.present(key) is None:
            self.missing(key)
            return None
        return self.opt_cidr(key)

    def cidr_of(self, node: YNode) -> IPNetwork | None:
        value = node.value
        if not isinstance(value, str):
            self.err_at(node, f"expected a CIDR like 10.0.0.0/16, got {type_name(value)}")
            return None
        try:
            return parse_cidr_text(value)
        except ValueError:
            self.err_at(node, f"'{value}' is not a valid CIDR")
            return None

    def opt_ip(self, key: str) -> IPAddress | None:
        node = self.present(key)
        return None if node is None else self.ip_of(node)

    def ip_of(self, node: YNode) -> IPAddress | None:
        value = node.value
        if not isinstance(value, str):
            self.err_at(node, f"expected an IP address, got {type_name(value)}")
            return None
        try:
            return ipaddress.ip_address(value.strip())
        except ValueError:
            self.err_at(node, f"'{value}' is not a valid IP address")
            return None

    # -------------------------------------------------------------- collections
    def items(self, key: str, *, single_ok: bool = False) -> list[YNode]:
        """The items of a list field (a lone value counts as a one-item list if ``single_ok``)."""
        node = self.present(key)
        if node is None:
            return []
        if isinstance(node.value, list):
            return list(node.value)
        if single_ok and not isinstance(node.value, dict):
            return [node]
        self.err_at(node, f"expected a list, got {type_name(node.value)}")
        return []

    def str_items(self, key: str) -> list[tuple[str, YNode]]:
        """A string or a list of strings, each with its node (for reference fields)."""
        out: list[tuple[str, YNode]] = []
        for item in self.items(key, single_ok=True):
            text = self._str_of(item)
            if text is not None:
                out.append((text, item))
        return out

    def cidr_items(self, key: str) -> list[tuple[IPNetwork, YNode]]:
        out: list[tuple[IPNetwork, YNode]] = []
        for item in self.items(key, single_ok=True):
            cidr = self.cidr_of(item)
            if cidr is not None:
                out.append((cidr, item))
        return out

    def ip_items(self, key: str) -> list[tuple[IPAddress, YNode]]:
        out: list[tuple[IPAddress, YNode]] = []
        for item in self.items(key, single_ok=True):
            ip = self.ip_of(item)
            if ip is not None:
                out.append((ip, item))
        return out

    def objs(self, key: str, allowed: Iterable[str], what: str) -> list[Obj]:
        """A list of mappings, each checked against ``allowed``."""
        allowed = tuple(allowed)
        out: list[Obj] = []
        for item in self.items(key):
            sub = self.obj_of(item, allowed, what)
            if sub is not None:
                out.append(sub)
        return out

    def sub(self, key: str, allowed: Iterable[str], what: str) -> Obj | None:
        node = self.present(key)
        return None if node is None else self.obj_of(node, allowed, what)

    def obj_of(self, node: YNode, allowed: Iterable[str], what: str) -> Obj | None:
        if not isinstance(node.value, dict):
            self.err_at(node, f"expected a mapping ({what}), got {type_name(node.value)}")
            return None
        return Obj(self.p, node, allowed, what)

    def tags(self, key: str = "tags") -> dict[str, str]:
        node = self.present(key)
        if node is None:
            return {}
        if not isinstance(node.value, dict):
            self.err_at(node, "expected a mapping of tag names to values, got "
                              f"{type_name(node.value)}")
            return {}
        out: dict[str, str] = {}
        for tag, value_node in node.value.items():
            value = value_node.value
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                self.err_at(value_node, f"tag values must be strings, got {type_name(value)}")
                continue
            out[tag] = str(value)
        return out

    def exactly_one(self, keys: Sequence[str], *, required: bool = True) -> str | None:
        """Which one of ``keys`` is given; an error if several (or none when ``required``)."""
        given = [k for k in keys if self.present(k) is not None]
        if len(given) > 1:
            self.err(given[1], f"give only one of {', '.join(keys)} (found {', '.join(given)})")
            return None
        if not given:
            if required:
                self.err(None, f"one of {', '.join(keys)} is required")
            return None
        return given[0]


def _show(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)

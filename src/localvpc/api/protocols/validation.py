"""Generic input validation: walk the operation's input shape over the parsed params and check
``required``, ``min``/``max`` (length, size or range) and ``enum``.

EC2 answers the first problem (``MissingParameter`` / ``InvalidParameterValue``, wire names);
the other protocols answer all of them at once in AWS's wording
(``2 validation errors detected: Value null at 'name' failed to satisfy constraint: ...``).
"""

from __future__ import annotations

import functools
import re
from typing import Any

from localvpc.api.protocols.request import (
    ServiceError,
    missing_parameter,
    validation_code,
    validation_error,
)
from localvpc.api.protocols.shapes import members, protocol_of

_MAX_REPORTED = 10


class _Problem(Exception):
    def __init__(self, path: str, wire_path: str, value: Any, constraint: str) -> None:
        super().__init__(constraint)
        self.path = path
        self.wire_path = wire_path
        self.value = value
        self.constraint = constraint


# Shapes whose enum lists lag the service (EC2 answers InvalidInstanceType itself).
OPEN_ENUMS = frozenset({"InstanceType"})

# Services whose string ``pattern`` constraints are checked here too. Opt-in: older models
# (EC2, Route 53) carry patterns their services do not enforce the same way; newer services
# (Smithy-built, such as VPC Lattice) reject a mismatch with the standard wording.
PATTERN_CHECKED = frozenset({"vpc-lattice"})


def validate(service_model: Any, shape: Any, params: dict[str, Any]) -> None:
    """Raise a :class:`ServiceError` if ``params`` break ``shape``'s constraints."""
    if shape is None:
        return
    problems: list[_Problem] = []
    ec2 = protocol_of(service_model) == "ec2"
    patterns = service_model.service_name in PATTERN_CHECKED
    _walk_structure(shape, params, "", "", problems, ec2, patterns)
    if not problems:
        return
    if ec2:
        first = problems[0]
        if first.value is None:
            raise missing_parameter(service_model, first.wire_path)
        raise ServiceError(
            validation_code(service_model),
            f"Value ({_render(first.value)}) for parameter {first.wire_path} is invalid. "
            f"{first.constraint}",
            status=400,
        )
    shown = problems[:_MAX_REPORTED]
    count = len(problems)
    noun = "error" if count == 1 else "errors"
    details = "; ".join(
        f"Value {_render_coral(p.value)} at '{p.path}' failed to satisfy constraint: {p.constraint}"
        for p in shown
    )
    error = validation_error(service_model, f"{count} validation {noun} detected: {details}")
    if _has_field_list(service_model):
        error.fields = {"reason": "fieldValidationFailed",
                        "fieldList": [{"name": p.path, "message": p.constraint} for p in shown]}
    raise error


@functools.cache
def _has_field_list(service_model: Any) -> bool:
    """The service's ValidationException carries ``reason`` and ``fieldList[{name, message}]``
    (VPC Lattice and other Smithy-built services): fill them, as AWS does."""
    for shape in service_model.error_shapes:
        if shape.name == "ValidationException":
            return {"reason", "fieldList"} <= set(shape.members)
    return False


@functools.cache
def compiled_pattern(pattern: str) -> re.Pattern[str] | None:
    try:
        # DOTALL: a policy document spans lines, and AWS accepts pretty-printed JSON for
        # ``.*\S.*``. ASCII: ``\d`` is 0-9 as in AWS's (Java) patterns, not any digit.
        return re.compile(pattern, re.DOTALL | re.ASCII)
    except re.error:  # a construct Python's engine lacks: leave it to the service
        return None


def _lower_first(name: str) -> str:
    return name[:1].lower() + name[1:]


def _join(base: str, part: str) -> str:
    return f"{base}.{part}" if base else part


def _walk_structure(
    shape: Any,
    value: dict[str, Any],
    path: str,
    wire_path: str,
    problems: list[_Problem],
    ec2: bool,
    patterns: bool = False,
) -> None:
    if shape.metadata.get("document"):
        return
    required = shape.metadata.get("required") or ()
    for member in members(shape):
        sub = value.get(member.name)
        member_path = _join(path, _lower_first(member.name))
        member_wire = _join(wire_path, member.ec2_query if ec2 else member.wire)
        if sub is None:
            if member.name in required:
                problems.append(_Problem(member_path, member_wire, None, "Member must not be null"))
            continue
        _walk(member.shape, sub, member_path, member_wire, problems, ec2, patterns)


def _walk(
    shape: Any,
    value: Any,
    path: str,
    wire_path: str,
    problems: list[_Problem],
    ec2: bool,
    patterns: bool = False,
) -> None:
    type_name = shape.type_name
    meta = shape.metadata
    if type_name == "structure":
        if isinstance(value, dict):
            _walk_structure(shape, value, path, wire_path, problems, ec2, patterns)
        return
    if type_name == "list":
        _check_size(meta, value, path, wire_path, problems, "length")
        member = shape.member
        for index, item in enumerate(value, 1):
            if item is not None:
                _walk(
                    member,
                    item,
                    f"{path}.{index}.member",
                    f"{wire_path}.{index}",
                    problems,
                    ec2,
                    patterns,
                )
        return
    if type_name == "map":
        _check_size(meta, value, path, wire_path, problems, "length")
        for key, item in value.items():
            _walk(shape.key, key, f"{path}.key", f"{wire_path}.key", problems, ec2, patterns)
            if item is not None:
                sub_path = f"{path}.{key}.member"
                _walk(shape.value, item, sub_path, f"{wire_path}.{key}", problems, ec2,
                      patterns)
        return
    if type_name in ("string", "blob"):
        _check_size(meta, value, path, wire_path, problems, "length")
        enum = meta.get("enum")
        # Open-ended enums (instance types grow faster than botocore's copy) are the service's
        # to judge, so the handler answers with the service's own code.
        if enum and type_name == "string" and value not in enum \
                and shape.name not in OPEN_ENUMS:
            problems.append(
                _Problem(
                    path,
                    wire_path,
                    value,
                    f"Member must satisfy enum value set: [{', '.join(enum)}]",
                )
            )
        pattern = meta.get("pattern") if patterns and type_name == "string" else None
        compiled = compiled_pattern(pattern) if pattern else None
        if compiled is not None and compiled.fullmatch(str(value)) is None:
            problems.append(_Problem(path, wire_path, value, "Member must satisfy regular "
                                     f"expression pattern: {_anchored(str(pattern))}"))
        return
    if type_name in ("integer", "long", "float", "double"):
        low = meta.get("min")
        high = meta.get("max")
        if low is not None and value < low:
            problems.append(
                _Problem(
                    path, wire_path, value, f"Member must have value greater than or equal to {low}"
                )
            )
        elif high is not None and value > high:
            problems.append(
                _Problem(
                    path, wire_path, value, f"Member must have value less than or equal to {high}"
                )
            )


def _anchored(pattern: str) -> str:
    """AWS quotes patterns anchored: ``^...$``."""
    head = "" if pattern.startswith("^") else "^"
    tail = "" if pattern.endswith("$") else "$"
    return f"{head}{pattern}{tail}"


def _check_size(
    meta: dict[str, Any],
    value: Any,
    path: str,
    wire_path: str,
    problems: list[_Problem],
    what: str,
) -> None:
    low = meta.get("min")
    high = meta.get("max")
    if low is None and high is None:
        return
    size = len(value)
    if low is not None and size < low:
        constraint = f"Member must have {what} greater than or equal to {low}"
        problems.append(_Problem(path, wire_path, value, constraint))
    elif high is not None and size > high:
        constraint = f"Member must have {what} less than or equal to {high}"
        problems.append(_Problem(path, wire_path, value, constraint))


def _render(value: Any) -> str:
    if isinstance(value, bytes):
        return "<binary>"
    return str(value)


def _render_coral(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, str):
        return f"'{value}'"
    if isinstance(value, bytes):
        return "'<binary>'"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)

"""Read flow-log records from whatever form they were delivered in.

Flow logs reach users as S3 text objects (gzip, header line), Parquet objects, CloudWatch
Logs payloads, Firehose NDJSON objects and hand-made files; the reader turns all of them into
the project's record shape (dict keyed by AWS field names, ints for numeric fields, None for
``-``) and never drops a line silently: every line it cannot read is handed to ``on_malformed``
with its file and line number.
"""

from __future__ import annotations

import gzip
import io
import json
import os
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from localvpc.flowlogs.fields import FIELDS, INT_FIELDS, canonical_name
from localvpc.flowlogs.format import (
    ALL_V5_FIELDS,
    DEFAULT_FIELDS,
    TGW_DEFAULT_FIELDS,
    FlowLogFormatError,
    parse_fields_lenient,
)
from localvpc.model.errors import LocalVpcError

Record = dict[str, Any]

# Layouts tried, by token count, when a line carries no header and no format was given: the
# AWS examples and "all fields" formats that tools (Elastic's integration) recognise the same
# way. Only consulted when the default format does not fit.
_ALL_V7 = (*ALL_V5_FIELDS, *(f for f in FIELDS if FIELDS[f].version == 7))
_GUESSES: dict[int, tuple[str, ...]] = {
    6: ("instance-id", "interface-id", "srcaddr", "dstaddr", "pkt-srcaddr", "pkt-dstaddr"),
    14: DEFAULT_FIELDS,
    17: ("version", "interface-id", "account-id", "vpc-id", "subnet-id", "instance-id",
         "srcaddr", "dstaddr", "srcport", "dstport", "protocol", "tcp-flags", "type",
         "pkt-srcaddr", "pkt-dstaddr", "action", "log-status"),
    21: ("version", "vpc-id", "subnet-id", "instance-id", "interface-id", "account-id", "type",
         "srcaddr", "dstaddr", "srcport", "dstport", "pkt-srcaddr", "pkt-dstaddr", "protocol",
         "bytes", "packets", "start", "end", "action", "tcp-flags", "log-status"),
    29: ALL_V5_FIELDS,
    36: TGW_DEFAULT_FIELDS,
    39: _ALL_V7,
    40: (*_ALL_V7, "reject-reason"),
}

# Files a folder walk never treats as flow logs: format sidecars, docs, Spark/Hadoop markers.
_SKIP_SUFFIXES = (".format", ".md", ".yml", ".yaml", ".crc", ".txt.sha256")
_NULLS_PARQUET = {"-", "", "None"}


class FlowLogReadError(LocalVpcError):
    """A path cannot be read at all (missing, unreadable)."""


@dataclass(slots=True)
class Malformed:
    """A line (or JSON element) that is not a record of the current format."""

    path: str
    line: int | str
    reason: str
    text: str

    def __str__(self) -> str:
        snippet = self.text if len(self.text) <= 160 else self.text[:157] + "..."
        return f"{self.path}:{self.line}: {self.reason}: {snippet!r}"


@dataclass(slots=True)
class ReadSummary:
    """What a read did: files, records, malformed lines, layouts guessed by token count."""

    files: int = 0
    records: int = 0
    malformed: list[Malformed] = field(default_factory=list)
    guessed: int = 0

    def __str__(self) -> str:
        text = (f"{self.records} records from {self.files} file(s), "
                f"{len(self.malformed)} malformed line(s)")
        if self.guessed:
            text += f", {self.guessed} line(s) read with a layout guessed from their token count"
        return text


def convert(name: str, value: str | None) -> Any:
    """One text value in the record shape: None for ``-``, int for numeric fields.

    Raises ValueError for a numeric field that is not a decimal integer.
    """
    if value is None or value == "-":
        return None
    if name in INT_FIELDS:
        if not value.isdigit():
            raise ValueError(f"{name} is not an integer")
        return int(value)
    return value


def split_line(line: str) -> list[str]:
    """Tokens of a record line: AWS writes single spaces, but copies of AWS's own examples
    contain runs of spaces, so any run of spaces or tabs separates."""
    if "\t" in line:
        line = line.replace("\t", " ")
    tokens = line.split(" ")
    return [t for t in tokens if t] if "" in tokens else tokens


def is_header(tokens: Sequence[str]) -> bool:
    """A header line: every token names a field (hyphen or underscore spelling)."""
    return bool(tokens) and all(canonical_name(t) is not None for t in tokens)


def sidecar_format(path: Path) -> list[str] | None:
    """Fields from a ``<name>.format`` file beside ``<name>.log`` (a localvpc convention for
    logs whose format is only known out of band, e.g. CloudWatch exports)."""
    stem = path.name
    for suffix in (".gz", ".log", ".json", ".txt"):
        stem = stem.removesuffix(suffix)
    side = path.with_name(stem + ".format")
    if side.is_file():
        return parse_fields_lenient(side.read_text(encoding="utf-8"))
    return None


class FlowLogReader:
    """Streams records from files, folders and S3-layout trees, in input order."""

    def __init__(
        self,
        log_format: str | Sequence[str] | None = None,
        on_malformed: Callable[[Malformed], None] | None = None,
        use_sidecars: bool = True,
    ) -> None:
        if isinstance(log_format, str):
            self.fields: list[str] | None = parse_fields_lenient(log_format)
        else:
            self.fields = list(log_format) if log_format is not None else None
        self.on_malformed = on_malformed
        self.use_sidecars = use_sidecars
        self.summary = ReadSummary()

    # -- entry points ------------------------------------------------------------------
    def read(self, path: str | os.PathLike[str]) -> Iterator[Record]:
        """Records of a file or of every file below a folder (sorted: the S3 key layout
        sorts chronologically)."""
        root = Path(path)
        if root.is_dir():
            for file in iter_files(root):
                yield from self.read_file(file)
        elif root.is_file():
            yield from self.read_file(root)
        else:
            raise FlowLogReadError(f"{root}: no such file or directory")

    def read_file(self, path: Path) -> Iterator[Record]:
        """Records of one file, whatever its form (gzip or not, text, JSON, Parquet)."""
        self.summary.files += 1
        data = path.read_bytes()
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        if data[:4] == b"PAR1":
            yield from self._parquet(str(path), data)
            return
        text = data.decode("utf-8", errors="replace")
        fields = self.fields
        if fields is None and self.use_sidecars:
            fields = sidecar_format(path)
        yield from self.read_text(text, str(path), fields)

    def read_text(
        self, text: str, name: str = "<text>", fields: Sequence[str] | None = None
    ) -> Iterator[Record]:
        """Records of text content: header/record lines, NDJSON, or one JSON document.

        ``fields`` (else the reader's format) is the layout until a header line says otherwise.
        """
        if fields is None:
            fields = self.fields
        stripped = text.lstrip()
        if stripped[:1] in ("{", "["):
            try:
                doc = json.loads(stripped)
            except ValueError:
                doc = None
            if doc is not None:
                yield from self._json_doc(doc, name, fields)
                return
        state = _LineState(list(fields) if fields else None, fields is None)
        for number, line in enumerate(text.splitlines(), start=1):
            yield from self._line(line, name, number, state)

    # -- text lines --------------------------------------------------------------------
    def _line(self, line: str, name: str, number: int | str, state: _LineState) -> Iterator[Record]:
        line = line.strip(" \r\n\ufeff")
        if not line or line.startswith("#"):
            return
        if line.startswith("{"):
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                self._bad(name, number, f"invalid JSON ({exc.msg})", line)
                return
            yield from self._json_doc(obj, name, state.fields, number, state)
            return
        tokens = split_line(line)
        if is_header(tokens):
            state.fields = [canonical_name(t) or t for t in tokens]
            state.implicit = False
            return
        fields: Sequence[str]
        guessed = False
        if state.fields is not None and not (
            state.implicit and len(tokens) != len(state.fields)
        ):
            fields = state.fields
        else:
            guess = _GUESSES.get(len(tokens))
            if guess is None:
                self._bad(name, number, f"{len(tokens)} values fit neither the default format "
                          "nor a known all-fields layout (give --log-format)", line)
                return
            fields, guessed = guess, guess is not DEFAULT_FIELDS
        n = len(fields)
        if len(tokens) > n and tokens[n].startswith("#"):
            tokens = tokens[:n]  # a trailing annotation, as in copies of AWS's examples
        if len(tokens) != n:
            more = "more" if len(tokens) > n else "fewer"
            self._bad(name, number, f"{len(tokens)} values, {more} than the {n} fields of "
                      "the format", line)
            return
        try:
            record = {f: convert(f, v) for f, v in zip(fields, tokens, strict=True)}
        except ValueError as exc:
            self._bad(name, number, str(exc), line)
            return
        if guessed:
            self.summary.guessed += 1
        self.summary.records += 1
        yield record

    # -- JSON ----------------------------------------------------------------------------
    def _json_doc(
        self,
        doc: Any,
        name: str,
        fields: Sequence[str] | None,
        number: int | str | None = None,
        state: _LineState | None = None,
    ) -> Iterator[Record]:
        state = state or _LineState(list(fields) if fields else None, fields is None)
        where = number if number is not None else 1
        if isinstance(doc, list):
            for i, item in enumerate(doc):
                yield from self._json_doc(item, name, fields, f"{where}[{i}]", state)
            return
        if not isinstance(doc, dict):
            self._bad(name, where, "JSON value is not an object", json.dumps(doc)[:200])
            return
        events = doc.get("logEvents", doc.get("events"))
        if isinstance(events, list):
            # CloudWatch Logs subscription payload or a GetLogEvents/FilterLogEvents answer.
            key = "logEvents" if "logEvents" in doc else "events"
            for i, event in enumerate(events):
                message = event.get("message") if isinstance(event, dict) else None
                if isinstance(message, str):
                    yield from self._line(message, name, f"{where}:{key}[{i}]", state)
                else:
                    self._bad(name, f"{where}:{key}[{i}]", "event has no message",
                              json.dumps(event)[:200])
            return
        message = doc.get("message")
        if isinstance(message, str) and len(doc) == 1:
            # Firehose envelope: {"message": "<record line>"}.
            yield from self._line(message, name, where, state)
            return
        record = self._json_record(doc, name, where)
        if record is not None:
            self.summary.records += 1
            yield record

    def _json_record(self, doc: Mapping[str, Any], name: str, where: int | str) -> Record | None:
        """An NDJSON record (Firehose/enricher output): known keys typed, others kept."""
        record: Record = {}
        known = 0
        for key, value in doc.items():
            field_name = canonical_name(key)
            if field_name is None:
                record[key] = value
                continue
            known += 1
            try:
                record[field_name] = (
                    value if isinstance(value, int) and not isinstance(value, bool)
                    else convert(field_name, None if value is None else str(value))
                )
            except ValueError as exc:
                self._bad(name, where, str(exc), json.dumps(doc)[:200])
                return None
        if not known:
            self._bad(name, where, "JSON object has no flow-log field", json.dumps(doc)[:200])
            return None
        return record

    # -- Parquet -------------------------------------------------------------------------
    def _parquet(self, name: str, data: bytes) -> Iterator[Record]:
        import pyarrow.parquet as pq

        table = pq.read_table(io.BytesIO(data))
        columns = [canonical_name(c) or c for c in table.column_names]
        for i, row in enumerate(table.to_pylist(), start=1):
            record: Record = {}
            try:
                for col, (_, value) in zip(columns, row.items(), strict=True):
                    record[col] = _parquet_value(col, value)
            except ValueError as exc:
                self._bad(name, f"row {i}", str(exc), json.dumps(row, default=str)[:200])
                continue
            self.summary.records += 1
            yield record

    def _bad(self, path: str, line: int | str, reason: str, text: str) -> None:
        bad = Malformed(path, line, reason, text)
        self.summary.malformed.append(bad)
        if self.on_malformed is not None:
            self.on_malformed(bad)


@dataclass(slots=True)
class _LineState:
    fields: list[str] | None
    implicit: bool  # the format was not given: guessing by token count is allowed


def _parquet_value(name: str, value: Any) -> Any:
    # AWS writes typed columns with nulls; hand-made files (flowlogs-reader's sample) hold
    # numbers as strings and 'None'/'-' for missing values, so normalise both.
    if value is None:
        return None
    if isinstance(value, str):
        if value in _NULLS_PARQUET:
            return None
        return convert(name, value)
    if name in FIELDS and FIELDS[name].kind == "str":
        return str(value)
    return value


def iter_files(root: Path) -> Iterator[Path]:
    """Files below ``root`` in key order, skipping sidecars, docs and hidden files."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith((".", "_")) or name.endswith(_SKIP_SUFFIXES):
                continue
            yield Path(dirpath) / name


def read_records(
    paths: Iterable[str | os.PathLike[str]], log_format: str | None = None
) -> tuple[list[Record], ReadSummary]:
    """Every record of ``paths`` and the read summary (convenience for tests and tools)."""
    reader = FlowLogReader(log_format)
    out: list[Record] = []
    for p in paths:
        out.extend(reader.read(p))
    return out, reader.summary


__all__ = [
    "FlowLogFormatError",
    "FlowLogReadError",
    "FlowLogReader",
    "Malformed",
    "ReadSummary",
    "convert",
    "iter_files",
    "read_records",
]

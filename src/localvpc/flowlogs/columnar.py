"""Flow-log text files to Arrow tables and back to Parquet, without a Python loop per line.

The per-line reader (reader.py) is for fidelity and error reports; bulk work (enrichment,
benchmarks, conversion to Parquet) needs the whole file parsed by a multi-threaded
CSV reader (pyarrow's) into typed Arrow columns, which is what lives here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from localvpc.flowlogs.fields import INT_FIELDS


def read_log_table(
    path: str | Path,
    fields: Sequence[str],
    *,
    header: bool = False,
    block_size: int = 1 << 24,
) -> pa.Table:
    """A space-separated flow-log file (``.gz`` or not) as an Arrow table typed by the field
    catalogue: int64 for numeric fields, dictionary-encoded strings otherwise (ids, addresses
    and enums repeat, so the dictionaries stay small), null for ``-``.

    Lines that do not fit ``fields`` are skipped here; ``localvpc flowlogs read`` reports them.
    """
    types = {f: pa.int64() if f in INT_FIELDS else pa.dictionary(pa.int32(), pa.string())
             for f in fields}
    read = pacsv.ReadOptions(column_names=list(fields), skip_rows=1 if header else 0,
                             block_size=block_size)
    parse = pacsv.ParseOptions(delimiter=" ", quote_char=False, escape_char=False,
                               invalid_row_handler=lambda _row: "skip")
    convert = pacsv.ConvertOptions(column_types=types, null_values=["-"],
                                   strings_can_be_null=True)
    return pacsv.read_csv(str(path), read_options=read, parse_options=parse,
                          convert_options=convert)


def write_parquet(table: pa.Table, path: str | Path, compression: str = "snappy") -> Path:
    """Write ``table`` as one Parquet file (parents created)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out, compression=compression)
    return out

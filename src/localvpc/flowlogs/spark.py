"""The same ``awslogs`` table in Apache Spark, for flow-log volumes beyond one machine.

DuckDB (sql.py) answers on one machine; teams whose flow logs live in a data lake run the
same Athena-style SQL on Spark. This module reads the Parquet/Hive layout localvpc writes,
renames AWS's underscore Parquet columns to the hyphenated field names and configures Spark
to read ``"dst-az-id"`` as an identifier (as Athena does), so the seed's queries run as
printed. PySpark is optional (the ``test`` extra); importing this module does not need it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from localvpc.flowlogs.fields import canonical_name
from localvpc.flowlogs.sql import TABLE, FlowLogQueryError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def spark_session(app_name: str = "localvpc-flowlogs", cores: int = 2) -> SparkSession:
    """A local-mode session: ANSI SQL with double-quoted identifiers, partition values kept
    as strings (``month=08`` stays ``'08'``, as in Athena), no UI."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise FlowLogQueryError("PySpark is not installed (pip install 'pyspark>=3.5')") from exc
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", str(cores))
        .config("spark.sql.ansi.enabled", "true")
        .config("spark.sql.ansi.doubleQuotedIdentifiers", "true")
        .config("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )


def register_awslogs(spark: SparkSession, data: str | Path) -> DataFrame:
    """Register the Parquet files below ``data`` (Hive partitions discovered) as the temp
    view ``awslogs`` with AWS's hyphenated field names."""
    root = Path(data)
    if not root.exists():
        raise FlowLogQueryError(f"{root}: no such file or directory")
    frame = spark.read.option("mergeSchema", "true").parquet(str(root))
    renames = {c: canonical_name(c) or c for c in frame.columns}
    frame = frame.withColumnsRenamed({k: v for k, v in renames.items() if k != v})
    frame.createOrReplaceTempView(TABLE)
    return frame

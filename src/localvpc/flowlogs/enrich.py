"""The seed article's flow-log enricher, as a vectorised transform over Arrow tables.

AWS's sample Lambda looks every record up through EC2 calls: the tags of the record's
``instance-id`` become ``src-tag-<Key>``; the instance owning ``dstaddr`` gives
``dst-tag-<Key>``, ``dst-vpc-id``, ``dst-az-id`` (the zone *name*, as the Lambda writes it),
``dst-subnet-id``, ``dst-interface-id`` (the instance's first ENI) and ``dst-instance-id``,
and only when that instance has at least one tag. Here the lookups are built once from the
network model and applied to whole columns (``index_in`` + ``take``), never per record.

Where the Lambda is loose, we pick what its users would expect: an address is looked up
among the instances of the record's account and region, and when several VPCs reuse it, the
instance in the record's own VPC wins (otherwise the smallest VPC id, then instance id, with
running instances before terminated ones). The blog also mentions IPAM; the published code
only calls DescribeInstances, which is what is emulated (ENRICHER.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from localvpc.flowlogs.fields import INT_FIELDS
from localvpc.model.interfaces import Instance
from localvpc.model.network import Network

DST_FIELDS: tuple[str, ...] = (
    "dst-vpc-id", "dst-az-id", "dst-subnet-id", "dst-interface-id", "dst-instance-id",
)
"""The non-tag destination keys of the article's sample record, in its order."""

_SEP = "\x1f"  # joins key parts; cannot occur in ids or addresses


@dataclass(slots=True)
class EnrichIndex:
    """Lookup tables built once from a network: instances, their tags and addresses."""

    instances: list[Instance]
    by_account_id: dict[str, int] = field(default_factory=dict)
    by_id: dict[str, int] = field(default_factory=dict)
    by_vpc_ip: dict[str, int] = field(default_factory=dict)
    by_acct_ip: dict[str, int] = field(default_factory=dict)
    by_ip: dict[str, int] = field(default_factory=dict)
    by_ip_all: dict[str, list[int]] = field(default_factory=dict)

    @classmethod
    def build(cls, network: Network) -> EnrichIndex:
        def order(i: Instance) -> tuple[bool, str, str]:
            return (i.state == "terminated", i.vpc_id, i.id)

        instances = sorted(network.instances.values(), key=order)
        index = cls(instances)
        for n, inst in enumerate(instances):
            index.by_id.setdefault(inst.id, n)
            index.by_account_id.setdefault(_join(inst.account, inst.id), n)
            for ip in _instance_ips(network, inst):
                # DescribeInstances' private-ip-address filter: any private IPv4 of the
                # instance's ENIs. First (best-ordered) instance wins each key.
                index.by_vpc_ip.setdefault(
                    _join(inst.account, inst.region, inst.vpc_id, ip), n)
                index.by_acct_ip.setdefault(_join(inst.account, inst.region, ip), n)
                index.by_ip.setdefault(ip, n)
                owners = index.by_ip_all.setdefault(ip, [])
                if n not in owners:
                    owners.append(n)
        return index

    def candidate_ranks(self) -> list[dict[str, int]]:
        """``ranks[r][ip]`` = the r-th best instance owning ``ip`` (several when VPCs or
        accounts reuse an address), so a vectorised lookup can try them in order."""
        ranks: list[dict[str, int]] = []
        for ip, positions in self.by_ip_all.items():
            for r, pos in enumerate(positions):
                if r == len(ranks):
                    ranks.append({})
                ranks[r][ip] = pos
        return ranks

    def tag_keys(self) -> list[str]:
        return sorted({k for i in self.instances for k in i.tags})


def _join(*parts: str) -> str:
    return _SEP.join(parts)


def _instance_ips(network: Network, inst: Instance) -> list[str]:
    out: list[str] = []
    for eid in inst.network_interface_ids:
        eni = network.network_interfaces.get(eid)
        if eni is not None:
            out.extend(str(p.address) for p in eni.private_ips)
    return out


def _as_chunks(table: pa.Table, name: str) -> list[pa.Array] | None:
    """The chunks of a column as strings or string dictionaries; None if absent."""
    if name not in table.column_names:
        return None
    col = table.column(name)
    if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)
            or (pa.types.is_dictionary(col.type) and pa.types.is_string(col.type.value_type))):
        col = col.cast(pa.string())
    return list(col.chunks)


def _positions(chunks: list[pa.Array], n: int, mapping: Mapping[str, int]) -> pa.Array:
    """For each row, ``mapping[value]`` (null when absent or ``-``). Dictionary columns are
    looked up once per distinct value and expanded through their indices, so the cost per
    row is one integer gather."""
    if not mapping or not chunks:
        return pa.nulls(n, pa.int32())
    value_set = pa.array(list(mapping), pa.string())
    targets = pa.array(list(mapping.values()), pa.int32())
    parts = []
    for chunk in chunks:
        if pa.types.is_dictionary(chunk.type):
            hit = targets.take(pc.index_in(chunk.dictionary, value_set=value_set))
            parts.append(hit.take(chunk.indices))
        else:
            parts.append(targets.take(pc.index_in(chunk, value_set=value_set)))
    return pa.concat_arrays(parts) if len(parts) > 1 else parts[0]


def _codes(
    table: pa.Table, name: str, default: str | None, values: list[str], n: int
) -> pa.Array | pa.Scalar | None:
    """Codes (positions in ``values``) of a scope column, a scalar code for a default, or
    None when the records carry no such scope."""
    chunks = _as_chunks(table, name)
    codes = {v: i for i, v in enumerate(values)}
    if chunks is not None:
        return _positions(chunks, n, codes)
    if default is None:
        return None
    return pa.scalar(codes.get(default, -1), pa.int32())


def _matches(inst_codes: pa.Array, pos: pa.Array, rec_codes: Any) -> pa.Array | None:
    if rec_codes is None:
        return None
    return pc.equal(inst_codes.take(pos), rec_codes)


def _all(conds: list[pa.Array | None], n: int) -> pa.Array:
    out: pa.Array = pa.array(np.ones(n, dtype=bool)) if n else pa.array([], pa.bool_())
    for cond in conds:
        if cond is not None:
            out = pc.and_kleene(out, cond)
    return pc.fill_null(out, False)


def enrich_table(
    table: pa.Table,
    network: Network,
    *,
    account: str | None = None,
    region: str | None = None,
    index: EnrichIndex | None = None,
) -> pa.Table:
    """``table`` with the article's enrichment columns appended.

    ``account``/``region`` stand in for the record's ``account-id``/``region`` when the
    format lacks them (the Lambda runs in one account and region); without either, any
    account/region matches. New columns are dictionary-encoded (values = the network's
    instances), so they cost one integer array each.
    """
    index = index or EnrichIndex.build(network)
    n = table.num_rows
    instances = index.instances
    null_pos = pa.scalar(None, pa.int32())
    accounts = sorted({i.account for i in instances})
    regions = sorted({i.region for i in instances})
    vpcs = sorted({i.vpc_id for i in instances})
    inst_acct = pa.array([accounts.index(i.account) for i in instances], pa.int32())
    inst_reg = pa.array([regions.index(i.region) for i in instances], pa.int32())
    inst_vpc = pa.array([vpcs.index(i.vpc_id) for i in instances], pa.int32())
    rec_acct = _codes(table, "account-id", account, accounts, n)
    rec_reg = _codes(table, "region", region, regions, n)
    rec_vpc = _codes(table, "vpc-id", None, vpcs, n)

    # -- source: tags of the record's instance (same account) -------------------------
    iid = _as_chunks(table, "instance-id")
    src_pos = _positions(iid or [], n, index.by_id) if iid else pa.nulls(n, pa.int32())
    if instances:
        ok = _all([_matches(inst_acct, src_pos, rec_acct)], n)
        src_pos = pc.if_else(ok, src_pos, null_pos)

    # -- destination: the instance owning dstaddr, in scope, own VPC first ------------------
    dst = _as_chunks(table, "dstaddr")
    same: pa.Array = pa.nulls(n, pa.int32())
    anyv: pa.Array = pa.nulls(n, pa.int32())
    for rank in index.candidate_ranks() if dst else []:
        pos = _positions(dst or [], n, rank)
        valid = _all([_matches(inst_acct, pos, rec_acct), _matches(inst_reg, pos, rec_reg)], n)
        anyv = pc.coalesce(anyv, pc.if_else(valid, pos, null_pos))
        if rec_vpc is not None:
            in_vpc = pc.and_(valid, _all([_matches(inst_vpc, pos, rec_vpc)], n))
            same = pc.coalesce(same, pc.if_else(in_vpc, pos, null_pos))
    dst_pos = pc.coalesce(same, anyv)
    # The Lambda writes destination keys only for an instance with at least one tag.
    if instances:
        tagged = pa.array([bool(i.tags) for i in instances], pa.bool_())
        dst_pos = pc.if_else(pc.fill_null(tagged.take(dst_pos), False), dst_pos, null_pos)

    def column(values: list[str | None], pos: pa.Array) -> pa.DictionaryArray:
        # Parquet cannot store a null inside a dictionary: rows pointing at an instance
        # without the value (a missing tag key) get a null index instead.
        present = pa.array([v is not None for v in values], pa.bool_())
        keep = pc.if_else(pc.fill_null(present.take(pos), False), pos, null_pos)
        return pa.DictionaryArray.from_arrays(
            keep, pa.array(["" if v is None else v for v in values], pa.string()))

    out = table
    for prefix, pos in (("src-tag-", src_pos), ("dst-tag-", dst_pos)):
        for key in index.tag_keys():
            tag_column = column([i.tags.get(key) for i in instances], pos)
            if tag_column.null_count < n:
                out = out.append_column(prefix + key, tag_column)
    attrs: dict[str, list[str | None]] = {
        "dst-vpc-id": [i.vpc_id or None for i in instances],
        "dst-az-id": [i.availability_zone or None for i in instances],
        "dst-subnet-id": [i.subnet_id or None for i in instances],
        "dst-interface-id": [i.primary_eni_id for i in instances],
        "dst-instance-id": [i.id for i in instances],
    }
    for name in DST_FIELDS:
        out = out.append_column(name, column(attrs[name], dst_pos))
    return out


def enrichment_columns(table: pa.Table) -> list[str]:
    """The columns enrich_table added (tags first, then the five destination fields)."""
    return [c for c in table.column_names
            if c.startswith(("src-tag-", "dst-tag-")) or c in DST_FIELDS]


def enrich_records(
    records: Iterable[Mapping[str, Any]], network: Network, **kwargs: Any
) -> list[dict[str, Any]]:
    """Records (the project's dict shape) enriched; absent enrichment keys are omitted, as
    the Lambda omits them."""
    rows = [dict(r) for r in records]
    if not rows:
        return []
    names: list[str] = []
    for row in rows:
        names.extend(k for k in row if k not in names)
    schema = pa.schema(
        [pa.field(k, pa.int64() if k in INT_FIELDS else pa.string()) for k in names])
    table = enrich_table(pa.Table.from_pylist(rows, schema=schema), network, **kwargs)
    added = set(enrichment_columns(table))
    out: list[dict[str, Any]] = []
    for original, row in zip(rows, table.to_pylist(), strict=True):
        merged = dict(original)
        merged.update({k: v for k, v in row.items() if k in added and v is not None})
        out.append(merged)
    return out


# -- the same transform as one DuckDB query ------------------------------------------------
# For files larger than memory (and the benchmark), parse + enrich + Parquet run as one
# streaming, multi-threaded DuckDB pipeline: the lookups become hash joins on small tables.


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def register_lookups(con: Any, index: EnrichIndex) -> list[str]:
    """Register the lookup tables on a DuckDB connection; returns the tag keys."""
    keys = index.tag_keys()
    inst = index.instances
    con.register("_enrich_src", pa.table({
        "acct": [inst[p].account for p in index.by_account_id.values()],
        "iid": [inst[p].id for p in index.by_account_id.values()],
        **{f"src-tag-{k}": [inst[p].tags.get(k) for p in index.by_account_id.values()]
           for k in keys},
    }))
    vpc_keys = [k.split(_SEP) for k in index.by_vpc_ip]
    con.register("_enrich_dvpc", pa.table({
        "acct": [k[0] for k in vpc_keys], "region": [k[1] for k in vpc_keys],
        "vpc": [k[2] for k in vpc_keys], "ip": [k[3] for k in vpc_keys],
        "pos": pa.array(list(index.by_vpc_ip.values()), pa.int32()),
    }))
    any_keys = [k.split(_SEP) for k in index.by_acct_ip]
    con.register("_enrich_dany", pa.table({
        "acct": [k[0] for k in any_keys], "region": [k[1] for k in any_keys],
        "ip": [k[2] for k in any_keys],
        "pos": pa.array(list(index.by_acct_ip.values()), pa.int32()),
    }))
    tagged = [n for n, i in enumerate(inst) if i.tags]
    con.register("_enrich_inst", pa.table({
        "pos": pa.array(tagged, pa.int32()),
        **{f"dst-tag-{k}": [inst[n].tags.get(k) for n in tagged] for k in keys},
        "dst-vpc-id": [inst[n].vpc_id or None for n in tagged],
        "dst-az-id": [inst[n].availability_zone or None for n in tagged],
        "dst-subnet-id": [inst[n].subnet_id or None for n in tagged],
        "dst-interface-id": [inst[n].primary_eni_id for n in tagged],
        "dst-instance-id": [inst[n].id for n in tagged],
    }))
    return keys


def enrich_sql(source: str, columns: Sequence[str], keys: Sequence[str], *,
               account: str | None = None, region: str | None = None) -> str:
    """A SELECT adding the enrichment columns to ``source`` (a DuckDB table expression with
    AWS field names), after :func:`register_lookups`. Same rules as :func:`enrich_table`;
    tag columns exist for every tag key of the network (possibly all null)."""
    def col(name: str, default: str | None) -> str:
        if name in columns:
            return f"NULLIF(r.{_q(name)}, '-')"
        return "NULL" if default is None else "'" + default.replace("'", "''") + "'"

    acct, reg = col("account-id", account), col("region", region)
    iid, vpc, dst = col("instance-id", None), col("vpc-id", None), col("dstaddr", None)

    if acct == "NULL" or reg == "NULL":
        raise ValueError("enrich_sql needs account-id and region columns or defaults")
    src_tags = ", ".join(f"s.{_q('src-tag-' + k)}" for k in keys)
    dst_cols = ", ".join(f"i.{_q(c)}" for c in [*(f"dst-tag-{k}" for k in keys), *DST_FIELDS])
    # Without a vpc-id column, the same-VPC preference cannot apply.
    same_vpc = (f"LEFT JOIN _enrich_dvpc dv ON dv.acct = {acct} AND dv.region = {reg} "
                f"AND dv.vpc = {vpc} AND dv.ip = {dst} ") if vpc != "NULL" else ""
    pos = "coalesce(dv.pos, da.pos)" if same_vpc else "da.pos"
    return (
        f"SELECT r.*{', ' + src_tags if src_tags else ''}, {dst_cols} FROM {source} r "
        f"LEFT JOIN _enrich_src s ON s.acct = {acct} AND s.iid = {iid} "
        f"{same_vpc}"
        f"LEFT JOIN _enrich_dany da ON da.acct = {acct} AND da.region = {reg} "
        f"AND da.ip = {dst} "
        f"LEFT JOIN _enrich_inst i ON i.pos = {pos}"
    )

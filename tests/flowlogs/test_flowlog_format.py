"""Field catalogue, LogFormat parsing and record lines, plus the write->read round trip."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from localvpc.flowlogs.fields import FIELDS, INT_FIELDS, TGW_FIELDS, VPC_FIELDS, record_version
from localvpc.flowlogs.format import (
    ALL_V5_FIELDS,
    DEFAULT_FORMAT,
    SEED_FORMAT,
    TGW_DEFAULT_FIELDS,
    FlowLogFormatError,
    format_record,
    header_line,
    parse_fields_lenient,
    parse_log_format,
)
from localvpc.flowlogs.reader import FlowLogReader
from localvpc.model.errors import LocalVpcError


def test_catalogue_matches_format_md() -> None:
    assert len(ALL_V5_FIELDS) == 29
    assert len(TGW_DEFAULT_FIELDS) == 36
    assert VPC_FIELDS[:40][-1] == "reject-reason"
    assert FIELDS["tcp-flags"].version == 3 and FIELDS["tcp-flags"].kind == "int"
    assert FIELDS["account-id"].kind == "str"  # 'unknown' and 11-digit ids exist
    assert FIELDS["traffic-path"].parquet == "int32" and FIELDS["bytes"].parquet == "int64"
    assert FIELDS["log-status"].column == "log_status"
    assert "packets-lost-no-route" in TGW_FIELDS and "packets-lost-no-route" not in VPC_FIELDS
    assert "action" in VPC_FIELDS and "action" not in TGW_FIELDS
    assert {"srcport", "protocol", "start", "end", "packets-lost-ttl-expired"} <= INT_FIELDS


def test_version_is_the_highest_field_version() -> None:
    assert record_version(parse_log_format(DEFAULT_FORMAT)) == 2
    assert record_version(parse_log_format(SEED_FORMAT)) == 5
    assert record_version(TGW_DEFAULT_FIELDS) == 6
    assert record_version(["version", "reject-reason"]) == 8


def test_default_and_seed_formats() -> None:
    assert DEFAULT_FORMAT.startswith("${version} ${account-id} ${interface-id}")
    assert parse_log_format(DEFAULT_FORMAT)[-1] == "log-status"
    seed = parse_log_format(SEED_FORMAT)
    assert seed[0] == "account-id" and seed[-1] == "vpc-id" and seed == sorted(seed)


def test_unknown_field_is_an_aws_shaped_error() -> None:
    with pytest.raises(FlowLogFormatError) as info:
        parse_log_format("${version} ${colour} ${srcaddr}")
    assert isinstance(info.value, LocalVpcError)
    assert info.value.code == "InvalidParameter"
    assert "${colour}" in info.value.message


@pytest.mark.parametrize("text", ["", "${version}  ${srcaddr}", "${version} ", "version",
                                  "${version}${srcaddr}"])
def test_malformed_format_strings(text: str) -> None:
    with pytest.raises(FlowLogFormatError) as info:
        parse_log_format(text)
    assert "has an invalid format" in info.value.message


def test_resource_kind_restricts_fields() -> None:
    with pytest.raises(FlowLogFormatError):
        parse_log_format("${version} ${tgw-id}", resource="vpc")
    with pytest.raises(FlowLogFormatError):
        parse_log_format("${action}", resource="tgw")
    assert parse_log_format("${tgw-id} ${srcaddr}", resource="tgw") == ["tgw-id", "srcaddr"]


def test_lenient_spellings() -> None:
    assert parse_fields_lenient("instance_id ${log-status} tcp-flags") == [
        "instance-id", "log-status", "tcp-flags"]
    with pytest.raises(FlowLogFormatError):
        parse_fields_lenient("instance_id bogus")


def test_format_record_and_header() -> None:
    fields = ["version", "srcaddr", "action", "bytes"]
    rec = {"version": 2, "srcaddr": "10.0.0.1", "action": None, "bytes": 23294588}
    assert format_record(rec, fields) == "2 10.0.0.1 - 23294588"
    assert format_record({}, fields) == "- - - -"
    assert header_line(fields) == "version srcaddr action bytes"


_ALPHABET = string.ascii_letters + string.digits + ":./_-=" + "бé"
_token = st.text(_ALPHABET, min_size=1, max_size=12).filter(
    lambda s: s != "-" and s not in FIELDS and not s.startswith(("#", "{", "[")))


@st.composite
def _records(draw: st.DrawFn) -> tuple[list[str], list[dict[str, object]]]:
    fields = draw(st.lists(st.sampled_from(list(FIELDS)), min_size=1, max_size=12, unique=True))
    value = {f: (st.none() | st.integers(0, 2**62)) if f in INT_FIELDS
             else (st.none() | _token) for f in fields}
    recs = draw(st.lists(st.fixed_dictionaries(value), min_size=1, max_size=5))
    return fields, recs


@settings(max_examples=150, deadline=None)
@given(_records())
def test_round_trip_format_record_reader(case: tuple[list[str], list[dict[str, object]]]) -> None:
    fields, records = case
    text = "\n".join([header_line(fields), *(format_record(r, fields) for r in records)]) + "\n"
    reader = FlowLogReader()
    back = list(reader.read_text(text, "mem"))
    assert reader.summary.malformed == []
    assert back == records

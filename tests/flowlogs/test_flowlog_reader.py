"""The reader on every collected sample, on the S3 layouts, and the CLI contract."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from localvpc.flowlogs.format import SEED_FIELDS, format_record, header_line
from localvpc.flowlogs.reader import FlowLogReader, Malformed, iter_files

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "flowlogs" / "samples"
TGW_CW = ("version account-id tgw-id tgw-attachment-id tgw-src-vpc-id tgw-dst-vpc-id "
          "tgw-src-subnet-id tgw-dst-subnet-id tgw-src-eni tgw-dst-eni tgw-src-az-id "
          "tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr srcport dstport protocol packets "
          "bytes start end log-status type tcp-flags flow-direction region")
# Formats known only out of band (CloudWatch payloads carry no header).
FORMATS = {
    "otel-collector-contrib/valid_vpc_flow_cw_custom.json":
        "${version} ${interface-id} ${srcaddr} ${dstaddr}",
    "otel-collector-contrib/valid_tgw_flow_cw.json": TGW_CW,
}
# (records, malformed lines, lines read with a layout guessed from the token count)
EXPECTED = {
    "aws-docs/accepted-rejected.log": (2, 0, 0),
    "aws-docs/ipv6.log": (1, 0, 0),
    "aws-docs/nat-gateway.log": (6, 0, 0),
    "aws-docs/nodata-skipdata.log": (2, 0, 0),
    "aws-docs/security-group-nacl-icmp.log": (2, 0, 0),
    "aws-docs/service-name-traffic-path-direction.log": (2, 0, 0),
    "aws-docs/tcp-flag-sequence.log": (8, 0, 0),
    "aws-docs/transit-gateway.log": (4, 1, 0),
    "czsergio-vpcflowlogs-enricher/VPC-FlowLog-sample-PUT-S3-2023-09-30-23-47-13-x.gz":
        (190, 0, 0),
    "elastic-beats/module-test/accept-reject-traffic.log": (4, 0, 0),
    "elastic-beats/module-test/bad.log": (0, 1, 0),
    "elastic-beats/module-test/custom-nat-gateway.log": (2, 0, 0),
    "elastic-beats/module-test/custom-transit-gateway.log": (1, 0, 1),
    "elastic-beats/module-test/ipv6.log": (1, 0, 0),
    "elastic-beats/module-test/no-data-skip-data.log": (2, 0, 0),
    "elastic-beats/module-test/tcp-flag-sequence-skip-data.log": (2, 0, 0),
    "elastic-beats/module-test/tcp-flag-sequence.log": (3, 0, 0),
    "elastic-integrations/deploy-tf-files/test-extra-samples.log": (9, 0, 2),
    "elastic-integrations/older-revisions/013f7d5/test-tcp-flag-sequence.log": (3, 0, 0),
    "elastic-integrations/test-ecs-samples.log": (10, 0, 10),
    "elastic-integrations/test-extra-samples.log": (7, 0, 0),
    "elastic-integrations/test-tcp-flag-sequence.log": (3, 0, 3),
    "elastic-integrations/test-tgw-samples.log": (10, 0, 10),
    "elastic-integrations/test-v5-all-fields.log": (1, 0, 1),
    "elastic-integrations/test-v8-samples.log": (1, 0, 1),
    "elastic-integrations/test-with-message-field.log": (1, 0, 0),
    "flowlogs-reader/V2_RECORDS.log": (5, 0, 0),
    "flowlogs-reader/V3_FILE.log": (2, 0, 0),
    "flowlogs-reader/V4_FILE.log": (2, 0, 0),
    "flowlogs-reader/V5_FILE.log": (2, 1, 0),
    "flowlogs-reader/V6_FILE.log": (1, 0, 0),
    "flowlogs-reader/flows.parquet": (3, 0, 0),
    "flowlogs-reader/millisecond_timestamp_record.log": (1, 0, 0),
    "otel-collector-contrib/valid_tgw_flow_cw.json": (1, 0, 0),
    "otel-collector-contrib/valid_tgw_flow_log.log": (1, 0, 0),
    "otel-collector-contrib/valid_vpc_flow_cw.json": (2, 0, 0),
    "otel-collector-contrib/valid_vpc_flow_cw_custom.json": (2, 0, 0),
    "otel-collector-contrib/valid_vpc_flow_log.log": (1, 0, 0),
    "otel-collector-contrib/valid_vpc_flow_log_ecs.log": (1, 0, 0),
    "otel-collector-contrib/valid_vpc_flow_log_multi.log": (2, 0, 0),
    "otel-collector-contrib/vpc_flow_log_too_few_fields.log": (0, 1, 0),
    "otel-collector-contrib/vpc_flow_log_too_many_fields.log": (0, 1, 0),
    "vrl/example1-default-format.log": (1, 0, 0),
    "vrl/example2-custom-format.log": (1, 0, 0),
    "vrl/example3-v5-fields.log": (1, 0, 0),
}


@pytest.fixture(scope="module")
def samples() -> Path:
    if not SAMPLES.is_dir():
        pytest.skip("../shared/flowlogs/samples is not present")
    return SAMPLES


def _read(path: Path, log_format: str | None = None) -> tuple[list[dict], FlowLogReader]:
    reader = FlowLogReader(log_format)
    return list(reader.read(path)), reader


def test_every_sample_is_covered(samples: Path) -> None:
    found = {str(p.relative_to(samples)) for p in iter_files(samples)}
    assert found == set(EXPECTED)
    # The folder walk skipped exactly the sidecars, the docs and the YAML fixture.
    skipped = {str(p.relative_to(samples)) for p in samples.rglob("*") if p.is_file()} - found
    assert all(s.endswith((".format", ".md", ".yml")) for s in skipped)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_parses(samples: Path, name: str) -> None:
    records, reader = _read(samples / name, FORMATS.get(name))
    assert (len(records), len(reader.summary.malformed), reader.summary.guessed) == EXPECTED[name]
    for rec in records:
        for key, value in rec.items():
            assert value != "-", (key, rec)
            if key in ("srcport", "dstport", "packets", "bytes", "start", "end", "version"):
                assert value is None or isinstance(value, int)
    for bad in reader.summary.malformed:
        assert bad.path.endswith(name) and bad.line


def test_beats_processor_yaml_cases(samples: Path) -> None:
    cases = yaml.safe_load((samples / "elastic-beats/processor-testdata/aws-vpc-flow-logs.yml")
                           .read_text(encoding="utf-8"))
    total = 0
    for case in cases.values():
        reader = FlowLogReader(case["format"])
        text = "\n".join(case["samples"])
        records = list(reader.read_text(text, "yaml"))
        assert reader.summary.malformed == []
        assert len(records) == len(case["samples"])
        total += len(records)
    assert total >= 20


def test_sample_values(samples: Path) -> None:
    (nodata, skip), _ = _read(samples / "aws-docs/nodata-skipdata.log")
    assert nodata == {"version": 2, "account-id": "123456789010",
                      "interface-id": "eni-1235b8ca123456789", "srcaddr": None, "dstaddr": None,
                      "srcport": None, "dstport": None, "protocol": None, "packets": None,
                      "bytes": None, "start": 1431280876, "end": 1431280934, "action": None,
                      "log-status": "NODATA"}
    assert skip["log-status"] == "SKIPDATA"
    recs, _ = _read(samples / "aws-docs/tcp-flag-sequence.log")
    # The double space in AWS's own example does not shift the fields.
    assert recs[-1]["srcport"] == 5001 and recs[-1]["dstport"] == 43638
    assert recs[-1]["pkt-srcaddr"] == "10.0.0.62" and recs[-1]["tcp-flags"] == 19
    assert recs[5]["bytes"] == 23294588
    nat, _ = _read(samples / "aws-docs/nat-gateway.log")
    assert nat[4] == {"instance-id": "i-01234567890123456",
                      "interface-id": "eni-1111aaaa2222bbbb3", "srcaddr": "10.0.1.5",
                      "dstaddr": "203.0.113.5", "pkt-srcaddr": "10.0.1.5",
                      "pkt-dstaddr": "203.0.113.5"}
    v5, _ = _read(samples / "flowlogs-reader/V5_FILE.log")
    assert v5[1]["traffic-path"] == 7 and v5[1]["pkt-dst-aws-service"] == "S3"
    assert "version" not in list(v5[0])[:1]  # alphabetical console order kept
    tgw, _ = _read(samples / "elastic-integrations/test-tgw-samples.log")
    assert tgw[0]["tgw-id"] == "tgw-0a12bc34de56f7890" and tgw[0]["version"] == 3
    assert tgw[0]["resource-type"] is None and tgw[0]["packets-lost-no-route"] is None
    ms, _ = _read(samples / "flowlogs-reader/millisecond_timestamp_record.log")
    assert ms[0]["start"] == 1512564058000  # kept as logged, never "fixed"
    pq_recs, _ = _read(samples / "flowlogs-reader/flows.parquet")
    assert pq_recs[0]["account-id"] == "123456789010" and pq_recs[0]["srcport"] == 443
    assert pq_recs[1]["packets"] is None and pq_recs[2]["protocol"] == 8080
    cz, _ = _read(samples / "czsergio-vpcflowlogs-enricher/"
                            "VPC-FlowLog-sample-PUT-S3-2023-09-30-23-47-13-x.gz")
    assert sum(r["action"] == "REJECT" for r in cz) == 120
    assert cz[0]["bytes"] == 40 and cz[0]["traffic-path"] is None
    assert cz[0]["security-groups"] == "no-inbound-rules||||sg-076a6898553409f2e"
    msg, _ = _read(samples / "elastic-integrations/test-with-message-field.log")
    assert msg[0]["log-status"] == "NODATA" and msg[0]["account-id"] == "428961148399"
    cw, _ = _read(samples / "otel-collector-contrib/valid_vpc_flow_cw_custom.json",
                  FORMATS["otel-collector-contrib/valid_vpc_flow_cw_custom.json"])
    assert cw == [{"version": 2, "interface-id": "eni-1235b8ca123456789",
                   "srcaddr": "172.31.16.139", "dstaddr": "172.31.16.21"},
                  {"version": 2, "interface-id": "eni-1235b8ca123456789",
                   "srcaddr": "172.31.9.69", "dstaddr": "172.31.9.12"}]
    v8, _ = _read(samples / "elastic-integrations/test-v8-samples.log")
    assert v8[0]["reject-reason"] == "BPA" or v8[0]["reject-reason"] is None
    assert v8[0]["ecs-cluster-name"] == "backend-cluster"


def test_malformed_lines_are_reported_with_file_and_line(samples: Path) -> None:
    seen: list[Malformed] = []
    reader = FlowLogReader(on_malformed=seen.append)
    records = list(reader.read(samples / "flowlogs-reader/V5_FILE.log"))
    assert len(records) == 2
    assert [(Path(b.path).name, b.line, b.text) for b in seen] == [
        ("V5_FILE.log", 4, "bogus line")]


def test_headers_mid_stream_and_blank_lines(samples: Path) -> None:
    recs, _ = _read(samples / "elastic-beats/module-test/tcp-flag-sequence-skip-data.log")
    assert [r["log-status"] for r in recs] == ["SKIPDATA", "NODATA"]
    assert recs[0]["vpc-id"] == "vpc-abcdefab012345678" and recs[0]["tcp-flags"] is None


def _seed_records(n: int) -> list[dict]:
    return [{"account-id": "111111111111", "action": "ACCEPT" if i % 3 else "REJECT",
             "az-id": "use1-az2", "bytes": 100 * i, "dstaddr": "10.0.2.20", "dstport": 5432,
             "end": 1700000060 + i, "flow-direction": "egress", "instance-id": "i-web",
             "interface-id": "eni-web0", "log-status": "OK", "packets": i + 1,
             "pkt-dst-aws-service": None, "pkt-dstaddr": "10.0.2.20",
             "pkt-src-aws-service": None, "pkt-srcaddr": "10.0.1.10", "protocol": 6,
             "region": "us-east-1", "srcaddr": "10.0.1.10", "srcport": 40000 + i,
             "start": 1700000000 + i, "sublocation-id": None, "sublocation-type": None,
             "subnet-id": "subnet-a1", "tcp-flags": 19, "traffic-path": 1, "type": "IPv4",
             "version": 5, "vpc-id": "vpc-a"} for i in range(n)]


def _write_s3_tree(root: Path, records: list[dict]) -> list[Path]:
    """Two objects in the plain layout (gzip text with header) and one in the Hive layout."""
    fields = list(SEED_FIELDS)
    body = [header_line(fields)] + [format_record(r, fields) for r in records]
    plain = root / "AWSLogs/111111111111/vpcflowlogs/us-east-1/2023/11/14/22"
    hive = root / ("AWSLogs/aws-account-id=111111111111/aws-service=vpcflowlogs/"
                   "aws-region=us-east-1/year=2023/month=11/day=15/hour=01")
    paths = [
        plain / "111111111111_vpcflowlogs_us-east-1_fl-1_20231114T2215Z_0a1b2c3d.log.gz",
        plain / "111111111111_vpcflowlogs_us-east-1_fl-1_20231114T2220Z_0a1b2c3e.log.gz",
        hive / "111111111111_vpcflowlogs_us-east-1_fl-1_20231115T0100Z_0a1b2c3f.log.gz",
    ]
    chunks = [body[:1] + body[1:4], body[:1] + body[4:6], body[:1] + body[6:]]
    for path, chunk in zip(paths, chunks, strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(gzip.compress(("\n".join(chunk) + "\n").encode()))
    return paths


def test_s3_layout_tree_in_key_order(tmp_path: Path) -> None:
    records = _seed_records(8)
    _write_s3_tree(tmp_path, records)
    back, reader = _read(tmp_path)
    # Objects come in key order: the plain account folder sorts before the Hive keys
    # (aws-account-id=...), and within a layout key order is time order.
    assert back == records
    assert reader.summary.files == 3 and reader.summary.malformed == []


def test_parquet_with_aws_column_names(tmp_path: Path) -> None:
    records = _seed_records(3)
    cols = {f.replace("-", "_"): [r[f] for r in records] for f in SEED_FIELDS}
    path = tmp_path / "x.log.parquet"
    pq.write_table(pa.table(cols), path)
    back, _ = _read(path)
    assert back == [{f: r[f] for f in SEED_FIELDS} for r in records]


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "localvpc", "flowlogs", *args],
                          capture_output=True, text=True, check=False)


def test_cli_read_contract(tmp_path: Path, samples: Path) -> None:
    records = _seed_records(5)
    _write_s3_tree(tmp_path / "s3", records)
    bad = tmp_path / "plain.log"
    bad.write_text("2 123 eni-1 10.0.0.1 10.0.0.2 1 2 6 3 4 5 6 ACCEPT OK\nnot a record\n"
                   "2 123 eni-1 - - - - - - - 5 6 - NODATA\n")
    done = _cli("read", str(bad), str(tmp_path / "s3"), "--json")
    assert done.returncode == 0
    lines = [json.loads(x) for x in done.stdout.splitlines()]
    assert lines[0]["srcport"] == 1 and lines[0]["account-id"] == "123"
    assert lines[1]["srcaddr"] is None and lines[1]["log-status"] == "NODATA"
    assert sorted(lines[2:], key=lambda r: r["start"]) == records
    assert f"{bad}:2:" in done.stderr and "1 malformed line" in done.stderr
    # --log-format with AWS syntax for a headerless custom file.
    custom = tmp_path / "custom.log"
    custom.write_text("i-1 eni-2 10.0.0.1 10.0.0.2\n")
    done = _cli("read", str(custom), "--log-format",
                "${instance-id} ${interface-id} ${srcaddr} ${dstaddr}", "--json")
    assert json.loads(done.stdout) == {"instance-id": "i-1", "interface-id": "eni-2",
                                       "srcaddr": "10.0.0.1", "dstaddr": "10.0.0.2"}
    done = _cli("read", str(custom), "--log-format", "${nope}", "--json")
    assert done.returncode == 2 and "Unknown fields provided: ${nope}" in done.stderr

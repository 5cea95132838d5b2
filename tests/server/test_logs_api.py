"""CloudWatch Logs over the API: groups, streams, events, filter patterns, persistence."""

from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from conftest import Server, start_server, stop_server

# Flow-log lines in the default format (ENI eni-a: one SSH reject, one HTTPS accept).
LINES = [
    "2 123456789012 eni-a 10.0.0.5 10.0.1.9 49152 22 6 3 180 1700000000 1700000060 REJECT OK",
    "2 123456789012 eni-a 10.0.0.5 10.0.1.9 49153 443 6 10 5000 1700000000 1700000060 ACCEPT OK",
    "2 123456789012 eni-a - - - - - - - 1700000000 1700000060 - NODATA",
]


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def now_ms() -> int:
    return int(time.time() * 1000)


def seed(logs: object, group: str = "/vpc/flow", stream: str = "eni-a-all") -> int:
    logs.create_log_group(logGroupName=group)  # type: ignore[attr-defined]
    logs.create_log_stream(logGroupName=group, logStreamName=stream)  # type: ignore[attr-defined]
    base = now_ms() - 60_000
    logs.put_log_events(logGroupName=group, logStreamName=stream,  # type: ignore[attr-defined]
                        logEvents=[{"timestamp": base + i, "message": m}
                                   for i, m in enumerate(LINES)])
    return base


def test_groups_and_streams(fresh: Server) -> None:
    logs = fresh.client("logs")
    logs.create_log_group(logGroupName="/vpc/flow")
    logs.create_log_group(logGroupName="/app/web")
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="/vpc/flow")
    assert code(e) == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as e:
        logs.create_log_group(logGroupName="bad name!")
    assert code(e) == "InvalidParameterException"
    groups = logs.describe_log_groups(logGroupNamePrefix="/vpc")["logGroups"]
    assert [g["logGroupName"] for g in groups] == ["/vpc/flow"]
    assert groups[0]["arn"].endswith(":log-group:/vpc/flow:*")
    logs.create_log_stream(logGroupName="/vpc/flow", logStreamName="eni-b-all")
    logs.create_log_stream(logGroupName="/vpc/flow", logStreamName="eni-a-all")
    with pytest.raises(ClientError) as e:
        logs.create_log_stream(logGroupName="/vpc/flow", logStreamName="eni-a-all")
    assert code(e) == "ResourceAlreadyExistsException"
    with pytest.raises(ClientError) as e:
        logs.create_log_stream(logGroupName="/nope", logStreamName="s")
    assert code(e) == "ResourceNotFoundException"
    streams = logs.describe_log_streams(logGroupName="/vpc/flow")["logStreams"]
    assert [s["logStreamName"] for s in streams] == ["eni-a-all", "eni-b-all"]
    page = logs.describe_log_streams(logGroupName="/vpc/flow", limit=1)
    assert len(page["logStreams"]) == 1 and "nextToken" in page
    logs.delete_log_group(logGroupName="/app/web")
    with pytest.raises(ClientError) as e:
        logs.delete_log_group(logGroupName="/app/web")
    assert code(e) == "ResourceNotFoundException"


def test_put_and_get_events(fresh: Server) -> None:
    logs = fresh.client("logs")
    base = seed(logs)
    got = logs.get_log_events(logGroupName="/vpc/flow", logStreamName="eni-a-all",
                              startFromHead=True)
    assert [e["message"] for e in got["events"]] == LINES
    assert got["events"][0]["timestamp"] == base
    # Paging forward one at a time ends when the token stops changing.
    messages, token = [], None
    for _ in range(10):
        kwargs = {"logGroupName": "/vpc/flow", "logStreamName": "eni-a-all",
                  "startFromHead": True, "limit": 1}
        if token:
            kwargs["nextToken"] = token
        page = logs.get_log_events(**kwargs)
        messages += [e["message"] for e in page["events"]]
        if page["nextForwardToken"] == token:
            break
        token = page["nextForwardToken"]
    assert messages == LINES
    latest = logs.get_log_events(logGroupName="/vpc/flow", logStreamName="eni-a-all", limit=1)
    assert [e["message"] for e in latest["events"]] == [LINES[-1]]
    stream = logs.describe_log_streams(logGroupName="/vpc/flow")["logStreams"][0]
    assert stream["firstEventTimestamp"] == base and stream["lastEventTimestamp"] == base + 2
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName="/vpc/flow", logStreamName="eni-a-all",
                            logEvents=[{"timestamp": base + 5, "message": "b"},
                                       {"timestamp": base, "message": "a"}])
    assert code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.put_log_events(logGroupName="/vpc/flow", logStreamName="missing",
                            logEvents=[{"timestamp": base, "message": "a"}])
    assert code(e) == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:  # a batch spans at most 24 hours
        logs.put_log_events(logGroupName="/vpc/flow", logStreamName="eni-a-all",
                            logEvents=[{"timestamp": base - 86_400_001, "message": "a"},
                                       {"timestamp": base, "message": "b"}])
    assert code(e) == "InvalidParameterException"
    old = logs.put_log_events(logGroupName="/vpc/flow", logStreamName="eni-a-all",
                              logEvents=[{"timestamp": base - 15 * 86_400_000, "message": "old"},
                                         {"timestamp": base - 15 * 86_400_000 + 1,
                                          "message": "older"}])
    assert old["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 2}
    got = logs.get_log_events(logGroupName="/vpc/flow", logStreamName="eni-a-all",
                              startFromHead=True)
    assert [e["message"] for e in got["events"]] == LINES  # rejected events were not stored


def test_filter_patterns(fresh: Server) -> None:
    logs = fresh.client("logs")
    seed(logs)
    seed_other = logs.create_log_stream
    seed_other(logGroupName="/vpc/flow", logStreamName="eni-b-all")
    logs.put_log_events(logGroupName="/vpc/flow", logStreamName="eni-b-all", logEvents=[
        {"timestamp": now_ms() - 1000, "message": LINES[0].replace("eni-a", "eni-b")}])

    def messages(pattern: str, **kwargs: object) -> list[str]:
        out = logs.filter_log_events(logGroupName="/vpc/flow", filterPattern=pattern,
                                     **kwargs)
        return [e["message"] for e in out["events"]]

    assert len(messages("")) == 4
    assert messages("ACCEPT") == [LINES[1]]
    assert len(messages("REJECT 10.0.0.5")) == 2
    assert messages("-REJECT -ACCEPT") == [LINES[2]]
    assert len(messages("?NODATA ?ACCEPT")) == 2
    ssh = ("[version, account, eni, source, destination, srcport, destport=22, protocol=6, "
           "packets, bytes, windowstart, windowend, action=REJECT, flowlogstatus]")
    assert len(messages(ssh)) == 2
    assert messages(ssh, logStreamNames=["eni-a-all"]) == [LINES[0]]
    assert messages("[..., action=ACCEPT, status]") == [LINES[1]]
    assert messages("[v, a, eni=eni-b*, ...]") == [LINES[0].replace("eni-a", "eni-b")]
    assert messages("[..., bytes>=1000, start, end, action, status]") == [LINES[1]]
    assert messages("[v, a, e, s, d, sp, dp = 22 || dp = 443, ...]") == [
        *LINES[:2], LINES[0].replace("eni-a", "eni-b")]
    page = logs.filter_log_events(logGroupName="/vpc/flow", limit=1)
    assert len(page["events"]) == 1 and "nextToken" in page
    rest = logs.filter_log_events(logGroupName="/vpc/flow", nextToken=page["nextToken"])
    assert len(rest["events"]) == 3
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName="/vpc/flow", filterPattern="[a, b=")
    assert code(e) == "InvalidParameterException"
    with pytest.raises(ClientError) as e:
        logs.filter_log_events(logGroupName="/nope")
    assert code(e) == "ResourceNotFoundException"


def test_events_survive_a_restart(tmp_path: object) -> None:
    from pathlib import Path

    state = Path(str(tmp_path)) / "logs.db"
    server = start_server(state)
    try:
        seed(server.client("logs"))
    finally:
        server.proc.kill()  # no clean shutdown: an acknowledged write is on disk
        server.proc.wait()
    again = start_server(state)
    try:
        got = again.client("logs").get_log_events(logGroupName="/vpc/flow",
                                                  logStreamName="eni-a-all", startFromHead=True)
        assert [e["message"] for e in got["events"]] == LINES
    finally:
        stop_server(again)

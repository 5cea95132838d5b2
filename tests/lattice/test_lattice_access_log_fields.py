"""The keys and value types of Lattice access-log records, checked against a list written
from the documentation side (lattice.md AL-3, which a record AWS delivered for an HTTP
listener matches key for key), not from ``LATTICE_FIELDS``: a request's record and a
TLS_PASSTHROUGH connection's record carry the same keys, and the connection's bytes,
duration and ports come from what the proxy measured."""

from __future__ import annotations

import json
import random

from lattice_lab import ACCOUNT, LISTENER, SN, SVC, TG_INSTANCE, lattice_request, seed_network

from localvpc.lattice.access_logs import (
    Connection,
    Exchange,
    lattice_connection_record,
    lattice_record,
)
from localvpc.lattice.routing import Decision, LatticeRouter

T0 = 1_700_000_000.0

#: AL-3 ("Access log contents" of "Access logs for Amazon VPC Lattice").
DOC_FIELDS = frozenset({
    "startTime", "sourceIpPort", "targetIpPort", "serviceNetworkArn", "serviceArn",
    "targetGroupArn", "sourceVpcArn", "sourceVpcId", "destinationVpcId", "listenerId",
    "listenerType", "protocol", "requestMethod", "requestPath", "hostHeader", "userAgent",
    "serverNameIndication", "sslCipher", "tlsVersion", "responseCode", "bytesReceived",
    "bytesSent", "duration", "requestToTargetDuration", "responseFromTargetDuration",
    "callerPrincipal", "callerPrincipalOrgID", "callerX509IssuerOU", "callerX509SubjectCN",
    "callerX509SANNameCN", "callerX509SANDNS", "callerX509SANURI", "resolvedUser",
    "authDeniedReason", "failureReason"})
#: The fields AWS writes as JSON numbers (the delivered sample: responseCode 404, ...).
DOC_NUMBERS = frozenset({"responseCode", "bytesReceived", "bytesSent", "duration",
                         "requestToTargetDuration", "responseFromTargetDuration"})
#: What Lattice cannot see inside a passthrough TLS session.
HTTP_ONLY = ("protocol", "requestMethod", "requestPath", "hostHeader", "userAgent",
             "sslCipher", "tlsVersion", "responseCode", "requestToTargetDuration",
             "responseFromTargetDuration", "callerPrincipal", "callerPrincipalOrgID",
             "callerX509IssuerOU", "callerX509SubjectCN", "callerX509SANNameCN",
             "callerX509SANDNS", "callerX509SANURI", "resolvedUser")


def _types_hold(rec: dict[str, object]) -> None:
    """Numbers are ints (or ``"-"`` when they do not apply); everything else a string."""
    assert len(DOC_FIELDS) == 35
    for name, value in rec.items():
        if name in DOC_NUMBERS:
            assert (isinstance(value, int) and not isinstance(value, bool)) or value == "-", (
                name, value)
        else:
            assert isinstance(value, str) and value != "", (name, value)
    assert json.loads(json.dumps(rec)) == rec  # one JSON object, types kept


def _passthrough_decision() -> Decision:
    net = seed_network()
    return Decision(
        "forward", target_group_arn=f"arn:aws:vpc-lattice:us-west-2:{ACCOUNT}:targetgroup/"
        f"{TG_INSTANCE}", target_vpc_id="vpc-a", service=net.lattice_services[SVC],
        service_network=net.lattice_service_networks[SN], listener_id=LISTENER)


def test_a_request_record_has_exactly_the_documented_keys_and_types() -> None:
    net = seed_network()
    req = lattice_request("/to-instance", net=net, headers=[("user-agent", "curl/8.5.0")])
    req.received = T0
    d = LatticeRouter(random.Random(0)).route(net, req)
    rec = lattice_record(net, d, req, Exchange(
        200, bytes_received=135, bytes_sent=1247, end=T0 + 0.023, target_sent=T0 + 0.021,
        target_answered=T0 + 0.021, target_address="10.0.1.10:8080"))
    assert set(rec) == DOC_FIELDS
    _types_hold(rec)
    assert (rec["responseCode"], rec["bytesReceived"], rec["bytesSent"]) == (200, 135, 1247)
    assert (rec["duration"], rec["requestToTargetDuration"],
            rec["responseFromTargetDuration"]) == (23, 21, 0)


def test_a_passthrough_connection_record_has_the_same_keys_and_its_own_measures() -> None:
    net = seed_network()
    conn = Connection(T0 + 0.25, "10.1.0.5", 51234, "vpc-b", "api.example.com",
                      end=T0 + 0.25 + 1.2344, bytes_received=517, bytes_sent=4096,
                      target_address="10.0.1.10:8443")
    rec = lattice_connection_record(net, _passthrough_decision(), conn)
    assert set(rec) == DOC_FIELDS
    _types_hold(rec)
    # what derives from the connection
    assert rec["sourceIpPort"] == "10.1.0.5:51234"
    assert rec["targetIpPort"] == "10.0.1.10:8443"
    assert (rec["bytesReceived"], rec["bytesSent"]) == (517, 4096)
    assert rec["duration"] == 1234  # ms, rounded
    assert rec["startTime"] == "2023-11-14T22:13:20Z"  # the connection's start, whole s
    assert rec["serverNameIndication"] == "api.example.com"
    # where it went
    assert rec["serviceArn"] == f"arn:aws:vpc-lattice:us-west-2:{ACCOUNT}:service/{SVC}"
    assert rec["serviceNetworkArn"].endswith(f":servicenetwork/{SN}")
    assert rec["targetGroupArn"].endswith(f":targetgroup/{TG_INSTANCE}")
    assert rec["sourceVpcArn"] == f"arn:aws:ec2:us-west-2:{ACCOUNT}:vpc/vpc-b"
    assert (rec["sourceVpcId"], rec["destinationVpcId"], rec["listenerId"]) == (
        "vpc-b", "vpc-a", LISTENER)
    for name in HTTP_ONLY:
        assert rec[name] == "-", (name, rec[name])
    assert (rec["failureReason"], rec["authDeniedReason"]) == ("-", "-")


def test_a_failed_connection_keeps_zero_bytes_as_numbers_and_names_the_failure() -> None:
    net = seed_network()
    conn = Connection(T0, "10.1.0.5", 40000, None, "api.example.com", end=T0,
                      bytes_received=233, failure_reason="TargetConnectionError")
    rec = lattice_connection_record(net, _passthrough_decision(), conn)
    assert set(rec) == DOC_FIELDS
    _types_hold(rec)
    # 0 is a measure, not a missing value: it stays the number 0, as does the duration
    assert (rec["bytesReceived"], rec["bytesSent"], rec["duration"]) == (233, 0, 0)
    assert (rec["targetIpPort"], rec["failureReason"]) == ("-", "TargetConnectionError")
    # a client outside any VPC: no source VPC, nor its ARN
    assert (rec["sourceVpcId"], rec["sourceVpcArn"]) == ("-", "-")

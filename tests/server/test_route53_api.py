"""Route 53 over the API: hosted zones, record sets, VPC associations across accounts,
health checks and tags, with boto3 and the AWS CLI against a real server."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server, start_server, stop_server

A, B = "111111111111", "222222222222"
REGION = "us-east-1"


def code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def message(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Message"])


def vpc(fresh: Server, account: str = A, cidr: str = "10.0.0.0/16") -> str:
    ec2 = fresh.client("ec2", account=account)
    return str(ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"])


def private_zone(r53: Any, name: str, vpc_id: str, ref: str | None = None) -> str:
    out = r53.create_hosted_zone(Name=name, CallerReference=ref or name,
                                 VPC={"VPCRegion": REGION, "VPCId": vpc_id},
                                 HostedZoneConfig={"Comment": "test", "PrivateZone": True})
    return str(out["HostedZone"]["Id"])


def change(r53: Any, zone: str, *changes: tuple[str, str, str, list[str]],
           ttl: int = 300) -> dict[str, Any]:
    batch = [{"Action": action, "ResourceRecordSet": {
        "Name": name, "Type": rtype, "TTL": ttl,
        "ResourceRecords": [{"Value": v} for v in values]}}
        for action, name, rtype, values in changes]
    return dict(r53.change_resource_record_sets(HostedZoneId=zone,
                                                ChangeBatch={"Changes": batch}))


def records(r53: Any, zone: str) -> list[tuple[str, str]]:
    out = r53.list_resource_record_sets(HostedZoneId=zone)["ResourceRecordSets"]
    return [(r["Name"], r["Type"]) for r in out]


def test_public_zone_has_soa_and_ns_and_a_delegation_set(fresh: Server) -> None:
    r53 = fresh.client("route53", account=A)
    out = r53.create_hosted_zone(Name="Example.COM", CallerReference="r1")
    zone = out["HostedZone"]
    assert zone["Id"].startswith("/hostedzone/Z") and zone["Name"] == "example.com."
    assert zone["Config"]["PrivateZone"] is False and zone["ResourceRecordSetCount"] == 2
    assert out["ChangeInfo"]["Status"] == "INSYNC"
    assert out["Location"].endswith(zone["Id"].split("/")[-1])
    servers = out["DelegationSet"]["NameServers"]
    assert len(servers) == 4 and servers[0].startswith("ns-")
    sets = r53.list_resource_record_sets(HostedZoneId=zone["Id"])["ResourceRecordSets"]
    assert [(r["Name"], r["Type"]) for r in sets] == [("example.com.", "NS"),
                                                      ("example.com.", "SOA")]
    assert sets[0]["TTL"] == 172800 and sets[1]["TTL"] == 900
    assert "awsdns-hostmaster.amazon.com." in sets[1]["ResourceRecords"][0]["Value"]
    got = r53.get_hosted_zone(Id=zone["Id"])
    assert got["DelegationSet"]["NameServers"] == servers and "VPCs" not in got
    assert r53.get_change(Id=out["ChangeInfo"]["Id"])["ChangeInfo"]["Status"] == "INSYNC"


def test_create_zone_errors(fresh: Server) -> None:
    r53 = fresh.client("route53", account=A)
    v = vpc(fresh)
    private_zone(r53, "corp.internal", v, ref="same")
    with pytest.raises(ClientError) as exc:
        r53.create_hosted_zone(Name="other.internal", CallerReference="same")
    assert code(exc) == "HostedZoneAlreadyExists"
    assert exc.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(ClientError) as exc:   # same name on the same VPC (PZ-6)
        private_zone(r53, "corp.internal.", v, ref="again")
    assert code(exc) == "ConflictingDomainExists"
    with pytest.raises(ClientError) as exc:
        r53.create_hosted_zone(Name="x.internal", CallerReference="pv",
                               HostedZoneConfig={"PrivateZone": True})
    assert code(exc) == "InvalidInput"
    with pytest.raises(ClientError) as exc:
        private_zone(r53, "y.internal", "vpc-0123456789abcdef0", ref="bad")
    assert code(exc) == "InvalidVPCId"
    with pytest.raises(ClientError) as exc:
        r53.get_hosted_zone(Id="ZNOTAZONE")
    assert code(exc) == "NoSuchHostedZone"
    with pytest.raises(ClientError) as exc:
        r53.get_change(Id="CNOSUCHCHANGE")
    assert code(exc) == "NoSuchChange"
    # Another VPC can hold a private zone of the same name; a public one never conflicts.
    private_zone(r53, "corp.internal", vpc(fresh, cidr="10.1.0.0/16"), ref="v2")
    r53.create_hosted_zone(Name="corp.internal", CallerReference="public")


def test_change_batch_is_atomic_and_reports_every_problem(fresh: Server) -> None:
    r53 = fresh.client("route53", account=A)
    zone = private_zone(r53, "example.com", vpc(fresh))
    change(r53, zone, ("CREATE", "www.example.com", "A", ["10.0.0.10"]))
    with pytest.raises(ClientError) as exc:
        change(r53, zone, ("CREATE", "new.example.com", "A", ["10.0.0.11"]),
               ("CREATE", "www.example.com", "A", ["10.0.0.12"]),
               ("DELETE", "gone.example.com", "A", ["10.0.0.13"]))
    assert code(exc) == "InvalidChangeBatch"
    assert message(exc) == (
        "[Tried to create resource record set [name='www.example.com.', type='A'] but it "
        "already exists, Tried to delete resource record set [name='gone.example.com.', "
        "type='A'] but it was not found]")
    # Nothing of the failed batch was applied.
    assert ("new.example.com.", "A") not in records(r53, zone)
    cases = [
        (("CREATE", "www.other.org", "A", ["10.0.0.1"]),
         "RRSet with DNS name www.other.org. is not permitted in zone example.com."),
        (("CREATE", "example.com", "CNAME", ["x.example.org"]),
         "RRSet of type CNAME with DNS name example.com. is not permitted at apex in zone "
         "example.com."),
        (("CREATE", "www.example.com", "CNAME", ["x.example.org"]),
         "RRSet of type CNAME with DNS name www.example.com. is not permitted because a "
         "conflicting RRSet of type A with the same DNS name already exists in zone "
         "example.com."),
        (("DELETE", "www.example.com", "A", ["10.9.9.9"]),
         "Tried to delete resource record set [name='www.example.com.', type='A'] but the "
         "values provided do not match the current values"),
        (("CREATE", "bad.example.com", "A", ["not-an-ip"]), "ARRDATAIllegalIPv4Address"),
        (("DELETE", "example.com", "SOA", None), "A HostedZone must contain exactly one SOA "
         "record."),
    ]
    soa = r53.list_resource_record_sets(HostedZoneId=zone, StartRecordName="example.com",
                                        StartRecordType="SOA", MaxItems="1")[
        "ResourceRecordSets"][0]
    for (action, name, rtype, values), expected in cases:
        if values is None:
            values = [soa["ResourceRecords"][0]["Value"]]
        with pytest.raises(ClientError) as exc:
            change(r53, zone, (action, name, rtype, values),
                   ttl=soa["TTL"] if rtype == "SOA" else 300)
        assert code(exc) == "InvalidChangeBatch", expected
        assert expected in message(exc)
    # UPSERT replaces, DELETE with the exact values removes; both in one batch.
    change(r53, zone, ("UPSERT", "www.example.com", "A", ["10.0.0.20", "10.0.0.21"]),
           ("UPSERT", "api.example.com", "AAAA", ["2600:1f18::1"]))
    www = next(r for r in r53.list_resource_record_sets(HostedZoneId=zone)[
        "ResourceRecordSets"] if r["Name"] == "www.example.com.")
    assert sorted(v["Value"] for v in www["ResourceRecords"]) == ["10.0.0.20", "10.0.0.21"]
    change(r53, zone, ("DELETE", "www.example.com", "A", ["10.0.0.21", "10.0.0.20"]))
    assert ("www.example.com.", "A") not in records(r53, zone)
    with pytest.raises(ClientError) as exc:
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
            {"Action": "CREATE", "ResourceRecordSet": {"Name": "n.example.com", "Type": "A"}}]})
    assert code(exc) == "InvalidInput"


def test_record_order_wildcards_and_pagination(fresh: Server) -> None:
    r53 = fresh.client("route53", account=A)
    zone = r53.create_hosted_zone(Name="example.com", CallerReference="p")["HostedZone"]["Id"]
    change(r53, zone, ("CREATE", "*.example.com", "A", ["192.0.2.1"]),
           ("CREATE", "b.example.com", "TXT", ['"hello"']),
           ("CREATE", "b.example.com", "A", ["192.0.2.2"]),
           ("CREATE", "a.b.example.com", "A", ["192.0.2.3"]),
           ("CREATE", "z.example.com", "MX", ["10 mail.example.com."]))
    for ident, weight in (("one", 10), ("two", 20)):
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
            "Action": "CREATE", "ResourceRecordSet": {
                "Name": "w.example.com", "Type": "A", "SetIdentifier": ident,
                "Weight": weight, "TTL": 60, "ResourceRecords": [{"Value": "192.0.2.9"}]}}]})
    expected = [("example.com.", "NS"), ("example.com.", "SOA"),
                ("\\052.example.com.", "A"), ("b.example.com.", "A"),
                ("b.example.com.", "TXT"), ("a.b.example.com.", "A"),
                ("w.example.com.", "A"), ("w.example.com.", "A"), ("z.example.com.", "MX")]
    assert records(r53, zone) == expected
    seen: list[tuple[str, str, str | None]] = []
    kwargs: dict[str, Any] = {}
    pages = 0
    while True:
        out = r53.list_resource_record_sets(HostedZoneId=zone, MaxItems="2", **kwargs)
        pages += 1
        assert out["MaxItems"] == "2" and len(out["ResourceRecordSets"]) <= 2
        seen += [(r["Name"], r["Type"], r.get("SetIdentifier"))
                 for r in out["ResourceRecordSets"]]
        if not out["IsTruncated"]:
            break
        kwargs = {"StartRecordName": out["NextRecordName"],
                  "StartRecordType": out["NextRecordType"]}
        if "NextRecordIdentifier" in out:
            kwargs["StartRecordIdentifier"] = out["NextRecordIdentifier"]
    assert pages == 5 and [s[:2] for s in seen] == expected
    assert [s[2] for s in seen if s[0] == "w.example.com."] == ["one", "two"]
    # The paginator of boto3 walks the same way.
    paginator = r53.get_paginator("list_resource_record_sets")
    names = [r["Name"] for page in paginator.paginate(HostedZoneId=zone,
                                                      PaginationConfig={"PageSize": 4})
             for r in page["ResourceRecordSets"]]
    assert names == [e[0] for e in expected]
    with pytest.raises(ClientError) as exc:
        r53.list_resource_record_sets(HostedZoneId=zone, StartRecordType="A")
    assert code(exc) == "InvalidInput"
    with pytest.raises(ClientError) as exc:   # a weighted set without SetIdentifier
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
            "Action": "CREATE", "ResourceRecordSet": {
                "Name": "v.example.com", "Type": "A", "Weight": 1, "TTL": 60,
                "ResourceRecords": [{"Value": "192.0.2.9"}]}}]})
    assert code(exc) == "InvalidInput"
    with pytest.raises(ClientError) as exc:
        r53.delete_hosted_zone(Id=zone)
    assert code(exc) == "HostedZoneNotEmpty"


def test_list_zones_by_name_and_markers(fresh: Server) -> None:
    r53 = fresh.client("route53", account=A)
    for i, name in enumerate(["b.example.org", "example.com", "a.example.com", "example.net"]):
        r53.create_hosted_zone(Name=name, CallerReference=f"ref{i}")
    by_name = r53.list_hosted_zones_by_name()["HostedZones"]
    assert [z["Name"] for z in by_name] == ["example.com.", "a.example.com.",
                                            "example.net.", "b.example.org."]
    page = r53.list_hosted_zones_by_name(DNSName="example.net", MaxItems="1")
    assert [z["Name"] for z in page["HostedZones"]] == ["example.net."]
    assert page["IsTruncated"] and page["NextDNSName"] == "b.example.org."
    ids: list[str] = []
    marker: dict[str, str] = {}
    while True:
        out = r53.list_hosted_zones(MaxItems="3", **marker)
        ids += [z["Id"] for z in out["HostedZones"]]
        if not out["IsTruncated"]:
            break
        marker = {"Marker": out["NextMarker"]}
    assert len(ids) == 4 and len(set(ids)) == 4
    assert r53.get_hosted_zone_count()["HostedZoneCount"] == 4
    # Another account sees none of them.
    assert fresh.client("route53", account=B).list_hosted_zones()["HostedZones"] == []


def test_cross_account_vpc_association(fresh: Server) -> None:
    """PZ-6: A's private zone, B's VPC: authorize, associate, delete the authorization."""
    ra, rb = fresh.client("route53", account=A), fresh.client("route53", account=B)
    zone = private_zone(ra, "spoke.internal", vpc(fresh, A))
    vpc_b = vpc(fresh, B, "10.2.0.0/16")
    vpc_param = {"VPCRegion": REGION, "VPCId": vpc_b}
    with pytest.raises(ClientError) as exc:
        rb.associate_vpc_with_hosted_zone(HostedZoneId=zone, VPC=vpc_param)
    assert code(exc) == "NotAuthorizedException"
    with pytest.raises(ClientError) as exc:   # only the owner authorizes
        rb.create_vpc_association_authorization(HostedZoneId=zone, VPC=vpc_param)
    assert code(exc) == "NoSuchHostedZone"
    out = ra.create_vpc_association_authorization(HostedZoneId=zone, VPC=vpc_param)
    assert out["VPC"] == vpc_param
    listed = ra.list_vpc_association_authorizations(HostedZoneId=zone)
    assert listed["VPCs"] == [vpc_param]
    assert rb.associate_vpc_with_hosted_zone(HostedZoneId=zone, VPC=vpc_param)[
        "ChangeInfo"]["Status"] == "INSYNC"
    ra.delete_vpc_association_authorization(HostedZoneId=zone, VPC=vpc_param)
    assert ra.list_vpc_association_authorizations(HostedZoneId=zone)["VPCs"] == []
    with pytest.raises(ClientError) as exc:
        ra.delete_vpc_association_authorization(HostedZoneId=zone, VPC=vpc_param)
    assert code(exc) == "VPCAssociationAuthorizationNotFound"
    # The association stays; B lists the zone by its VPC with A as the owner.
    summaries = rb.list_hosted_zones_by_vpc(VPCId=vpc_b, VPCRegion=REGION)[
        "HostedZoneSummaries"]
    assert summaries == [{"HostedZoneId": zone.split("/")[-1], "Name": "spoke.internal.",
                          "Owner": {"OwningAccount": A}}]
    assert len(ra.get_hosted_zone(Id=zone)["VPCs"]) == 2
    with pytest.raises(ClientError) as exc:   # the authorization is gone: no new association
        rb.associate_vpc_with_hosted_zone(HostedZoneId=zone, VPC=vpc_param)
    assert code(exc) == "NotAuthorizedException"
    rb.disassociate_vpc_from_hosted_zone(HostedZoneId=zone, VPC=vpc_param)
    with pytest.raises(ClientError) as exc:
        rb.disassociate_vpc_from_hosted_zone(HostedZoneId=zone, VPC=vpc_param)
    assert code(exc) == "VPCAssociationNotFound"
    only = ra.get_hosted_zone(Id=zone)["VPCs"][0]
    with pytest.raises(ClientError) as exc:
        ra.disassociate_vpc_from_hosted_zone(HostedZoneId=zone, VPC=only)
    assert code(exc) == "LastVPCAssociation"
    public = ra.create_hosted_zone(Name="pub.example", CallerReference="pub")["HostedZone"]
    with pytest.raises(ClientError) as exc:
        ra.associate_vpc_with_hosted_zone(HostedZoneId=public["Id"], VPC=only)
    assert code(exc) == "PublicZoneVPCAssociation"


def test_health_checks_and_tags(fresh: Server) -> None:
    r53 = fresh.client("route53", account=A)
    config = {"Type": "HTTP", "IPAddress": "192.0.2.44", "Port": 8080,
              "ResourcePath": "/health", "RequestInterval": 10, "FailureThreshold": 2}
    hc = r53.create_health_check(CallerReference="hc1", HealthCheckConfig=config)["HealthCheck"]
    assert hc["HealthCheckConfig"]["RequestInterval"] == 10 and hc["HealthCheckVersion"] == 1
    again = r53.create_health_check(CallerReference="hc1", HealthCheckConfig=config)
    assert again["HealthCheck"]["Id"] == hc["Id"]   # same reference, same config: same check
    with pytest.raises(ClientError) as exc:
        r53.create_health_check(CallerReference="hc1",
                                HealthCheckConfig={**config, "Port": 9090})
    assert code(exc) == "HealthCheckAlreadyExists"
    with pytest.raises(ClientError) as exc:
        r53.create_health_check(CallerReference="hc2", HealthCheckConfig={
            "Type": "HTTP_STR_MATCH", "IPAddress": "192.0.2.44"})
    assert code(exc) == "InvalidInput"
    tcp = r53.create_health_check(CallerReference="hc3", HealthCheckConfig={
        "Type": "HTTPS", "FullyQualifiedDomainName": "lz.example.com"})["HealthCheck"]
    assert tcp["HealthCheckConfig"]["Port"] == 443
    status = r53.get_health_check_status(HealthCheckId=hc["Id"])["HealthCheckObservations"]
    assert len(status) == 8 and status[0]["StatusReport"]["Status"].startswith("Unknown")
    updated = r53.update_health_check(HealthCheckId=hc["Id"], HealthCheckVersion=1,
                                      Inverted=True, FailureThreshold=5)["HealthCheck"]
    assert updated["HealthCheckVersion"] == 2
    assert updated["HealthCheckConfig"]["Inverted"] is True
    assert updated["HealthCheckConfig"]["FailureThreshold"] == 5
    with pytest.raises(ClientError) as exc:
        r53.update_health_check(HealthCheckId=hc["Id"], HealthCheckVersion=1, Disabled=True)
    assert code(exc) == "HealthCheckVersionMismatch"
    first = r53.list_health_checks(MaxItems="1")
    assert first["IsTruncated"] and len(first["HealthChecks"]) == 1
    rest = r53.list_health_checks(Marker=first["NextMarker"])
    assert {h["Id"] for h in first["HealthChecks"] + rest["HealthChecks"]} == {hc["Id"],
                                                                               tcp["Id"]}
    # A record that uses the check keeps it from being deleted.
    zone = r53.create_hosted_zone(Name="lz.example.com", CallerReference="z")["HostedZone"]["Id"]
    r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [{
        "Action": "CREATE", "ResourceRecordSet": {
            "Name": "app.lz.example.com", "Type": "A", "SetIdentifier": "primary",
            "Failover": "PRIMARY", "TTL": 60, "HealthCheckId": hc["Id"],
            "ResourceRecords": [{"Value": "192.0.2.44"}]}}]})
    with pytest.raises(ClientError) as exc:
        r53.delete_health_check(HealthCheckId=hc["Id"])
    assert code(exc) == "HealthCheckInUse"
    r53.delete_health_check(HealthCheckId=tcp["Id"])
    with pytest.raises(ClientError) as exc:
        r53.get_health_check(HealthCheckId=tcp["Id"])
    assert code(exc) == "NoSuchHealthCheck"
    zid = zone.split("/")[-1]
    r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zid,
                                 AddTags=[{"Key": "team", "Value": "net"},
                                          {"Key": "env", "Value": "lz"}])
    r53.change_tags_for_resource(ResourceType="hostedzone", ResourceId=zid,
                                 RemoveTagKeys=["env"])
    tags = r53.list_tags_for_resource(ResourceType="hostedzone", ResourceId=zid)
    assert tags["ResourceTagSet"]["Tags"] == [{"Key": "team", "Value": "net"}]
    with pytest.raises(ClientError) as exc:
        r53.list_tags_for_resource(ResourceType="healthcheck", ResourceId="nope")
    assert code(exc) == "NoSuchHealthCheck"


def test_zones_and_checks_survive_a_restart(tmp_path: Any) -> None:
    server = start_server(tmp_path / "state.db")
    try:
        r53 = server.client("route53")
        zone = r53.create_hosted_zone(Name="keep.example", CallerReference="k")["HostedZone"]
        change(r53, zone["Id"], ("CREATE", "a.keep.example", "A", ["192.0.2.7"]))
        hc = r53.create_health_check(CallerReference="k", HealthCheckConfig={
            "Type": "TCP", "IPAddress": "192.0.2.7", "Port": 22})["HealthCheck"]
    finally:
        stop_server(server)
    server = start_server(tmp_path / "state.db")
    try:
        r53 = server.client("route53")
        assert ("a.keep.example.", "A") in records(r53, zone["Id"])
        assert r53.get_health_check(HealthCheckId=hc["Id"])["HealthCheck"][
            "HealthCheckConfig"]["Port"] == 22
    finally:
        stop_server(server)


def test_aws_cli_private_zone(fresh: Server) -> None:
    """The AWS CLI, as a user types it."""
    vpc_id = vpc(fresh, "000000000000")
    out = fresh.aws("route53", "create-hosted-zone", "--name", "tenant1.internal",
                    "--caller-reference", "cli-1", "--vpc",
                    f"VPCRegion={REGION},VPCId={vpc_id}",
                    "--hosted-zone-config", "Comment=tenant,PrivateZone=true")
    zone_id = out["HostedZone"]["Id"]
    batch = ('{"Changes":[{"Action":"UPSERT","ResourceRecordSet":{"Name":"db.tenant1.internal",'
             '"Type":"A","TTL":60,"ResourceRecords":[{"Value":"10.0.3.4"}]}}]}')
    fresh.aws("route53", "change-resource-record-sets", "--hosted-zone-id", zone_id,
              "--change-batch", batch)
    listed = fresh.aws("route53", "list-resource-record-sets", "--hosted-zone-id", zone_id)
    assert [r["Name"] for r in listed["ResourceRecordSets"]] == [
        "tenant1.internal.", "tenant1.internal.", "db.tenant1.internal."]
    by_vpc = fresh.aws("route53", "list-hosted-zones-by-vpc", "--vpc-id", vpc_id,
                       "--vpc-region", REGION)
    assert by_vpc["HostedZoneSummaries"][0]["Name"] == "tenant1.internal."

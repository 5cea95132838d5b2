"""Cloud WAN (Network Manager) against a real server with boto3: the seed article's four
steps, tag-driven attachment, policy changes checked by their change sets and by traces
across Regions, and invalid policies rejected as AWS rejects them."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server
from localvpc.cloudwan.live import compile_live
from localvpc.dataplane import compile_network
from localvpc.dataplane.flow import Disposition, Trace
from localvpc.dataplane.request import trace_request
from localvpc.store import Store

ACCOUNT = "000000000000"
EDGES = ("us-east-1", "eu-west-1")


def policy(segments: list[dict[str, Any]], actions: list[dict[str, Any]] | None = None,
           **extra: Any) -> str:
    doc: dict[str, Any] = {
        "version": "2021.12",
        "core-network-configuration": {"asn-ranges": ["64512-65534"],
                                       "edge-locations": [{"location": e} for e in EDGES]},
        "segments": segments,
        "attachment-policies": [{"rule-number": 100,
                                 "conditions": [{"type": "tag-exists", "key": "segment"}],
                                 "action": {"association-method": "tag",
                                            "tag-value-of-key": "segment"}}],
        **extra}
    if actions:
        doc["segment-actions"] = actions
    return json.dumps(doc)


def seg(name: str, **kw: Any) -> dict[str, Any]:
    return {"name": name, "require-attachment-acceptance": False, **kw}


def share(segment: str, *others: str) -> dict[str, Any]:
    return {"action": "share", "mode": "attachment-route", "segment": segment,
            "share-with": list(others)}


def error_of(exc: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    response: dict[str, Any] = exc.value.response
    return response


class Wan:
    """A global network and a core network made with ``document``, plus helpers."""

    def __init__(self, server: Server, document: str) -> None:
        self.server = server
        self.nm = server.client("networkmanager", region="us-west-2")
        self.gn = self.nm.create_global_network(Description="corp")["GlobalNetwork"]
        self.core = self.nm.create_core_network(
            GlobalNetworkId=self.gn["GlobalNetworkId"], Description="wan",
            PolicyDocument=document)["CoreNetwork"]
        self.id = self.core["CoreNetworkId"]

    def put(self, document: str) -> int:
        version: int = self.nm.put_core_network_policy(
            CoreNetworkId=self.id, PolicyDocument=document)["CoreNetworkPolicy"][
            "PolicyVersionId"]
        return version

    def execute(self, version: int) -> None:
        state = self.nm.get_core_network_policy(CoreNetworkId=self.id, PolicyVersionId=version)[
            "CoreNetworkPolicy"]["ChangeSetState"]
        assert state == "READY_TO_EXECUTE"
        self.nm.execute_core_network_change_set(CoreNetworkId=self.id, PolicyVersionId=version)

    def site(self, region: str, cidr: str, tags: dict[str, str]) -> dict[str, str]:
        """A VPC with a subnet and an instance, attached with ``tags``, routing the private
        10/8 to the core network."""
        ec2 = self.server.client("ec2", region=region)
        vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "1.0/24"))[
            "Subnet"]["SubnetId"]
        rtb = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
            "RouteTables"][0]["RouteTableId"]
        ec2.create_route(RouteTableId=rtb, DestinationCidrBlock="10.0.0.0/8",
                         CoreNetworkArn=self.core["CoreNetworkArn"])
        sg = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
            "SecurityGroups"][0]["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
        inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                                 SubnetId=subnet)["Instances"][0]
        att = self.nm.create_vpc_attachment(
            CoreNetworkId=self.id, VpcArn=f"arn:aws:ec2:{region}:{ACCOUNT}:vpc/{vpc}",
            SubnetArns=[f"arn:aws:ec2:{region}:{ACCOUNT}:subnet/{subnet}"],
            Tags=[{"Key": k, "Value": v} for k, v in tags.items()])["VpcAttachment"]
        assert att["Attachment"]["State"] == "CREATING"
        return {"vpc": vpc, "instance": inst["InstanceId"], "ip": inst["PrivateIpAddress"],
                "attachment": att["Attachment"]["AttachmentId"], "region": region}

    def attachment(self, att_id: str) -> dict[str, Any]:
        found: dict[str, Any] = self.nm.get_vpc_attachment(AttachmentId=att_id)[
            "VpcAttachment"]["Attachment"]
        return found

    def routes(self, segment: str, edge: str, **filters: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = self.nm.get_network_routes(
            GlobalNetworkId=self.gn["GlobalNetworkId"],
            RouteTableIdentifier={"CoreNetworkSegmentEdge": {
                "CoreNetworkId": self.id, "SegmentName": segment, "EdgeLocation": edge}},
            **filters)["NetworkRoutes"]
        return out

    def trace(self, src: dict[str, str], dst: dict[str, str]) -> Trace:
        """The server's state traced as the server's plane does (core networks included)."""
        store = Store.open(self.server.state)
        try:
            network = store.load_network()
        finally:
            store.close()
        plane = compile_network(network, core_networks=compile_live(network))
        _, traces = trace_request(plane, src["instance"], dst["ip"], protocol="tcp",
                                  dst_port=443)
        return traces[0]

    def analyze(self, src: dict[str, str], dst: dict[str, str]) -> dict[str, Any]:
        """Reachability Analyzer in the source's Region, to the destination address."""
        ec2 = self.server.client("ec2", region=src["region"])
        path = ec2.create_network_insights_path(Source=src["instance"], DestinationIp=dst["ip"],
                                                Protocol="tcp", DestinationPort=443)
        analysis: dict[str, Any] = ec2.start_network_insights_analysis(
            NetworkInsightsPathId=path["NetworkInsightsPath"]["NetworkInsightsPathId"])[
            "NetworkInsightsAnalysis"]
        return analysis


# ---------------------------------------------------------------------- the article
def test_article_four_steps(fresh: Server) -> None:
    # 1. A global network and a core network: ASN range, edge locations, default segment.
    wan = Wan(fresh, policy([seg("default", description="everything")]))
    nm = wan.nm
    assert wan.gn["GlobalNetworkArn"] == (
        f"arn:aws:networkmanager::{ACCOUNT}:global-network/{wan.gn['GlobalNetworkId']}")
    core = nm.get_core_network(CoreNetworkId=wan.id)["CoreNetwork"]
    assert core["State"] == "AVAILABLE"
    assert [(e["EdgeLocation"], e["Asn"]) for e in core["Edges"]] == [
        ("us-east-1", 64512), ("eu-west-1", 64513)]
    assert core["Segments"] == [{"Name": "default", "EdgeLocations": list(EDGES),
                                 "SharedSegments": []}]
    # Global service: a client signing for another Region sees the same networks.
    other = fresh.client("networkmanager", region="eu-central-1")
    assert [g["GlobalNetworkId"] for g in other.describe_global_networks()["GlobalNetworks"]
            ] == [wan.gn["GlobalNetworkId"]]

    # 2. Define and attach the core network policy (two-step: put, then execute).
    doc = policy([seg("prod"), seg("dev"), seg("shared")], [share("shared", "prod", "dev")])
    put = nm.put_core_network_policy(CoreNetworkId=wan.id, PolicyDocument=doc,
                                     Description="segments")["CoreNetworkPolicy"]
    assert (put["PolicyVersionId"], put["Alias"], put["ChangeSetState"]) == (
        2, "LATEST", "PENDING_GENERATION")
    changes = nm.get_core_network_change_set(CoreNetworkId=wan.id, PolicyVersionId=2)[
        "CoreNetworkChanges"]
    segs = {(c["Action"], c["Identifier"]) for c in changes
            if c["Type"] == "CORE_NETWORK_SEGMENT"}
    assert ("ADD", "prod") in {(a, i.split("/")[-1]) for a, i in segs}
    assert ("REMOVE", "default") in {(a, i.split("/")[-1]) for a, i in segs}
    # Until executed, the network keeps the LIVE version (CS-5).
    assert [s["Name"] for s in nm.get_core_network(CoreNetworkId=wan.id)["CoreNetwork"][
        "Segments"]] == ["default"]
    wan.execute(2)
    versions = nm.list_core_network_policy_versions(CoreNetworkId=wan.id)[
        "CoreNetworkPolicyVersions"]
    assert [(v["PolicyVersionId"], v.get("Alias"), v["ChangeSetState"]) for v in versions] == [
        (1, None, "EXECUTION_SUCCEEDED"), (2, "LIVE", "EXECUTION_SUCCEEDED")]
    live = nm.get_core_network_policy(CoreNetworkId=wan.id, Alias="LIVE")["CoreNetworkPolicy"]
    assert live["PolicyVersionId"] == 2 and json.loads(live["PolicyDocument"]) == json.loads(doc)
    events = nm.get_core_network_change_events(CoreNetworkId=wan.id, PolicyVersionId=2)[
        "CoreNetworkChangeEvents"]
    assert {e["Status"] for e in events} == {"COMPLETE"} and any(
        e["Values"].get("SegmentName") == "prod" for e in events)

    # 3. Segments and actions: routes per segment and edge location.
    prod = wan.site("us-east-1", "10.1.0.0/16", {"segment": "prod"})
    assert wan.attachment(prod["attachment"])["SegmentName"] == "prod"
    for edge in EDGES:
        assert [r["DestinationCidrBlock"] for r in wan.routes("shared", edge)] == ["10.1.0.0/16"]
        assert wan.routes("dev", edge) == []  # prod and dev are not shared with each other
    [route] = wan.routes("prod", "eu-west-1", ExactCidrMatches=["10.1.0.0/16"])
    assert route["Type"] == "PROPAGATED" and route["State"] == "ACTIVE"
    assert route["Destinations"] == [{"CoreNetworkAttachmentId": prod["attachment"],
                                      "SegmentName": "prod", "EdgeLocation": "us-east-1",
                                      "ResourceType": "vpc", "ResourceId": prod["vpc"]}]
    assert wan.routes("prod", "us-east-1", LongestPrefixMatches=["10.1.2.3/32"]) == [route]
    assert wan.routes("prod", "us-east-1", Types=["STATIC"]) == []

    # 4. Register the existing transit gateway with the global network.
    ec2 = fresh.client("ec2", region="us-east-1")
    tgw = ec2.create_transit_gateway(Description="legacy hub")["TransitGateway"]
    gid = wan.gn["GlobalNetworkId"]
    reg = nm.register_transit_gateway(GlobalNetworkId=gid,
                                      TransitGatewayArn=tgw["TransitGatewayArn"])
    assert reg["TransitGatewayRegistration"]["TransitGatewayArn"] == tgw["TransitGatewayArn"]
    regs = nm.get_transit_gateway_registrations(GlobalNetworkId=gid)[
        "TransitGatewayRegistrations"]
    assert [(r["TransitGatewayArn"], r["State"]["Code"]) for r in regs] == [
        (tgw["TransitGatewayArn"], "AVAILABLE")]
    with pytest.raises(ClientError) as exc:
        nm.register_transit_gateway(GlobalNetworkId=gid, TransitGatewayArn=tgw["TransitGatewayArn"])
    assert error_of(exc)["Error"]["Code"] == "ConflictException"
    counts = {c["ResourceType"]: c["Count"] for c in nm.get_network_resource_counts(
        GlobalNetworkId=gid)["NetworkResourceCounts"]}
    assert counts == {"core-network": 1, "attachment": 1, "vpc": 1, "transit-gateway": 1}
    relations = {(r["From"], r["To"]) for r in nm.get_network_resource_relationships(
        GlobalNetworkId=gid)["Relationships"]}
    assert (wan.gn["GlobalNetworkArn"], tgw["TransitGatewayArn"]) in relations
    assert (wan.gn["GlobalNetworkArn"], wan.core["CoreNetworkArn"]) in relations
    vpcs = nm.get_network_resources(GlobalNetworkId=gid, ResourceType="vpc")["NetworkResources"]
    assert [(r["ResourceId"], r["AwsRegion"]) for r in vpcs] == [(prod["vpc"], "us-east-1")]
    nm.deregister_transit_gateway(GlobalNetworkId=gid, TransitGatewayArn=tgw["TransitGatewayArn"])
    assert nm.get_transit_gateway_registrations(GlobalNetworkId=gid)[
        "TransitGatewayRegistrations"] == []


# ---------------------------------------------------------------------- attachments
def test_tag_driven_attachment_and_acceptance(fresh: Server) -> None:
    wan = Wan(fresh, policy([seg("prod"), {"name": "dev"}, seg("shared")],
                            [share("shared", "prod", "dev")]))
    nm = wan.nm
    prod = wan.site("us-east-1", "10.1.0.0/16", {"segment": "prod"})
    dev = wan.site("eu-west-1", "10.2.0.0/16", {"segment": "dev"})
    odd = wan.site("us-east-1", "10.3.0.0/16", {"segment": "Prod"})  # no such segment
    assert (wan.attachment(prod["attachment"])["State"],
            wan.attachment(prod["attachment"])["SegmentName"]) == ("AVAILABLE", "prod")
    pending = wan.attachment(dev["attachment"])
    assert pending["State"] == "PENDING_ATTACHMENT_ACCEPTANCE"
    assert "SegmentName" not in pending
    assert pending["ProposedSegmentChange"]["SegmentName"] == "dev"
    assert "SegmentName" not in wan.attachment(odd["attachment"])
    listed = nm.list_attachments(CoreNetworkId=wan.id, State="PENDING_ATTACHMENT_ACCEPTANCE")
    assert [a["AttachmentId"] for a in listed["Attachments"]] == [dev["attachment"]]
    assert {a["AttachmentId"] for a in nm.list_attachments(EdgeLocation="us-east-1")[
        "Attachments"]} == {prod["attachment"], odd["attachment"]}
    assert wan.routes("shared", "us-east-1") == [r for r in wan.routes("shared", "us-east-1")
                                                 if r["DestinationCidrBlock"] == "10.1.0.0/16"]

    accepted = nm.accept_attachment(AttachmentId=dev["attachment"])["Attachment"]
    assert (accepted["State"], accepted["SegmentName"]) == ("AVAILABLE", "dev")
    assert [r["DestinationCidrBlock"] for r in wan.routes("shared", "eu-west-1")] == [
        "10.1.0.0/16", "10.2.0.0/16"]
    with pytest.raises(ClientError) as exc:
        nm.accept_attachment(AttachmentId=dev["attachment"])
    assert error_of(exc)["Error"]["Code"] == "ValidationException"

    # AP-4: re-tagging re-evaluates; dev needs acceptance, so prod keeps routing meanwhile.
    arn = f"arn:aws:networkmanager::{ACCOUNT}:attachment/{prod['attachment']}"
    nm.tag_resource(ResourceArn=arn, Tags=[{"Key": "segment", "Value": "dev"}])
    moved = wan.attachment(prod["attachment"])
    assert (moved["State"], moved["SegmentName"]) == ("PENDING_TAG_ACCEPTANCE", "prod")
    assert moved["ProposedSegmentChange"]["SegmentName"] == "dev"
    nm.accept_attachment(AttachmentId=prod["attachment"])
    assert wan.attachment(prod["attachment"])["SegmentName"] == "dev"
    assert {t["Key"]: t["Value"] for t in nm.list_tags_for_resource(ResourceArn=arn)[
        "TagList"]} == {"segment": "dev"}

    # An attachment no rule places can be rejected; a second attachment of a VPC conflicts.
    rejected = wan.site("us-east-1", "10.4.0.0/16", {"segment": "dev"})
    assert nm.reject_attachment(AttachmentId=rejected["attachment"])["Attachment"][
        "State"] == "REJECTED"
    with pytest.raises(ClientError) as exc:
        nm.create_vpc_attachment(
            CoreNetworkId=wan.id, VpcArn=f"arn:aws:ec2:us-east-1:{ACCOUNT}:vpc/{prod['vpc']}",
            SubnetArns=[wan.attachment(prod["attachment"])["ResourceArn"].replace(
                f"vpc/{prod['vpc']}", "subnet/subnet-0")])
    assert error_of(exc)["Error"]["Code"] in ("ConflictException", "ResourceNotFoundException")
    deleted = nm.delete_attachment(AttachmentId=odd["attachment"])["Attachment"]
    assert deleted["State"] == "DELETING"
    with pytest.raises(ClientError) as exc:
        nm.get_vpc_attachment(AttachmentId=odd["attachment"])
    err = error_of(exc)
    assert err["Error"]["Code"] == "ResourceNotFoundException"
    assert err["ResourceId"] == odd["attachment"] and err["ResourceType"] == "attachment"


# ---------------------------------------------------------------------- traces
def test_policy_change_isolates_segment_and_trace_follows(fresh: Server) -> None:
    wan = Wan(fresh, policy([seg("prod")]))
    east = wan.site("us-east-1", "10.1.0.0/16", {"segment": "prod"})
    west = wan.site("eu-west-1", "10.2.0.0/16", {"segment": "prod"})
    trace = wan.trace(east, west)
    assert trace.disposition == Disposition.ACCEPTED
    core_hops = [h.detail for h in trace.hops if h.type == "core-network"]
    assert "at edge us-east-1" in core_hops[0] and f"-> {west['attachment']}" in core_hops[0]
    assert "from edge us-east-1 to edge eu-west-1" in core_hops[1]
    assert wan.analyze(east, west)["NetworkPathFound"] is True

    version = wan.put(policy([seg("prod", **{"isolate-attachments": True})]))
    changes = wan.nm.get_core_network_change_set(CoreNetworkId=wan.id,
                                                 PolicyVersionId=version)["CoreNetworkChanges"]
    removed = {c["Identifier"] for c in changes
               if (c["Type"], c["Action"]) == ("ATTACHMENT_ROUTE_PROPAGATION", "REMOVE")}
    assert removed and all(i in (east["attachment"], west["attachment"]) for i in removed)
    assert wan.trace(east, west).disposition == Disposition.ACCEPTED  # not executed yet
    wan.execute(version)
    dropped = wan.trace(east, west)
    assert dropped.disposition == Disposition.NO_ROUTE
    assert "isolated: segment prod isolates its attachments" in dropped.hops[-1].detail
    analysis = wan.analyze(east, west)
    assert analysis["NetworkPathFound"] is False
    assert analysis["Explanations"][0]["ExplanationCode"] == "NO_ROUTE_TO_DESTINATION"
    assert wan.routes("prod", "eu-west-1") == []


def test_unsharing_segments_drops_with_the_policy_reason(fresh: Server) -> None:
    shared_doc = policy([seg("prod"), seg("shared")], [share("shared", "prod")])
    wan = Wan(fresh, shared_doc)
    app = wan.site("us-east-1", "10.1.0.0/16", {"segment": "prod"})
    dns = wan.site("eu-west-1", "10.2.0.0/16", {"segment": "shared"})
    assert wan.trace(app, dns).disposition == Disposition.ACCEPTED
    assert wan.trace(dns, app).disposition == Disposition.ACCEPTED
    version = wan.put(policy([seg("prod"), seg("shared")]))
    changes = wan.nm.get_core_network_change_set(CoreNetworkId=wan.id,
                                                 PolicyVersionId=version)["CoreNetworkChanges"]
    assert ("SEGMENT_ACTIONS_CONFIGURATION", "REMOVE") in {(c["Type"], c["Action"])
                                                           for c in changes}
    wan.execute(version)
    dropped = wan.trace(app, dns)
    assert dropped.disposition == Disposition.NO_ROUTE
    assert "not-shared: segment prod does not share routes with segment shared" in (
        dropped.hops[-1].detail)
    assert dropped.hops[-1].code == "NO_ROUTE_TO_DESTINATION"
    # Restoring version 1 brings the sharing back once executed.
    restored = wan.nm.restore_core_network_policy_version(CoreNetworkId=wan.id,
                                                          PolicyVersionId=1)["CoreNetworkPolicy"]
    assert restored["PolicyVersionId"] == version + 1
    wan.execute(restored["PolicyVersionId"])
    assert wan.trace(app, dns).disposition == Disposition.ACCEPTED


# ---------------------------------------------------------------------- errors
def test_invalid_policies_rejected_with_aws_errors(fresh: Server) -> None:
    wan = Wan(fresh, policy([seg("prod")]))
    nm = wan.nm
    missing = {"version": "2021.12", "segments": [{"name": "prod"}]}
    with pytest.raises(ClientError) as exc:
        nm.put_core_network_policy(CoreNetworkId=wan.id, PolicyDocument=json.dumps(missing))
    err = error_of(exc)
    assert (err["Error"]["Code"], err["Error"]["Message"]) == (
        "CoreNetworkPolicyException", "Incorrect policy.")
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert err["Errors"] == [{"ErrorCode": "REQUIRED_PROPERTY",
                              "Message": "$.core-network-configuration: is missing but it is "
                                         "required",
                              "Path": "$.core-network-configuration"}]

    def routes_to(dests: list[str]) -> str:
        return policy([seg("prod")], [{"action": "create-route", "segment": "prod",
                                       "destination-cidr-blocks": ["0.0.0.0/0"],
                                       "destinations": dests}])

    for dests, code in ((["blackhole", "attachment-0123456789abcdef01"],
                         "MAXIMUM_ITEMS_EXCEEDED"), (["drop"], "CONSTANT_VIOLATION")):
        with pytest.raises(ClientError) as exc:
            nm.put_core_network_policy(CoreNetworkId=wan.id, PolicyDocument=routes_to(dests))
        errors = error_of(exc)["Errors"]
        found = next(e for e in errors if e["ErrorCode"] == code)
        assert found["Path"].startswith("$.segment-actions[0].destinations"), errors
        assert found["Message"].startswith(found["Path"] + ": ")
    assert [v["PolicyVersionId"] for v in nm.list_core_network_policy_versions(
        CoreNetworkId=wan.id)["CoreNetworkPolicyVersions"]] == [1]  # no version created

    # A semantic error: the version exists, its change set fails to generate (VE-3).
    bad = wan.put(policy([seg("prod")], [share("prod", "nosuch")]))
    got = nm.get_core_network_policy(CoreNetworkId=wan.id, PolicyVersionId=bad)[
        "CoreNetworkPolicy"]
    assert got["ChangeSetState"] == "FAILED_GENERATION"
    assert got["PolicyErrors"] and "nosuch" in got["PolicyErrors"][0]["Message"]
    with pytest.raises(ClientError) as exc:
        nm.execute_core_network_change_set(CoreNetworkId=wan.id, PolicyVersionId=bad)
    assert error_of(exc)["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as exc:
        nm.put_core_network_policy(CoreNetworkId=wan.id, PolicyDocument=policy([seg("a")]),
                                   LatestVersionId=1)
    assert error_of(exc)["Error"]["Code"] == "ConflictException"
    with pytest.raises(ClientError) as exc:
        nm.delete_core_network_policy_version(CoreNetworkId=wan.id, PolicyVersionId=1)
    assert error_of(exc)["Error"]["Code"] == "ValidationException"
    assert nm.delete_core_network_policy_version(CoreNetworkId=wan.id, PolicyVersionId=bad)[
        "CoreNetworkPolicy"]["PolicyVersionId"] == bad
    with pytest.raises(ClientError) as exc:
        nm.get_core_network(CoreNetworkId="core-network-0123456789abcdef0")
    err = error_of(exc)
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert (err["ResourceId"], err["ResourceType"]) == ("core-network-0123456789abcdef0",
                                                        "core-network")
    with pytest.raises(ClientError) as exc:
        nm.delete_global_network(GlobalNetworkId=wan.gn["GlobalNetworkId"])
    assert error_of(exc)["Error"]["Code"] == "ConflictException"
    # Attaching a VPC outside the edge locations is refused.
    ec2 = fresh.client("ec2", region="ap-south-1")
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    sub = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    with pytest.raises(ClientError) as exc:
        nm.create_vpc_attachment(CoreNetworkId=wan.id,
                                 VpcArn=f"arn:aws:ec2:ap-south-1:{ACCOUNT}:vpc/{vpc}",
                                 SubnetArns=[f"arn:aws:ec2:ap-south-1:{ACCOUNT}:subnet/{sub}"])
    err = error_of(exc)
    assert err["Error"]["Code"] == "ValidationException"
    assert err["Fields"][0]["Name"] == "VpcArn"


def test_peering_and_transit_gateway_route_table_attachment(fresh: Server) -> None:
    wan = Wan(fresh, policy([seg("prod"), seg("hybrid")]))
    nm = wan.nm
    ec2 = fresh.client("ec2", region="eu-west-1")
    tgw = ec2.create_transit_gateway(Options={"AmazonSideAsn": 65100})["TransitGateway"]
    peering = nm.create_transit_gateway_peering(
        CoreNetworkId=wan.id, TransitGatewayArn=tgw["TransitGatewayArn"])[
        "TransitGatewayPeering"]
    pid = peering["Peering"]["PeeringId"]
    assert peering["Peering"]["EdgeLocation"] == "eu-west-1"
    assert nm.get_transit_gateway_peering(PeeringId=pid)["TransitGatewayPeering"]["Peering"][
        "State"] == "AVAILABLE"
    assert [p["PeeringId"] for p in nm.list_peerings(CoreNetworkId=wan.id)["Peerings"]] == [pid]
    table = ec2.create_transit_gateway_route_table(
        TransitGatewayId=tgw["TransitGatewayId"])["TransitGatewayRouteTable"]
    table_arn = (f"arn:aws:ec2:eu-west-1:{ACCOUNT}:transit-gateway-route-table/"
                 f"{table['TransitGatewayRouteTableId']}")
    att = nm.create_transit_gateway_route_table_attachment(
        PeeringId=pid, TransitGatewayRouteTableArn=table_arn,
        Tags=[{"Key": "segment", "Value": "hybrid"}])["TransitGatewayRouteTableAttachment"]
    att_id = att["Attachment"]["AttachmentId"]
    got = nm.get_transit_gateway_route_table_attachment(AttachmentId=att_id)[
        "TransitGatewayRouteTableAttachment"]
    assert (got["Attachment"]["SegmentName"], got["PeeringId"]) == ("hybrid", pid)
    with pytest.raises(ClientError) as exc:
        nm.delete_peering(PeeringId=pid)
    assert error_of(exc)["Error"]["Code"] == "ConflictException"
    nm.delete_attachment(AttachmentId=att_id)
    assert nm.delete_peering(PeeringId=pid)["Peering"]["State"] == "DELETING"
    assert nm.list_peerings()["Peerings"] == []

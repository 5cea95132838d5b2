"""The seed's DNS walk-throughs against a real ``localvpc serve``: boto3 builds them through
the Route 53 / Resolver / S3 / RAM APIs, dnspython and dig query the server's DNS
listeners the way an instance (or an on-premises client) would."""

from __future__ import annotations

import ipaddress
import json
import os
import shutil
import subprocess
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dns.edns
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest

from conftest import Server, free_port, start_server, stop_server
from localvpc.snapshot.topology import load_topology

HUB, SPOKE = "111111111111", "222222222222"


@pytest.fixture(scope="module")
def dns_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # --dev-health-interval: health checks every 0.2 s instead of 10/30 s (tests only)
    s = start_server(tmp_path_factory.mktemp("dns") / "state.db",
                     "--dev-health-interval", "0.2")
    yield s
    stop_server(s)


@pytest.fixture
def srv(dns_server: Server) -> Server:
    dns_server.reset()
    return dns_server


def listener(server: Server, kind: str, ident: str, timeout: float = 10) -> int:
    """The port of a DNS listener, once the server has opened it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with urllib.request.urlopen(f"{server.url}/_localvpc/dns/endpoints", timeout=5) as r:
            table = json.loads(r.read())
        for row in table["endpoints"]:
            if row["kind"] == kind and row["id"] == ident:
                return int(row["port"])
        time.sleep(0.1)
    raise AssertionError(f"no DNS listener for {kind} {ident}")


def ask(port: int, name: str, qtype: str = "A", client: str | None = None
        ) -> tuple[str, list[str]]:
    options = [dns.edns.ECSOption(client, 128 if ":" in client else 32)] if client else []
    q = dns.message.make_query(name, dns.rdatatype.from_text(qtype), use_edns=0,
                               options=options)
    r = dns.query.udp(q, "127.0.0.1", port=port, timeout=5)
    return (dns.rcode.to_text(r.rcode()),
            [rd.to_text() for rrset in r.answer if rrset.rdtype == dns.rdatatype.from_text(
                qtype) for rd in rrset])


def dig(port: int, *args: str) -> list[str]:
    """``dig +short`` as a user types it; where dig is not installed (CI installs only pip
    packages) the same query through dnspython, so the walk-through still runs."""
    if shutil.which("dig") is not None:
        out = subprocess.run(["dig", "@127.0.0.1", "-p", str(port), "+short", *args],
                             capture_output=True, text=True, timeout=30)
        return out.stdout.split()
    client = next((a.split("=", 1)[1] for a in args if a.startswith("+subnet=")), None)
    rest = [a for a in args if not a.startswith("+")]
    name, qtype = rest[-1], (rest[0] if len(rest) > 1 else "A")
    rcode, answers = ask(port, name, qtype, client.split("/")[0] if client else None)
    return answers if rcode == "NOERROR" else []


def vpc(ec2: Any, cidr: str, hostnames: bool = True, ipv6: bool = False) -> str:
    vid = str(ec2.create_vpc(CidrBlock=cidr, AmazonProvidedIpv6CidrBlock=ipv6)["Vpc"]["VpcId"])
    if hostnames:
        ec2.modify_vpc_attribute(VpcId=vid, EnableDnsHostnames={"Value": True})
    return vid


def upsert(r53: Any, zone_id: str, name: str, rtype: str, *values: str, ttl: int = 60,
           **extra: Any) -> None:
    rrset: dict[str, Any] = {"Name": name, "Type": rtype, "TTL": ttl,
                             "ResourceRecords": [{"Value": v} for v in values], **extra}
    r53.change_resource_record_sets(HostedZoneId=zone_id, ChangeBatch={
        "Changes": [{"Action": "UPSERT", "ResourceRecordSet": rrset}]})


def public_zone(r53: Any, name: str) -> str:
    zone = r53.create_hosted_zone(Name=name, CallerReference=f"{name}-{time.time()}")
    return str(zone["HostedZone"]["Id"]).split("/")[-1]


class _Files(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.server.files.get(self.path)  # type: ignore[attr-defined]
        if body is None:
            self.send_response(404)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class Web:
    """A local HTTP server whose ``files`` (path -> bytes) can change while it runs."""

    def __init__(self, port: int = 0) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), _Files)
        self.httpd.files = {}  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def files(self) -> dict[str, bytes]:
        return self.httpd.files  # type: ignore[attr-defined,no-any-return]

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


# ------------------------------------------------------------------ (a) DNS Firewall
RPZ_HEAD = """$TTL 30
@ SOA rpz.urlhaus.abuse.ch. hostmaster.urlhaus.abuse.ch. 2304061510 300 1800 604800 30
 NS localhost.
;
; abuse.ch URLhaus Response Policy Zones (RPZ)
; Last updated: 2023-04-06 15:10:04 (UTC)
;
testentry.rpz.urlhaus.abuse.ch CNAME . ; Test entry for testing URLhaus RPZ
"""


def rpz(*domains: str) -> bytes:
    lines = [f"{d} CNAME . ; Malware download (2023-04-01), see "
             f"https://urlhaus.abuse.ch/host/{d.lower()}/" for d in domains]
    return (RPZ_HEAD + "\n".join(lines) + f"\n; Total entries: {len(domains)}\n").encode()


def parse_rpz(text: str) -> list[str]:
    """The seed Lambda's parsing (RPZ-5): the entries after the test entry, checked against
    the total in the last line's comment; lower-cased and without the test entry (RPZ-4)."""
    lines = text.strip().splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("testentry."))
    entries = [line.split(" ")[0] for line in lines[start + 1:]
               if line.split(" ")[0] != ";"]
    total = int(lines[-1].split(":", 1)[1])
    assert len(entries) == total, "entry count does not match the file's total"
    return sorted({e.lower().rstrip(".") for e in entries})


def import_feed(web: Web, s3: Any, resolver: Any, list_id: str, key: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"http://127.0.0.1:{web.port}/downloads/rpz/",
                                timeout=10) as r:
        domains = parse_rpz(r.read().decode())
    s3.put_object(Bucket="rpz-lists", Key=key, Body="\n".join(domains).encode() + b"\n")
    out = resolver.import_firewall_domains(FirewallDomainListId=list_id, Operation="REPLACE",
                                           DomainFileUrl=f"s3://rpz-lists/{key}")
    return dict(out)


def test_a_dns_firewall_fed_from_urlhaus_rpz(srv: Server) -> None:
    ec2, r53 = srv.client("ec2"), srv.client("route53")
    resolver, s3 = srv.client("route53resolver"), srv.client("s3")
    vpc_id = vpc(ec2, "10.0.0.0/16")
    web = Web()
    try:
        zone = public_zone(r53, "example.net")
        for host, ip in (("malware-one.example.net", "198.51.100.1"),
                         ("malware-two.example.net", "198.51.100.2"),
                         ("fine.example.net", "198.51.100.3")):
            upsert(r53, zone, host, "A", ip)
        s3.create_bucket(Bucket="rpz-lists")
        lst = resolver.create_firewall_domain_list(CreatorRequestId="l1", Name="urlhaus")[
            "FirewallDomainList"]
        resolver.update_firewall_domains(FirewallDomainListId=lst["Id"], Operation="ADD",
                                         Domains=["placeholder.example"])
        web.files["/downloads/rpz/"] = rpz("Malware-One.example.net", "bad.example.org")
        out = import_feed(web, s3, resolver, lst["Id"], "1-urlhause-domain-list.txt")
        assert out["Status"] == "IMPORTING"
        got = resolver.get_firewall_domain_list(FirewallDomainListId=lst["Id"])[
            "FirewallDomainList"]
        assert (got["Status"], got["DomainCount"]) == ("COMPLETE", 2)
        group = resolver.create_firewall_rule_group(CreatorRequestId="g1", Name="threats")[
            "FirewallRuleGroup"]
        resolver.create_firewall_rule(
            CreatorRequestId="r1", FirewallRuleGroupId=group["Id"],
            FirewallDomainListId=lst["Id"], Priority=1, Action="BLOCK",
            BlockResponse="NXDOMAIN", Name="urlhaus")
        resolver.associate_firewall_rule_group(
            CreatorRequestId="a1", FirewallRuleGroupId=group["Id"], VpcId=vpc_id,
            Priority=101, Name="vpc")
        port = listener(srv, "vpc", vpc_id)
        assert ask(port, "malware-one.example.net") == ("NXDOMAIN", [])
        assert ask(port, "MALWARE-ONE.example.net.")[0] == "NXDOMAIN"
        assert ask(port, "malware-two.example.net") == ("NOERROR", ["198.51.100.2"])
        assert dig(port, "fine.example.net") == ["198.51.100.3"]
        # the feed changes: a re-import replaces the list
        web.files["/downloads/rpz/"] = rpz("malware-two.example.net")
        import_feed(web, s3, resolver, lst["Id"], "2-urlhause-domain-list.txt")
        listed = resolver.list_firewall_domains(FirewallDomainListId=lst["Id"])["Domains"]
        assert listed == ["malware-two.example.net"]
        assert ask(port, "malware-one.example.net") == ("NOERROR", ["198.51.100.1"])
        assert ask(port, "malware-two.example.net") == ("NXDOMAIN", [])
        # a count mismatch (truncated download) imports nothing
        web.files["/downloads/rpz/"] = rpz("x.example.net").replace(b"entries: 1",
                                                                     b"entries: 5")
        with pytest.raises(AssertionError, match="count does not match"):
            import_feed(web, s3, resolver, lst["Id"], "3-urlhause-domain-list.txt")
        assert ask(port, "malware-two.example.net") == ("NXDOMAIN", [])
    finally:
        web.stop()


# ------------------------------------------------------------------ (b) hybrid DNS
class OnPremDns:
    """The on-premises DNS server (dnslib) that the hub's forward rule sends to."""

    def __init__(self) -> None:
        from dnslib import RR
        from dnslib.server import BaseResolver, DNSLogger, DNSServer

        class Zone(BaseResolver):  # type: ignore[misc]
            def resolve(self, request: Any, handler: Any) -> Any:
                reply = request.reply()
                if str(request.q.qname).lower() == "db.corp.onprem.example.":
                    reply.add_answer(*RR.fromZone("db.corp.onprem.example. 60 A 192.168.7.7"))
                else:
                    reply.header.rcode = 3
                return reply

        self.port = free_port()
        self.server = DNSServer(Zone(), port=self.port, address="127.0.0.1",
                                logger=DNSLogger(logf=lambda _: None))
        self.server.start_thread()

    def stop(self) -> None:
        self.server.stop()
        self.server.server.server_close()


def subnets(ec2: Any, vpc_id: str, *cidrs: str) -> list[str]:
    return [str(ec2.create_subnet(VpcId=vpc_id, CidrBlock=c, AvailabilityZone=az)["Subnet"][
        "SubnetId"]) for c, az in zip(cidrs, ("us-east-1a", "us-east-1b"), strict=False)]


def endpoint(resolver: Any, ec2: Any, vpc_id: str, subs: list[str], direction: str) -> str:
    sg = ec2.create_security_group(GroupName=f"dns-{direction}", Description="dns",
                                   VpcId=vpc_id)["GroupId"]
    ep = resolver.create_resolver_endpoint(
        CreatorRequestId=f"ep-{direction}", Name=direction.lower(), Direction=direction,
        SecurityGroupIds=[sg], IpAddresses=[{"SubnetId": s} for s in subs])
    return str(ep["ResolverEndpoint"]["Id"])


def test_b_hybrid_dns_hub_and_spoke(srv: Server) -> None:
    onprem = OnPremDns()
    try:
        ec2h, ec2s = srv.client("ec2", account=HUB), srv.client("ec2", account=SPOKE)
        res_h, res_s = (srv.client("route53resolver", account=HUB),
                        srv.client("route53resolver", account=SPOKE))
        hub = vpc(ec2h, "10.0.0.0/16")
        hub_subs = subnets(ec2h, hub, "10.0.1.0/24", "10.0.2.0/24")
        inbound = endpoint(res_h, ec2h, hub, hub_subs, "INBOUND")
        outbound = endpoint(res_h, ec2h, hub, hub_subs, "OUTBOUND")
        rule = res_h.create_resolver_rule(
            CreatorRequestId="onprem", Name="onprem", RuleType="FORWARD",
            DomainName="corp.onprem.example", ResolverEndpointId=outbound,
            TargetIps=[{"Ip": "127.0.0.1", "Port": onprem.port}])["ResolverRule"]
        # the hub shares the rule with the spoke account through RAM
        ram_h, ram_s = srv.client("ram", account=HUB), srv.client("ram", account=SPOKE)
        share = ram_h.create_resource_share(name="dns-rules", resourceArns=[rule["Arn"]],
                                            principals=[SPOKE])["resourceShare"]
        invites = ram_s.get_resource_share_invitations(
            resourceShareArns=[share["resourceShareArn"]])["resourceShareInvitations"]
        ram_s.accept_resource_share_invitation(
            resourceShareInvitationArn=invites[0]["resourceShareInvitationArn"])
        spoke = vpc(ec2s, "10.1.0.0/16")
        res_s.associate_resolver_rule(ResolverRuleId=rule["Id"], VPCId=spoke, Name="spoke")
        # the spoke's private zone, associated with the hub VPC across accounts
        r53h, r53s = srv.client("route53", account=HUB), srv.client("route53", account=SPOKE)
        zone = r53s.create_hosted_zone(
            Name="spoke1.cloud.example", CallerReference="spoke1",
            VPC={"VPCRegion": "us-east-1", "VPCId": spoke},
            HostedZoneConfig={"PrivateZone": True})["HostedZone"]["Id"].split("/")[-1]
        upsert(r53s, zone, "app.spoke1.cloud.example", "A", "10.1.0.10")
        r53s.create_vpc_association_authorization(
            HostedZoneId=zone, VPC={"VPCRegion": "us-east-1", "VPCId": hub})
        r53h.associate_vpc_with_hosted_zone(HostedZoneId=zone,
                                            VPC={"VPCRegion": "us-east-1", "VPCId": hub})

        spoke_port = listener(srv, "vpc", spoke)
        assert ask(spoke_port, "db.corp.onprem.example") == ("NOERROR", ["192.168.7.7"])
        assert dig(spoke_port, "db.corp.onprem.example") == ["192.168.7.7"]
        assert ask(spoke_port, "app.spoke1.cloud.example") == ("NOERROR", ["10.1.0.10"])
        # "on-premises" asks through the hub's inbound endpoint
        in_port = listener(srv, "inbound", inbound)
        assert dig(in_port, "app.spoke1.cloud.example") == ["10.1.0.10"]
        assert ask(in_port, "nothing.spoke1.cloud.example")[0] == "NXDOMAIN"
        # the hub itself has no association with the shared rule: nothing forwarded
        assert ask(listener(srv, "vpc", hub), "db.corp.onprem.example")[0] == "NXDOMAIN"
        # the CLI shows why, through the server
        out = subprocess.run(
            ["localvpc", "dns", "query", "--vpc", spoke, "db.corp.onprem.example",
             "--endpoint-url", srv.url, "--json"], capture_output=True, text=True,
            timeout=60)
        answer = json.loads(out.stdout)
        assert answer["answers"][0]["value"] == "192.168.7.7"
        assert any(rule["Id"] in w and "FORWARD" in w for w in answer["why"])
    finally:
        onprem.stop()


# ------------------------------------------------------------------ (c) DNS64
def test_c_dns64_from_an_ipv6_only_subnet(srv: Server) -> None:
    ec2, r53 = srv.client("ec2"), srv.client("route53")
    vpc_id = vpc(ec2, "10.0.0.0/16", ipv6=True)
    block = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"][0][
        "Ipv6CidrBlock"]
    prefix = block.split("::")[0]
    v6 = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24",
                           Ipv6CidrBlock=f"{prefix}::/64")["Subnet"]["SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=v6, EnableDns64={"Value": True})
    plain = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    assert plain
    zone = public_zone(r53, "ipv4only.example")
    upsert(r53, zone, "ipv4only.example", "A", "34.207.250.62")
    upsert(r53, zone, "dual.ipv4only.example", "A", "192.0.2.1")
    upsert(r53, zone, "dual.ipv4only.example", "AAAA", "2600:1f18::1")
    port = listener(srv, "vpc", vpc_id)
    assert ask(port, "ipv4only.example", "AAAA", client="10.0.1.9") == (
        "NOERROR", ["64:ff9b::22cf:fa3e"])
    assert dig(port, "+subnet=10.0.1.9/32", "AAAA", "ipv4only.example") == [
        "64:ff9b::22cf:fa3e"]
    assert ask(port, "dual.ipv4only.example", "AAAA", client="10.0.1.9")[1] == [
        "2600:1f18::1"]
    assert ask(port, "ipv4only.example", "AAAA", client="10.0.2.9") == ("NOERROR", [])
    assert ask(port, "gone.ipv4only.example", "AAAA", client="10.0.1.9")[0] == "NXDOMAIN"


def nat64_network(ec2: Any) -> dict[str, str]:
    """The DNS64 walk-through's network: an IPv6-only subnet (EnableDns64) whose route
    table sends 64:ff9b::/96 to a NAT gateway in a dual-stack public subnet, and an
    IPv4-only web server with a public address in another VPC."""
    vpc_id = vpc(ec2, "10.0.0.0/16", ipv6=True)
    block = ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]["Ipv6CidrBlockAssociationSet"][0][
        "Ipv6CidrBlock"]
    first, second = list(ipaddress.ip_network(block).subnets(new_prefix=64))[:2]
    public = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.0.0/24", Ipv6CidrBlock=str(first),
                               AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
    v6only = ec2.create_subnet(VpcId=vpc_id, Ipv6Native=True, Ipv6CidrBlock=str(second),
                               AvailabilityZone="us-east-1a")["Subnet"]
    assert v6only["Ipv6Native"] is True and "CidrBlock" not in v6only
    ec2.modify_subnet_attribute(SubnetId=v6only["SubnetId"], EnableDns64={"Value": True})
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc_id)
    public_rt = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    ec2.associate_route_table(RouteTableId=public_rt, SubnetId=public)
    eip = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=public, AllocationId=eip)["NatGateway"][
        "NatGatewayId"]
    eigw = ec2.create_egress_only_internet_gateway(VpcId=vpc_id)[
        "EgressOnlyInternetGateway"]["EgressOnlyInternetGatewayId"]
    v6_rt = ec2.create_route_table(VpcId=vpc_id)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=v6_rt, DestinationIpv6CidrBlock="64:ff9b::/96",
                     NatGatewayId=nat)
    ec2.create_route(RouteTableId=v6_rt, DestinationIpv6CidrBlock="::/0",
                     EgressOnlyInternetGatewayId=eigw)
    ec2.associate_route_table(RouteTableId=v6_rt, SubnetId=v6only["SubnetId"])
    client = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                               SubnetId=v6only["SubnetId"])["Instances"][0]
    (client_v6,) = [a["Ipv6Address"] for a in client["NetworkInterfaces"][0]["Ipv6Addresses"]]
    # the IPv4-only service, somewhere else on the internet
    svc_vpc = vpc(ec2, "172.16.0.0/16")
    svc_subnet = ec2.create_subnet(VpcId=svc_vpc, CidrBlock="172.16.1.0/24")["Subnet"][
        "SubnetId"]
    ec2.modify_subnet_attribute(SubnetId=svc_subnet, MapPublicIpOnLaunch={"Value": True})
    svc_igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=svc_igw, VpcId=svc_vpc)
    svc_rt = ec2.create_route_table(VpcId=svc_vpc)["RouteTable"]["RouteTableId"]
    ec2.create_route(RouteTableId=svc_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=svc_igw)
    ec2.associate_route_table(RouteTableId=svc_rt, SubnetId=svc_subnet)
    web_sg = ec2.create_security_group(GroupName="https", Description="https",
                                       VpcId=svc_vpc)["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=web_sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    server = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                               SubnetId=svc_subnet, SecurityGroupIds=[web_sg])["Instances"][0]
    return {"vpc": vpc_id, "v6_rt": v6_rt, "nat": nat, "client": client["InstanceId"],
            "client_v6": client_v6, "server": server["InstanceId"],
            "server_ip": server["PublicIpAddress"]}


def trace_from(srv: Server, tmp: Path, source: str, dst_ip: str) -> dict[str, Any]:
    """What an operator does with the live network: capture it from the endpoint, then
    ``localvpc trace`` over the capture."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIDLOCALVPCTEST",
           "AWS_SECRET_ACCESS_KEY": "secret"}
    snap = tmp / f"snap-{time.monotonic_ns()}"
    done = subprocess.run(["localvpc", "snapshot", "capture", "--endpoint-url", srv.url,
                           "--region", "us-east-1", str(snap)], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    out = subprocess.run(["localvpc", "trace", "--snapshot", str(snap), "--from", source,
                          "--dst-ip", dst_ip, "--dst-port", "443", "--bidirectional",
                          "--json"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    (trace,) = json.loads(out.stdout)["traces"]
    return dict(trace)


def test_c_dns64_answer_is_reached_through_the_nat_gateway(srv: Server,
                                                           tmp_path: Path) -> None:
    ec2, r53 = srv.client("ec2"), srv.client("route53")
    n = nat64_network(ec2)
    zone = public_zone(r53, "ipv4only.example")
    upsert(r53, zone, "svc.ipv4only.example", "A", n["server_ip"])
    # the IPv6-only instance asks its VPC's resolver: a 64:ff9b::/96 answer (RFC 6052)
    synthesized = str(ipaddress.IPv6Address(
        int(ipaddress.IPv6Address("64:ff9b::")) + int(ipaddress.IPv4Address(n["server_ip"]))))
    port = listener(srv, "vpc", n["vpc"])
    assert ask(port, "svc.ipv4only.example", "AAAA", client=n["client_v6"]) == (
        "NOERROR", [synthesized])
    assert dig(port, f"+subnet={n['client_v6']}/128", "AAAA", "svc.ipv4only.example") == [
        synthesized]
    # ... and connects to it: NAT64 at the NAT gateway, then IPv4 to the server
    trace = trace_from(srv, tmp_path, n["client"], synthesized)
    assert trace["disposition"] == "ACCEPTED", trace
    hops = trace["hops"]
    nodes = [h["node"] for h in hops]
    assert nodes[0] == n["client"] and nodes[-1] == n["server"]
    nat_hop = hops[nodes.index(n["nat"])]
    assert nat_hop["action"] == "translated"
    assert "NAT64" in nat_hop["detail"] and n["server_ip"] in nat_hop["detail"]
    assert "64:ff9b::/96" in hops[1]["detail"]  # the route that sent it to the NAT gateway
    # the reply comes back through the NAT gateway to the IPv6-only instance
    back = [h["node"] for h in trace["return"]["hops"]]
    assert trace["return"]["disposition"] == "ACCEPTED"
    assert n["nat"] in back and back[-1] == n["client"]
    # without the 64:ff9b::/96 route the synthesized address goes to the egress-only
    # gateway: IPv6 cannot reach the IPv4-only server
    ec2.delete_route(RouteTableId=n["v6_rt"], DestinationIpv6CidrBlock="64:ff9b::/96")
    lost = trace_from(srv, tmp_path, n["client"], synthesized)
    assert lost["disposition"] != "ACCEPTED"
    assert n["nat"] not in [h["node"] for h in lost["hops"]]


# ------------------------------------------------------------------ (d) failover
TOPOLOGY = Path(__file__).with_name("local_zone_failover.yaml")
LZ_ACCOUNT, LZ_VPC = "111122223333", "vpc-0f00d0000000f0001"
ELB_ZONE = "Z35SXDOTRQ7X7K"  # the canonical hosted zone of ALBs in us-east-1


def alias(name: str, role: str, target: str, **extra: Any) -> dict[str, Any]:
    """A failover alias record to a load balancer, EvaluateTargetHealth on as the console
    sets it for ELB targets."""
    return {"Action": "UPSERT", "ResourceRecordSet": {
        "Name": name, "Type": "A", "SetIdentifier": role.lower(), "Failover": role,
        "AliasTarget": {"HostedZoneId": ELB_ZONE, "DNSName": f"dualstack.{target}",
                        "EvaluateTargetHealth": True}, **extra}}


def test_d_failover_from_the_local_zone_alb_to_the_region_alb(tmp_path: Path) -> None:

    lbs = {lb.lb_name: lb.dns_name for lb in load_topology(TOPOLOGY)
           .load_balancers.values()}
    # --dev-health-interval: probes every 0.2 s instead of every 10/30 s (tests only).
    # --no-proxy: the ALBs' targets keep the health the topology gives them (healthy); with
    # the proxies on, their health checks would probe targets no local process serves and
    # mark both ALBs unhealthy, and EvaluateTargetHealth would then see no healthy record.
    srv = start_server(tmp_path / "state.db", "--snapshot", str(TOPOLOGY),
                       "--dev-health-interval", "0.2", "--no-proxy")
    web = Web()  # the Local Zone deployment's health endpoint
    web.files["/health"] = b"ok"
    try:
        ec2, r53 = (srv.client("ec2", account=LZ_ACCOUNT),
                    srv.client("route53", account=LZ_ACCOUNT))
        zones = {s["CidrBlock"]: s["AvailabilityZone"] for s in ec2.describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [LZ_VPC]}])["Subnets"]}
        assert zones["10.0.0.0/24"] == "us-east-1-atl-1a"  # the topology, as loaded
        threshold, interval = 3, 0.2
        check = r53.create_health_check(CallerReference="lz-alb", HealthCheckConfig={
            "Type": "HTTP", "IPAddress": "127.0.0.1", "Port": web.port,
            "ResourcePath": "/health", "RequestInterval": 10,
            "FailureThreshold": threshold})["HealthCheck"]["Id"]
        zone = public_zone(r53, "wordpress.example")
        name = "www.wordpress.example"
        r53.change_resource_record_sets(HostedZoneId=zone, ChangeBatch={"Changes": [
            alias(name, "PRIMARY", lbs["lz-alb"], HealthCheckId=check),
            alias(name, "SECONDARY", lbs["region-alb"])]})
        listed = r53.list_resource_record_sets(HostedZoneId=zone, StartRecordName=name,
                                               StartRecordType="A")["ResourceRecordSets"]
        assert [(r["Failover"], r["AliasTarget"]["EvaluateTargetHealth"])
                for r in listed if r["Name"] == name + "."] == [
            ("PRIMARY", True), ("SECONDARY", True)]
        port = listener(srv, "vpc", LZ_VPC)
        _until(lambda: r53.get_health_check_status(HealthCheckId=check)[
            "HealthCheckObservations"][0]["StatusReport"]["Status"].startswith("Success"))
        lz, region = ["203.0.113.20"], ["198.51.100.10", "198.51.100.11"]

        def answer() -> list[str]:
            rcode, values = ask(port, name)
            assert rcode == "NOERROR"
            return sorted(values)

        assert answer() == lz  # the Local Zone ALB's public address
        assert dig(port, name) == lz
        # the Local Zone deployment stops answering its health endpoint
        web.stop()
        flipped = _until(lambda: answer() == region)
        # FailureThreshold failed probes at the interval, plus a tick and the query's poll
        assert flipped < threshold * interval + 2.0
        assert sorted(dig(port, name)) == region
        status = r53.get_health_check_status(HealthCheckId=check)[
            "HealthCheckObservations"][0]["StatusReport"]["Status"]
        assert status.startswith("Failure")
        # it comes back: the answer returns to the Local Zone after enough successes
        web = Web(web.port)
        web.files["/health"] = b"ok"
        back = _until(lambda: answer() == lz)
        assert back < threshold * interval + 2.0
    finally:
        web.stop()
        stop_server(srv)


def _until(cond: Any, timeout: float = 15) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if cond():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError("condition not reached in time")

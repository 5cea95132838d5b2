"""Shared by the store tests: a hand-built network with every kind, and hypothesis strategies
built from the model's type hints (so a new field or kind is covered without editing tests)."""

from __future__ import annotations

import dataclasses
import enum
import ipaddress
import types
import typing
from typing import Any, get_args, get_origin, get_type_hints

from hypothesis import strategies as st

from localvpc.model import (
    access_analyzer,
    client_vpn,
    cloudwan,
    dns,
    elb,
    encryption_controls,
    endpoints,
    filters,
    flow_logs,
    gateways,
    interfaces,
    ipam,
    lattice,
    peering,
    public_access,
    transit,
    transit_policy,
    vpc,
    zones,
)
from localvpc.model.network import _TABLE_OF, Network

RESOURCE_CLASSES: list[type] = list(_TABLE_OF)


def ip(text: str) -> Any:
    return ipaddress.ip_address(text)


def net(text: str) -> Any:
    return ipaddress.ip_network(text)


def sample_network() -> Network:
    """One or more resources of every kind, with non-default values in most fields."""
    n = Network()
    acct, other = "111111111111", "222222222222"
    n.add(
        vpc.Vpc(
            id="vpc-1",
            account=acct,
            region="eu-west-1",
            tags={"Name": "main", "env": "prod"},
            cidrs=[net("10.0.0.0/16"), net("100.64.0.0/20")],
            ipv6_cidrs=[net("2600:1f18:aaaa::/56")],
            enable_dns_hostnames=True,
        )
    )
    n.add(vpc.Vpc(id="vpc-2", account=other, cidrs=[net("10.1.0.0/16")], is_default=True))
    n.add(
        vpc.Subnet(
            id="subnet-1",
            account=acct,
            region="eu-west-1",
            vpc_id="vpc-1",
            cidr=net("10.0.1.0/24"),
            ipv6_cidrs=[net("2600:1f18:aaaa:1::/64")],
            availability_zone="eu-west-1a",
            availability_zone_id="euw1-az1",
            map_public_ip_on_launch=True,
        )
    )
    n.add(vpc.Subnet(id="subnet-v6", vpc_id="vpc-1", cidr=None, ipv6_native=True))
    n.add(
        vpc.RouteTable(
            id="rtb-1",
            vpc_id="vpc-1",
            main=True,
            subnet_ids=["subnet-1"],
            gateway_ids=["igw-1"],
            propagating_vgws=["vgw-1"],
            routes=[
                vpc.Route(net("10.0.0.0/16"), vpc.TargetType.LOCAL, "local"),
                vpc.Route(
                    net("0.0.0.0/0"),
                    vpc.TargetType.INTERNET_GATEWAY,
                    "igw-1",
                    origin=vpc.RouteOrigin.CREATE_ROUTE_TABLE,
                ),
                vpc.Route(net("::/0"), vpc.TargetType.EGRESS_ONLY_INTERNET_GATEWAY, "eigw-1"),
                vpc.Route(
                    None,
                    vpc.TargetType.GATEWAY_ENDPOINT,
                    "vpce-1",
                    prefix_list_id="pl-s3",
                    state="blackhole",
                    origin=vpc.RouteOrigin.PROPAGATED,
                ),
                vpc.Route(
                    net("192.168.0.0/24"),
                    vpc.TargetType.INSTANCE,
                    "i-1",
                    network_interface_id="eni-1",
                ),
            ],
        )
    )
    n.add(gateways.InternetGateway(id="igw-1", vpc_id="vpc-1"))
    n.add(gateways.InternetGateway(id="igw-detached"))
    n.add(gateways.EgressOnlyInternetGateway(id="eigw-1", vpc_id="vpc-1"))
    n.add(
        gateways.NatGateway(
            id="nat-1",
            vpc_id="vpc-1",
            subnet_id="subnet-1",
            connectivity_type="private",
            addresses=[
                gateways.NatAddress(ip("10.0.1.9"), ip("54.1.2.3"), "eipalloc-1", "eni-nat"),
                gateways.NatAddress(ip("10.0.1.10"), primary=False),
            ],
        )
    )
    n.add(
        gateways.ElasticIp(
            id="eipalloc-1",
            public_ip=ip("54.1.2.3"),
            network_border_group="eu-west-1",
            network_interface_id="eni-nat",
            private_ip=ip("10.0.1.9"),
            association_id="eipassoc-1",
        )
    )
    n.add(
        interfaces.NetworkInterface(
            id="eni-1",
            subnet_id="subnet-1",
            vpc_id="vpc-1",
            availability_zone="eu-west-1a",
            private_ips=[
                interfaces.PrivateIp(ip("10.0.1.5"), primary=True, public_ip=ip("3.3.3.3")),
                interfaces.PrivateIp(ip("10.0.1.6"), customer_owned_ip=ip("192.0.2.7")),
            ],
            ipv6_addresses=[ip("2600:1f18:aaaa:1::5")],
            security_group_ids=["sg-1"],
            source_dest_check=False,
            instance_id="i-1",
            device_index=0,
            description="primary — ünïcode",
        )
    )
    n.add(
        interfaces.Instance(
            id="i-1",
            subnet_id="subnet-1",
            vpc_id="vpc-1",
            instance_type="t3.micro",
            network_interface_ids=["eni-1"],
            security_group_ids=["sg-1"],
            image_id="ami-1",
            masquerade=True,
        )
    )
    n.add(
        filters.SecurityGroup(
            id="sg-1",
            vpc_id="vpc-1",
            group_name="web",
            ingress=[
                filters.SgRule("tcp", 443, 443, cidr=net("0.0.0.0/0"), rule_id="sgr-1"),
                filters.SgRule("-1", group_id="sg-1", description="self"),
                filters.SgRule("icmpv6", -1, -1, cidr=net("::/0")),
            ],
            egress=[filters.SgRule("-1", prefix_list_id="pl-s3")],
        )
    )
    n.add(
        filters.NetworkAcl(
            id="acl-1",
            vpc_id="vpc-1",
            is_default=True,
            subnet_ids=["subnet-1"],
            entries=[
                filters.NaclEntry(100, "6", "allow", False, net("0.0.0.0/0"), 80, 80),
                filters.NaclEntry(32767, "-1", "deny", True, net("::/0")),
                filters.NaclEntry(
                    110, "1", "allow", False, net("10.0.0.0/8"), icmp_type=8, icmp_code=0
                ),
            ],
        )
    )
    n.add(
        filters.PrefixList(
            id="pl-s3",
            prefix_list_name="com.amazonaws.eu-west-1.s3",
            cidrs=[net("52.218.0.0/17"), net("3.5.64.0/21")],
            max_entries=10,
        )
    )
    n.add(
        peering.VpcPeeringConnection(
            id="pcx-1",
            requester_vpc_id="vpc-1",
            accepter_vpc_id="vpc-2",
            requester_account=acct,
            accepter_account=other,
            accepter_region="us-east-1",
            status="pending-acceptance",
        )
    )
    n.add(
        transit.TransitGateway(
            id="tgw-1",
            amazon_side_asn=64600,
            default_association_route_table_id="tgw-rtb-1",
            owner_id=acct,
        )
    )
    n.add(
        transit.TransitGatewayAttachment(
            id="tgw-attach-1",
            transit_gateway_id="tgw-1",
            resource_id="vpc-1",
            subnet_ids=["subnet-1"],
            appliance_mode=True,
            association_route_table_id="tgw-rtb-1",
        )
    )
    n.add(
        transit.TransitGatewayRouteTable(
            id="tgw-rtb-1",
            transit_gateway_id="tgw-1",
            routes=[
                transit.TransitGatewayRoute(net("10.0.0.0/16"), "propagated", "active", "tgw-a"),
                transit.TransitGatewayRoute(net("10.9.0.0/16"), state="blackhole"),
            ],
            propagating_attachment_ids=["tgw-attach-1"],
            associated_attachment_ids=["tgw-attach-1"],
            default_association=True,
        )
    )
    n.add(gateways.VpnGateway(id="vgw-1", vpc_ids=["vpc-1"], amazon_side_asn=65000))
    n.add(
        gateways.VpnConnection(
            id="vpn-1",
            customer_gateway_id="cgw-1",
            vpn_gateway_id="vgw-1",
            static_routes_only=True,
            routes=[net("172.16.0.0/12")],
            tunnels=[gateways.VpnTunnel(ip("34.1.1.1")), gateways.VpnTunnel(None, "DOWN")],
        )
    )
    n.add(gateways.CustomerGateway(id="cgw-1", ip_address=ip("198.51.100.1"), bgp_asn=65001))
    n.add(gateways.CarrierGateway(id="cagw-1", vpc_id="vpc-1"))
    n.add(gateways.LocalGateway(id="lgw-1", outpost_arn="arn:aws:outposts:op-1"))
    n.add(
        gateways.LocalGatewayRouteTable(
            id="lgw-rtb-1",
            local_gateway_id="lgw-1",
            mode="coip",
            vpc_ids=["vpc-1"],
            routes=[
                gateways.LocalGatewayRoute(
                    net("0.0.0.0/0"), vif_group_id="lgw-vif-grp-1", coip_pool_id="ipv4pool-coip-1"
                )
            ],
        )
    )
    n.add(
        gateways.CoipPool(
            id="ipv4pool-coip-1",
            local_gateway_route_table_id="lgw-rtb-1",
            cidrs=[net("192.0.2.0/24")],
        )
    )
    n.add(
        transit.TransitGatewayConnectPeer(
            id="tgw-connect-peer-1",
            attachment_id="tgw-attach-1",
            transit_gateway_address="192.0.2.9",
            peer_address="10.0.1.50",
            inside_cidrs=["169.254.6.0/29", "fd00::/125"],
            peer_asn=65010,
        )
    )
    n.add(gateways.LocalGatewayVirtualInterfaceGroup(id="lgw-vif-grp-1",
                                                     local_gateway_id="lgw-1",
                                                     local_bgp_asn=65100))
    n.add(
        gateways.LocalGatewayVirtualInterface(
            id="lgw-vif-1",
            local_gateway_id="lgw-1",
            group_id="lgw-vif-grp-1",
            outpost_lag_id="outpost-lag-1",
            vlan=100,
            local_address="10.20.0.1/30",
            peer_address="10.20.0.2",
        )
    )
    n.add(
        endpoints.VpcEndpoint(
            id="vpce-1",
            vpc_id="vpc-1",
            service_name="com.amazonaws.eu-west-1.s3",
            route_table_ids=["rtb-1"],
        )
    )
    n.add(
        endpoints.VpcEndpoint(
            id="vpce-2",
            vpc_id="vpc-1",
            endpoint_type="Interface",
            subnet_ids=["subnet-1"],
            network_interface_ids=["eni-1"],
            private_dns_enabled=True,
        )
    )
    n.add(
        elb.LoadBalancer(
            id="arn:aws:elasticloadbalancing:lb/net/nlb/1",
            lb_name="nlb",
            vpc_id="vpc-1",
            zones=[elb.LoadBalancerZone("eu-west-1a", "subnet-1", [ip("10.0.1.20")])],
            listeners=[elb.Listener(443, "TLS", ["arn:tg/1"], "arn:listener/1")],
            cross_zone=True,
        )
    )
    n.add(
        elb.TargetGroup(
            id="arn:tg/1",
            name_="tg",
            port=443,
            target_type="ip",
            vpc_id="vpc-1",
            targets=[elb.Target("10.0.1.5", 443, "unhealthy", "eu-west-1a"), elb.Target("i-1")],
            load_balancer_arns=["arn:aws:elasticloadbalancing:lb/net/nlb/1"],
        )
    )
    n.add(zones.Zone("eu-west-1a", "euw1-az1", "eu-west-1"))
    n.add(
        zones.Zone(
            "us-west-2-lax-1a",
            "usw2-lax1-az1",
            "us-west-2",
            zones.ZoneType.LOCAL_ZONE,
            group_name="us-west-2-lax-1",
            parent_zone_name="us-west-2a",
            opt_in_status="opted-in",
        )
    )
    n.add(zones.Outpost("op-1", "arn:aws:outposts:op-1", "eu-west-1a", "euw1-az1", acct))
    _add_later_kinds(n, acct, other)
    _add_lattice(n, acct)
    _add_privatelink_and_cloudwan(n, acct, other)
    _add_client_vpn(n, acct)
    _add_ipam(n, acct)
    _add_access_scope(n, acct)
    n.add(encryption_controls.VpcEncryptionControl(
        id="vpcec-1", account=acct, vpc_id="vpc-1",
        mode=encryption_controls.EncryptionMode.ENFORCE,
        exclusions={"InternetGateway": "enabled"}, created=9.0, tags={"Name": "ec"}))
    return n


def _add_client_vpn(n: Network, acct: str) -> None:
    """A Client VPN endpoint with an association, both route origins and a rule."""
    n.add(client_vpn.ClientVpnEndpoint(
        id="cvpn-endpoint-1", account=acct, client_cidr=net("172.16.0.0/22"),
        server_certificate_arn="arn:aws:acm:us-east-1:111111111111:certificate/x",
        authentication=[client_vpn.ClientVpnAuthentication(
            "certificate-authentication", client_root_certificate_chain_arn="arn:c")],
        log_enabled=True, log_group="lg", dns_servers=[ip("10.0.0.2")],
        transport_protocol="tcp", vpn_port=1194, split_tunnel=True, vpc_id="vpc-1",
        security_group_ids=["sg-1"], status="available", creation_time="2026-01-01T00:00:00",
        associations=[client_vpn.ClientVpnAssociation(
            "cvpn-assoc-1", "subnet-1", "vpc-1", "eu-west-1a", "euw1-az1", "eni-1")],
        routes=[client_vpn.ClientVpnRoute(net("10.0.0.0/16"), "subnet-1", "associate"),
                client_vpn.ClientVpnRoute(net("0.0.0.0/0"), "subnet-1", description="web")],
        authorization_rules=[client_vpn.ClientVpnAuthorizationRule(
            net("10.0.0.0/16"), access_all=True, description="all")]))


def _add_access_scope(n: Network, acct: str) -> None:
    """A Network Access Scope (IGW -> ENI, excluding a NAT) and one analysis with a finding."""
    aa = access_analyzer
    n.add(aa.NetworkInsightsAccessScope(
        "nis-1", acct, tags={"Name": "igw"}, created=1.0, updated=2.0,
        match_paths=[aa.AccessScopePath(
            source=aa.PathStatement(resource=aa.ResourceStatement(
                resource_types=["AWS::EC2::InternetGateway"])),
            destination=aa.PathStatement(
                packet_header=aa.PacketHeaderStatement(destination_ports=["22"],
                                                       protocols=["tcp"]),
                resource=aa.ResourceStatement(resources=["eni-1"])))],
        exclude_paths=[aa.AccessScopePath(through=[aa.ResourceStatement(
            resource_types=["AWS::EC2::NatGateway"])])]))
    n.add(aa.NetworkInsightsAccessScopeAnalysis(
        "nisa-1", acct, scope_id="nis-1", status="succeeded", start_date=3.0, end_date=4.0,
        findings_found="true", analyzed_eni_count=2, warning_message="capped",
        findings=[aa.AccessScopeFinding("f-1", '[{"SequenceNumber": 1}]')]))


def _add_ipam(n: Network, acct: str) -> None:
    """An IPAM with its default scope and a top pool whose CIDR feeds a VPC allocation."""
    n.add(ipam.Ipam("ipam-1", acct, description="corp", operating_regions=["us-east-1"],
                    private_default_scope_id="ipam-scope-1", public_default_scope_id="ipam-scope-2",
                    tier="free"))
    n.add(ipam.IpamScope("ipam-scope-1", acct, ipam_id="ipam-1", is_default=True,
                         description="private"))
    n.add(ipam.IpamPool(
        "ipam-pool-1", acct, ipam_id="ipam-1", scope_id="ipam-scope-1", locale="us-east-1",
        allocation_min_netmask_length=16, allocation_max_netmask_length=24,
        allocation_resource_tags={"env": "prod"},
        cidrs=[ipam.IpamPoolCidr("ipam-pool-cidr-1", net("10.0.0.0/8"))],
        allocations=[ipam.IpamPoolAllocation("ipam-pool-alloc-1", net("10.0.0.0/16"), "vpc",
                                             "vpc-1", "us-east-1", acct, tags={"a": "b"})]))


def _add_privatelink_and_cloudwan(n: Network, acct: str, other: str) -> None:
    """An endpoint service with a permission and a notification; a global network with a core
    network (a policy version with an error, an edge, a segment), an attachment waiting on a
    segment change, a transit gateway registration and a peering."""
    n.add(endpoints.VpcEndpointService(
        "vpce-svc-1", acct, "us-east-1", service_name="com.amazonaws.vpce.us-east-1.vpce-svc-1",
        network_load_balancer_arns=["arn:aws:elasticloadbalancing:lb/net/nlb/1"],
        acceptance_required=False, private_dns_name="search.example.com",
        private_dns_state="verified", supported_regions=["us-west-2"],
        allowed_principals=[endpoints.ServicePermission(f"arn:aws:iam::{other}:root",
                                                        "Account", "vpce-svc-perm-1")]))
    n.add(endpoints.VpcEndpointConnectionNotification(
        "vpce-nfn-1", acct, "us-east-1", service_id="vpce-svc-1",
        topic_arn="arn:aws:sns:us-east-1:1:t", events=["Connect", "Accept"]))
    n.add(cloudwan.GlobalNetwork("global-network-1", acct, "us-west-2", description="g",
                                 created=1.0))
    n.add(cloudwan.CoreNetwork(
        "core-network-1", acct, "us-west-2", global_network_id="global-network-1",
        versions=[cloudwan.PolicyVersion(1, '{"version": "2021.12"}', alias="LIVE",
                                         errors=[cloudwan.PolicyError("E", "bad", "/a")])],
        live_version_id=1,
        edges=[cloudwan.CoreNetworkEdge("us-east-1", 64512, ["169.254.0.0/24"])],
        segments=[cloudwan.CoreNetworkSegmentInfo("prod", ["us-east-1"], ["shared"])]))
    n.add(cloudwan.CoreNetworkAttachment(
        "attachment-1", acct, "us-west-2", core_network_id="core-network-1",
        resource_arn="arn:aws:ec2:us-east-1:1:vpc/vpc-1", resource_id="vpc-1",
        segment_name="prod", attachment_policy_rule_number=100,
        proposed_segment_change=cloudwan.ProposedSegmentChange("dev", None, 200,
                                                               {"segment": "dev"}),
        subnet_arns=["arn:aws:ec2:us-east-1:1:subnet/subnet-1"],
        options={"ApplianceModeSupport": True}))
    n.add(cloudwan.TransitGatewayRegistration(
        "tgw-reg-1", acct, "us-west-2", global_network_id="global-network-1",
        transit_gateway_arn="arn:aws:ec2:us-east-1:1:transit-gateway/tgw-1"))
    n.add(cloudwan.CoreNetworkPeering(
        "peering-1", acct, "us-west-2", core_network_id="core-network-1",
        transit_gateway_arn="arn:aws:ec2:us-east-1:1:transit-gateway/tgw-1",
        transit_gateway_peering_attachment_id="tgw-attach-1"))
    n.add(cloudwan.ConnectPeer(
        "connect-peer-1", acct, "us-east-1", connect_attachment_id="attachment-2",
        core_network_id="core-network-1", state="FAILED", core_network_address="169.254.0.1",
        peer_address="10.0.0.9", inside_cidr_blocks=["169.254.6.0/29"],
        subnet_arn="arn:aws:ec2:us-east-1:1:subnet/subnet-1",
        bgp_configurations=[cloudwan.ConnectPeerBgpConfiguration(64512, 65001, "169.254.6.2",
                                                                 "169.254.6.1")],
        errors=[cloudwan.ConnectPeerError("NO_ASSOCIATED_CIDR_BLOCK", "none")], created=2.0))


def _add_lattice(n: Network, acct: str) -> None:
    """VPC Lattice: a network, a service with a listener and a rule, a target group, both
    associations and an access log subscription, with nested values set."""
    policy = lattice.PolicyDocument('{"Version": "2012-10-17"}', 1.5, 2.5)
    n.add(lattice.ServiceNetwork("sn-1", acct, "us-east-1", {"env": "dev"},
                                 network_name="net", auth_type="AWS_IAM",
                                 sharing_enabled=False, auth_policy=policy, created=1.0))
    n.add(lattice.LatticeService("svc-1", acct, "us-east-1", service_name="web",
                                 custom_domain_name="web.example.com",
                                 domain_name="web-svc-1.7d67968.vpc-lattice-svcs.us-east-1.on.aws",
                                 resource_policy=policy))
    forward = lattice.RuleAction([lattice.WeightedTargetGroup("tg-1", 20),
                                  lattice.WeightedTargetGroup("tg-2", 10)])
    n.add(lattice.LatticeListener("listener-1", acct, "us-east-1", service_id="svc-1",
                                  listener_name="https", protocol="HTTPS", port=443,
                                  default_action=forward, default_rule_id="rule-0"))
    n.add(lattice.LatticeRule(
        "rule-1", acct, "us-east-1", service_id="svc-1", listener_id="listener-1",
        rule_name="to-instance", priority=10,
        match=lattice.HttpMatch("GET", lattice.PathMatch("prefix", "/to-instance", True),
                                [lattice.HeaderMatch("x-a", "exact", "b")]),
        action=lattice.RuleAction(fixed_response_status=404)))
    n.add(lattice.LatticeTargetGroup(
        "tg-1", acct, "us-east-1", tg_name="inst", port=80, protocol="HTTP", vpc_id="vpc-1",
        health_check=lattice.LatticeHealthCheck(path="/health", matcher="200-299"),
        targets=[lattice.LatticeTarget("i-1", 8080, "HEALTHY"),
                 lattice.LatticeTarget("arn:aws:lambda:us-east-1:1:function:f", None,
                                       "UNAVAILABLE", "HealthCheckNotSupported")]))
    n.add(lattice.ServiceNetworkVpcAssociation("snva-1", acct, "us-east-1",
                                               service_network_id="sn-1", vpc_id="vpc-1",
                                               security_group_ids=["sg-1"],
                                               private_dns_enabled=True))
    n.add(lattice.ServiceNetworkServiceAssociation("snsa-1", acct, "us-east-1",
                                                   service_network_id="sn-1",
                                                   service_id="svc-1"))
    n.add(lattice.AccessLogSubscription("als-1", acct, "us-east-1", resource_id="sn-1",
                                        destination_arn="arn:aws:s3:::logs",
                                        service_network_log_type="SERVICE"))


def _add_later_kinds(n: Network, acct: str, other: str) -> None:
    """One of each kind added after the first sample (permissions, DHCP, BPA, flow logs,
    DNS, CIDR reservations, address transfers, multicast)."""
    n.add(interfaces.NetworkInterfacePermission(
        id="eni-perm-1", network_interface_id="eni-1", aws_account_id=other))
    n.add(vpc.DhcpOptions(id="dopt-1", domain_name="corp.example",
                          domain_name_servers=["AmazonProvidedDNS", "10.0.0.2"],
                          ntp_servers=[ip("169.254.169.123")], netbios_node_type=2,
                          ipv6_address_preferred_lease_time=3600))
    n.add(public_access.VpcBlockPublicAccessOptions(
        id=public_access.options_id(acct, "eu-west-1"), account=acct, region="eu-west-1",
        internet_gateway_block_mode=public_access.BlockMode.INGRESS, last_update=1.5))
    n.add(public_access.VpcBlockPublicAccessExclusion(
        id="vpcbpa-exclude-1", subnet_id="subnet-1",
        mode=public_access.ExclusionMode.EGRESS, created=2.0))
    n.add(flow_logs.FlowLog(id="fl-1", resource_id="vpc-1", destination_type="s3",
                            destination="arn:aws:s3:::logs/vpc", file_format="parquet",
                            max_aggregation_interval=60, created=3.0))
    n.add(dns.HostedZone(
        id="Z1", zone_name="corp.example.", private=True,
        vpcs=[dns.ZoneVpc("vpc-1", "eu-west-1", acct)],
        records=[dns.ResourceRecordSet("www.corp.example.", "A", 60, ["10.0.1.5"]),
                 dns.ResourceRecordSet("api.corp.example.", "A", alias_target=dns.AliasTarget(
                     "Z2", "nlb.example.", True), weight=10, set_identifier="a")]))
    n.add(dns.DnsChange(id="C1", comment="create", submitted=4.0))
    n.add(dns.HealthCheck(id="hc-1", type="TCP", ip_address="198.51.100.7", port=443,
                          regions=["eu-west-1"], healthy=True))
    n.add(dns.ResolverEndpoint(
        id="rslvr-in-1", direction="OUTBOUND", vpc_id="vpc-1", security_group_ids=["sg-1"],
        ip_addresses=[dns.ResolverEndpointIp("rni-1", "subnet-1", "10.0.1.30", "eni-r")]))
    n.add(dns.ResolverRule(id="rslvr-rr-1", domain_name="onprem.example.",
                           target_ips=[dns.TargetAddress("192.0.2.53")],
                           resolver_endpoint_id="rslvr-in-1"))
    n.add(dns.ResolverRuleAssociation(id="rslvr-rrassoc-1", resolver_rule_id="rslvr-rr-1",
                                      vpc_id="vpc-1"))
    n.add(dns.ResolverConfig(id="rslvr-rc-1", vpc_id="vpc-1", autodefined_reverse="DISABLED"))
    n.add(dns.FirewallDomainList(id="rslvr-fdl-1", list_name="bad",
                                 domains=["evil.example."]))
    n.add(dns.FirewallRuleGroup(id="rslvr-frg-1", group_name="g", rules=[
        dns.FirewallRule("rslvr-fdl-1", 100, "BLOCK", block_response="NXDOMAIN")]))
    n.add(dns.FirewallRuleGroupAssociation(id="rslvr-frgassoc-1",
                                           firewall_rule_group_id="rslvr-frg-1",
                                           vpc_id="vpc-1", priority=101))
    n.add(dns.FirewallConfig(id="rslvr-fc-1", vpc_id="vpc-1", firewall_fail_open="ENABLED"))
    n.add(vpc.SubnetCidrReservation(id="scr-1", subnet_id="subnet-1", vpc_id="vpc-1",
                                    cidr=net("10.0.1.128/26"), reservation_type="prefix",
                                    description="pods"))
    n.add(gateways.AddressTransfer(id="eiptransfer-1", allocation_id="eipalloc-1",
                                   public_ip=ip("54.1.2.3"), transfer_account_id=other,
                                   status="accepted", expires=5.0, accepted=6.0))
    n.add(transit.TransitGatewayMulticastDomain(
        id="tgw-mcast-domain-1", transit_gateway_id="tgw-1",
        options={"StaticSourcesSupport": "enable"}, created=7.0,
        associations=[transit.MulticastDomainAssociation("tgw-attach-1", "subnet-1",
                                                         "pendingAcceptance")],
        registrations=[transit.MulticastGroupRegistration(ip("239.1.2.3"), "eni-1", "source"),
                       transit.MulticastGroupRegistration(ip("ff3e::1"), "eni-1")]))
    n.add(transit_policy.TransitGatewayPolicyTable(
        id="tgw-ptb-1", transit_gateway_id="tgw-1", created=8.0,
        associated_attachment_ids=["tgw-attach-1"], tags={"Name": "wan"}))


# ---------------------------------------------------------------------------- strategies
def _network(version: int) -> st.SearchStrategy[Any]:
    bits = 32 if version == 4 else 128
    return st.builds(
        lambda address, prefix: ipaddress.ip_network((address, prefix), strict=False),
        st.ip_addresses(v=version),
        st.integers(0, bits),
    )


def strategy_for(hint: Any, text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Values of a type hint; ``text`` is the strategy for every str in it."""
    origin = get_origin(hint)
    if origin is typing.Union or origin is types.UnionType:
        return st.one_of([strategy_for(m, text) for m in get_args(hint)])
    if origin is list:
        return st.lists(strategy_for(get_args(hint)[0], text), max_size=3)
    if origin is dict:
        key, value = get_args(hint)
        return st.dictionaries(strategy_for(key, text), strategy_for(value, text), max_size=3)
    if hint is type(None):
        return st.none()
    simple: dict[Any, st.SearchStrategy[Any]] = {
        str: text,
        int: st.integers(-(2**63), 2**63 - 1),
        bool: st.booleans(),
        float: st.floats(allow_nan=False, allow_infinity=False),
        ipaddress.IPv4Address: st.ip_addresses(v=4),
        ipaddress.IPv6Address: st.ip_addresses(v=6),
        ipaddress.IPv4Network: _network(4),
        ipaddress.IPv6Network: _network(6),
    }
    if hint in simple:
        return simple[hint]
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return instances_of(hint, text)
    raise TypeError(f"no strategy for {hint!r}")


def instances_of(cls: type, text: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """Instances of a model dataclass with every init field drawn from its type hint."""
    hints = get_type_hints(cls)
    kwargs = {f.name: strategy_for(hints[f.name], text) for f in dataclasses.fields(cls) if f.init}
    return st.builds(cls, **kwargs)


# Any Unicode text (no surrogates: they are not valid in UTF-8 or JSON text).
ANY_TEXT = st.text(max_size=10)
# What a SQL text column takes on every backend: no NUL (PostgreSQL text cannot hold one).
SQL_TEXT = st.text(
    st.characters(exclude_characters="\x00", exclude_categories=("Cs",)), max_size=10
)

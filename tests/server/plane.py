"""Helpers for server tests: build small networks with boto3, then trace the server's state.

The trace reads the server's SQLite state file directly (read-only while the server runs:
SQLite WAL allows concurrent readers) and compiles it the way ``localvpc trace`` does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from conftest import Server
from localvpc.dataplane import compile_network
from localvpc.dataplane.flow import Trace
from localvpc.dataplane.request import trace_request
from localvpc.store import Store


def trace(server: Server, node: str, dst_ip: str, **kwargs: Any) -> Trace:
    """Trace one flow on what the server has acknowledged so far."""
    store = Store.open(server.state)
    try:
        network = store.load_network()
    finally:
        store.close()
    _, traces = trace_request(compile_network(network), node, dst_ip, **kwargs)
    return traces[0]


@dataclass
class Site:
    """A VPC with one subnet, its main route table and one running instance."""

    vpc_id: str
    subnet_id: str
    route_table_id: str
    instance_id: str
    ip: str
    sg_id: str


def site(ec2: Any, cidr: str, subnet_cidr: str, zone: str | None = None,
         open_from: str | None = None) -> Site:
    """Make a VPC ``cidr`` with a subnet and an instance; ``open_from`` lets that CIDR in
    through the default security group."""
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    kwargs = {"AvailabilityZone": zone} if zone else {}
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=subnet_cidr, **kwargs)["Subnet"]["SubnetId"]
    rtb = ec2.describe_route_tables(Filters=[
        {"Name": "vpc-id", "Values": [vpc]},
        {"Name": "association.main", "Values": ["true"]}])["RouteTables"][0]["RouteTableId"]
    sg = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc]},
        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
    if open_from:
        ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
            {"IpProtocol": "-1", "IpRanges": [{"CidrIp": open_from}]}])
    inst = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                             SubnetId=subnet)["Instances"][0]
    return Site(vpc, subnet, rtb, inst["InstanceId"], inst["PrivateIpAddress"], sg)

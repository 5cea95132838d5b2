"""A small network for the flow-log tests: two accounts, VPCs that reuse 10.0.0.0/16."""

from __future__ import annotations

import ipaddress

from localvpc.model.interfaces import Instance, NetworkInterface, PrivateIp
from localvpc.model.network import Network
from localvpc.model.vpc import Subnet, Vpc

ACCOUNT = "111111111111"
OTHER = "222222222222"


def _instance(net: Network, iid: str, account: str, vpc: str, subnet: str, zone: str,
              ips: list[str], tags: dict[str, str], extra_eni_ips: list[str] | None = None) -> None:
    enis = []
    for n, addrs in enumerate([ips, *([extra_eni_ips] if extra_eni_ips else [])]):
        eni = NetworkInterface(
            id=f"eni-{iid[2:]}{n}", account=account, subnet_id=subnet, vpc_id=vpc,
            availability_zone=zone,
            private_ips=[PrivateIp(ipaddress.ip_address(a), k == 0) for k, a in enumerate(addrs)],
            instance_id=iid, device_index=n)
        net.network_interfaces[eni.id] = eni
        enis.append(eni.id)
    net.instances[iid] = Instance(id=iid, account=account, subnet_id=subnet, vpc_id=vpc,
                                  availability_zone=zone, network_interface_ids=enis, tags=tags)


def small_network() -> Network:
    net = Network()
    for vid, account in (("vpc-a", ACCOUNT), ("vpc-b", ACCOUNT), ("vpc-x", OTHER)):
        net.vpcs[vid] = Vpc(id=vid, account=account, cidrs=[ipaddress.ip_network("10.0.0.0/16")])
    for sid, vid, zone, cidr in (("subnet-a1", "vpc-a", "us-east-1a", "10.0.1.0/24"),
                                 ("subnet-a2", "vpc-a", "us-east-1b", "10.0.2.0/24"),
                                 ("subnet-b1", "vpc-b", "us-east-1a", "10.0.1.0/24"),
                                 ("subnet-x1", "vpc-x", "us-east-1a", "10.0.1.0/24")):
        net.subnets[sid] = Subnet(id=sid, account=net.vpcs[vid].account, vpc_id=vid,
                                  availability_zone=zone, cidr=ipaddress.ip_network(cidr))
    tags_web = {"Name": "web-1", "project": "Log Analytics", "team": "Engineering"}
    _instance(net, "i-web", ACCOUNT, "vpc-a", "subnet-a1", "us-east-1a", ["10.0.1.10"], tags_web)
    # The database has a second ENI whose address the enricher must also find.
    _instance(net, "i-db", ACCOUNT, "vpc-a", "subnet-a2", "us-east-1b", ["10.0.2.20"],
              {"Name": "db-1", "team": "Data"}, extra_eni_ips=["10.0.2.21"])
    # vpc-b reuses 10.0.2.20 (same account): a record of vpc-a must still find i-db.
    _instance(net, "i-bdb", ACCOUNT, "vpc-b", "subnet-b1", "us-east-1a", ["10.0.2.20"],
              {"Name": "b-db"})
    # Another account reuses 10.0.1.10: never visible to ACCOUNT's records.
    _instance(net, "i-xweb", OTHER, "vpc-x", "subnet-x1", "us-east-1a", ["10.0.1.10"],
              {"Name": "other-account"})
    # Untagged instance: the Lambda writes no destination keys for it.
    _instance(net, "i-bare", ACCOUNT, "vpc-a", "subnet-a1", "us-east-1a", ["10.0.1.30"], {})
    return net

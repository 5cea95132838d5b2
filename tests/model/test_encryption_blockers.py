"""What keeps a VPC from enforce mode: instances that cannot encrypt in transit (never
excludable) and gateways whose kind the control does not exclude."""

from __future__ import annotations

from localvpc.model.encryption_controls import (
    EncryptionMode,
    VpcEncryptionControl,
    blockers,
    control_of,
    encrypts_in_transit,
)
from localvpc.model.gateways import InternetGateway, NatGateway
from localvpc.model.interfaces import Instance
from localvpc.model.network import Network
from localvpc.model.peering import VpcPeeringConnection


def network() -> Network:
    n = Network()
    n.add(Instance("i-nitro", vpc_id="vpc-1", instance_type="c5n.large",
                   network_interface_ids=["eni-n"]))
    n.add(Instance("i-old", vpc_id="vpc-1", instance_type="t2.micro",
                   network_interface_ids=["eni-o", "eni-o2"]))
    n.add(Instance("i-gone", vpc_id="vpc-1", instance_type="t2.micro", state="terminated",
                   network_interface_ids=["eni-g"]))
    n.add(Instance("i-elsewhere", vpc_id="vpc-2", instance_type="t2.micro",
                   network_interface_ids=["eni-e"]))
    n.add(InternetGateway("igw-1", vpc_id="vpc-1"))
    n.add(NatGateway("nat-1", vpc_id="vpc-1", state="deleted"))
    n.add(VpcPeeringConnection("pcx-1", requester_vpc_id="vpc-2", accepter_vpc_id="vpc-1"))
    return n


def test_instance_types_come_from_the_data() -> None:
    assert encrypts_in_transit("c5n.large") and encrypts_in_transit("m6i.large")
    assert not encrypts_in_transit("t2.micro") and not encrypts_in_transit("m5.large")
    assert not encrypts_in_transit("") and not encrypts_in_transit("no.such-type")


def test_unsupported_instances_and_gateways_block() -> None:
    found = {(b.id, b.type, b.excludable) for b in blockers(network(), "vpc-1")}
    assert found == {("eni-o", "interface", False), ("eni-o2", "interface", False),
                     ("igw-1", "internet-gateway", True),
                     ("pcx-1", "vpc-peering-connection", True)}


def test_exclusions_clear_only_their_kind() -> None:
    c = VpcEncryptionControl("vpcec-1", vpc_id="vpc-1", mode=EncryptionMode.ENFORCE,
                             exclusions={"InternetGateway": "enabled", "VpcPeering": "disabled"})
    assert {b.id for b in blockers(network(), "vpc-1", c)} == {"eni-o", "eni-o2", "pcx-1"}
    assert c.excluded("InternetGateway") and not c.excluded("NatGateway")


def test_control_of_ignores_deleted_controls_and_other_vpcs() -> None:
    n = network()
    n.add(VpcEncryptionControl("vpcec-old", vpc_id="vpc-1", state="deleted"))
    n.add(VpcEncryptionControl("vpcec-2", vpc_id="vpc-2"))
    assert control_of(n, "vpc-1") is None
    live = n.add(VpcEncryptionControl("vpcec-1", vpc_id="vpc-1"))
    assert control_of(n, "vpc-1") is live and not live.enforcing


def test_a_pending_peering_request_does_not_block() -> None:
    n = network()
    n.peering_connections["pcx-1"].status = "pending-acceptance"
    assert "pcx-1" not in {b.id for b in blockers(n, "vpc-1")}
    n.peering_connections["pcx-1"].status = "provisioning"
    assert "pcx-1" in {b.id for b in blockers(n, "vpc-1")}

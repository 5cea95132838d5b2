"""The Cloud WAN model: registered in ``Network``, persisted by the store's codec, and the
policy-version helpers the API relies on (CS-2, CS-4)."""

from __future__ import annotations

from localvpc.model.cloudwan import (
    EXECUTION_SUCCEEDED,
    CoreNetwork,
    CoreNetworkAttachment,
    CoreNetworkEdge,
    CoreNetworkPeering,
    GlobalNetwork,
    PolicyError,
    PolicyVersion,
    ProposedSegmentChange,
    TransitGatewayRegistration,
)
from localvpc.model.network import Network, class_of_table, table_of
from localvpc.store.codec import decode, encode


def test_registered_tables() -> None:
    net = Network()
    for res, table in ((GlobalNetwork(id="global-network-1"), "global_networks"),
                       (CoreNetwork(id="core-network-1"), "core_networks"),
                       (CoreNetworkAttachment(id="attachment-1"), "core_network_attachments"),
                       (TransitGatewayRegistration(id="g|arn"), "transit_gateway_registrations"),
                       (CoreNetworkPeering(id="peering-1"), "core_network_peerings")):
        net.add(res)
        assert table_of(res) == table and class_of_table(table) is type(res)
        assert net.find(res.id) is res


def test_codec_round_trip_keeps_versions_and_proposals() -> None:
    core = CoreNetwork(id="core-network-1", global_network_id="global-network-1",
                       versions=[PolicyVersion(1, '{"version": "2021.12"}', alias="LIVE",
                                               change_set_state=EXECUTION_SUCCEEDED),
                                 PolicyVersion(2, "{}", errors=[PolicyError("X", "$: y", "$")])],
                       live_version_id=1, edges=[CoreNetworkEdge("us-east-1", 64512)])
    assert decode(CoreNetwork, encode(core)) == core
    att = CoreNetworkAttachment(id="attachment-1", tags={"segment": "dev"},
                                proposed_segment_change=ProposedSegmentChange("dev", None, 100,
                                                                              {"a": "b"}),
                                options={"Ipv6Support": True})
    assert decode(CoreNetworkAttachment, encode(att)) == att


def test_version_helpers() -> None:
    core = CoreNetwork(id="core-network-1")
    assert core.next_version_id() == 1 and core.live is None and core.latest is None
    core.versions = [PolicyVersion(1, "{}"), PolicyVersion(2, "{}")]
    core.live_version_id = 1
    assert core.next_version_id() == 3
    assert core.live is core.versions[0] and core.latest is core.versions[1]
    assert core.arn == "arn:aws:networkmanager::000000000000:core-network/core-network-1"

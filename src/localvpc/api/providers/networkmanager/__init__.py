"""AWS Network Manager / Cloud WAN (service ``networkmanager``, rest-json, global, homed in
us-west-2): global and core networks, policy versions and change sets, attachments (Direct
Connect gateway ones included), peerings, Connect peers, transit gateway registrations,
segment routes and the network inventory. The policy engine is ``localvpc.cloudwan``; this
package only translates AWS shapes."""

from __future__ import annotations

from localvpc.api.providers.networkmanager.attachments import AttachmentOperations
from localvpc.api.providers.networkmanager.connect_peers import ConnectPeerOperations
from localvpc.api.providers.networkmanager.direct_connect import DirectConnectOperations
from localvpc.api.providers.networkmanager.networks import NetworkOperations
from localvpc.api.providers.networkmanager.routes import RouteOperations
from localvpc.api.registry import Provider


class NetworkManagerProvider(Provider, NetworkOperations, AttachmentOperations,
                             RouteOperations, ConnectPeerOperations, DirectConnectOperations):
    service = "networkmanager"

"""The ``encryption-status`` flow-log field of VPC Encryption Controls (FORMAT.md row 42).

AWS writes it only for VPCs with an encryption control (monitor or enforce mode; '-'
otherwise) and documents four values: 0 not encrypted, 1 encrypted by the Nitro system,
2 encrypted by the application, 3 both. localvpc decides them per observation point from
the two ends of the hop the packet made there (the ENI and the ENI it came from or went to):

* Nitro (1): both ends are in the VPC and both encrypt in transit: instances whose type
  supports it (``NetworkInfo.EncryptionInTransitSupported``), and the interface endpoints
  and load balancers AWS runs on such hardware (ASSUMED: AWS says it moves these
  managed ENIs onto encrypting hardware). NAT gateways, internet, VPN and transit paths
  are the exclusions' business, so a hop to or from them is never Nitro-encrypted here.
* Application (2): AWS infers TLS only where it knows the far end speaks it: TCP port 443
  to an interface endpoint, or to a service behind a gateway endpoint of the VPC.
"""

from __future__ import annotations

from localvpc.dataplane.compiled import (
    KIND_ENDPOINT,
    KIND_INSTANCE,
    KIND_LB,
    Device,
    ForwardingPlane,
)
from localvpc.dataplane.flow import Crossing
from localvpc.model.aws_prefixes import service_of
from localvpc.model.encryption_controls import control_of, encrypts_in_transit
from localvpc.model.vpc import TargetType

TLS_PORT = 443
NOT_ENCRYPTED, NITRO, APPLICATION, BOTH = 0, 1, 2, 3
# Services reached through gateway endpoints, by their ip-ranges name and endpoint suffix.
_GATEWAY_SERVICES = {"S3": ".s3", "DYNAMODB": ".dynamodb"}


def status_code(nitro: bool, application: bool) -> int:
    """The documented value for the two kinds of encryption a flow may have."""
    return (NITRO if nitro else NOT_ENCRYPTED) | (APPLICATION if application else 0)


def neighbour(crossings: list[Crossing], i: int) -> Crossing | None:
    """The ENI crossing at the other end of the hop of ``crossings[i]``: the next one after
    leaving an ENI, the previous one before reaching it; None when the hop ends elsewhere
    (a gateway, a transit gateway attachment, the internet)."""
    c = crossings[i]
    j = i + 1 if c.direction == "egress" else i - 1
    if not 0 <= j < len(crossings):
        return None
    other = crossings[j]
    if other.tgw_id or other.direction == c.direction:
        return None
    return other


def device_encrypts(fp: ForwardingPlane, device: Device | None) -> bool:
    """Whether an ENI's end of a hop is encrypted by the Nitro system."""
    if device is None:
        return False
    if device.kind == KIND_INSTANCE:
        inst = fp.network.instances.get(device.owner_id or "")
        return inst is not None and encrypts_in_transit(inst.instance_type)
    return device.kind in (KIND_ENDPOINT, KIND_LB)


def _gateway_endpoint_service(fp: ForwardingPlane, vpc_id: str, c: Crossing) -> bool:
    """The far end is an AWS service the VPC reaches through a gateway endpoint."""
    if c.direction == "egress":
        return c.via == TargetType.GATEWAY_ENDPOINT
    address = c.flow.src_ip
    suffix = None if address.is_private else _GATEWAY_SERVICES.get(service_of(address) or "")
    return suffix is not None and any(
        e.vpc_id == vpc_id and e.endpoint_type == "Gateway" and e.service_name.endswith(suffix)
        for e in fp.network.vpc_endpoints.values())


def encryption_status(fp: ForwardingPlane, c: Crossing, device: Device | None,
                      other: Crossing | None) -> int | None:
    """``encryption-status`` at ENI crossing ``c`` (``other``: its ``neighbour``); None
    ('-') when the ENI's VPC has no encryption control."""
    vpc_id = device.vpc_id if device is not None else None
    if control_of(fp.network, vpc_id) is None or device is None:
        return None
    far = fp.devices.get(other.point) if other is not None else None
    nitro = (far is not None and far.vpc_id == device.vpc_id
             and device_encrypts(fp, device) and device_encrypts(fp, far))
    flow = c.flow
    tls = flow.protocol == 6 and TLS_PORT in (flow.src_port, flow.dst_port)
    application = tls and (
        KIND_ENDPOINT in (device.kind, far.kind if far is not None else None)
        or _gateway_endpoint_service(fp, device.vpc_id, c))
    return status_code(nitro, application)

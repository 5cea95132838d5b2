"""Turning user input (strings from the CLI or API) into a validated flow and a trace."""

from __future__ import annotations

from localvpc.dataplane.compiled import ForwardingPlane
from localvpc.dataplane.engine import Tracer
from localvpc.dataplane.flow import PROTOCOL_NUMBERS, Flow, Trace
from localvpc.model.base import IPAddress, parse_ip
from localvpc.model.errors import TraceInputError


def parse_protocol(text: str | int | None) -> int:
    """``tcp``/``udp``/``icmp``/``icmpv6`` or an IP protocol number 0-255."""
    if text is None:
        return 6
    if isinstance(text, int):
        value = text
    else:
        t = text.strip().lower()
        if t in PROTOCOL_NUMBERS:
            return PROTOCOL_NUMBERS[t]
        if not t.isdigit():
            raise TraceInputError(f"bad protocol {text!r}: use tcp, udp, icmp, icmpv6 or 0-255")
        value = int(t)
    if not 0 <= value <= 255:
        raise TraceInputError(f"bad protocol {text!r}: a protocol number is 0-255")
    return value


def _address(text: str, what: str) -> IPAddress:
    try:
        return parse_ip(text)
    except ValueError:
        raise TraceInputError(f"bad {what} {text!r}: not an IPv4 or IPv6 address") from None


def _port(value: int | None, what: str) -> int | None:
    if value is not None and not 0 <= value <= 65535:
        raise TraceInputError(f"bad {what} {value}: a port is 0-65535")
    return value


def trace_request(fp: ForwardingPlane, node: str, dst_ip: str, src_ip: str | None = None,
                  protocol: str | int | None = "tcp", src_port: int | None = None,
                  dst_port: int | None = None, icmp_type: int | None = None,
                  icmp_code: int | None = None, bidirectional: bool = False
                  ) -> tuple[Flow, list[Trace]]:
    """Validate the inputs, pick defaults like AWS's Reachability Analyzer, and trace."""
    tracer = Tracer(fp)
    proto = parse_protocol(protocol)
    dst = _address(dst_ip, "destination IP")
    src = _address(src_ip, "source IP") if src_ip else None
    start = tracer.resolve(node, src)
    if src is None:
        src = tracer.default_source(start)
    if src.version != dst.version:
        raise TraceInputError(f"source {src} and destination {dst} are different IP versions")
    if proto in (6, 17):
        s_port = _port(src_port, "source port")
        d_port = _port(dst_port, "destination port")
        flow = Flow(src, dst, proto, 49152 if s_port is None else s_port,
                    80 if d_port is None else d_port)
    elif proto in (1, 58):
        echo = 8 if proto == 1 else 128
        flow = Flow(src, dst, proto, icmp_type=echo if icmp_type is None else icmp_type,
                    icmp_code=0 if icmp_code is None else icmp_code)
    else:
        flow = Flow(src, dst, proto)
    return flow, tracer.trace(node, flow, bidirectional)

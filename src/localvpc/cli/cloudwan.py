"""``localvpc cloudwan topology``: a Cloud WAN core network as a tree and as a picture.

The data comes in the API's own shapes, from a running server (boto3, Network Manager) or
from a state file (the model, shaped by the provider's views), so both paths draw the same
thing. The picture is an SVG written by hand: a grid of edge locations (columns) by segments
(rows) with the attachments in their cells, segment sharing as arcs on the left. There is no
PNG output: rasterizing needs a library localvpc does not depend on (cairosvg was optional
and untested); convert the SVG with any tool (``rsvg-convert``, a browser) instead.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Annotated, Any
from xml.sax.saxutils import escape

import typer
from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.tree import Tree

from localvpc.model.errors import LocalVpcError

DEFAULT_URL = "http://127.0.0.1:4566"

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="AWS Cloud WAN: global and core networks.")


def _fail(message: str) -> None:
    print(f"localvpc: error: {message}", file=sys.stderr)
    raise typer.Exit(2)


# ---------------------------------------------------------------------- data
@dataclass(slots=True)
class CoreView:
    """One core network in API shapes: ``GetCoreNetwork``'s, ``ListAttachments``' items,
    ``ListPeerings``' items."""

    core: dict[str, Any]
    attachments: list[dict[str, Any]] = field(default_factory=list)
    peerings: list[dict[str, Any]] = field(default_factory=list)

    @property
    def edges(self) -> list[str]:
        return [e["EdgeLocation"] for e in self.core.get("Edges") or []]

    @property
    def segments(self) -> list[dict[str, Any]]:
        return list(self.core.get("Segments") or [])


@dataclass(slots=True)
class GlobalView:
    network: dict[str, Any]
    cores: list[CoreView] = field(default_factory=list)
    transit_gateways: list[dict[str, Any]] = field(default_factory=list)


def from_server(url: str, core_id: str | None) -> list[GlobalView]:
    import boto3

    client = boto3.client(
        "networkmanager", endpoint_url=url, region_name="us-west-2",
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "AKIDLOCALVPCTEST"),
        aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "secret"))
    out = []
    for gn in client.describe_global_networks()["GlobalNetworks"]:
        view = GlobalView(gn)
        view.transit_gateways = client.get_transit_gateway_registrations(
            GlobalNetworkId=gn["GlobalNetworkId"])["TransitGatewayRegistrations"]
        out.append(view)
    by_id = {g.network["GlobalNetworkId"]: g for g in out}
    for summary in client.list_core_networks()["CoreNetworks"]:
        cid = summary["CoreNetworkId"]
        if core_id is not None and cid != core_id:
            continue
        core = client.get_core_network(CoreNetworkId=cid)["CoreNetwork"]
        view_c = CoreView(core, client.list_attachments(CoreNetworkId=cid)["Attachments"],
                          client.list_peerings(CoreNetworkId=cid)["Peerings"])
        parent = by_id.get(core["GlobalNetworkId"])
        if parent is not None:
            parent.cores.append(view_c)
    return out


def from_state(path: str, core_id: str | None) -> list[GlobalView]:
    from localvpc.api.providers.networkmanager.attachments import attachment_view, peering_view
    from localvpc.api.providers.networkmanager.networks import (
        core_network_view,
        global_network_view,
        registration_view,
    )
    from localvpc.store import Store

    net = Store.open(path).load_network()
    out = []
    for gn in sorted(net.global_networks.values(), key=lambda g: g.id):
        view = GlobalView(global_network_view(gn), transit_gateways=[
            registration_view(r) for r in net.transit_gateway_registrations.values()
            if r.global_network_id == gn.id])
        for cn in sorted(net.core_networks.values(), key=lambda c: c.id):
            if cn.global_network_id != gn.id or core_id not in (None, cn.id):
                continue
            view.cores.append(CoreView(
                core_network_view(cn),
                [attachment_view(a, cn) for a in sorted(net.core_network_attachments.values(),
                                                         key=lambda a: a.id)
                 if a.core_network_id == cn.id],
                [peering_view(p, cn) for p in net.core_network_peerings.values()
                 if p.core_network_id == cn.id]))
        out.append(view)
    return out


# ---------------------------------------------------------------------- tree
def _edges_of(att: dict[str, Any]) -> list[str]:
    """Where an attachment sits: a Direct Connect gateway attachment answers
    ``EdgeLocations`` (several edges) instead of ``EdgeLocation``, and appears at each."""
    return list(att.get("EdgeLocations") or []) or [att.get("EdgeLocation") or ""]


def _at(att: dict[str, Any], edge: str) -> bool:
    return edge in _edges_of(att)


def _label(att: dict[str, Any]) -> str:
    resource = (att.get("ResourceArn") or "").rsplit("/", 1)[-1]
    return f"{att['AttachmentId']} {att['AttachmentType']} {resource}".rstrip()


def build_tree(views: Iterable[GlobalView]) -> Tree:
    """global network > core network > edges > segments > attachments, with sharing."""
    root = Tree("[bold]Cloud WAN[/bold]")
    for g in views:
        gn = g.network
        gnode = root.add(f"[bold]{gn['GlobalNetworkId']}[/bold] {gn.get('Description') or ''}"
                         .rstrip())
        for c in g.cores:
            core = c.core
            cnode = gnode.add(f"[cyan]{core['CoreNetworkId']}[/cyan] "
                              f"{core.get('Description') or ''}".rstrip())
            asn = {e["EdgeLocation"]: e.get("Asn") for e in core.get("Edges") or []}
            for edge in c.edges:
                enode = cnode.add(f"edge [green]{edge}[/green] (ASN {asn.get(edge)})")
                for seg in c.segments:
                    if edge not in (seg.get("EdgeLocations") or []):
                        continue
                    shared = seg.get("SharedSegments") or []
                    text = f"segment [magenta]{seg['Name']}[/magenta]"
                    if shared:
                        text += f" (shares with {', '.join(shared)})"
                    snode = enode.add(text)
                    for att in c.attachments:
                        if att.get("SegmentName") == seg["Name"] and _at(att, edge):
                            snode.add(f"{_label(att)} [dim]{att['State']}[/dim]")
                for p in c.peerings:
                    if p.get("EdgeLocation") == edge:
                        enode.add(f"peering {p['PeeringId']} -> {p.get('ResourceArn')}")
            loose = [a for a in c.attachments if not a.get("SegmentName")]
            if loose:
                lnode = cnode.add("[yellow]without a segment[/yellow]")
                for att in loose:
                    proposed = (att.get("ProposedSegmentChange") or {}).get("SegmentName")
                    extra = f" -> {proposed} once accepted" if proposed else ""
                    lnode.add(f"{_label(att)} {att['State']}{extra}")
        for reg in g.transit_gateways:
            gnode.add(f"registered transit gateway {reg['TransitGatewayArn']} "
                      f"({reg['State']['Code']})")
    return root


# ---------------------------------------------------------------------- picture
_PALETTE = ("#dbeafe", "#dcfce7", "#fef3c7", "#fce7f3", "#ede9fe", "#cffafe", "#fee2e2",
            "#e0e7ff", "#f3e8ff", "#ecfccb")
_STATE_COLOUR = {"AVAILABLE": "#16a34a", "PENDING_ATTACHMENT_ACCEPTANCE": "#d97706",
                 "PENDING_TAG_ACCEPTANCE": "#d97706", "REJECTED": "#dc2626"}
_COL_W, _LABEL_W, _HEAD_H, _ATT_H, _PAD = 250, 170, 56, 24, 10


def _text(x: float, y: float, text: str, size: int = 12, weight: str = "normal",
          anchor: str = "start", cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return (f'<text x="{x:.0f}" y="{y:.0f}" font-size="{size}" font-weight="{weight}" '
            f'text-anchor="{anchor}"{klass}>{escape(text)}</text>')


def render_svg(core: CoreView) -> str:
    """The picture of one core network (see the module docstring)."""
    edges = core.edges
    segments = core.segments
    rows: list[tuple[str, dict[str, list[dict[str, Any]]]]] = []
    for seg in segments:
        cells = {e: [a for a in core.attachments if a.get("SegmentName") == seg["Name"]
                     and _at(a, e)] for e in edges}
        rows.append((seg["Name"], cells))
    loose = [a for a in core.attachments if not a.get("SegmentName")]
    if loose:
        rows.append(("(no segment)", {e: [a for a in loose if _at(a, e)] for e in edges}))
    width = _LABEL_W + _COL_W * max(len(edges), 1) + 2 * _PAD
    heights = [_PAD * 3 + _ATT_H * max(1, *(len(v) for v in cells.values()))
               if cells else _PAD * 3 + _ATT_H for _, cells in rows]
    height = _HEAD_H + sum(heights) + 2 * _PAD + 40
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           _text(_PAD, 22, f"{core.core['CoreNetworkId']} (global network "
                 f"{core.core.get('GlobalNetworkId')})", 14, "bold", cls="title")]
    asn = {e["EdgeLocation"]: e.get("Asn") for e in core.core.get("Edges") or []}
    for i, edge in enumerate(edges):
        x = _PAD + _LABEL_W + i * _COL_W
        out.append(f'<rect x="{x + 4}" y="30" width="{_COL_W - 8}" height="{_HEAD_H - 34}" '
                   'rx="6" fill="#1e3a8a"/>')
        out.append(_text(x + _COL_W / 2, 46, edge, 13, "bold", "middle", "edge"))
        out[-1] = out[-1].replace("<text ", '<text fill="white" ', 1)
        out.append(_text(x + _COL_W / 2, _HEAD_H + 0, f"ASN {asn.get(edge)}", 10,
                         anchor="middle"))
    y = _HEAD_H + _PAD
    row_mid: dict[str, float] = {}
    members = {s["Name"]: set(s.get("EdgeLocations") or []) for s in segments}
    for idx, ((name, cells), h) in enumerate(zip(rows, heights, strict=True)):
        colour = _PALETTE[idx % len(_PALETTE)] if name in members else "#f3f4f6"
        row_mid[name] = y + h / 2
        out.append(_text(_PAD + 28, y + h / 2 + 4, name, 13, "bold",
                         cls="segment" if name in members else "unassociated"))
        for i, edge in enumerate(edges):
            x = _PAD + _LABEL_W + i * _COL_W
            if name in members and edge not in members[name]:
                out.append(f'<rect x="{x + 4}" y="{y}" width="{_COL_W - 8}" height="{h - _PAD}" '
                           'rx="6" fill="none" stroke="#e5e7eb" stroke-dasharray="4 3"/>')
                continue
            out.append(f'<rect x="{x + 4}" y="{y}" width="{_COL_W - 8}" height="{h - _PAD}" '
                       f'rx="6" fill="{colour}" stroke="#9ca3af"/>')
            for j, att in enumerate(cells.get(edge, [])):
                ay = y + _PAD + j * _ATT_H
                stroke = _STATE_COLOUR.get(att.get("State", ""), "#6b7280")
                out.append(f'<rect x="{x + 12}" y="{ay}" width="{_COL_W - 24}" '
                           f'height="{_ATT_H - 4}" rx="4" fill="white" stroke="{stroke}">'
                           f'<title>{escape(att["State"])}</title></rect>')
                out.append(_text(x + 18, ay + 14, _label(att), 10, cls="attachment"))
        y += h
    # Sharing: one arc per pair of segments, on the left of the segment names.
    pairs = sorted({tuple(sorted((s["Name"], o))) for s in segments
                    for o in s.get("SharedSegments") or [] if o in row_mid})
    for k, (a, b) in enumerate(pairs):
        ya, yb = row_mid[a], row_mid[b]
        bulge = _PAD + 6 + 5 * (k % 3)
        out.append(f'<path d="M {_PAD + 24} {ya:.0f} C {_PAD + 24 - bulge} {ya:.0f}, '
                   f'{_PAD + 24 - bulge} {yb:.0f}, {_PAD + 24} {yb:.0f}" fill="none" '
                   f'stroke="#7c3aed" stroke-width="2" class="share">'
                   f'<title>{escape(a)} shares with {escape(b)}</title></path>')
    legend = "; ".join(f"{a} <-> {b}" for a, b in pairs) or "no segment sharing"
    out.append(_text(_PAD, height - 16, f"sharing: {legend}", 11, cls="legend"))
    out.append("</svg>")
    return "\n".join(out)


# ---------------------------------------------------------------------- command
@app.command("topology")
def topology_command(
    endpoint_url: Annotated[str | None, typer.Option(
        "--endpoint-url", help=f"a running localvpc serve (default {DEFAULT_URL})")] = None,
    state: Annotated[str | None, typer.Option(
        "--state", help="a state file (SQLite or database URL) instead of a server")] = None,
    core_network_id: Annotated[str | None, typer.Option(
        "--core-network-id", help="only this core network")] = None,
    svg: Annotated[str | None, typer.Option("--svg", help="write the picture as SVG here")
                   ] = None,
) -> None:
    """Print the Cloud WAN tree (global network > core network > edges > segments >
    attachments) and optionally draw edges, segments and attachments."""
    if endpoint_url is not None and state is not None:
        _fail("give at most one of --endpoint-url, --state")
    try:
        if state is not None:
            views = from_state(state, core_network_id)
        else:
            views = from_server((endpoint_url or DEFAULT_URL).rstrip("/"), core_network_id)
    except (BotoCoreError, ClientError, OSError, LocalVpcError) as exc:
        _fail(f"cannot read the core networks: {exc}")
        raise
    Console(width=max(Console().width, 120)).print(build_tree(views))
    if svg is None:
        return
    cores = [c for g in views for c in g.cores]
    if not cores:
        _fail("no core network to draw" + (f" named {core_network_id}" if core_network_id
                                           else ""))
    if len(cores) > 1 and core_network_id is None:
        print(f"drawing {cores[0].core['CoreNetworkId']}; pick another with --core-network-id",
              file=sys.stderr)
    picture = render_svg(cores[0])
    with open(svg, "w", encoding="utf-8") as fh:
        fh.write(picture)
    print(f"wrote {svg}")

"""Network Access Analyzer: access scopes (which paths to look for) and their analyses.

A scope is pure configuration (match and exclude paths made of resource and packet header
statements, as AWS's ``AccessScopePath``); an analysis is one run of the analysis engine
(``localvpc.analysis.access_scope``) over the network at the time it was started, kept with its
findings so they can be read back page by page as AWS serves them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from localvpc.model.base import Resource


@dataclass(slots=True)
class ResourceStatement:
    """Resources by id or ARN, or resource types (``AWS::EC2::InternetGateway``, ...)."""

    resources: list[str] = field(default_factory=list)
    resource_types: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PacketHeaderStatement:
    """Traffic a path carries: addresses or CIDRs, prefix lists, ports or ranges, tcp/udp.
    An empty field admits everything, as in AWS."""

    source_addresses: list[str] = field(default_factory=list)
    destination_addresses: list[str] = field(default_factory=list)
    source_ports: list[str] = field(default_factory=list)
    destination_ports: list[str] = field(default_factory=list)
    source_prefix_lists: list[str] = field(default_factory=list)
    destination_prefix_lists: list[str] = field(default_factory=list)
    protocols: list[str] = field(default_factory=list)


@dataclass(slots=True)
class PathStatement:
    """One end of a path: which resources, and what the packet looks like there."""

    packet_header: PacketHeaderStatement | None = None
    resource: ResourceStatement | None = None


@dataclass(slots=True)
class AccessScopePath:
    """A path pattern: source, destination and the resources it passes, in order."""

    source: PathStatement | None = None
    destination: PathStatement | None = None
    through: list[ResourceStatement] = field(default_factory=list)


@dataclass(slots=True)
class NetworkInsightsAccessScope(Resource):
    """A Network Access Scope: findings are paths matching a match path and no exclude path."""

    match_paths: list[AccessScopePath] = field(default_factory=list)
    exclude_paths: list[AccessScopePath] = field(default_factory=list)
    created: float = 0.0  # epoch seconds
    updated: float = 0.0


@dataclass(slots=True)
class AccessScopeFinding:
    """One path found. ``components`` is the JSON text of AWS's ``PathComponent`` list: a deep,
    sparse AWS shape that is only ever handed back whole, so it is kept as the API shows it."""

    finding_id: str
    components: str = "[]"


@dataclass(slots=True)
class NetworkInsightsAccessScopeAnalysis(Resource):
    """One run of a scope. localvpc runs it synchronously, so it is stored already ended."""

    scope_id: str = ""
    status: str = "running"  # running | succeeded | failed
    status_message: str = ""
    warning_message: str = ""  # e.g. the work was capped
    start_date: float = 0.0
    end_date: float | None = None
    findings_found: str = "unknown"  # true | false | unknown
    analyzed_eni_count: int = 0
    findings: list[AccessScopeFinding] = field(default_factory=list)

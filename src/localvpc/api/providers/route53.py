"""Amazon Route 53 (rest-xml): hosted zones, record sets, VPC associations, health checks.

Route 53 is a global service: zones and health checks belong to an account, whatever Region
the call is signed for; the VPCs a private zone is associated with are named with their
Region. Changes apply at once, so every change is ``INSYNC`` from the start (AWS answers
``PENDING`` first; clients that wait for ``INSYNC`` return immediately).

Names are kept lower case with a trailing dot; on the wire characters other than letters,
digits, ``-``, ``_`` and ``.`` are written as ``\\ooo`` octal escapes, as Route 53 does
(``*.example.com.`` is listed as ``\\052.example.com.``).
"""

from __future__ import annotations

import copy
import ipaddress
import re
import secrets
import string
import time
import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from localvpc.api.context import RequestContext
from localvpc.api.protocols.request import ServiceError
from localvpc.api.registry import Provider
from localvpc.model.dns import (
    AliasTarget,
    DnsChange,
    HealthCheck,
    HostedZone,
    ResourceRecordSet,
    ZoneVpc,
)

T = TypeVar("T")

API = "https://route53.amazonaws.com/2013-04-01"
_ID_CHARS = string.ascii_uppercase + string.digits
_PLAIN = set(string.ascii_lowercase + string.digits + "-_.")
_LABEL = re.compile(r"^[a-z0-9_*-]([a-z0-9_*-]{0,61}[a-z0-9_*-])?$|^[a-z0-9_*-]$")
SOA_TTL, NS_TTL = 900, 172800
# Where AWS's health checkers run (GetHealthCheckStatus reports one observation per place).
CHECKER_REGIONS = ("us-east-1", "us-west-1", "us-west-2", "eu-west-1", "ap-southeast-1",
                   "ap-southeast-2", "ap-northeast-1", "sa-east-1")
CHECKER_IPS = ("15.177.2.10", "15.177.6.10", "15.177.10.10", "15.177.14.10", "15.177.18.10",
               "15.177.22.10", "15.177.26.10", "15.177.30.10")
ROUTING_TYPES = ("A", "AAAA", "CAA", "CNAME", "DS", "HTTPS", "MX", "NAPTR", "NS", "PTR", "SOA",
                 "SPF", "SRV", "SSHFP", "SVCB", "TLSA", "TXT")


def err(code: str, message: str, status: int | None = None, **fields: Any) -> ServiceError:
    return ServiceError(code, message, status=status, fields=fields or None)


def invalid(message: str) -> ServiceError:
    return err("InvalidInput", message)


def new_id(prefix: str, length: int = 20) -> str:
    """Route 53 ids: a letter and upper-case letters and digits (``Z0...``, ``C0...``)."""
    return prefix + "".join(secrets.choice(_ID_CHARS) for _ in range(length))


def bare(resource_id: str) -> str:
    """``/hostedzone/Z1`` or ``Z1`` -> ``Z1`` (boto strips the prefix; raw callers may not)."""
    return resource_id.rstrip("/").rsplit("/", 1)[-1]


# ------------------------------------------------------------------ names
def unescape(name: str) -> str:
    """A name as given (``\\052`` octal escapes allowed) -> lower case with a trailing dot."""
    out = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), name.strip())
    out = out.lower()
    return out if out.endswith(".") else out + "."


def escape(name: str) -> str:
    """A stored name as Route 53 writes it: unusual characters as ``\\ooo``."""
    return "".join(c if c in _PLAIN else f"\\{ord(c):03o}" for c in name)


def domain_name(text: str, what: str = "DNS name") -> str:
    name = unescape(text)
    labels = name[:-1].split(".")
    if name == "." or len(name) > 255 or any(not lab or len(lab) > 63 for lab in labels):
        raise err("InvalidDomainName", f"{what} {text} is not valid.")
    return name


def within(name: str, zone: str) -> bool:
    return name == zone or name.endswith("." + zone)


def sort_key(name: str) -> list[str]:
    """ListResourceRecordSets / ListHostedZonesByName order: labels reversed (com.example.www)."""
    return list(reversed(escape(name).rstrip(".").split(".")))


# ------------------------------------------------------------------ views
def zone_view(z: HostedZone) -> dict[str, Any]:
    config: dict[str, Any] = {"PrivateZone": z.private}
    if z.comment is not None:
        config["Comment"] = z.comment
    return {"Id": f"/hostedzone/{z.id}", "Name": escape(z.zone_name),
            "CallerReference": z.caller_reference, "Config": config,
            "ResourceRecordSetCount": len(z.records)}


def vpc_view(v: ZoneVpc) -> dict[str, Any]:
    return {"VPCRegion": v.region, "VPCId": v.vpc_id}


def change_view(c: DnsChange) -> dict[str, Any]:
    out: dict[str, Any] = {"Id": f"/change/{c.id}", "Status": c.status,
                           "SubmittedAt": c.submitted}
    if c.comment:
        out["Comment"] = c.comment
    return out


def record_view(r: ResourceRecordSet) -> dict[str, Any]:
    out: dict[str, Any] = {"Name": escape(r.name), "Type": r.type}
    if r.set_identifier is not None:
        out["SetIdentifier"] = r.set_identifier
    if r.weight is not None:
        out["Weight"] = r.weight
    if r.region is not None:
        out["Region"] = r.region
    if r.geolocation:
        out["GeoLocation"] = dict(r.geolocation)
    if r.geoproximity:
        out["GeoProximityLocation"] = dict(r.geoproximity)
    if r.failover is not None:
        out["Failover"] = r.failover
    if r.multi_value_answer is not None:
        out["MultiValueAnswer"] = r.multi_value_answer
    if r.cidr_routing:
        out["CidrRoutingConfig"] = dict(r.cidr_routing)
    if r.alias_target is not None:
        a = r.alias_target
        out["AliasTarget"] = {"HostedZoneId": a.hosted_zone_id, "DNSName": escape(a.dns_name),
                              "EvaluateTargetHealth": a.evaluate_target_health}
    else:
        out["TTL"] = r.ttl
        out["ResourceRecords"] = [{"Value": v} for v in r.values]
    if r.health_check_id is not None:
        out["HealthCheckId"] = r.health_check_id
    return out


def health_check_view(h: HealthCheck) -> dict[str, Any]:
    config: dict[str, Any] = {"Type": h.type, "RequestInterval": h.request_interval,
                              "FailureThreshold": h.failure_threshold,
                              "MeasureLatency": h.measure_latency, "Inverted": h.inverted,
                              "Disabled": h.disabled}
    optional = {"IPAddress": h.ip_address, "Port": h.port, "ResourcePath": h.resource_path,
                "FullyQualifiedDomainName": h.fqdn, "SearchString": h.search_string,
                "EnableSNI": h.enable_sni, "HealthThreshold": h.health_threshold,
                "InsufficientDataHealthStatus": h.insufficient_data_health_status}
    config.update({k: v for k, v in optional.items() if v is not None})
    if h.type == "CALCULATED":
        config["ChildHealthChecks"] = list(h.child_health_checks)
        for key in ("RequestInterval", "FailureThreshold", "MeasureLatency"):
            config.pop(key)
    if h.regions:
        config["Regions"] = list(h.regions)
    return {"Id": h.id, "CallerReference": h.caller_reference, "HealthCheckConfig": config,
            "HealthCheckVersion": h.version}


def describe_record(r: ResourceRecordSet) -> str:
    """``[name='www.example.com.', type='A']`` as InvalidChangeBatch messages name a record."""
    ident = f", set-identifier='{r.set_identifier}'" if r.set_identifier is not None else ""
    return f"[name='{escape(r.name)}', type='{r.type}'{ident}]"


def _max_items(params: dict[str, Any], name: str = "MaxItems", default: int = 100) -> int:
    raw = params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise invalid(f"Invalid value for {name}: {raw}") from None
    if value < 1:
        raise invalid(f"1 validation error detected: Value '{raw}' at '{name[0].lower()}"
                      f"{name[1:]}' failed to satisfy constraint: Member must have value "
                      "greater than or equal to 1")
    return value


def _page_after(items: list[T], key: Callable[[T], Any], start: Any | None, limit: int
                ) -> tuple[list[T], T | None]:
    """Items from ``start`` (inclusive, in ``key`` order), at most ``limit``; and the first
    item of the next page or None."""
    ordered = sorted(items, key=key)
    begin = 0 if start is None else next(
        (i for i, it in enumerate(ordered) if key(it) >= start), len(ordered))
    page = ordered[begin:begin + limit]
    rest = ordered[begin + limit:begin + limit + 1]
    return page, (rest[0] if rest else None)


# ------------------------------------------------------------------ the provider
class Route53Provider(Provider):
    service = "route53"

    # ---------------------------------------------------------------- lookups
    def _zone(self, ctx: RequestContext, zone_id: str, own: bool = True) -> HostedZone:
        """A hosted zone of the caller (``own``) or of anyone; else NoSuchHostedZone."""
        zid = bare(zone_id)
        zone = ctx.state.network.hosted_zones.get(zid)
        if zone is None or (own and zone.account != ctx.account):
            raise err("NoSuchHostedZone", f"No hosted zone found with ID: {zid}", 404)
        return zone

    def _health_check(self, ctx: RequestContext, hc_id: str) -> HealthCheck:
        hc = ctx.state.network.health_checks.get(hc_id)
        if hc is None or hc.account != ctx.account:
            raise err("NoSuchHealthCheck", f"A health check with id {hc_id} does not exist.",
                      404)
        return hc

    def _own_vpc(self, ctx: RequestContext, vpc: dict[str, Any] | None) -> ZoneVpc:
        """The ``VPC`` parameter naming a VPC of the caller in ``VPCRegion``."""
        if not vpc or not vpc.get("VPCId"):
            raise invalid("Invalid request: VPC must be specified.")
        vpc_id = str(vpc["VPCId"])
        region = str(vpc.get("VPCRegion") or ctx.region)
        found = ctx.state.network.vpcs.get(vpc_id)
        if found is None or found.account != ctx.account or found.region != region:
            raise err("InvalidVPCId", f"The VPC ID '{vpc_id}' is not valid in region "
                      f"{region}: it does not exist or is not owned by account {ctx.account}.")
        return ZoneVpc(vpc_id, region, ctx.account)

    def _new_change(self, comment: str | None = None) -> DnsChange:
        return DnsChange(id=new_id("C"), comment=comment, submitted=time.time())

    def _conflicting_private(self, ctx: RequestContext, name: str, vpc: ZoneVpc,
                             skip: str | None = None) -> None:
        """PZ-6: a VPC may not be associated with two private zones of the same name."""
        for z in ctx.state.network.hosted_zones.values():
            if z.private and z.zone_name == name and z.id != skip and any(
                    v.vpc_id == vpc.vpc_id and v.region == vpc.region for v in z.vpcs):
                raise err("ConflictingDomainExists", "A conflicting domain is already "
                          "associated with the given VPC or Delegation Set.")

    # ---------------------------------------------------------------- hosted zones
    def CreateHostedZone(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        name = domain_name(params["Name"])
        reference = str(params["CallerReference"])
        config = params.get("HostedZoneConfig") or {}
        net = ctx.state.network
        if any(z.account == ctx.account and z.caller_reference == reference
               for z in net.hosted_zones.values()):
            raise err("HostedZoneAlreadyExists", "A hosted zone has already been created with "
                      "the specified caller reference.", 409)
        vpc_param = params.get("VPC")
        if config.get("PrivateZone") and not vpc_param:
            raise invalid("When you're creating a private hosted zone (when you specify true "
                          "for PrivateZone), you must also specify values for VPCId and "
                          "VPCRegion.")
        if vpc_param and params.get("DelegationSetId"):
            raise invalid("A private hosted zone cannot use a reusable delegation set.")
        zone = HostedZone(id=new_id("Z"), account=ctx.account, region=ctx.region,
                          zone_name=name, private=bool(vpc_param),
                          comment=config.get("Comment"), caller_reference=reference,
                          created=time.time(),
                          delegation_set_id=params.get("DelegationSetId"))
        if vpc_param:
            vpc = self._own_vpc(ctx, vpc_param)
            self._conflicting_private(ctx, name, vpc)
            zone.vpcs.append(vpc)
            servers = ["ns-0.awsdns-00.com.", "ns-512.awsdns-00.net.",
                       "ns-1024.awsdns-00.org.", "ns-1536.awsdns-00.co.uk."]
        else:
            n = secrets.randbelow(500)
            servers = [f"ns-{n}.awsdns-{n % 64:02d}.com.",
                       f"ns-{n + 512}.awsdns-{n % 64:02d}.net.",
                       f"ns-{n + 1024}.awsdns-{n % 64:02d}.org.",
                       f"ns-{n + 1536}.awsdns-{n % 64:02d}.co.uk."]
            zone.name_servers = [s.rstrip(".") for s in servers]
        zone.records = [
            ResourceRecordSet(name, "NS", NS_TTL, list(servers)),
            ResourceRecordSet(name, "SOA", SOA_TTL, [
                f"{servers[0]} awsdns-hostmaster.amazon.com. 1 7200 900 1209600 86400"]),
        ]
        change = self._new_change()
        with ctx.state.write() as w:
            w.save(net.add(zone))
            w.save(net.add(change))
        out: dict[str, Any] = {"HostedZone": zone_view(zone), "ChangeInfo": change_view(change),
                               "Location": f"{API}/hostedzone/{zone.id}"}
        if zone.private:
            out["VPC"] = vpc_view(zone.vpcs[0])
        else:
            out["DelegationSet"] = {"NameServers": list(zone.name_servers)}
        return out

    def GetHostedZone(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        zone = self._zone(ctx, params["Id"])
        out: dict[str, Any] = {"HostedZone": zone_view(zone)}
        if zone.private:
            out["VPCs"] = [vpc_view(v) for v in zone.vpcs]
        else:
            out["DelegationSet"] = {"NameServers": list(zone.name_servers)}
        return out

    def GetHostedZoneCount(self, ctx: RequestContext, params: dict[str, Any]
                           ) -> dict[str, Any]:
        return {"HostedZoneCount": sum(z.account == ctx.account
                                       for z in ctx.state.network.hosted_zones.values())}

    def _own_zones(self, ctx: RequestContext) -> list[HostedZone]:
        return [z for z in ctx.state.network.hosted_zones.values() if z.account == ctx.account]

    def ListHostedZones(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = _max_items(params)
        zones = self._own_zones(ctx)
        kind = params.get("HostedZoneType")
        if kind == "PrivateHostedZone":
            zones = [z for z in zones if z.private]
        if params.get("DelegationSetId"):
            zones = [z for z in zones if z.delegation_set_id == params["DelegationSetId"]]
        marker = params.get("Marker")
        if marker and bare(marker) not in {z.id for z in zones}:
            raise invalid(f"Invalid marker: {marker}")
        page, following = _page_after(zones, lambda z: z.id, bare(marker) if marker else None,
                                      limit)
        out: dict[str, Any] = {"HostedZones": [zone_view(z) for z in page],
                               "IsTruncated": following is not None, "MaxItems": str(limit),
                               "Marker": marker or ""}
        if following is not None:
            out["NextMarker"] = following.id
        return out

    def ListHostedZonesByName(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        limit = _max_items(params)
        start_name = params.get("DNSName")
        start_id = params.get("HostedZoneId")
        if start_id and not start_name:
            raise invalid("The DNSName must be specified when HostedZoneId is specified.")

        def key(z: HostedZone) -> tuple[list[str], str]:
            return (sort_key(z.zone_name), z.id)

        start = None
        if start_name:
            start = (sort_key(domain_name(start_name)), bare(start_id) if start_id else "")
        page, following = _page_after(self._own_zones(ctx), key, start, limit)
        out: dict[str, Any] = {"HostedZones": [zone_view(z) for z in page],
                               "IsTruncated": following is not None, "MaxItems": str(limit)}
        if start_name:
            out["DNSName"] = start_name
        if start_id:
            out["HostedZoneId"] = start_id
        if following is not None:
            out["NextDNSName"] = escape(following.zone_name)
            out["NextHostedZoneId"] = following.id
        return out

    def ListHostedZonesByVPC(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        vpc = self._own_vpc(ctx, {"VPCId": params["VPCId"], "VPCRegion": params["VPCRegion"]})
        limit = _max_items(params)
        zones = [z for z in ctx.state.network.hosted_zones.values()
                 if any(v.vpc_id == vpc.vpc_id and v.region == vpc.region for v in z.vpcs)]
        token = params.get("NextToken")
        if token and token not in {z.id for z in zones}:
            raise err("InvalidPaginationToken", "The value that you specified for NextToken "
                      "in a List request isn't valid.")
        page, following = _page_after(zones, lambda z: z.id, token, limit)
        out: dict[str, Any] = {
            "HostedZoneSummaries": [{"HostedZoneId": z.id, "Name": escape(z.zone_name),
                                     "Owner": {"OwningAccount": z.account}} for z in page],
            "MaxItems": str(limit)}
        if following is not None:
            out["NextToken"] = following.id
        return out

    def UpdateHostedZoneComment(self, ctx: RequestContext, params: dict[str, Any]
                                ) -> dict[str, Any]:
        zone = self._zone(ctx, params["Id"])
        with ctx.state.write() as w:
            zone.comment = params.get("Comment")
            w.save(zone)
        return {"HostedZone": zone_view(zone)}

    def DeleteHostedZone(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        zone = self._zone(ctx, params["Id"])
        extra = [r for r in zone.records
                 if not (r.name == zone.zone_name and r.type in ("SOA", "NS"))]
        if extra:
            raise err("HostedZoneNotEmpty", "The specified hosted zone contains non-required "
                      "resource record sets and so cannot be deleted.")
        change = self._new_change()
        net = ctx.state.network
        with ctx.state.write() as w:
            del net.hosted_zones[zone.id]
            w.deleted.append(("hosted_zones", zone.id))
            w.save(net.add(change))
        return {"ChangeInfo": change_view(change)}

    def GetChange(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        change = ctx.state.network.dns_changes.get(bare(params["Id"]))
        if change is None:
            raise err("NoSuchChange", "A change with the specified change ID does not exist.",
                      404)
        return {"ChangeInfo": change_view(change)}

    # ---------------------------------------------------------------- record sets
    def ChangeResourceRecordSets(self, ctx: RequestContext, params: dict[str, Any]
                                 ) -> dict[str, Any]:
        zone = self._zone(ctx, params["HostedZoneId"])
        batch = params["ChangeBatch"]
        changes = batch.get("Changes") or []
        if not changes:
            raise invalid("Invalid request: ChangeBatch must contain at least one change.")
        records = {r.key: r for r in copy.deepcopy(zone.records)}
        problems: list[str] = []
        for change in changes:
            action = change["Action"]
            record = self._record_param(ctx, zone, action, change["ResourceRecordSet"])
            problem = self._apply(zone, records, action, record)
            if problem:
                problems.append(problem)
        if not problems:
            problems = self._check_zone(zone, records)
        if problems:
            raise err("InvalidChangeBatch", "[" + ", ".join(problems) + "]",
                      messages=problems)
        change_record = self._new_change(batch.get("Comment"))
        with ctx.state.write() as w:
            zone.records = list(records.values())
            w.save(zone)
            w.save(ctx.state.network.add(change_record))
        return {"ChangeInfo": change_view(change_record)}

    def _record_param(self, ctx: RequestContext, zone: HostedZone, action: str,
                      rrs: dict[str, Any]) -> ResourceRecordSet:
        name = domain_name(rrs["Name"])
        rtype = str(rrs["Type"])
        alias = rrs.get("AliasTarget")
        values = [str(v["Value"]) for v in rrs.get("ResourceRecords") or []]
        ttl = rrs.get("TTL")
        where = (f"Change with [Action={action}, Name={rrs['Name']}, Type={rtype}, "
                 f"SetIdentifier={rrs.get('SetIdentifier', 'null')}]")
        if alias is None and (ttl is None or not values) and \
                not rrs.get("TrafficPolicyInstanceId"):
            raise invalid("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, "
                          f"and ResourceRecords], or TrafficPolicyInstanceId], but found none "
                          f"in {where}")
        if alias is not None and (ttl is not None or values):
            raise invalid("Invalid request: Expected exactly one of [AliasTarget, all of [TTL, "
                          "and ResourceRecords], or TrafficPolicyInstanceId], but found more "
                          f"than one in {where}")
        routing = [k for k in ("Weight", "Failover", "Region", "GeoLocation", "MultiValueAnswer",
                               "GeoProximityLocation", "CidrRoutingConfig") if k in rrs]
        if routing and rrs.get("SetIdentifier") is None:
            raise invalid(f"Invalid request: Missing field 'SetIdentifier' in {where}")
        if rrs.get("SetIdentifier") is not None and not routing:
            raise invalid("Invalid request: A SetIdentifier requires a routing policy "
                          f"(Weight, Failover, Region, GeoLocation ...) in {where}")
        if len(routing) > 1:
            raise invalid(f"Invalid request: More than one routing policy in {where}")
        hc = rrs.get("HealthCheckId")
        if hc is not None and action != "DELETE":
            found = ctx.state.network.health_checks.get(hc)
            if found is None or found.account != ctx.account:
                raise err("InvalidInput", f"Invalid request: health check {hc} does not exist "
                          f"in {where}")
        return ResourceRecordSet(
            name=name, type=rtype, ttl=None if ttl is None else int(ttl), values=values,
            alias_target=None if alias is None else AliasTarget(
                bare(alias["HostedZoneId"]), unescape(alias["DNSName"]),
                bool(alias.get("EvaluateTargetHealth", False))),
            set_identifier=rrs.get("SetIdentifier"),
            weight=None if rrs.get("Weight") is None else int(rrs["Weight"]),
            failover=rrs.get("Failover"), region=rrs.get("Region"),
            geolocation=dict(rrs.get("GeoLocation") or {}),
            geoproximity={k: str(v) for k, v in (rrs.get("GeoProximityLocation") or {}).items()},
            multi_value_answer=rrs.get("MultiValueAnswer"), health_check_id=hc,
            cidr_routing=dict(rrs.get("CidrRoutingConfig") or {}))

    def _apply(self, zone: HostedZone, records: dict[tuple[str, str, str], ResourceRecordSet],
               action: str, record: ResourceRecordSet) -> str | None:
        """One change on the working copy; the InvalidChangeBatch message when it fails."""
        if not within(record.name, zone.zone_name):
            return f"RRSet with DNS name {escape(record.name)} is not permitted in zone " \
                   f"{escape(zone.zone_name)}"
        existing = records.get(record.key)
        if action == "DELETE":
            if existing is None:
                return f"Tried to delete resource record set {describe_record(record)} but " \
                       "it was not found"
            if (existing.ttl, sorted(existing.values), existing.alias_target) != \
                    (record.ttl, sorted(record.values), record.alias_target):
                return f"Tried to delete resource record set {describe_record(record)} but " \
                       "the values provided do not match the current values"
            del records[record.key]
            return None
        if action == "CREATE" and existing is not None:
            return f"Tried to create resource record set {describe_record(record)} but it " \
                   "already exists"
        problem = self._record_problem(zone, records, record)
        if problem:
            return problem
        records[record.key] = record
        return None

    def _record_problem(self, zone: HostedZone,
                        records: dict[tuple[str, str, str], ResourceRecordSet],
                        record: ResourceRecordSet) -> str | None:
        name, rtype, zname = escape(record.name), record.type, escape(zone.zone_name)
        if rtype not in ROUTING_TYPES:
            return f"Unsupported record type {rtype} for {name}"
        if rtype in ("SOA",) and record.name != zone.zone_name:
            return f"RRSet of type SOA with DNS name {name} is not permitted because SOA " \
                   f"records are only allowed at the apex of zone {zname}"
        if rtype == "CNAME" and record.name == zone.zone_name:
            return f"RRSet of type CNAME with DNS name {name} is not permitted at apex in " \
                   f"zone {zname}"
        if rtype == "NS" and zone.private and record.name != zone.zone_name:
            # PZ-5: a private zone cannot delegate a subdomain (AWS wording not published).
            return f"RRSet of type NS with DNS name {name} is not permitted in private zone " \
                   f"{zname}: private hosted zones do not support delegation"
        if record.alias_target is None:
            if rtype == "CNAME" and len(record.values) > 1:
                return f"RRSet of type CNAME with DNS name {name} is not permitted because " \
                       "it contains more than one resource record"
            for value in record.values:
                bad = _bad_value(rtype, value)
                if bad:
                    return bad
        else:
            target = record.alias_target
            if target.hosted_zone_id == zone.id and not any(
                    r.name == target.dns_name for r in records.values()):
                return f"Tried to create an alias that targets {escape(target.dns_name)}, " \
                       f"type {rtype} in zone {zone.id}, but the alias target name does not " \
                       "lie within the target zone"
        for other in records.values():
            if other.name != record.name or other.key == record.key:
                continue
            if (rtype == "CNAME") != (other.type == "CNAME"):
                return f"RRSet of type {rtype} with DNS name {name} is not permitted because " \
                       f"a conflicting RRSet of type {other.type} with the same DNS name " \
                       f"already exists in zone {zname}"
            if other.type == rtype and (other.set_identifier is None) != (
                    record.set_identifier is None):
                kind = "non-" if other.set_identifier is None else ""
                return f"RRSet with DNS name {name}, type {rtype} cannot be created as a " \
                       f"{kind}weighted set exists with the same name and type."
        return None

    def _check_zone(self, zone: HostedZone,
                    records: dict[tuple[str, str, str], ResourceRecordSet]) -> list[str]:
        apex = [r for r in records.values() if r.name == zone.zone_name]
        problems = []
        if sum(r.type == "SOA" for r in apex) != 1:
            problems.append("A HostedZone must contain exactly one SOA record.")
        if not any(r.type == "NS" for r in apex):
            problems.append("A HostedZone must contain at least one NS record for the zone "
                            "itself.")
        return problems

    def ListResourceRecordSets(self, ctx: RequestContext, params: dict[str, Any]
                               ) -> dict[str, Any]:
        zone = self._zone(ctx, params["HostedZoneId"])
        limit = min(_max_items(params, default=300), 300)
        start_name = params.get("StartRecordName")
        start_type = params.get("StartRecordType")
        start_ident = params.get("StartRecordIdentifier")
        if start_type and not start_name:
            raise invalid("The input is not valid: StartRecordType requires StartRecordName.")
        if start_ident and not start_type:
            raise invalid("The input is not valid: StartRecordIdentifier requires "
                          "StartRecordType.")

        def key(r: ResourceRecordSet) -> tuple[list[str], str, str]:
            return (sort_key(r.name), r.type, r.set_identifier or "")

        start = None
        if start_name:
            start = (sort_key(unescape(start_name)), start_type or "", start_ident or "")
        page, following = _page_after(zone.records, key, start, limit)
        out: dict[str, Any] = {"ResourceRecordSets": [record_view(r) for r in page],
                               "IsTruncated": following is not None, "MaxItems": str(limit)}
        if following is not None:
            out["NextRecordName"] = escape(following.name)
            out["NextRecordType"] = following.type
            if following.set_identifier is not None:
                out["NextRecordIdentifier"] = following.set_identifier
        return out

    # ---------------------------------------------------------------- VPC associations
    def AssociateVPCWithHostedZone(self, ctx: RequestContext, params: dict[str, Any]
                                   ) -> dict[str, Any]:
        zone = self._zone(ctx, params["HostedZoneId"], own=False)
        vpc = self._own_vpc(ctx, params.get("VPC"))
        if not zone.private:
            raise err("PublicZoneVPCAssociation", "Public hosted zone cannot be associated "
                      "with a VPC.")
        if zone.account != ctx.account and not any(
                a.vpc_id == vpc.vpc_id and a.region == vpc.region for a in zone.authorizations):
            raise err("NotAuthorizedException", f"The VPC: {vpc.vpc_id} has not been "
                      f"authorized to associate with hosted zone {zone.id} owned by another "
                      "account.", 401)
        self._conflicting_private(ctx, zone.zone_name, vpc)
        change = self._new_change(params.get("Comment"))
        with ctx.state.write() as w:
            zone.vpcs.append(vpc)
            w.save(zone)
            w.save(ctx.state.network.add(change))
        return {"ChangeInfo": change_view(change)}

    def DisassociateVPCFromHostedZone(self, ctx: RequestContext, params: dict[str, Any]
                                      ) -> dict[str, Any]:
        zone = self._zone(ctx, params["HostedZoneId"], own=False)
        given = params.get("VPC") or {}
        vpc_id, region = str(given.get("VPCId", "")), str(given.get("VPCRegion") or ctx.region)
        vpc = ctx.state.network.vpcs.get(vpc_id)
        if zone.account != ctx.account and (vpc is None or vpc.account != ctx.account):
            raise err("NoSuchHostedZone", f"No hosted zone found with ID: {zone.id}", 404)
        if not zone.private:
            raise err("PublicZoneVPCAssociation", "Public hosted zone cannot be associated "
                      "with a VPC.")
        kept = [v for v in zone.vpcs if not (v.vpc_id == vpc_id and v.region == region)]
        if len(kept) == len(zone.vpcs):
            raise err("VPCAssociationNotFound", f"The specified VPC {vpc_id} and hosted zone "
                      f"{zone.id} are not currently associated.", 404)
        if not kept:
            raise err("LastVPCAssociation", "The VPC that you're trying to disassociate from "
                      "the private hosted zone is the last VPC that is associated with the "
                      "hosted zone. Amazon Route 53 doesn't support disassociating the last VPC "
                      "from a hosted zone.")
        change = self._new_change(params.get("Comment"))
        with ctx.state.write() as w:
            zone.vpcs = kept
            w.save(zone)
            w.save(ctx.state.network.add(change))
        return {"ChangeInfo": change_view(change)}

    def _authorization_param(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> tuple[HostedZone, ZoneVpc]:
        zone = self._zone(ctx, params["HostedZoneId"])
        given = params.get("VPC") or {}
        if not given.get("VPCId") or not given.get("VPCRegion"):
            raise invalid("Invalid request: VPCId and VPCRegion must be specified.")
        if not zone.private:
            raise err("PublicZoneVPCAssociation", "Public hosted zone cannot be associated "
                      "with a VPC.")
        vpc = ctx.state.network.vpcs.get(given["VPCId"])
        return zone, ZoneVpc(str(given["VPCId"]), str(given["VPCRegion"]),
                             vpc.account if vpc is not None else "")

    def CreateVPCAssociationAuthorization(self, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
        zone, vpc = self._authorization_param(ctx, params)
        if not any(a.vpc_id == vpc.vpc_id and a.region == vpc.region
                   for a in zone.authorizations):
            if len(zone.authorizations) >= 100:
                raise err("TooManyVPCAssociationAuthorizations", "You've created the maximum "
                          "number of authorizations that can be created for the specified "
                          "hosted zone.")
            with ctx.state.write() as w:
                zone.authorizations.append(vpc)
                w.save(zone)
        return {"HostedZoneId": zone.id, "VPC": vpc_view(vpc)}

    def DeleteVPCAssociationAuthorization(self, ctx: RequestContext, params: dict[str, Any]
                                          ) -> dict[str, Any]:
        zone, vpc = self._authorization_param(ctx, params)
        kept = [a for a in zone.authorizations
                if not (a.vpc_id == vpc.vpc_id and a.region == vpc.region)]
        if len(kept) == len(zone.authorizations):
            raise err("VPCAssociationAuthorizationNotFound", f"The VPC {vpc.vpc_id} is not "
                      f"authorized to be associated with the hosted zone {zone.id}.", 404)
        with ctx.state.write() as w:
            zone.authorizations = kept
            w.save(zone)
        return {}

    def ListVPCAssociationAuthorizations(self, ctx: RequestContext, params: dict[str, Any]
                                         ) -> dict[str, Any]:
        zone = self._zone(ctx, params["HostedZoneId"])
        limit = _max_items(params, "MaxResults", 50)
        token = params.get("NextToken")
        items = [(f"{a.region}/{a.vpc_id}", a) for a in zone.authorizations]
        if token and token not in {k for k, _ in items}:
            raise err("InvalidPaginationToken", "The value that you specified for NextToken "
                      "in a List request isn't valid.")
        page, following = _page_after(items, lambda it: it[0], token, limit)
        out: dict[str, Any] = {"HostedZoneId": zone.id, "VPCs": [vpc_view(a) for _, a in page]}
        if following is not None:
            out["NextToken"] = following[0]
        return out

    # ---------------------------------------------------------------- health checks
    def CreateHealthCheck(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        reference = str(params["CallerReference"])
        config = params["HealthCheckConfig"]
        hc = HealthCheck(id=str(uuid.uuid4()), account=ctx.account, region=ctx.region,
                         caller_reference=reference)
        self._configure(ctx, hc, config, creating=True)
        for old in ctx.state.network.health_checks.values():
            if old.account == ctx.account and old.caller_reference == reference:
                same = health_check_view(old)["HealthCheckConfig"] == \
                    health_check_view(hc)["HealthCheckConfig"]
                if not same:
                    raise err("HealthCheckAlreadyExists", "A health check with the specified "
                              "CallerReference already exists but has different settings.",
                              409)
                return {"HealthCheck": health_check_view(old),
                        "Location": f"{API}/healthcheck/{old.id}"}
        with ctx.state.write() as w:
            w.save(ctx.state.network.add(hc))
        return {"HealthCheck": health_check_view(hc), "Location": f"{API}/healthcheck/{hc.id}"}

    def _configure(self, ctx: RequestContext, hc: HealthCheck, config: dict[str, Any],
                   creating: bool) -> None:
        """Apply (and check) HealthCheckConfig members or UpdateHealthCheck parameters."""
        if creating:
            hc.type = str(config["Type"])
            hc.request_interval = int(config.get("RequestInterval", 30))
            hc.measure_latency = bool(config.get("MeasureLatency", False))
            hc.regions = list(config.get("Regions") or [])
            if hc.request_interval not in (10, 30):
                raise invalid("Invalid parameter: RequestInterval must be 10 or 30 seconds.")
        simple = {"IPAddress": "ip_address", "Port": "port", "ResourcePath": "resource_path",
                  "FullyQualifiedDomainName": "fqdn", "SearchString": "search_string",
                  "FailureThreshold": "failure_threshold", "Inverted": "inverted",
                  "Disabled": "disabled", "EnableSNI": "enable_sni",
                  "HealthThreshold": "health_threshold",
                  "InsufficientDataHealthStatus": "insufficient_data_health_status"}
        for key, attr in simple.items():
            if key in config and config[key] is not None:
                setattr(hc, attr, config[key])
        if "ChildHealthChecks" in config:
            hc.child_health_checks = list(config["ChildHealthChecks"] or [])
        if "Regions" in config and not creating:
            hc.regions = list(config["Regions"] or [])
        for element in config.get("ResetElements") or []:
            reset = {"FullyQualifiedDomainName": "fqdn", "ResourcePath": "resource_path",
                     "ChildHealthChecks": "child_health_checks", "Regions": "regions"}
            attr = reset[element]
            setattr(hc, attr, [] if attr in ("child_health_checks", "regions") else None)
        if hc.type == "CALCULATED":
            for child in hc.child_health_checks:
                self._health_check(ctx, child)
            if hc.health_threshold is None:
                hc.health_threshold = len(hc.child_health_checks)
            return
        if hc.type in ("HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH", "TCP"):
            if not hc.ip_address and not hc.fqdn:
                raise invalid("Invalid parameter: you must specify an IPAddress or a "
                              "FullyQualifiedDomainName.")
            if hc.ip_address:
                try:
                    ipaddress.ip_address(hc.ip_address)
                except ValueError:
                    raise invalid(f"Invalid IP address: {hc.ip_address}") from None
            if hc.type == "TCP" and hc.port is None:
                raise invalid("Invalid parameter: a TCP health check requires a Port.")
            if hc.port is None:
                hc.port = 443 if hc.type.startswith("HTTPS") else 80
            if hc.type.endswith("STR_MATCH") and not hc.search_string:
                raise invalid(f"Invalid parameter: a {hc.type} health check requires a "
                              "SearchString.")
            if hc.type.startswith("HTTPS") and hc.enable_sni is None:
                hc.enable_sni = True
        if not 1 <= hc.failure_threshold <= 10:
            raise invalid("Invalid parameter: FailureThreshold must be between 1 and 10.")

    def GetHealthCheck(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        return {"HealthCheck": health_check_view(self._health_check(ctx,
                                                                     params["HealthCheckId"]))}

    def GetHealthCheckCount(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        return {"HealthCheckCount": sum(h.account == ctx.account
                                        for h in ctx.state.network.health_checks.values())}

    def ListHealthChecks(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        limit = _max_items(params)
        checks = [h for h in ctx.state.network.health_checks.values()
                  if h.account == ctx.account]
        marker = params.get("Marker")
        if marker and marker not in {h.id for h in checks}:
            raise invalid(f"Invalid marker: {marker}")
        page, following = _page_after(checks, lambda h: h.id, marker, limit)
        out: dict[str, Any] = {"HealthChecks": [health_check_view(h) for h in page],
                               "IsTruncated": following is not None, "MaxItems": str(limit),
                               "Marker": marker or ""}
        if following is not None:
            out["NextMarker"] = following.id
        return out

    def UpdateHealthCheck(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        hc = self._health_check(ctx, params["HealthCheckId"])
        version = params.get("HealthCheckVersion")
        if version is not None and int(version) != hc.version:
            raise err("HealthCheckVersionMismatch", "The value of HealthCheckVersion in the "
                      "request doesn't match the value of HealthCheckVersion in the health "
                      "check.", 409)
        updated = copy.deepcopy(hc)
        self._configure(ctx, updated, params, creating=False)
        updated.version += 1
        with ctx.state.write() as w:
            ctx.state.network.health_checks[hc.id] = updated
            w.save(updated)
        return {"HealthCheck": health_check_view(updated)}

    def DeleteHealthCheck(self, ctx: RequestContext, params: dict[str, Any]) -> dict[str, Any]:
        hc = self._health_check(ctx, params["HealthCheckId"])
        net = ctx.state.network
        for zone in net.hosted_zones.values():
            if any(r.health_check_id == hc.id for r in zone.records):
                raise err("HealthCheckInUse", f"The health check {hc.id} is still referenced "
                          f"from a resource record set in hosted zone {zone.id}.")
        if any(hc.id in h.child_health_checks for h in net.health_checks.values()):
            raise err("HealthCheckInUse", f"The health check {hc.id} is a child of a "
                      "calculated health check.")
        with ctx.state.write() as w:
            del net.health_checks[hc.id]
            w.deleted.append(("health_checks", hc.id))
        return {}

    def GetHealthCheckStatus(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        hc = self._health_check(ctx, params["HealthCheckId"])
        if hc.type == "CALCULATED":
            raise invalid("Invalid parameter: GetHealthCheckStatus does not support calculated "
                          "health checks.")
        # One local checker stands for AWS's fleet: every observation reports what it saw.
        if hc.healthy is None:
            report = "Unknown: the health checker has not checked the endpoint yet"
        else:
            report = hc.status_report or ("Success" if hc.healthy else "Failure")
        checked = hc.checked_at if hc.checked_at is not None else time.time()
        regions = hc.regions or list(CHECKER_REGIONS)
        return {"HealthCheckObservations": [
            {"Region": region, "IPAddress": CHECKER_IPS[CHECKER_REGIONS.index(region)]
             if region in CHECKER_REGIONS else CHECKER_IPS[0],
             "StatusReport": {"Status": report, "CheckedTime": checked}}
            for region in regions]}

    # ---------------------------------------------------------------- tags
    def _taggable(self, ctx: RequestContext, params: dict[str, Any]) -> HostedZone | HealthCheck:
        kind, rid = params["ResourceType"], str(params["ResourceId"])
        if kind == "hostedzone":
            return self._zone(ctx, rid)
        if kind == "healthcheck":
            return self._health_check(ctx, rid)
        raise invalid(f"Invalid resource type: {kind}")

    def ChangeTagsForResource(self, ctx: RequestContext, params: dict[str, Any]
                              ) -> dict[str, Any]:
        resource = self._taggable(ctx, params)
        add = params.get("AddTags") or []
        remove = params.get("RemoveTagKeys") or []
        tags = dict(resource.tags)
        for key in remove:
            tags.pop(key, None)
        for tag in add:
            tags[tag["Key"]] = tag.get("Value", "")
        if len(tags) > 50:
            raise invalid("The number of tags exceeds the limit of 50 per resource.")
        with ctx.state.write() as w:
            resource.tags = tags
            w.save(resource)
        return {}

    def ListTagsForResource(self, ctx: RequestContext, params: dict[str, Any]
                            ) -> dict[str, Any]:
        resource = self._taggable(ctx, params)
        return {"ResourceTagSet": {"ResourceType": params["ResourceType"],
                                   "ResourceId": params["ResourceId"],
                                   "Tags": [{"Key": k, "Value": v}
                                            for k, v in resource.tags.items()]}}

    def ListTagsForResources(self, ctx: RequestContext, params: dict[str, Any]
                             ) -> dict[str, Any]:
        sets = [self.ListTagsForResource(ctx, {"ResourceType": params["ResourceType"],
                                               "ResourceId": rid})["ResourceTagSet"]
                for rid in params.get("ResourceIds") or []]
        return {"ResourceTagSets": sets}


def _bad_value(rtype: str, value: str) -> str | None:
    """The InvalidChangeBatch message for rdata that is not valid for its type."""
    if rtype == "A":
        try:
            ipaddress.IPv4Address(value)
        except ValueError:
            return f"ARRDATAIllegalIPv4Address (Value is not a valid IPv4 address) " \
                   f"encountered with '{value}'"
    elif rtype == "AAAA":
        try:
            ipaddress.IPv6Address(value)
        except ValueError:
            return f"AAAARRDATAIllegalIPv6Address (Value is not a valid IPv6 address) " \
                   f"encountered with '{value}'"
    elif rtype == "MX":
        parts = value.split()
        if len(parts) != 2 or not parts[0].isdigit():
            return f"MXRRDATAIllegalPriority (Value is not a valid MX record) encountered " \
                   f"with '{value}'"
    elif rtype == "TXT" and not (value.startswith('"') and value.endswith('"')):
        return f"Invalid Resource Record: FATAL problem: InvalidCharacterString (Value should " \
               f"be enclosed in quotation marks) encountered with '{value}'"
    return None

"""Services, their listeners and listener rules (lattice.md SV-*, LI-*, RU-*).

A listener's default action is its default rule: ListRules shows it (``isDefault``, no
priority) under the id the listener was given; UpdateRule may change its action only.
"""

from __future__ import annotations

import re
from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.protocols.request import ServiceError
from localvpc.api.providers.vpc_lattice.common import (
    ACCESS_LOG,
    LISTENER,
    RULE,
    SERVICE,
    Params,
    check_new_name,
    conflict,
    delete,
    hosted_zone_id,
    lookup,
    mine,
    new_id,
    not_found,
    now,
    paginate,
    quota,
    save,
    save_new,
    split_identifier,
    tags_param,
    validation,
)
from localvpc.api.providers.vpc_lattice.networks import dns_entry, service_associations_of
from localvpc.api.providers.vpc_lattice.routing import (
    action_view,
    match_view,
    parse_action,
    parse_match,
)
from localvpc.model.lattice import (
    LatticeListener,
    LatticeRule,
    LatticeService,
    generated_domain,
)

MAX_SERVICES = 2000
MAX_LISTENERS_PER_SERVICE = 2
MAX_RULES_PER_LISTENER = 10
DEFAULT_PORTS = {"HTTP": 80, "HTTPS": 443}
_DOMAIN = re.compile(r"^(?=.{3,255}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")


def listeners_of(ctx: RequestContext, service_id: str) -> list[LatticeListener]:
    return [li for li in mine(ctx, LISTENER.table).values() if li.service_id == service_id]


def rules_of(ctx: RequestContext, listener_id: str) -> list[LatticeRule]:
    return [r for r in mine(ctx, RULE.table).values() if r.listener_id == listener_id]


class ServiceOperations:
    # ------------------------------------------------------------------ services
    def CreateService(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        name = params["name"]
        check_new_name(ctx, SERVICE, name, lambda s: s.service_name, MAX_SERVICES)
        domain = params.get("customDomainName")
        if domain is not None and not _DOMAIN.match(domain):
            raise validation(f"Invalid custom domain name: {domain}", "customDomainName")
        stamp = now()
        sid = new_id("svc")
        svc = LatticeService(id=sid, account=ctx.account, region=ctx.region,
                             tags=tags_param(params), service_name=name,
                             auth_type=params.get("authType") or "NONE",
                             custom_domain_name=domain,
                             certificate_arn=params.get("certificateArn") or None,
                             domain_name=generated_domain(name, sid, ctx.account, ctx.region),
                             hosted_zone_id=hosted_zone_id(ctx.region), created=stamp,
                             updated=stamp)
        save_new(ctx, svc)
        return {"id": svc.id, "arn": svc.arn, "name": name,
                "customDomainName": svc.custom_domain_name,
                "certificateArn": svc.certificate_arn, "status": "CREATE_IN_PROGRESS",
                "authType": svc.auth_type, "dnsEntry": dns_entry(svc)}

    def GetService(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        svc: LatticeService = lookup(ctx, SERVICE, params["serviceIdentifier"])
        return {**_service_summary(svc), "certificateArn": svc.certificate_arn,
                "authType": svc.auth_type}

    def ListServices(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        page, token = paginate(list(mine(ctx, SERVICE.table).values()), params, lambda s: s.id)
        return {"items": [_service_summary(s) for s in page], "nextToken": token}

    def UpdateService(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        svc: LatticeService = lookup(ctx, SERVICE, params["serviceIdentifier"])
        if "certificateArn" in params:
            svc.certificate_arn = params["certificateArn"] or None
        if params.get("authType"):
            svc.auth_type = params["authType"]
        svc.updated = now()
        save(ctx, svc)
        return {"id": svc.id, "arn": svc.arn, "name": svc.service_name,
                "customDomainName": svc.custom_domain_name,
                "certificateArn": svc.certificate_arn, "authType": svc.auth_type}

    def DeleteService(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        svc: LatticeService = lookup(ctx, SERVICE, params["serviceIdentifier"])
        if service_associations_of(ctx, service_id=svc.id):  # SN-6
            raise conflict("The service is associated with service networks; delete the "
                           "associations first.", svc.id, SERVICE.error_type)
        # ASSUMED: the service's listeners, rules and access log subscriptions go with it.
        listeners = listeners_of(ctx, svc.id)
        rules = [r for li in listeners for r in rules_of(ctx, li.id)]
        logs = [a for a in mine(ctx, ACCESS_LOG.table).values() if a.resource_id == svc.id]
        delete(ctx, (SERVICE, svc.id), *((LISTENER, li.id) for li in listeners),
               *((RULE, r.id) for r in rules), *((ACCESS_LOG, a.id) for a in logs))
        return {"id": svc.id, "arn": svc.arn, "name": svc.service_name,
                "status": "DELETE_IN_PROGRESS"}

    # ------------------------------------------------------------------ listeners
    def CreateListener(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        svc: LatticeService = lookup(ctx, SERVICE, params["serviceIdentifier"])
        name, protocol = params["name"], params["protocol"]
        port = params.get("port")
        if port is None:
            if protocol not in DEFAULT_PORTS:  # ASSUMED: TLS_PASSTHROUGH names its port
                raise validation("A port is required for TLS_PASSTHROUGH listeners.", "port")
            port = DEFAULT_PORTS[protocol]
        if protocol == "TLS_PASSTHROUGH" and not svc.custom_domain_name:
            raise validation("TLS_PASSTHROUGH listeners need a service with a custom domain "
                             "name.", "protocol")
        existing = listeners_of(ctx, svc.id)
        for other in existing:
            if other.listener_name == name:
                raise conflict(f"A listener named '{name}' already exists in service "
                               f"{svc.id}.", other.id, LISTENER.error_type)
            if other.port == port:
                raise conflict(f"A listener on port {port} already exists in service "
                               f"{svc.id}.", other.id, LISTENER.error_type)
        if len(existing) >= MAX_LISTENERS_PER_SERVICE:
            raise quota("The maximum number of listeners per service has been reached.",
                        LISTENER.error_type)
        action = parse_action(ctx, params["defaultAction"], "defaultAction", protocol)
        stamp = now()
        listener = LatticeListener(id=new_id("listener"), account=ctx.account,
                                   region=ctx.region, tags=tags_param(params),
                                   service_id=svc.id, listener_name=name, protocol=protocol,
                                   port=int(port), default_action=action,
                                   default_rule_id=new_id("rule"), created=stamp,
                                   updated=stamp)
        save_new(ctx, listener)
        return _listener_view(listener, svc)

    def GetListener(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        svc, listener = self._listener(ctx, params)
        return {**_listener_view(listener, svc), "createdAt": listener.created,
                "lastUpdatedAt": listener.updated}

    def ListListeners(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        svc: LatticeService = lookup(ctx, SERVICE, params["serviceIdentifier"])
        page, token = paginate(listeners_of(ctx, svc.id), params, lambda li: li.id)
        return {"items": [{"arn": li.arn, "id": li.id, "name": li.listener_name,
                           "protocol": li.protocol, "port": li.port,
                           "createdAt": li.created, "lastUpdatedAt": li.updated}
                          for li in page], "nextToken": token}

    def UpdateListener(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        svc, listener = self._listener(ctx, params)
        listener.default_action = parse_action(ctx, params["defaultAction"], "defaultAction",
                                               listener.protocol)
        listener.updated = now()
        save(ctx, listener)
        return _listener_view(listener, svc)

    def DeleteListener(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        _, listener = self._listener(ctx, params)
        rules = rules_of(ctx, listener.id)  # ASSUMED: its rules go with it
        delete(ctx, (LISTENER, listener.id), *((RULE, r.id) for r in rules))
        return {}

    def _listener(self, ctx: RequestContext, params: Params
                  ) -> tuple[LatticeService, LatticeListener]:
        svc: LatticeService = lookup(ctx, SERVICE, params["serviceIdentifier"])
        listener: LatticeListener = lookup(ctx, LISTENER, params["listenerIdentifier"])
        if listener.service_id != svc.id:
            raise not_found(params["listenerIdentifier"], LISTENER.error_type)
        return svc, listener

    # ------------------------------------------------------------------ rules
    def CreateRule(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        _, listener = self._listener(ctx, params)
        if listener.protocol == "TLS_PASSTHROUGH":
            raise validation("TLS_PASSTHROUGH listeners have only their default rule.",
                             "listenerIdentifier")
        name, priority = params["name"], int(params["priority"])
        existing = rules_of(ctx, listener.id)
        for other in existing:
            if other.rule_name == name:
                raise conflict(f"A rule named '{name}' already exists in listener "
                               f"{listener.id}.", other.id, RULE.error_type)
            if other.priority == priority:
                raise conflict(f"A rule with priority {priority} already exists in listener "
                               f"{listener.id}.", other.id, RULE.error_type)
        if len(existing) >= MAX_RULES_PER_LISTENER:
            raise quota("The maximum number of rules per listener has been reached.",
                        RULE.error_type)
        match = parse_match(params["match"], "match")
        action = parse_action(ctx, params["action"], "action", listener.protocol)
        stamp = now()
        rule = LatticeRule(id=new_id("rule"), account=ctx.account, region=ctx.region,
                           tags=tags_param(params), service_id=listener.service_id,
                           listener_id=listener.id, rule_name=name, priority=priority,
                           match=match, action=action, created=stamp, updated=stamp)
        save_new(ctx, rule)
        return {"arn": rule.arn, "id": rule.id, "name": name, "priority": priority,
                "match": match_view(match), "action": action_view(action)}

    def GetRule(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        _, listener = self._listener(ctx, params)
        rule = self._rule(ctx, listener, params["ruleIdentifier"])
        if rule is None:
            return {**_default_rule_view(listener), "createdAt": listener.created,
                    "lastUpdatedAt": listener.updated}
        return {**_rule_view(rule), "createdAt": rule.created, "lastUpdatedAt": rule.updated}

    def ListRules(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        _, listener = self._listener(ctx, params)
        rows: list[dict[str, Any]] = [
            {"arn": r.arn, "id": r.id, "name": r.rule_name, "isDefault": False,
             "priority": r.priority, "createdAt": r.created, "lastUpdatedAt": r.updated}
            for r in rules_of(ctx, listener.id)]
        default = _default_rule_view(listener)
        rows.append({"arn": default["arn"], "id": default["id"], "name": default["name"],
                     "isDefault": True, "createdAt": listener.created,
                     "lastUpdatedAt": listener.updated})
        # Priority order, the default rule last (it is evaluated last, RU-6).
        def key(row: dict[str, Any]) -> str:
            return f"{row.get('priority') or 10**6:07d}/{row['id']}"

        page, token = paginate(rows, params, key)
        return {"items": page, "nextToken": token}

    def UpdateRule(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        _, listener = self._listener(ctx, params)
        rule = self._rule(ctx, listener, params["ruleIdentifier"])
        if rule is None:
            return self._update_default_rule(ctx, listener, params, "")
        self._apply_rule_update(ctx, listener, rule, params, "", check_priority=True)
        save(ctx, rule)
        return _rule_view(rule)

    def BatchUpdateRule(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        """Each update succeeds or fails alone; priorities are checked against the state
        after the whole batch, so two rules may swap priorities in one call."""
        _, listener = self._listener(ctx, params)
        successful: list[dict[str, Any]] = []
        unsuccessful: list[dict[str, Any]] = []
        planned: dict[str, int] = {}
        accepted: list[tuple[LatticeRule | None, dict[str, Any]]] = []
        for index, update in enumerate(params["rules"]):
            where = f"rules.{index + 1}."
            try:
                rule = self._rule(ctx, listener, update["ruleIdentifier"])
                if rule is None:
                    self._check_default_update(update, where)
                else:
                    if update.get("priority") is not None:
                        planned[rule.id] = int(update["priority"])
                    if update.get("match") is not None:
                        parse_match(update["match"], f"{where}match")
                if update.get("action") is not None:
                    parse_action(ctx, update["action"], f"{where}action", listener.protocol)
                accepted.append((rule, update))
            except ServiceError as e:  # reported per rule, as AWS does
                unsuccessful.append({"ruleIdentifier": update["ruleIdentifier"],
                                     "failureCode": e.code, "failureMessage": e.message})
        clashes = _priority_clashes(rules_of(ctx, listener.id), planned)
        changed: list[LatticeRule] = []
        for rule, update in accepted:
            if rule is not None and rule.id in clashes:
                unsuccessful.append({"ruleIdentifier": update["ruleIdentifier"],
                                     "failureCode": "ConflictException",
                                     "failureMessage": f"Priority {planned[rule.id]} is "
                                     f"already used by rule {clashes[rule.id]}."})
                continue
            if rule is None:
                listener.default_action = parse_action(ctx, update["action"], "action",
                                                       listener.protocol)
                listener.updated = now()
                successful.append(_default_rule_view(listener))
                continue
            self._apply_rule_update(ctx, listener, rule, update, "", check_priority=False)
            changed.append(rule)
            successful.append(_rule_view(rule))
        save(ctx, listener, *changed)
        return {"successful": successful, "unsuccessful": unsuccessful}

    def DeleteRule(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        _, listener = self._listener(ctx, params)
        rule = self._rule(ctx, listener, params["ruleIdentifier"])
        if rule is None:
            raise validation("The default rule cannot be deleted; delete the listener.",
                             "ruleIdentifier")
        delete(ctx, (RULE, rule.id))
        return {}

    def _rule(self, ctx: RequestContext, listener: LatticeListener, identifier: str
              ) -> LatticeRule | None:
        """The rule, or None for the listener's default rule."""
        if split_identifier(identifier)[0] == listener.default_rule_id:
            return None
        rule: LatticeRule = lookup(ctx, RULE, identifier)
        if rule.listener_id != listener.id:
            raise not_found(identifier, RULE.error_type)
        return rule

    @staticmethod
    def _check_default_update(update: Params, where: str) -> None:
        if update.get("match") is not None or update.get("priority") is not None:
            raise validation("The default rule's match and priority cannot be changed.",
                             f"{where}ruleIdentifier")
        if update.get("action") is None:
            raise validation("The default rule's action is required.", f"{where}action")

    def _update_default_rule(self, ctx: RequestContext, listener: LatticeListener,
                             params: Params, where: str) -> dict[str, Any]:
        self._check_default_update(params, where)
        listener.default_action = parse_action(ctx, params["action"], f"{where}action",
                                               listener.protocol)
        listener.updated = now()
        save(ctx, listener)
        return _default_rule_view(listener)

    def _apply_rule_update(self, ctx: RequestContext, listener: LatticeListener,
                           rule: LatticeRule, update: Params, where: str, *,
                           check_priority: bool) -> None:
        priority = update.get("priority")
        if priority is not None and check_priority:
            for other in rules_of(ctx, listener.id):
                if other.id != rule.id and other.priority == int(priority):
                    raise conflict(f"A rule with priority {priority} already exists in "
                                   f"listener {listener.id}.", other.id, RULE.error_type)
        if update.get("match") is not None:
            rule.match = parse_match(update["match"], f"{where}match")
        if update.get("action") is not None:
            rule.action = parse_action(ctx, update["action"], f"{where}action",
                                       listener.protocol)
        if priority is not None:
            rule.priority = int(priority)
        rule.updated = now()


def _priority_clashes(rules: list[LatticeRule], planned: dict[str, int]) -> dict[str, str]:
    """Planned priority changes that cannot be made, with the rule each collides with.
    Within a priority claimed twice, a rule keeping its priority wins, else the first change
    in the batch; a refused change keeps its old priority, which may refuse others in turn."""
    current = {r.id: r.priority for r in rules}
    order = list(planned)
    refused: dict[str, str] = {}
    while True:
        final = {rid: planned[rid] if rid in planned and rid not in refused else p
                 for rid, p in current.items()}
        holders: dict[int, list[str]] = {}
        for rid, p in final.items():
            holders.setdefault(p, []).append(rid)
        newly: dict[str, str] = {}
        for ids in holders.values():
            if len(ids) < 2:
                continue
            movers = sorted((i for i in ids if i in planned and i not in refused),
                            key=order.index)
            keepers = [i for i in ids if i not in movers]
            winner = keepers[0] if keepers else movers[0]
            for rid in movers:
                if rid != winner:
                    newly[rid] = winner
        if not newly:
            return refused
        refused.update(newly)


def _service_summary(svc: LatticeService) -> dict[str, Any]:
    return {"id": svc.id, "name": svc.service_name, "arn": svc.arn, "createdAt": svc.created,
            "lastUpdatedAt": svc.updated, "dnsEntry": dns_entry(svc),
            "customDomainName": svc.custom_domain_name, "status": svc.status}


def _listener_view(listener: LatticeListener, svc: LatticeService) -> dict[str, Any]:
    return {"arn": listener.arn, "id": listener.id, "name": listener.listener_name,
            "protocol": listener.protocol, "port": listener.port, "serviceArn": svc.arn,
            "serviceId": svc.id, "defaultAction": action_view(listener.default_action)}


def _rule_view(rule: LatticeRule) -> dict[str, Any]:
    return {"arn": rule.arn, "id": rule.id, "name": rule.rule_name, "isDefault": False,
            "priority": rule.priority, "match": match_view(rule.match),
            "action": action_view(rule.action)}


def _default_rule_view(listener: LatticeListener) -> dict[str, Any]:
    arn = f"{listener.arn}/rule/{listener.default_rule_id}"
    return {"arn": arn, "id": listener.default_rule_id, "name": "default", "isDefault": True,
            "action": action_view(listener.default_action)}

"""Service networks and their VPC and service associations (lattice.md SN-1..SN-6).

AWS creates associations asynchronously: Create answers ``CREATE_IN_PROGRESS`` and Delete
``DELETE_IN_PROGRESS``; here the work is done before the answer, so Get and List already
show ``ACTIVE`` (and a deleted association is gone).
"""

from __future__ import annotations

from typing import Any

from localvpc.api.context import RequestContext
from localvpc.api.providers.vpc_lattice.common import (
    ACCESS_LOG,
    SERVICE,
    SERVICE_ASSOCIATION,
    SERVICE_NETWORK,
    VPC_ASSOCIATION,
    Params,
    check_new_name,
    conflict,
    delete,
    lookup,
    mine,
    new_id,
    not_found,
    now,
    own_vpc,
    paginate,
    quota,
    save,
    save_new,
    tags_param,
    validation,
)
from localvpc.model.lattice import (
    LatticeService,
    ServiceNetwork,
    ServiceNetworkServiceAssociation,
    ServiceNetworkVpcAssociation,
)

MAX_SERVICE_NETWORKS = 50  # per account and Region (quota)
MAX_SERVICES_PER_NETWORK = 500


def vpc_associations_of(ctx: RequestContext, network_id: str) -> list[ServiceNetworkVpcAssociation]:
    return [a for a in mine(ctx, VPC_ASSOCIATION.table).values()
            if a.service_network_id == network_id]


def service_associations_of(ctx: RequestContext, *, network_id: str | None = None,
                            service_id: str | None = None
                            ) -> list[ServiceNetworkServiceAssociation]:
    return [a for a in mine(ctx, SERVICE_ASSOCIATION.table).values()
            if (network_id is None or a.service_network_id == network_id)
            and (service_id is None or a.service_id == service_id)]


def _security_groups(ctx: RequestContext, ids: list[str], vpc_id: str) -> list[str]:
    """Security groups must exist and belong to the VPC (ASSUMED: ValidationException)."""
    groups = ctx.state.network.security_groups
    for sg_id in ids:
        sg = groups.get(sg_id)
        if sg is None or sg.account != ctx.account or sg.region != ctx.region:
            raise not_found(sg_id, "SECURITY_GROUP")
        if sg.vpc_id != vpc_id:
            raise validation(f"Security group {sg_id} does not belong to VPC {vpc_id}.",
                             "securityGroupIds")
    if len(set(ids)) != len(ids):
        raise validation("Duplicate security group ids.", "securityGroupIds")
    return list(ids)


class NetworkOperations:
    # ------------------------------------------------------------------ service networks
    def CreateServiceNetwork(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        name = params["name"]
        check_new_name(ctx, SERVICE_NETWORK, name, lambda sn: sn.network_name,
                       MAX_SERVICE_NETWORKS)
        stamp = now()
        sharing = params.get("sharingConfig") or {}
        sn = ServiceNetwork(id=new_id("sn"), account=ctx.account, region=ctx.region,
                            tags=tags_param(params), network_name=name,
                            auth_type=params.get("authType") or "NONE",
                            sharing_enabled=bool(sharing.get("enabled", True)),
                            created=stamp, updated=stamp)
        save_new(ctx, sn)
        return {"id": sn.id, "name": name, "arn": sn.arn, "authType": sn.auth_type,
                "sharingConfig": {"enabled": sn.sharing_enabled}}

    def GetServiceNetwork(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        sn: ServiceNetwork = lookup(ctx, SERVICE_NETWORK, params["serviceNetworkIdentifier"])
        return {**self._network_summary(ctx, sn), "authType": sn.auth_type,
                "sharingConfig": {"enabled": sn.sharing_enabled}}

    def ListServiceNetworks(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        page, token = paginate(list(mine(ctx, SERVICE_NETWORK.table).values()), params,
                               lambda s: s.id)
        return {"items": [self._network_summary(ctx, s) for s in page], "nextToken": token}

    def UpdateServiceNetwork(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        sn: ServiceNetwork = lookup(ctx, SERVICE_NETWORK, params["serviceNetworkIdentifier"])
        sn.auth_type = params["authType"]
        sn.updated = now()
        save(ctx, sn)
        return {"id": sn.id, "name": sn.network_name, "arn": sn.arn, "authType": sn.auth_type}

    def DeleteServiceNetwork(self, ctx: RequestContext, params: Params) -> dict[str, Any]:
        sn: ServiceNetwork = lookup(ctx, SERVICE_NETWORK, params["serviceNetworkIdentifier"])
        if vpc_associations_of(ctx, sn.id) or service_associations_of(ctx, network_id=sn.id):
            raise conflict("The service network has associations; delete them first.",
                           sn.id, SERVICE_NETWORK.error_type)
        logs = [a.id for a in mine(ctx, ACCESS_LOG.table).values() if a.resource_id == sn.id]
        delete(ctx, (SERVICE_NETWORK, sn.id), *((ACCESS_LOG, i) for i in logs))
        return {}

    def _network_summary(self, ctx: RequestContext, sn: ServiceNetwork) -> dict[str, Any]:
        return {"id": sn.id, "name": sn.network_name, "arn": sn.arn,
                "createdAt": sn.created, "lastUpdatedAt": sn.updated,
                "numberOfAssociatedVPCs": len(vpc_associations_of(ctx, sn.id)),
                "numberOfAssociatedServices": len(service_associations_of(ctx,
                                                                          network_id=sn.id)),
                "numberOfAssociatedResourceConfigurations": 0}

    # ------------------------------------------------------------------ VPC associations
    def CreateServiceNetworkVpcAssociation(self, ctx: RequestContext, params: Params
                                           ) -> dict[str, Any]:
        sn: ServiceNetwork = lookup(ctx, SERVICE_NETWORK, params["serviceNetworkIdentifier"])
        vpc = own_vpc(ctx, params["vpcIdentifier"])
        for other in mine(ctx, VPC_ASSOCIATION.table).values():
            if other.vpc_id == vpc.id:  # SN-2: one service network per VPC
                raise conflict(f"VPC {vpc.id} is already associated with service network "
                               f"{other.service_network_id}.", other.id,
                               VPC_ASSOCIATION.error_type)
        groups = _security_groups(ctx, list(params.get("securityGroupIds") or []), vpc.id)
        stamp = now()
        assoc = ServiceNetworkVpcAssociation(
            id=new_id("snva"), account=ctx.account, region=ctx.region, tags=tags_param(params),
            service_network_id=sn.id, vpc_id=vpc.id, security_group_ids=groups,
            private_dns_enabled=params.get("privateDnsEnabled"), created_by=ctx.account,
            created=stamp, updated=stamp)
        save_new(ctx, assoc)
        return {"id": assoc.id, "arn": assoc.arn, "status": "CREATE_IN_PROGRESS",
                "createdBy": ctx.account, "securityGroupIds": groups,
                "privateDnsEnabled": assoc.private_dns_enabled}

    def GetServiceNetworkVpcAssociation(self, ctx: RequestContext, params: Params
                                        ) -> dict[str, Any]:
        assoc = lookup(ctx, VPC_ASSOCIATION, params["serviceNetworkVpcAssociationIdentifier"])
        return {**self._vpc_association_view(ctx, assoc),
                "securityGroupIds": list(assoc.security_group_ids)}

    def ListServiceNetworkVpcAssociations(self, ctx: RequestContext, params: Params
                                          ) -> dict[str, Any]:
        items = list(mine(ctx, VPC_ASSOCIATION.table).values())
        if params.get("serviceNetworkIdentifier"):
            sn = lookup(ctx, SERVICE_NETWORK, params["serviceNetworkIdentifier"])
            items = [a for a in items if a.service_network_id == sn.id]
        if params.get("vpcIdentifier"):
            items = [a for a in items if a.vpc_id == params["vpcIdentifier"]]
        page, token = paginate(items, params, lambda a: a.id)
        return {"items": [self._vpc_association_view(ctx, a) for a in page], "nextToken": token}

    def UpdateServiceNetworkVpcAssociation(self, ctx: RequestContext, params: Params
                                           ) -> dict[str, Any]:
        assoc: ServiceNetworkVpcAssociation = lookup(
            ctx, VPC_ASSOCIATION, params["serviceNetworkVpcAssociationIdentifier"])
        assoc.security_group_ids = _security_groups(ctx, list(params["securityGroupIds"]),
                                                    assoc.vpc_id)
        assoc.updated = now()
        save(ctx, assoc)
        return {"id": assoc.id, "arn": assoc.arn, "status": assoc.status,
                "createdBy": assoc.created_by, "securityGroupIds": assoc.security_group_ids}

    def DeleteServiceNetworkVpcAssociation(self, ctx: RequestContext, params: Params
                                           ) -> dict[str, Any]:
        assoc = lookup(ctx, VPC_ASSOCIATION, params["serviceNetworkVpcAssociationIdentifier"])
        delete(ctx, (VPC_ASSOCIATION, assoc.id))
        return {"id": assoc.id, "arn": assoc.arn, "status": "DELETE_IN_PROGRESS"}

    def _vpc_association_view(self, ctx: RequestContext, a: ServiceNetworkVpcAssociation
                              ) -> dict[str, Any]:
        sn = ctx.state.network.lattice_service_networks.get(a.service_network_id)
        return {"id": a.id, "arn": a.arn, "status": a.status, "createdBy": a.created_by,
                "createdAt": a.created, "lastUpdatedAt": a.updated,
                "serviceNetworkId": a.service_network_id,
                "serviceNetworkName": sn.network_name if sn else None,
                "serviceNetworkArn": sn.arn if sn else None, "vpcId": a.vpc_id,
                "privateDnsEnabled": a.private_dns_enabled}

    # ------------------------------------------------------------------ service associations
    def CreateServiceNetworkServiceAssociation(self, ctx: RequestContext, params: Params
                                               ) -> dict[str, Any]:
        svc: LatticeService = lookup(ctx, SERVICE, params["serviceIdentifier"])
        sn: ServiceNetwork = lookup(ctx, SERVICE_NETWORK, params["serviceNetworkIdentifier"])
        existing = service_associations_of(ctx, network_id=sn.id)
        for other in existing:
            if other.service_id == svc.id:
                raise conflict(f"Service {svc.id} is already associated with service network "
                               f"{sn.id}.", other.id, SERVICE_ASSOCIATION.error_type)
        if len(existing) >= MAX_SERVICES_PER_NETWORK:
            raise quota("The maximum number of services per service network has been "
                        "reached.", SERVICE_ASSOCIATION.error_type)
        stamp = now()
        assoc = ServiceNetworkServiceAssociation(
            id=new_id("snsa"), account=ctx.account, region=ctx.region, tags=tags_param(params),
            service_network_id=sn.id, service_id=svc.id, created_by=ctx.account,
            created=stamp, updated=stamp)
        save_new(ctx, assoc)
        return {"id": assoc.id, "arn": assoc.arn, "status": "CREATE_IN_PROGRESS",
                "createdBy": ctx.account, "customDomainName": svc.custom_domain_name,
                "dnsEntry": dns_entry(svc)}

    def GetServiceNetworkServiceAssociation(self, ctx: RequestContext, params: Params
                                            ) -> dict[str, Any]:
        assoc = lookup(ctx, SERVICE_ASSOCIATION,
                       params["serviceNetworkServiceAssociationIdentifier"])
        return self._service_association_view(ctx, assoc)

    def ListServiceNetworkServiceAssociations(self, ctx: RequestContext, params: Params
                                              ) -> dict[str, Any]:
        network_id = service_id = None
        if params.get("serviceNetworkIdentifier"):
            network_id = lookup(ctx, SERVICE_NETWORK, params["serviceNetworkIdentifier"]).id
        if params.get("serviceIdentifier"):
            service_id = lookup(ctx, SERVICE, params["serviceIdentifier"]).id
        items = service_associations_of(ctx, network_id=network_id, service_id=service_id)
        page, token = paginate(items, params, lambda a: a.id)
        return {"items": [self._service_association_view(ctx, a) for a in page],
                "nextToken": token}

    def DeleteServiceNetworkServiceAssociation(self, ctx: RequestContext, params: Params
                                               ) -> dict[str, Any]:
        assoc = lookup(ctx, SERVICE_ASSOCIATION,
                       params["serviceNetworkServiceAssociationIdentifier"])
        delete(ctx, (SERVICE_ASSOCIATION, assoc.id))
        return {"id": assoc.id, "arn": assoc.arn, "status": "DELETE_IN_PROGRESS"}

    def _service_association_view(self, ctx: RequestContext,
                                  a: ServiceNetworkServiceAssociation) -> dict[str, Any]:
        net = ctx.state.network
        sn = net.lattice_service_networks.get(a.service_network_id)
        svc = net.lattice_services.get(a.service_id)
        return {"id": a.id, "arn": a.arn, "status": a.status, "createdBy": a.created_by,
                "createdAt": a.created, "serviceId": a.service_id,
                "serviceName": svc.service_name if svc else None,
                "serviceArn": svc.arn if svc else None,
                "serviceNetworkId": a.service_network_id,
                "serviceNetworkName": sn.network_name if sn else None,
                "serviceNetworkArn": sn.arn if sn else None,
                "dnsEntry": dns_entry(svc) if svc else None,
                "customDomainName": svc.custom_domain_name if svc else None}


def dns_entry(svc: LatticeService) -> dict[str, str]:
    return {"domainName": svc.domain_name, "hostedZoneId": svc.hosted_zone_id}

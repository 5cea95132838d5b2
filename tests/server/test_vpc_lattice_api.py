"""VPC Lattice over the API with boto3: the seed article's walk-through step by step, AWS's
errors, pagination, idempotency, and state that survives a restart."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from conftest import Server, start_server, stop_server

ACCOUNT = "111122223333"
REGION = "us-west-2"
ALLOW_ALL = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": "*", "Action": "vpc-lattice-svcs:Invoke",
     "Resource": "*"}]})
FUNCTION = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:hello-function"
LOG_GROUP = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/lattice/my-service"
BUCKET = "arn:aws:s3:::my-lattice-logs"


def error(exc: pytest.ExceptionInfo[ClientError]) -> dict[str, Any]:
    response = exc.value.response
    return {**response["Error"], **{k: v for k, v in response.items()
                                     if k not in ("Error", "ResponseMetadata")},
            "status": response["ResponseMetadata"]["HTTPStatusCode"]}


def vpc_with_instance(server: Server, cidr: str) -> tuple[str, str, str]:
    """A VPC with a subnet, a security group and a running instance: (vpc, sg, instance)."""
    ec2 = server.client("ec2", region=REGION, account=ACCOUNT)
    vpc = ec2.create_vpc(CidrBlock=cidr)["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock=cidr.replace("0.0/16", "1.0/24"),
                               AvailabilityZone=f"{REGION}a")["Subnet"]["SubnetId"]
    sg = ec2.create_security_group(GroupName="web", Description="web", VpcId=vpc)["GroupId"]
    instance = ec2.run_instances(ImageId="ami-12345678", MinCount=1, MaxCount=1,
                                 SubnetId=subnet)["Instances"][0]["InstanceId"]
    return vpc, sg, instance


def seed_setup(server: Server) -> dict[str, Any]:
    """The article's configuration, in the article's order."""
    lattice = server.client("vpc-lattice", region=REGION, account=ACCOUNT)
    vpc_a, sg_a, instance = vpc_with_instance(server, "10.0.0.0/16")
    vpc_b, _, _ = vpc_with_instance(server, "10.1.0.0/16")
    # Target groups: instances on HTTP:8080 in VPC A with the default health check ...
    instance_tg = lattice.create_target_group(
        name="instance-tg", type="INSTANCE",
        config={"port": 8080, "protocol": "HTTP", "vpcIdentifier": vpc_a,
                "protocolVersion": "HTTP1"})
    lattice.register_targets(targetGroupIdentifier=instance_tg["id"],
                             targets=[{"id": instance}])
    # ... and the Lambda function ($LATEST).
    lambda_tg = lattice.create_target_group(name="lambda-tg", type="LAMBDA")
    lattice.register_targets(targetGroupIdentifier=lambda_tg["arn"],
                             targets=[{"id": FUNCTION}])
    # The service: AWS IAM auth with the allow-authenticated-and-unauthenticated template,
    # access logs to a CloudWatch log group, an HTTPS listener sending 20/10 by default.
    service = lattice.create_service(name="my-service", authType="AWS_IAM")
    lattice.put_auth_policy(resourceIdentifier=service["id"], policy=ALLOW_ALL)
    service_logs = lattice.create_access_log_subscription(
        resourceIdentifier=service["arn"], destinationArn=LOG_GROUP)
    listener = lattice.create_listener(
        serviceIdentifier=service["id"], name="https-listener", protocol="HTTPS",
        defaultAction={"forward": {"targetGroups": [
            {"targetGroupIdentifier": instance_tg["id"], "weight": 20},
            {"targetGroupIdentifier": lambda_tg["id"], "weight": 10}]}})
    rules = [lattice.create_rule(
        serviceIdentifier=service["id"], listenerIdentifier=listener["id"], name=name,
        priority=priority, match={"httpMatch": {"pathMatch": {"match": {"prefix": path}}}},
        action={"forward": {"targetGroups": [{"targetGroupIdentifier": tg["id"]}]}})
        for name, priority, path, tg in (("to-instance", 10, "/to-instance", instance_tg),
                                         ("to-function", 20, "/to-function", lambda_tg))]
    # The service network: the service, VPC A and VPC B associated, no auth, logs to S3.
    network = lattice.create_service_network(name="my-service-network", authType="NONE")
    service_assoc = lattice.create_service_network_service_association(
        serviceNetworkIdentifier=network["id"], serviceIdentifier=service["id"])
    vpc_assocs = [lattice.create_service_network_vpc_association(
        serviceNetworkIdentifier=network["arn"], vpcIdentifier=vpc, securityGroupIds=sgs)
        for vpc, sgs in ((vpc_a, [sg_a]), (vpc_b, []))]
    network_logs = lattice.create_access_log_subscription(
        resourceIdentifier=network["id"], destinationArn=BUCKET)
    return {"lattice": lattice, "vpc_a": vpc_a, "vpc_b": vpc_b, "sg_a": sg_a,
            "instance": instance, "instance_tg": instance_tg, "lambda_tg": lambda_tg,
            "service": service, "listener": listener, "rules": rules, "network": network,
            "service_assoc": service_assoc, "vpc_assocs": vpc_assocs,
            "service_logs": service_logs, "network_logs": network_logs}


def test_seed_walkthrough_with_boto3(fresh: Server) -> None:
    s = seed_setup(fresh)
    lattice, service, listener = s["lattice"], s["service"], s["listener"]
    sid = service["id"]
    assert re.fullmatch(r"svc-[0-9a-z]{17}", sid)
    assert service["arn"] == f"arn:aws:vpc-lattice:{REGION}:{ACCOUNT}:service/{sid}"
    assert service["status"] == "CREATE_IN_PROGRESS"
    domain = service["dnsEntry"]["domainName"]
    assert re.fullmatch(rf"my-service-{sid[4:]}\.[0-9a-f]{{7}}\.vpc-lattice-svcs\.{REGION}"
                        r"\.on\.aws", domain)
    got = lattice.get_service(serviceIdentifier=service["arn"])
    assert got["status"] == "ACTIVE" and got["authType"] == "AWS_IAM"
    assert got["dnsEntry"] == service["dnsEntry"]
    # The association lists the same domain name (the article writes it down from there).
    assoc = lattice.get_service_network_service_association(
        serviceNetworkServiceAssociationIdentifier=s["service_assoc"]["arn"])
    assert assoc["status"] == "ACTIVE" and assoc["dnsEntry"]["domainName"] == domain
    assert assoc["serviceNetworkName"] == "my-service-network"
    assert s["service_assoc"]["status"] == "CREATE_IN_PROGRESS"
    # Listener: HTTPS on 443 by default, weights 20/10 kept.
    assert re.fullmatch(r"listener-[0-9a-z]{17}", listener["id"])
    assert listener["port"] == 443 and listener["protocol"] == "HTTPS"
    weights = {w["targetGroupIdentifier"]: w["weight"] for w in lattice.get_listener(
        serviceIdentifier=sid, listenerIdentifier=listener["arn"])[
        "defaultAction"]["forward"]["targetGroups"]}
    assert weights == {s["instance_tg"]["id"]: 20, s["lambda_tg"]["id"]: 10}
    # Rules in priority order, the default rule last.
    listed = lattice.list_rules(serviceIdentifier=sid, listenerIdentifier=listener["id"])[
        "items"]
    assert [(r["name"], r.get("priority"), r["isDefault"]) for r in listed] == [
        ("to-instance", 10, False), ("to-function", 20, False), ("default", None, True)]
    rule = lattice.get_rule(serviceIdentifier=sid, listenerIdentifier=listener["id"],
                            ruleIdentifier=s["rules"][1]["arn"])
    assert rule["match"]["httpMatch"]["pathMatch"] == {
        "match": {"prefix": "/to-function"}, "caseSensitive": False}
    assert rule["action"]["forward"]["targetGroups"] == [
        {"targetGroupIdentifier": s["lambda_tg"]["id"], "weight": 100}]
    # Target groups: config defaults, health check defaults, used by the service.
    tg = lattice.get_target_group(targetGroupIdentifier=s["instance_tg"]["id"])
    assert tg["config"]["healthCheck"]["enabled"] is True
    assert tg["config"]["healthCheck"]["healthCheckIntervalSeconds"] == 30
    assert tg["config"]["healthCheck"]["matcher"] == {"httpCode": "200"}
    assert tg["serviceArns"] == [service["arn"]]
    targets = lattice.list_targets(targetGroupIdentifier=s["instance_tg"]["id"])["items"]
    assert targets == [{"id": s["instance"], "port": 8080, "status": "INITIAL"}]
    lambda_tg = lattice.get_target_group(targetGroupIdentifier=s["lambda_tg"]["id"])
    assert lambda_tg["config"] == {"lambdaEventStructureVersion": "V1"}
    assert lattice.list_targets(targetGroupIdentifier=s["lambda_tg"]["id"])["items"][0][
        "status"] == "UNAVAILABLE"
    # Network: counts of associations; VPC associations with their security groups.
    network = lattice.get_service_network(serviceNetworkIdentifier=s["network"]["id"])
    assert network["numberOfAssociatedVPCs"] == 2
    assert network["numberOfAssociatedServices"] == 1 and network["authType"] == "NONE"
    snva = lattice.get_service_network_vpc_association(
        serviceNetworkVpcAssociationIdentifier=s["vpc_assocs"][0]["id"])
    assert snva["status"] == "ACTIVE" and snva["vpcId"] == s["vpc_a"]
    assert snva["securityGroupIds"] == [s["sg_a"]] and snva["createdBy"] == ACCOUNT
    # Auth policy verbatim, Active because the service uses AWS_IAM.
    policy = lattice.get_auth_policy(resourceIdentifier=service["arn"])
    assert policy["policy"] == ALLOW_ALL and policy["state"] == "Active"
    # Access logs: the service's to CloudWatch Logs, the network's to S3.
    service_logs = lattice.list_access_log_subscriptions(resourceIdentifier=sid)["items"]
    assert [(a["destinationArn"], a["resourceArn"]) for a in service_logs] == [
        (LOG_GROUP, service["arn"])]
    network_logs = lattice.get_access_log_subscription(
        accessLogSubscriptionIdentifier=s["network_logs"]["arn"])
    assert network_logs["destinationArn"] == BUCKET
    assert network_logs["serviceNetworkLogType"] == "SERVICE"
    assert re.fullmatch(r"als-[0-9a-z]{17}", network_logs["id"])


def test_target_status_follows_use(fresh: Server) -> None:
    lattice = fresh.client("vpc-lattice", region=REGION, account=ACCOUNT)
    vpc, _, instance = vpc_with_instance(fresh, "10.2.0.0/16")
    tg = lattice.create_target_group(name="web", type="INSTANCE", config={
        "port": 80, "protocol": "HTTP", "vpcIdentifier": vpc})
    lattice.register_targets(targetGroupIdentifier=tg["id"], targets=[{"id": instance}])
    assert lattice.list_targets(targetGroupIdentifier=tg["id"])["items"] == [
        {"id": instance, "port": 80, "status": "UNUSED", "reasonCode": "TargetGroupNotInUse"}]
    svc = lattice.create_service(name="web")
    lattice.create_listener(serviceIdentifier=svc["id"], name="http", protocol="HTTP",
                            defaultAction={"forward": {"targetGroups": [
                                {"targetGroupIdentifier": tg["id"]}]}})
    assert lattice.list_targets(targetGroupIdentifier=tg["id"])["items"][0]["status"] == \
        "INITIAL"
    out = lattice.deregister_targets(targetGroupIdentifier=tg["id"],
                                     targets=[{"id": instance}, {"id": "i-0123456789abcdef0"}])
    assert out["successful"] == [{"id": instance, "port": 80}]
    assert out["unsuccessful"][0]["failureCode"] == "TargetNotFound"
    assert lattice.list_targets(targetGroupIdentifier=tg["id"])["items"] == []


def test_invalid_targets_are_reported_one_by_one(fresh: Server) -> None:
    lattice = fresh.client("vpc-lattice", region=REGION, account=ACCOUNT)
    vpc, _, instance = vpc_with_instance(fresh, "10.3.0.0/16")
    ip_tg = lattice.create_target_group(name="ips", type="IP", config={
        "port": 8080, "protocol": "HTTP", "vpcIdentifier": vpc})
    assert ip_tg["config"]["ipAddressType"] == "IPV4"
    out = lattice.register_targets(targetGroupIdentifier=ip_tg["id"], targets=[
        {"id": "10.3.1.10"}, {"id": "192.168.0.1"}, {"id": "not-an-ip"},
        {"id": "10.3.1.11", "port": 9090}])
    assert out["successful"] == [{"id": "10.3.1.10", "port": 8080},
                                 {"id": "10.3.1.11", "port": 9090}]
    assert [u["id"] for u in out["unsuccessful"]] == ["192.168.0.1", "not-an-ip"]
    inst_tg = lattice.create_target_group(name="insts", type="INSTANCE", config={
        "port": 80, "protocol": "HTTP", "vpcIdentifier": vpc})
    out = lattice.register_targets(targetGroupIdentifier=inst_tg["id"], targets=[
        {"id": instance}, {"id": "i-0000000000000000f"}])
    assert [t["id"] for t in out["successful"]] == [instance]
    assert out["unsuccessful"][0]["failureCode"] == "InvalidTargetId"
    fn_tg = lattice.create_target_group(name="fn-group", type="LAMBDA",
                                        config={"lambdaEventStructureVersion": "V2"})
    out = lattice.register_targets(targetGroupIdentifier=fn_tg["id"], targets=[
        {"id": FUNCTION}, {"id": FUNCTION + "-other"},
        {"id": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:far"}])
    assert [t["id"] for t in out["successful"]] == [FUNCTION]
    assert [u["failureCode"] for u in out["unsuccessful"]] == [
        "TargetLimitExceeded", "InvalidTargetId"]


def test_validation_errors_name_the_field(fresh: Server) -> None:
    lattice = fresh.client("vpc-lattice", region=REGION, account=ACCOUNT)
    with pytest.raises(ClientError) as bad_name:
        lattice.create_service_network(name="Bad--Name")
    e = error(bad_name)
    assert e["Code"] == "ValidationException" and e["status"] == 400
    assert e["reason"] == "fieldValidationFailed"
    assert e["fieldList"][0]["name"] == "name"
    assert "regular expression pattern" in e["fieldList"][0]["message"]
    with pytest.raises(ClientError) as reserved:
        lattice.create_service(name="svc-reserved")
    assert error(reserved)["fieldList"][0]["name"] == "name"
    with pytest.raises(ClientError) as lambda_port:
        lattice.create_target_group(name="fn-group", type="LAMBDA", config={"port": 80})
    e = error(lambda_port)
    assert e["Code"] == "ValidationException" and e["fieldList"][0]["name"] == "config.port"
    with pytest.raises(ClientError) as no_vpc:
        lattice.create_target_group(name="web", type="IP", config={
            "port": 80, "protocol": "HTTP", "vpcIdentifier": "vpc-0123456789abcdef0"})
    e = error(no_vpc)
    assert e["Code"] == "ResourceNotFoundException" and e["status"] == 404
    assert e["resourceId"] == "vpc-0123456789abcdef0" and e["resourceType"] == "VPC"


def listener_setup(fresh: Server) -> tuple[Any, str, str, list[str]]:
    lattice = fresh.client("vpc-lattice", region=REGION, account=ACCOUNT)
    vpc, _, _ = vpc_with_instance(fresh, "10.4.0.0/16")
    tgs = [lattice.create_target_group(name=f"group-{i}", type="IP", config={
        "port": 80, "protocol": "HTTP", "vpcIdentifier": vpc})["id"] for i in range(11)]
    svc = lattice.create_service(name="routes")["id"]
    listener = lattice.create_listener(
        serviceIdentifier=svc, name="http", protocol="HTTP",
        defaultAction={"fixedResponse": {"statusCode": 404}})["id"]
    return lattice, svc, listener, tgs


def test_rule_errors(fresh: Server) -> None:
    lattice, svc, listener, tgs = listener_setup(fresh)

    def rule(name: str, priority: int, match: dict[str, Any] | None = None,
             action: dict[str, Any] | None = None) -> dict[str, Any]:
        return dict(lattice.create_rule(
            serviceIdentifier=svc, listenerIdentifier=listener, name=name, priority=priority,
            match=match or {"httpMatch": {"pathMatch": {"match": {"exact": "/a"},
                                                        "caseSensitive": True}}},
            action=action or {"forward": {"targetGroups": [{"targetGroupIdentifier":
                                                            tgs[0]}]}}))

    first = rule("first", 10)
    with pytest.raises(ClientError) as same_priority:
        rule("second", 10)
    e = error(same_priority)
    assert e["Code"] == "ConflictException" and e["status"] == 409
    assert e["resourceId"] == first["id"] and e["resourceType"] == "RULE"
    with pytest.raises(ClientError) as no_slash:
        rule("prefix", 11, {"httpMatch": {"pathMatch": {"match": {"prefix": "to-instance"}}}})
    e = error(no_slash)
    assert e["Code"] == "ValidationException" and e["reason"] == "fieldValidationFailed"
    assert e["fieldList"][0]["name"] == "match.httpMatch.pathMatch.match.prefix"
    with pytest.raises(ClientError) as eleven:
        rule("eleven", 12, action={"forward": {"targetGroups": [
            {"targetGroupIdentifier": t} for t in tgs]}})
    assert error(eleven)["Code"] == "ValidationException"
    with pytest.raises(ClientError) as heavy:
        rule("heavy", 13, action={"forward": {"targetGroups": [
            {"targetGroupIdentifier": tgs[0], "weight": 1000}]}})
    assert "less than or equal to 999" in error(heavy)["Message"]
    with pytest.raises(ClientError) as ok_status:
        rule("fixed", 14, action={"fixedResponse": {"statusCode": 200}})
    assert error(ok_status)["Code"] == "ValidationException"
    fixed = rule("fixed", 14, action={"fixedResponse": {"statusCode": 500}})
    assert fixed["action"] == {"fixedResponse": {"statusCode": 500}}
    with pytest.raises(ClientError) as missing:
        rule("ghost", 15, action={"forward": {"targetGroups": [
            {"targetGroupIdentifier": "tg-0123456789abcdef0"}]}})
    assert error(missing)["resourceType"] == "TARGET_GROUP"
    with pytest.raises(ClientError) as in_use:
        lattice.delete_target_group(targetGroupIdentifier=tgs[0])
    assert error(in_use)["Code"] == "ConflictException"
    with pytest.raises(ClientError) as default_rule:
        default = lattice.list_rules(serviceIdentifier=svc, listenerIdentifier=listener)[
            "items"][-1]
        lattice.delete_rule(serviceIdentifier=svc, listenerIdentifier=listener,
                            ruleIdentifier=default["id"])
    assert error(default_rule)["Code"] == "ValidationException"


def test_listener_errors_and_quota(fresh: Server) -> None:
    lattice, svc, _, tgs = listener_setup(fresh)
    with pytest.raises(ClientError) as same_port:
        lattice.create_listener(serviceIdentifier=svc, name="again", protocol="HTTP",
                                port=80, defaultAction={"fixedResponse": {"statusCode": 404}})
    assert error(same_port)["Code"] == "ConflictException"
    with pytest.raises(ClientError) as passthrough:
        lattice.create_listener(serviceIdentifier=svc, name="tls", protocol="TLS_PASSTHROUGH",
                                port=8443, defaultAction={"forward": {"targetGroups": [
                                    {"targetGroupIdentifier": tgs[0]}]}})
    assert "custom domain" in error(passthrough)["Message"]
    lattice.create_listener(serviceIdentifier=svc, name="second", protocol="HTTPS",
                            defaultAction={"fixedResponse": {"statusCode": 404}})
    with pytest.raises(ClientError) as third:
        lattice.create_listener(serviceIdentifier=svc, name="third", protocol="HTTP",
                                port=8080, defaultAction={"fixedResponse": {"statusCode": 404}})
    e = error(third)
    assert e["Code"] == "ServiceQuotaExceededException" and e["status"] == 402
    with pytest.raises(ClientError) as unknown:
        lattice.get_service(serviceIdentifier="svc-0123456789abcdef0")
    e = error(unknown)
    assert e["Code"] == "ResourceNotFoundException"
    assert (e["resourceId"], e["resourceType"]) == ("svc-0123456789abcdef0", "SERVICE")


def test_association_rules(fresh: Server) -> None:
    lattice = fresh.client("vpc-lattice", region=REGION, account=ACCOUNT)
    vpc, sg, _ = vpc_with_instance(fresh, "10.5.0.0/16")
    first = lattice.create_service_network(name="first")["id"]
    second = lattice.create_service_network(name="second")["id"]
    with pytest.raises(ClientError) as dup_name:
        lattice.create_service_network(name="first")
    assert error(dup_name)["Code"] == "ConflictException"
    assoc = lattice.create_service_network_vpc_association(serviceNetworkIdentifier=first,
                                                           vpcIdentifier=vpc)
    assert assoc["status"] == "CREATE_IN_PROGRESS" and re.fullmatch(r"snva-[0-9a-z]{17}",
                                                                     assoc["id"])
    with pytest.raises(ClientError) as second_sn:
        lattice.create_service_network_vpc_association(serviceNetworkIdentifier=second,
                                                       vpcIdentifier=vpc)
    e = error(second_sn)
    assert e["Code"] == "ConflictException" and e["resourceId"] == assoc["id"]
    updated = lattice.update_service_network_vpc_association(
        serviceNetworkVpcAssociationIdentifier=assoc["id"], securityGroupIds=[sg])
    assert updated["securityGroupIds"] == [sg]
    svc = lattice.create_service(name="api")["id"]
    lattice.create_service_network_service_association(serviceNetworkIdentifier=first,
                                                       serviceIdentifier=svc)
    with pytest.raises(ClientError) as dup_assoc:
        lattice.create_service_network_service_association(serviceNetworkIdentifier=first,
                                                           serviceIdentifier=svc)
    assert error(dup_assoc)["Code"] == "ConflictException"
    for call, kwargs in ((lattice.delete_service_network, {"serviceNetworkIdentifier": first}),
                         (lattice.delete_service, {"serviceIdentifier": svc})):
        with pytest.raises(ClientError) as busy:
            call(**kwargs)
        assert error(busy)["Code"] == "ConflictException"
    listed = lattice.list_service_network_vpc_associations(vpcIdentifier=vpc)["items"]
    assert [a["serviceNetworkId"] for a in listed] == [first]
    deleted = lattice.delete_service_network_vpc_association(
        serviceNetworkVpcAssociationIdentifier=assoc["arn"])
    assert deleted["status"] == "DELETE_IN_PROGRESS"
    assert lattice.list_service_network_vpc_associations(vpcIdentifier=vpc)["items"] == []
    lattice.create_service_network_vpc_association(serviceNetworkIdentifier=second,
                                                   vpcIdentifier=vpc)


def test_batch_update_rule_swaps_priorities(fresh: Server) -> None:
    lattice, svc, listener, tgs = listener_setup(fresh)
    made = [lattice.create_rule(
        serviceIdentifier=svc, listenerIdentifier=listener, name=f"pri-{p}", priority=p,
        match={"httpMatch": {"method": "GET", "headerMatches": [
            {"name": "x-tier", "match": {"contains": "gold"}}]}},
        action={"forward": {"targetGroups": [{"targetGroupIdentifier": tgs[1]}]}})
        for p in (1, 2, 3)]
    default = lattice.list_rules(serviceIdentifier=svc, listenerIdentifier=listener)[
        "items"][-1]["id"]
    out = lattice.batch_update_rule(serviceIdentifier=svc, listenerIdentifier=listener, rules=[
        {"ruleIdentifier": made[0]["id"], "priority": 2},
        {"ruleIdentifier": made[1]["arn"], "priority": 1},
        {"ruleIdentifier": made[2]["id"], "priority": 1},
        {"ruleIdentifier": default, "action": {"forward": {"targetGroups": [
            {"targetGroupIdentifier": tgs[2]}]}}},
        {"ruleIdentifier": "rule-0123456789abcdef0", "priority": 9}])
    assert sorted(r["name"] for r in out["successful"]) == ["default", "pri-1", "pri-2"]
    failures = {u["ruleIdentifier"]: u["failureCode"] for u in out["unsuccessful"]}
    assert failures == {made[2]["id"]: "ConflictException",
                        "rule-0123456789abcdef0": "ResourceNotFoundException"}
    listed = lattice.list_rules(serviceIdentifier=svc, listenerIdentifier=listener)["items"]
    assert [r["name"] for r in listed] == ["pri-2", "pri-1", "pri-3", "default"]
    got = lattice.get_listener(serviceIdentifier=svc, listenerIdentifier=listener)
    assert got["defaultAction"]["forward"]["targetGroups"][0]["targetGroupIdentifier"] == \
        tgs[2]
    rule = lattice.update_rule(serviceIdentifier=svc, listenerIdentifier=listener,
                               ruleIdentifier=made[2]["id"], match={"httpMatch": {
                                   "pathMatch": {"match": {"exact": "/x"}}}})
    assert rule["match"] == {"httpMatch": {"pathMatch": {"match": {"exact": "/x"},
                                                         "caseSensitive": False}}}


def test_pagination_and_tags(fresh: Server) -> None:
    lattice = fresh.client("vpc-lattice", region=REGION, account=ACCOUNT)
    made = {lattice.create_service(name=f"page-{i}",
                                   tags={"team": f"t{i}"})["arn"] for i in range(5)}
    first = lattice.list_services(maxResults=2)
    assert len(first["items"]) == 2 and first["nextToken"]
    pages = lattice.get_paginator("list_services").paginate(PaginationConfig={"PageSize": 2})
    seen = [s["arn"] for page in pages for s in page["items"]]
    assert len(seen) == 5 and set(seen) == made
    with pytest.raises(ClientError) as bad_token:
        lattice.list_services(nextToken="garbage")
    assert error(bad_token)["Code"] == "ValidationException"
    arn = sorted(made)[0]
    lattice.tag_resource(resourceArn=arn, tags={"env": "dev"})
    lattice.untag_resource(resourceArn=arn, tagKeys=["team"])
    assert lattice.list_tags_for_resource(resourceArn=arn)["tags"] == {"env": "dev"}
    with pytest.raises(ClientError) as missing:
        lattice.list_tags_for_resource(
            resourceArn=f"arn:aws:vpc-lattice:{REGION}:{ACCOUNT}:service/svc-0123456789abcdef0")
    assert error(missing)["Code"] == "ResourceNotFoundException"


def test_client_token_and_policies(fresh: Server) -> None:
    lattice = fresh.client("vpc-lattice", region=REGION, account=ACCOUNT)
    a = lattice.create_service_network(name="tokened", clientToken="tok-1")
    b = lattice.create_service_network(name="tokened", clientToken="tok-1")
    assert a["id"] == b["id"]
    assert len(lattice.list_service_networks()["items"]) == 1
    with pytest.raises(ClientError) as other_params:
        lattice.create_service_network(name="other", clientToken="tok-1")
    assert error(other_params)["Code"] == "ConflictException"
    # A policy on a NONE network is kept but Inactive; resource policies are verbatim too.
    lattice.put_auth_policy(resourceIdentifier=a["arn"], policy=ALLOW_ALL)
    assert lattice.get_auth_policy(resourceIdentifier=a["id"])["state"] == "Inactive"
    lattice.update_service_network(serviceNetworkIdentifier=a["id"], authType="AWS_IAM")
    assert lattice.get_auth_policy(resourceIdentifier=a["id"])["state"] == "Active"
    with pytest.raises(ClientError) as not_json:
        lattice.put_auth_policy(resourceIdentifier=a["id"], policy="{not json")
    assert error(not_json)["Code"] == "ValidationException"
    lattice.delete_auth_policy(resourceIdentifier=a["id"])
    assert "policy" not in lattice.get_auth_policy(resourceIdentifier=a["id"])
    share = json.dumps({"Version": "2012-10-17", "Statement": []}, indent=2)
    lattice.put_resource_policy(resourceArn=a["arn"], policy=share)
    assert lattice.get_resource_policy(resourceArn=a["arn"])["policy"] == share
    with pytest.raises(ClientError) as bad_dest:
        lattice.create_access_log_subscription(
            resourceIdentifier=a["id"], destinationArn=f"arn:aws:sqs:{REGION}:{ACCOUNT}:q")
    assert error(bad_dest)["Code"] == "ValidationException"
    lattice.create_access_log_subscription(resourceIdentifier=a["id"], destinationArn=BUCKET)
    with pytest.raises(ClientError) as second_s3:
        lattice.create_access_log_subscription(resourceIdentifier=a["id"],
                                               destinationArn=BUCKET + "-2")
    assert error(second_s3)["Code"] == "ConflictException"
    logs = lattice.create_access_log_subscription(resourceIdentifier=a["id"],
                                                  destinationArn=LOG_GROUP)
    moved = f"arn:aws:firehose:{REGION}:{ACCOUNT}:deliverystream/lattice"
    updated = lattice.update_access_log_subscription(
        accessLogSubscriptionIdentifier=logs["id"], destinationArn=moved)
    assert updated["destinationArn"] == moved


def test_restart_keeps_everything(tmp_path: Path) -> None:
    state = tmp_path / "state.db"
    first = start_server(state)
    try:
        s = seed_setup(first)
        lattice = s["lattice"]
        before = {
            "service": lattice.get_service(serviceIdentifier=s["service"]["id"]),
            "rules": lattice.list_rules(serviceIdentifier=s["service"]["id"],
                                        listenerIdentifier=s["listener"]["id"])["items"],
            "listener": lattice.get_listener(serviceIdentifier=s["service"]["id"],
                                             listenerIdentifier=s["listener"]["id"]),
            "targets": lattice.list_targets(targetGroupIdentifier=s["instance_tg"]["id"]),
            "policy": lattice.get_auth_policy(resourceIdentifier=s["service"]["id"]),
            "snvas": lattice.list_service_network_vpc_associations()["items"],
            "logs": lattice.list_access_log_subscriptions(
                resourceIdentifier=s["network"]["id"])["items"]}
    finally:
        stop_server(first)
    second = start_server(state)
    try:
        lattice = second.client("vpc-lattice", region=REGION, account=ACCOUNT)
        after = {
            "service": lattice.get_service(serviceIdentifier=s["service"]["id"]),
            "rules": lattice.list_rules(serviceIdentifier=s["service"]["id"],
                                        listenerIdentifier=s["listener"]["id"])["items"],
            "listener": lattice.get_listener(serviceIdentifier=s["service"]["id"],
                                             listenerIdentifier=s["listener"]["id"]),
            "targets": lattice.list_targets(targetGroupIdentifier=s["instance_tg"]["id"]),
            "policy": lattice.get_auth_policy(resourceIdentifier=s["service"]["id"]),
            "snvas": lattice.list_service_network_vpc_associations()["items"],
            "logs": lattice.list_access_log_subscriptions(
                resourceIdentifier=s["network"]["id"])["items"]}
        for value in (*before.values(), *after.values()):
            if isinstance(value, dict):
                value.pop("ResponseMetadata", None)
        assert after == before
        assert len(after["rules"]) == 3 and len(after["snvas"]) == 2
    finally:
        stop_server(second)


def test_aws_cli_lists_what_boto3_made(fresh: Server) -> None:
    lattice = fresh.client("vpc-lattice", region=REGION)
    lattice.create_service_network(name="from-boto3")
    made = fresh.aws("vpc-lattice", "create-service", "--name", "from-cli", "--auth-type",
                     "AWS_IAM", region=REGION)
    assert made["dnsEntry"]["domainName"].startswith(f"from-cli-{made['id'][4:]}.")
    networks = fresh.aws("vpc-lattice", "list-service-networks", region=REGION)
    assert [n["name"] for n in networks["items"]] == ["from-boto3"]
    got = fresh.aws("vpc-lattice", "get-service", "--service-identifier", made["arn"],
                    region=REGION)
    assert got["status"] == "ACTIVE" and got["authType"] == "AWS_IAM"

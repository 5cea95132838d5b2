"""Elastic Load Balancing v2 (``elbv2``, query protocol): application, network and gateway
load balancers, listeners and rules, target groups and targets, on the model of
``model/elb.py`` that snapshots and topologies also fill, so the trace engine forwards
through API-made load balancers exactly as through imported ones."""

from __future__ import annotations

from localvpc.api.providers.elbv2.listener_attributes import ListenerAttributeOperations
from localvpc.api.providers.elbv2.listeners import ListenerOperations
from localvpc.api.providers.elbv2.load_balancers import LoadBalancerOperations
from localvpc.api.providers.elbv2.tags import TagOperations
from localvpc.api.providers.elbv2.target_groups import TargetGroupOperations
from localvpc.api.registry import Provider


class Elbv2Provider(LoadBalancerOperations, TargetGroupOperations, ListenerOperations,
                    ListenerAttributeOperations, TagOperations, Provider):
    service = "elbv2"

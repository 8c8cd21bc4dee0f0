"""ElastiCache patches: where moto 5.2.5 answers differently from AWS for the
calls stackctl makes.

Checked and already faithful in moto (no patch): CreateCacheSubnetGroup /
CreateCacheCluster / CreateReplicationGroup duplicates
(CacheSubnetGroupAlreadyExists, CacheClusterAlreadyExists,
ReplicationGroupAlreadyExists); Describe* of an unknown name
(CacheSubnetGroupNotFoundFault, CacheClusterNotFound 404,
ReplicationGroupNotFoundFault 404); AddTagsToResource /
RemoveTagsFromResource; TransitEncryptionEnabled, AtRestEncryptionEnabled,
AuthTokenEnabled, AutomaticFailover, ConfigurationEndpoint (cluster mode)
and PrimaryEndpoint (non-cluster mode) of a replication group.
"""

from __future__ import annotations

import copy
import functools
import random
import string
from typing import Any, Callable

from moto.core.responses import ActionResult, EmptyResult, PaginatedResult
from moto.core.utils import utcnow
from moto.elasticache.exceptions import (
    CacheClusterNotFound,
    CacheSubnetGroupNotFound,
    ElastiCacheException,
    InvalidParameterValueException,
    InvalidSubnet,
    ReplicationGroupNotFound,
)
from moto.elasticache.models import (
    CacheCluster,
    CacheSubnetGroup,
    ElastiCacheBackend,
    ReplicationGroup,
    elasticache_backends,
)
from moto.elasticache.responses import ElastiCacheResponse

from .. import deletion, engine_versions, lifecycle, timeline


class CacheSubnetGroupInUse(ElastiCacheException):
    code = "CacheSubnetGroupInUse"

    def __init__(self, name: str) -> None:
        super().__init__(f"Cache subnet group {name} is currently in use by a cache cluster.")


class InvalidCacheClusterState(ElastiCacheException):
    code = "InvalidCacheClusterState"


class InvalidReplicationGroupState(ElastiCacheException):
    code = "InvalidReplicationGroupState"


def _backend(response: ElastiCacheResponse) -> ElastiCacheBackend:
    return elasticache_backends[response.current_account][response.region]


_REGION_WORDS = {
    "north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
    "northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw",
}


def _region_short(region: str) -> str:
    # us-east-1 -> use1, eu-west-1 -> euw1: the region part of ElastiCache
    # endpoint names.
    parts = region.split("-")
    if len(parts) == 3:
        return parts[0] + _REGION_WORDS.get(parts[1], parts[1][:1]) + parts[2]
    return region.replace("-", "")


def _random_domain_label() -> str:
    return "".join(random.choices(string.ascii_lowercase + string.digits, k=6))


# ---------------------------------------------------------------------------
# Identifiers are stored lower-case
# ---------------------------------------------------------------------------
# AWS: CacheClusterId, ReplicationGroupId and CacheSubnetGroupName are "stored
# as a lowercase string"; the lower-cased id is what later calls (and ARNs)
# use, and requests naming the resource in another case find it. moto stored
# the id as given, so "MyCache" could not be found as "mycache" (or the
# reverse) and its ARN kept the capitals.
_LOWERCASED_PARAMS = {"CacheClusterId", "ReplicationGroupId", "CacheSubnetGroupName", "PrimaryClusterId"}


def _patch_lowercase_identifiers() -> None:
    original = ElastiCacheResponse._get_param

    @functools.wraps(original)
    def _get_param(self: ElastiCacheResponse, param_name: str, if_none: Any = None) -> Any:
        value = original(self, param_name, if_none)
        if param_name in _LOWERCASED_PARAMS and isinstance(value, str):
            return value.lower()
        return value

    ElastiCacheResponse._get_param = _get_param  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# Cache subnet groups
# ---------------------------------------------------------------------------
# AWS (CreateCacheSubnetGroup / ModifyCacheSubnetGroup): every subnet must
# exist, else InvalidSubnet; each subnet is reported with
# SubnetAvailabilityZone {Name}. moto invented subnets in us-east-1a for ids
# that do not exist, and put the zone name where a structure belongs (so
# SubnetAvailabilityZone came back empty).
def _patch_cache_subnet_group_model() -> None:
    original_init = CacheSubnetGroup.__init__

    @functools.wraps(original_init)
    def __init__(
        self: CacheSubnetGroup,
        account_id: str,
        region_name: str,
        cache_subnet_group_name: str,
        cache_subnet_group_description: str,
        subnet_ids: list[str],
        tags: Any,
    ) -> None:
        from moto.ec2.models import ec2_backends

        ec2_backend = ec2_backends[account_id][region_name]
        for subnet_id in subnet_ids:
            try:
                ec2_backend.get_subnet(subnet_id)
            except Exception:  # noqa: BLE001 - moto's InvalidSubnetIdError
                raise InvalidSubnet(subnet_id) from None
        original_init(
            self,
            account_id,
            region_name,
            cache_subnet_group_name,
            cache_subnet_group_description,
            subnet_ids,
            tags,
        )
        for subnet in self.subnets:
            zone = subnet.get("subnet_availability_zone")
            if isinstance(zone, str):
                subnet["subnet_availability_zone"] = {"Name": zone}

    CacheSubnetGroup.__init__ = __init__  # type: ignore[method-assign]


def _subnet_group_zones(backend: ElastiCacheBackend, name: str | None) -> list[str]:
    group = backend.cache_subnet_groups.get(name or "")
    zones: list[str] = []
    if group is not None:
        for subnet in group.subnets:
            zone = (subnet.get("subnet_availability_zone") or {}).get("Name")
            if zone and zone not in zones:
                zones.append(zone)
    return zones or [f"{backend.region_name}a"]


def _cache_subnet_group_users(backend: ElastiCacheBackend, name: str) -> list[str]:
    users = [
        cluster.cache_cluster_id
        for cluster in list(backend.cache_clusters.values())
        if cluster.cache_subnet_group_name == name
    ]
    users += [
        group.replication_group_id
        for group in list(backend.replication_groups.values())
        if group.cache_subnet_group_name == name
    ]
    return users


# AWS ModifyCacheSubnetGroup: changes the description and/or replaces the
# subnets (each must exist: InvalidSubnet); unknown group:
# CacheSubnetGroupNotFoundFault. moto answered 500 (not implemented).
def modify_cache_subnet_group(self: ElastiCacheResponse) -> ActionResult:
    backend = _backend(self)
    name = self._get_param("CacheSubnetGroupName")
    group = backend.describe_cache_subnet_groups(cache_subnet_group_name=name)[0]
    description = self._get_param("CacheSubnetGroupDescription")
    subnet_ids = self._get_param("SubnetIds")
    if subnet_ids:
        rebuilt = CacheSubnetGroup(
            account_id=backend.account_id,
            region_name=backend.region_name,
            cache_subnet_group_name=group.cache_subnet_group_name,
            cache_subnet_group_description=group.cache_subnet_group_description,
            subnet_ids=subnet_ids,
            tags=None,
        )
        group.subnet_ids = rebuilt.subnet_ids
        group.subnets = rebuilt.subnets
        group.supported_network_types = rebuilt.supported_network_types
        group.vpc_id = rebuilt.vpc_id
    if description is not None:
        group.cache_subnet_group_description = description
    return ActionResult({"CacheSubnetGroup": group})


# AWS DeleteCacheSubnetGroup: CacheSubnetGroupNotFoundFault for an unknown
# name, CacheSubnetGroupInUse while any cache cluster or replication group
# (deleting ones included) is in the group. moto answered 500 (not
# implemented).
def delete_cache_subnet_group(self: ElastiCacheResponse) -> ActionResult:
    backend = _backend(self)
    name = self._get_param("CacheSubnetGroupName")
    group = backend.describe_cache_subnet_groups(cache_subnet_group_name=name)[0]
    if _cache_subnet_group_users(backend, group.cache_subnet_group_name):
        raise CacheSubnetGroupInUse(group.cache_subnet_group_name)
    del backend.cache_subnet_groups[group.cache_subnet_group_name]
    backend.tagging_service.delete_all_tags_for_resource(group.arn)
    return EmptyResult()


# ---------------------------------------------------------------------------
# Cache clusters
# ---------------------------------------------------------------------------
# AWS CacheCluster, as DescribeCacheClusters returns it:
#  * SecurityGroups [{SecurityGroupId, Status: active}] for the VPC security
#    groups (moto dropped them).
#  * CacheParameterGroup {CacheParameterGroupName, ParameterApplyStatus,
#    CacheNodeIdsToReboot}, the engine's default group when none was given
#    (moto: missing).
#  * With ShowCacheNodeInfo=true only: CacheNodes, each with CacheNodeId
#    (0001, 0002, ...), CacheNodeStatus, CacheNodeCreateTime, Endpoint
#    {Address, Port}, ParameterGroupStatus, CustomerAvailabilityZone (moto:
#    missing). Memcached clusters also have ConfigurationEndpoint.
#  * PreferredAvailabilityZone, EngineVersion (the current one when none was
#    asked for), Port 11211 for memcached (moto: 6379 for every engine),
#    PendingModifiedValues.
_DEFAULT_ENGINE_VERSION = {"redis": "7.1.0", "valkey": "8.0.1", "memcached": "1.6.22"}


def _default_parameter_group(engine: str, version: str | None) -> str:
    # default.redis7, default.redis6.x, default.redis5.0, default.valkey8,
    # default.memcached1.6: the family of the engine version.
    parts = (version or _DEFAULT_ENGINE_VERSION.get(engine, "0")).split(".")
    if engine == "memcached":
        return f"default.memcached{'.'.join(parts[:2])}"
    if engine == "redis" and parts[0] == "6":
        return "default.redis6.x"
    if engine == "redis" and int(parts[0] or 0) < 6:
        return f"default.redis{'.'.join(parts[:2])}"
    return f"default.{engine}{parts[0]}"


def _security_groups(self: CacheCluster) -> list[dict[str, str]]:
    return [{"SecurityGroupId": sg, "Status": "active"} for sg in self.security_group_ids or []]


def _cache_parameter_group(self: CacheCluster) -> dict[str, Any]:
    return {
        "CacheParameterGroupName": self.cache_parameter_group_name
        or _default_parameter_group(self.engine, self.engine_version),
        "ParameterApplyStatus": "in-sync",
        "CacheNodeIdsToReboot": [],
    }


def _make_node(cluster: CacheCluster, index: int, zone: str, address: str) -> dict[str, Any]:
    return {
        "CacheNodeId": f"{index:04d}",
        "CacheNodeStatus": "available",
        "CacheNodeCreateTime": utcnow(),
        "Endpoint": {"Address": address, "Port": cluster.port},
        "ParameterGroupStatus": "in-sync",
        "CustomerAvailabilityZone": zone,
    }


def _standalone_node_address(backend: ElastiCacheBackend, cluster: CacheCluster, index: int) -> str:
    return (
        f"{cluster.cache_cluster_id}.{cluster._stackctl_domain}.{index:04d}."
        f"{_region_short(backend.region_name)}.cache.amazonaws.com"
    )


def _resize_nodes(backend: ElastiCacheBackend, cluster: CacheCluster, count: int, remove: list[str] | None = None) -> None:
    nodes: list[dict[str, Any]] = cluster._stackctl_nodes
    if remove:
        nodes[:] = [n for n in nodes if n["CacheNodeId"] not in remove]
    zones = _subnet_group_zones(backend, cluster.cache_subnet_group_name)
    while len(nodes) > count:
        nodes.pop()
    next_index = max([int(n["CacheNodeId"]) for n in nodes] or [0]) + 1
    while len(nodes) < count:
        if cluster.az_mode == "cross-az":
            zone = zones[(next_index - 1) % len(zones)]
        else:
            zone = cluster.preferred_availability_zone or zones[0]
        nodes.append(
            _make_node(cluster, next_index, zone, _standalone_node_address(backend, cluster, next_index))
        )
        next_index += 1
    cluster.num_cache_nodes = len(nodes)


def _finish_cluster(
    backend: ElastiCacheBackend,
    cluster: CacheCluster,
    member_address: str | None = None,
) -> None:
    engine = cluster.engine or "redis"
    cluster.engine = engine
    # moto sets these only for engine == "redis" (not valkey).
    for attribute in ("replication_group_id", "snapshot_window", "snapshot_name"):
        if not hasattr(cluster, attribute):
            setattr(cluster, attribute, None)
    if engine != "memcached":
        cluster.num_cache_nodes = 1
    if not cluster.engine_version:
        cluster.engine_version = _DEFAULT_ENGINE_VERSION.get(engine)
    if engine == "memcached" and cluster.port == 6379:
        cluster.port = 11211
    zones = _subnet_group_zones(backend, cluster.cache_subnet_group_name)
    if not cluster.preferred_availability_zone:
        cluster.preferred_availability_zone = (
            "Multiple" if cluster.az_mode == "cross-az" and cluster.num_cache_nodes > 1 else zones[0]
        )
    cluster.pending_modified_values = {}
    cluster._stackctl_domain = _random_domain_label()
    cluster._stackctl_nodes = []
    if member_address is not None:
        cluster._stackctl_nodes.append(
            _make_node(cluster, 1, cluster.preferred_availability_zone, member_address)
        )
    else:
        _resize_nodes(backend, cluster, cluster.num_cache_nodes)
    if engine == "memcached":
        cluster.configuration_endpoint = {
            "Address": (
                f"{cluster.cache_cluster_id}.{cluster._stackctl_domain}.cfg."
                f"{_region_short(backend.region_name)}.cache.amazonaws.com"
            ),
            "Port": cluster.port,
        }


def _patch_cache_cluster_model() -> None:
    CacheCluster.security_groups = property(_security_groups)  # type: ignore[attr-defined]
    CacheCluster.cache_parameter_group = property(_cache_parameter_group)  # type: ignore[attr-defined]


def _check_redis_node_count(engine: str | None, count: int | None) -> None:
    # AWS (CreateCacheCluster / ModifyCacheCluster NumCacheNodes): "For
    # clusters running Valkey or Redis OSS, this value must be 1." moto
    # silently used 1.
    if (engine or "redis") != "memcached" and count is not None and count != 1:
        raise InvalidParameterValueException(
            f"NumCacheNodes must be 1 for engine {engine or 'redis'}, got {count}."
        )


# AWS CreateCacheCluster: an unknown CacheSubnetGroupName is
# CacheSubnetGroupNotFoundFault, an unknown ReplicationGroupId is
# ReplicationGroupNotFoundFault. moto created the cluster anyway.
_original_create_cache_cluster = ElastiCacheBackend.create_cache_cluster


def _patch_create_cache_cluster() -> None:
    @functools.wraps(_original_create_cache_cluster)
    def create_cache_cluster(self: ElastiCacheBackend, **kwargs: Any) -> CacheCluster:
        subnet_group = kwargs.get("cache_subnet_group_name")
        if subnet_group and subnet_group not in self.cache_subnet_groups:
            raise CacheSubnetGroupNotFound(subnet_group)
        group_id = kwargs.get("replication_group_id")
        if group_id and group_id not in self.replication_groups:
            raise ReplicationGroupNotFound(group_id)
        _check_redis_node_count(kwargs.get("engine"), kwargs.get("num_cache_nodes"))
        cluster = _original_create_cache_cluster(self, **kwargs)
        _finish_cluster(self, cluster)
        if lifecycle.enabled():
            _set_cluster_busy(cluster, "creating")
            lifecycle.schedule(
                self, ("cluster", cluster.cache_cluster_id), [(1.0, _cluster_available(cluster, "creating"))]
            )
        return cluster

    ElastiCacheBackend.create_cache_cluster = create_cache_cluster  # type: ignore[method-assign]


# AWS DescribeCacheClusters: CacheNodes only with ShowCacheNodeInfo=true;
# ShowCacheClustersNotInReplicationGroups=true leaves out replication group
# members. moto ignored both.
def describe_cache_clusters(self: ElastiCacheResponse) -> ActionResult:
    backend = _backend(self)
    clusters = backend.describe_cache_clusters(cache_cluster_id=self._get_param("CacheClusterId"))
    if self._get_bool_param("ShowCacheClustersNotInReplicationGroups", False):
        clusters = [c for c in clusters if not getattr(c, "replication_group_id", None)]
    show_nodes = self._get_bool_param("ShowCacheNodeInfo", False)
    views = []
    for cluster in clusters:
        view = copy.copy(cluster)
        view.cache_nodes = (
            copy.deepcopy(getattr(cluster, "_stackctl_nodes", [])) if show_nodes else None
        )
        views.append(view)
    return PaginatedResult({"CacheClusters": views})


def _require_available_cluster(cluster: CacheCluster) -> None:
    if cluster.cache_cluster_status != "available":
        raise InvalidCacheClusterState(
            f"Cache cluster {cluster.cache_cluster_id} is not in available state"
            f" (it is {cluster.cache_cluster_status})."
        )


# AWS ModifyCacheCluster (moto: 500 not implemented). Applied at once:
# SecurityGroupIds, PreferredMaintenanceWindow, SnapshotRetentionLimit,
# SnapshotWindow, CacheParameterGroupName, NotificationTopicArn,
# AutoMinorVersionUpgrade. CacheNodeType, NumCacheNodes and EngineVersion are
# applied at once only with ApplyImmediately=true (which also applies what
# was pending); otherwise they wait in PendingModifiedValues for the
# maintenance window (which never comes here). Unknown cluster:
# CacheClusterNotFound; a cluster that is not available (e.g. deleting):
# InvalidCacheClusterState.
def modify_cache_cluster(self: ElastiCacheResponse) -> ActionResult:
    backend = _backend(self)
    cluster = backend.describe_cache_clusters(cache_cluster_id=self._get_param("CacheClusterId"))[0]
    _require_available_cluster(cluster)
    apply_now = self._get_bool_param("ApplyImmediately", False)

    num_nodes = self._get_int_param("NumCacheNodes")
    _check_redis_node_count(cluster.engine, num_nodes)
    to_remove = self._get_param("CacheNodeIdsToRemove") or []

    security_group_ids = self._get_param("SecurityGroupIds")
    if security_group_ids is not None:
        cluster.security_group_ids = list(security_group_ids)
    for param, attribute in (
        ("PreferredMaintenanceWindow", "preferred_maintenance_window"),
        ("SnapshotWindow", "snapshot_window"),
        ("CacheParameterGroupName", "cache_parameter_group_name"),
        ("NotificationTopicArn", "notification_topic_arn"),
    ):
        value = self._get_param(param)
        if value is not None:
            setattr(cluster, attribute, value)
    retention = self._get_int_param("SnapshotRetentionLimit")
    if retention is not None:
        cluster.snapshot_retention_limit = retention
    auto_minor = self._get_bool_param("AutoMinorVersionUpgrade")
    if auto_minor is not None:
        cluster.auto_minor_version_upgrade = auto_minor

    pending: dict[str, Any] = cluster.pending_modified_values
    requested: dict[str, Any] = {}
    node_type = self._get_param("CacheNodeType")
    if node_type is not None and node_type != cluster.cache_node_type:
        requested["CacheNodeType"] = node_type
    engine_version = self._get_param("EngineVersion")
    _check_engine_version(cluster.engine, engine_version, cluster.engine_version)
    if engine_version is not None and engine_version != cluster.engine_version:
        requested["EngineVersion"] = engine_version
    if num_nodes is not None and num_nodes != cluster.num_cache_nodes:
        requested["NumCacheNodes"] = num_nodes
        if to_remove:
            requested["CacheNodeIdsToRemove"] = list(to_remove)
    pending.update(requested)

    def begin() -> None:
        if cluster.cache_cluster_status == "deleting":
            return
        if apply_now and pending:
            if "CacheNodeType" in pending:
                cluster.cache_node_type = pending["CacheNodeType"]
            if "EngineVersion" in pending:
                cluster.engine_version = pending["EngineVersion"]
            if "NumCacheNodes" in pending:
                _resize_nodes(backend, cluster, pending["NumCacheNodes"], pending.get("CacheNodeIdsToRemove"))
            pending.clear()
        if lifecycle.enabled():
            _set_cluster_busy(cluster, "modifying")

    # STACKCTL_EMULATOR_MODIFY_LAG_SECONDS: the cluster reports "available"
    # (the changes pending) for a while before "modifying".
    lifecycle.schedule_modification(
        backend, ("cluster", cluster.cache_cluster_id), begin, _cluster_available(cluster, "modifying")
    )
    return ActionResult({"CacheCluster": cluster})


# ---------------------------------------------------------------------------
# Creation and modification take time (STACKCTL_EMULATOR_CREATE_SECONDS)
# ---------------------------------------------------------------------------
# AWS: CreateCacheCluster answers CacheClusterStatus "creating"; its nodes
# are "creating" and have no Endpoint yet; a while later cluster and nodes
# are "available" with endpoints. ModifyCacheCluster makes it "modifying" for
# a while. CreateReplicationGroup: the group and its member clusters are
# "creating", then "available"; ModifyReplicationGroup: "modifying", then
# "available". Modify / Delete of a cluster or group that is not available
# is InvalidCacheClusterState / InvalidReplicationGroupState (checked
# above). moto answered "available" at once. A deletion meanwhile wins: the
# final step only moves on from the status it expects.
def _set_cluster_busy(cluster: CacheCluster, status: str) -> None:
    cluster.cache_cluster_status = status
    cluster.status = status
    if status == "creating":
        hidden = cluster.__dict__.setdefault("_stackctl_hidden_endpoints", {})
        for node in getattr(cluster, "_stackctl_nodes", []):
            node["CacheNodeStatus"] = "creating"
            if "Endpoint" in node:
                hidden[node["CacheNodeId"]] = node.pop("Endpoint")


def _cluster_available(cluster: CacheCluster, expected: str) -> Any:
    def finish() -> None:
        if cluster.cache_cluster_status != expected:
            return
        cluster.cache_cluster_status = "available"
        cluster.status = "available"
        hidden = cluster.__dict__.pop("_stackctl_hidden_endpoints", {})
        for node in getattr(cluster, "_stackctl_nodes", []):
            if node["CacheNodeStatus"] == "creating":
                node["CacheNodeStatus"] = "available"
            if node["CacheNodeId"] in hidden:
                node["Endpoint"] = hidden[node["CacheNodeId"]]

    return finish


def _set_group_busy(
    backend: ElastiCacheBackend,
    group: ReplicationGroup,
    status: str,
    change: Callable[[], None] | None = None,
) -> None:
    """``change``: what the modification does to the group, applied when it
    begins (after STACKCTL_EMULATOR_MODIFY_LAG_SECONDS; until then AWS shows
    the old values and status)."""
    member_steps: list[Any] = []

    def begin() -> None:
        if group.status == "deleting":
            return
        if change is not None:
            change()
        if not lifecycle.enabled():
            return
        group.status = status
        members = _members(backend, group)
        for member in members:
            _set_cluster_busy(member, status)
        member_steps.extend(_cluster_available(member, status) for member in members)

    def finish() -> None:
        for step in member_steps:
            step()
        if group.status == status:
            group.status = "available"

    key = ("replicationgroup", group.replication_group_id)
    if status == "creating":
        begin()
        lifecycle.schedule(backend, key, [(1.0, finish)])
    else:
        # STACKCTL_EMULATOR_MODIFY_LAG_SECONDS: "available" for a while first.
        lifecycle.schedule_modification(backend, key, begin, finish)


def _mark_deleting(cluster: CacheCluster) -> None:
    cluster.cache_cluster_status = "deleting"
    cluster.status = "deleting"
    for node in getattr(cluster, "_stackctl_nodes", []):
        node["CacheNodeStatus"] = "deleting"


def _forget_cluster(backend: ElastiCacheBackend, cluster_id: str) -> None:
    cluster = backend.cache_clusters.pop(cluster_id, None)
    if cluster is not None:
        backend.tagging_service.delete_all_tags_for_resource(cluster.arn)


# AWS DeleteCacheCluster: answers the cluster as "deleting", a while later it
# is gone (DescribeCacheClusters: CacheClusterNotFound). moto left it
# "deleting" forever, so waiting for the deletion never ended (and its
# subnet group stayed in use). FinalSnapshotIdentifier makes a final
# snapshot (moto ignored it). Deleting a cluster that is not available is
# InvalidCacheClusterState. Members of a replication group are removed
# through the replication group (not supported here: a loud
# InvalidCacheClusterState rather than a silent half-deletion).
def delete_cache_cluster(self: ElastiCacheResponse) -> ActionResult:
    backend = _backend(self)
    cluster_id = self._get_param("CacheClusterId")
    cluster = backend.describe_cache_clusters(cache_cluster_id=cluster_id)[0]
    _require_available_cluster(cluster)
    group_id = getattr(cluster, "replication_group_id", None)
    if group_id and group_id in backend.replication_groups:
        raise InvalidCacheClusterState(
            f"Cache cluster {cluster_id} is a member of replication group {group_id};"
            " the emulator only deletes it with the replication group."
        )
    final_snapshot = self._get_param("FinalSnapshotIdentifier")
    if final_snapshot:
        backend.create_snapshot(
            snapshot_name=final_snapshot,
            replication_group_id=None,
            cache_cluster_id=cluster.cache_cluster_id,
            kms_key_id=None,
            tags=None,
        )
    _mark_deleting(cluster)
    deletion.pending(backend).schedule(
        ("cluster", cluster.cache_cluster_id),
        lambda: _forget_cluster(backend, cluster.cache_cluster_id),
    )
    return ActionResult({"CacheCluster": cluster})


# ---------------------------------------------------------------------------
# Replication groups
# ---------------------------------------------------------------------------
# AWS CreateReplicationGroup:
#  * unknown CacheSubnetGroupName: CacheSubnetGroupNotFoundFault (moto
#    created the group anyway);
#  * NumCacheClusters (cluster mode disabled) is the number of nodes: primary
#    plus NumCacheClusters-1 replicas (moto made only the primary unless
#    ReplicasPerNodeGroup was given);
#  * NodeGroups[].ReaderEndpoint {Address, Port} next to PrimaryEndpoint in
#    cluster mode disabled (moto: missing);
#  * every member is a cache cluster of its own, listed by
#    DescribeCacheClusters with ReplicationGroupId, the group's node type,
#    engine, subnet group and security groups, one cache node each (moto:
#    members did not exist as clusters);
#  * the default SnapshotWindow is a valid hh:mm-hh:mm range (moto:
#    "05:00-6:00");
#  * a parameter group whose name ends in ".cluster.on" means cluster mode
#    enabled, as in AWS (moto only looked at ClusterMode).
_original_create_replication_group = ElastiCacheBackend.create_replication_group


def _group_domain(group: ReplicationGroup) -> str:
    if group.cluster_mode == "enabled":
        return group.configuration_endpoint["address"].split(".", 1)[1]
    return group.node_groups[0]["primary_endpoint_address"].split(".", 1)[1]


def _member_kwargs(group: ReplicationGroup, cluster_id: str, zone: str, engine_version: str | None) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        name: None
        for name in _original_create_cache_cluster.__code__.co_varnames[
            1 : _original_create_cache_cluster.__code__.co_argcount
        ]
    }
    kwargs.update(
        cache_cluster_id=cluster_id,
        replication_group_id=group.replication_group_id,
        preferred_availability_zone=zone,
        num_cache_nodes=1,
        cache_node_type=group.cache_node_type,
        engine=group.engine,
        engine_version=engine_version,
        cache_parameter_group_name=group.cache_parameter_group_name,
        cache_subnet_group_name=group.cache_subnet_group_name,
        security_group_ids=list(group.security_group_ids or []),
        preferred_maintenance_window=group.preferred_maintenance_window,
        port=group.port,
        notification_topic_arn=group.notification_topic_arn,
        auto_minor_version_upgrade=group.auto_minor_version_upgrade,
        snapshot_retention_limit=group.snapshot_retention_limit,
        snapshot_window=group.snapshot_window,
        transit_encryption_enabled=group.transit_encryption_enabled,
        tags=[],
        log_delivery_configurations=[],
        cache_node_ids_to_remove=[],
        cache_node_ids_to_reboot=[],
    )
    return kwargs


def _patch_create_replication_group() -> None:
    @functools.wraps(_original_create_replication_group)
    def create_replication_group(self: ElastiCacheBackend, **kwargs: Any) -> ReplicationGroup:
        subnet_group = kwargs.get("cache_subnet_group_name")
        if subnet_group and subnet_group not in self.cache_subnet_groups:
            raise CacheSubnetGroupNotFound(subnet_group)
        if not kwargs.get("cluster_mode") and (kwargs.get("cache_parameter_group_name") or "").endswith(
            ".cluster.on"
        ):
            kwargs["cluster_mode"] = "enabled"
        cluster_mode_enabled = kwargs.get("cluster_mode") == "enabled"
        if not cluster_mode_enabled and kwargs.get("num_cache_clusters") and not kwargs.get(
            "replicas_per_node_group"
        ):
            kwargs["replicas_per_node_group"] = kwargs["num_cache_clusters"] - 1
        explicit_zones = bool(kwargs.get("preferred_cache_cluster_azs") or kwargs.get("node_group_configuration"))

        group = _original_create_replication_group(self, **kwargs)

        if not kwargs.get("snapshot_window"):
            group.snapshot_window = "05:00-06:00"
        zones = _subnet_group_zones(self, group.cache_subnet_group_name)
        domain = _group_domain(group)
        for node_group in group.node_groups:
            if group.cluster_mode != "enabled":
                node_group["reader_endpoint"] = {
                    "address": node_group["reader_endpoint_address"],
                    "port": group.port,
                }
            for index, member in enumerate(node_group["node_group_members"]):
                if not explicit_zones:
                    member["preferred_availability_zone"] = zones[index % len(zones)]
                cluster_id = member["cache_cluster_id"]
                cluster = _original_create_cache_cluster(
                    self,
                    **_member_kwargs(
                        group, cluster_id, member["preferred_availability_zone"], kwargs.get("engine_version")
                    ),
                )
                cluster.replication_group_id = group.replication_group_id
                address = (member.get("read_endpoint") or {}).get("address") or f"{cluster_id}.{domain}"
                _finish_cluster(self, cluster, member_address=address)
                cluster.auth_token_enabled = group.auth_token_enabled
                cluster.at_rest_encryption_enabled = group.at_rest_encryption_enabled
                self.cache_clusters[cluster_id] = cluster
        if lifecycle.enabled():
            _set_group_busy(self, group, "creating")
        return group

    ElastiCacheBackend.create_replication_group = create_replication_group  # type: ignore[method-assign]


def _members(backend: ElastiCacheBackend, group: ReplicationGroup) -> list[CacheCluster]:
    return [
        backend.cache_clusters[cid] for cid in group.member_clusters if cid in backend.cache_clusters
    ]


def _require_available_group(group: ReplicationGroup) -> None:
    if group.status != "available":
        raise InvalidReplicationGroupState(
            f"Replication group {group.replication_group_id} is not in available state"
            f" (it is {group.status})."
        )


# AWS ModifyReplicationGroup: besides what moto handled (description,
# CacheNodeType, AutomaticFailoverEnabled, MultiAZEnabled,
# SnapshotRetentionLimit), SecurityGroupIds, SnapshotWindow,
# PreferredMaintenanceWindow, CacheParameterGroupName, EngineVersion,
# AutoMinorVersionUpgrade, NotificationTopicArn and AuthToken change the
# group; node-level settings (node type, security groups, engine version,
# parameter group, windows) show on every member cluster. moto ignored those
# parameters (SecurityGroupIds silently did nothing). A group that is not
# available: InvalidReplicationGroupState.
def modify_replication_group(self: ElastiCacheResponse) -> ActionResult:
    backend = _backend(self)
    group_id = self._get_param("ReplicationGroupId")
    group = backend.describe_replication_groups(replication_group_id=group_id)[0]
    _require_available_group(group)
    backend.modify_replication_group(
        replication_group_id=group.replication_group_id,
        replication_group_description=self._get_param("ReplicationGroupDescription"),
        engine=self._get_param("Engine"),
        cache_node_type=None,
        automatic_failover_enabled=None,
        multi_az_enabled=None,
        snapshot_retention_limit=self._get_int_param("SnapshotRetentionLimit"),
    )
    node_type = self._get_param("CacheNodeType")
    failover = self._get_bool_param("AutomaticFailoverEnabled")
    multi_az = self._get_bool_param("MultiAZEnabled")
    engine_version = self._get_param("EngineVersion")
    _check_engine_version(group.engine, engine_version, group.engine_version)

    def scale() -> None:
        # Node type, failover and engine version change with the modification itself.
        backend.modify_replication_group(
            replication_group_id=group.replication_group_id,
            replication_group_description=None,
            engine=None,
            cache_node_type=node_type,
            automatic_failover_enabled=failover,
            multi_az_enabled=multi_az,
            snapshot_retention_limit=None,
        )
        if engine_version is not None:
            group.engine_version = engine_version
        for member in _members(backend, group):
            member.cache_node_type = group.cache_node_type
            if group.engine_version:
                member.engine_version = group.engine_version

    security_group_ids = self._get_param("SecurityGroupIds")
    if security_group_ids is not None:
        group.security_group_ids = list(security_group_ids)
    for param, attribute in (
        ("SnapshotWindow", "snapshot_window"),
        ("PreferredMaintenanceWindow", "preferred_maintenance_window"),
        ("CacheParameterGroupName", "cache_parameter_group_name"),
        ("NotificationTopicArn", "notification_topic_arn"),
    ):
        value = self._get_param(param)
        if value is not None:
            setattr(group, attribute, value)
    auto_minor = self._get_bool_param("AutoMinorVersionUpgrade")
    if auto_minor is not None:
        group.auto_minor_version_upgrade = auto_minor
    if self._get_param("AuthToken"):
        group.auth_token_enabled = True
        group.auth_token_last_modified_date = utcnow()
    for member in _members(backend, group):
        member.security_group_ids = list(group.security_group_ids or [])
        member.snapshot_retention_limit = group.snapshot_retention_limit
        member.snapshot_window = group.snapshot_window
        member.preferred_maintenance_window = group.preferred_maintenance_window
        member.cache_parameter_group_name = group.cache_parameter_group_name
        member.auth_token_enabled = group.auth_token_enabled
    _set_group_busy(backend, group, "modifying", scale)
    return ActionResult({"ReplicationGroup": group})


def _forget_replication_group(backend: ElastiCacheBackend, group_id: str, keep: str | None) -> None:
    group = backend.replication_groups.pop(group_id, None)
    if group is None:
        return
    backend.tagging_service.delete_all_tags_for_resource(group.arn)
    for cluster_id in list(group.member_clusters):
        if cluster_id == keep and cluster_id in backend.cache_clusters:
            cluster = backend.cache_clusters[cluster_id]
            cluster.replication_group_id = None
            continue
        _forget_cluster(backend, cluster_id)


# AWS DeleteReplicationGroup: answers the group as "deleting" and deletes all
# its member clusters; a while later the group is gone
# (ReplicationGroupNotFoundFault). RetainPrimaryCluster=true keeps the
# primary as a standalone cluster; FinalSnapshotIdentifier takes a final
# snapshot. moto left the group "deleting" forever (and its members never
# existed as clusters); it also dropped the primary from MemberClusters.
def delete_replication_group(self: ElastiCacheResponse) -> ActionResult:
    backend = _backend(self)
    group = backend.describe_replication_groups(
        replication_group_id=self._get_param("ReplicationGroupId")
    )[0]
    _require_available_group(group)
    final_snapshot = self._get_param("FinalSnapshotIdentifier")
    if final_snapshot:
        backend.create_snapshot(
            snapshot_name=final_snapshot,
            replication_group_id=group.replication_group_id,
            cache_cluster_id=None,
            kms_key_id=None,
            tags=None,
        )
    keep = group.member_clusters[0] if self._get_bool_param("RetainPrimaryCluster", False) else None
    group.status = "deleting"
    for member in _members(backend, group):
        if member.cache_cluster_id != keep:
            _mark_deleting(member)
    deletion.pending(backend).schedule(
        ("replicationgroup", group.replication_group_id),
        lambda: _forget_replication_group(backend, group.replication_group_id, keep),
    )
    return ActionResult({"ReplicationGroup": group})


# ---------------------------------------------------------------------------
# Tags
# ---------------------------------------------------------------------------
# AWS ListTagsForResource / AddTagsToResource / RemoveTagsFromResource on the
# ARN of a cluster, replication group or subnet group that does not exist:
# CacheClusterNotFound / ReplicationGroupNotFoundFault /
# CacheSubnetGroupNotFoundFault. moto answered an empty tag list, and kept a
# deleted resource's tags for a new one of the same name.
def _check_tagged_resource(backend: ElastiCacheBackend, arn: str) -> None:
    parts = arn.split(":")
    if len(parts) < 7:
        return  # moto's own InvalidARN check applies
    kind, name = parts[5], ":".join(parts[6:])
    if kind == "cluster" and name not in backend.cache_clusters:
        raise CacheClusterNotFound(name)
    if kind == "replicationgroup" and name not in backend.replication_groups:
        raise ReplicationGroupNotFound(name)
    if kind == "subnetgroup" and name not in backend.cache_subnet_groups:
        raise CacheSubnetGroupNotFound(name)


def _patch_tagging() -> None:
    for method_name in ("list_tags_for_resource", "add_tags_to_resource", "remove_tags_from_resource"):
        original = getattr(ElastiCacheBackend, method_name)

        def make(original: Any) -> Any:
            @functools.wraps(original)
            def wrapper(self: ElastiCacheBackend, arn: str, *args: Any) -> Any:
                if self.arn_regex.match(arn):
                    _check_tagged_resource(self, arn)
                return original(self, arn, *args)

            return wrapper

        setattr(ElastiCacheBackend, method_name, make(original))


# ---------------------------------------------------------------------------
# Replicas and shards change in place (moto: not implemented, HTTP 500)
# ---------------------------------------------------------------------------
# AWS IncreaseReplicaCount / DecreaseReplicaCount (ReplicationGroupId,
# NewReplicaCount, ApplyImmediately): every node group gets NewReplicaCount
# replicas (0-5); fewer than 1 with automatic failover on is
# InvalidParameterCombination; a count equal to the current one is
# InvalidParameterValue. ModifyReplicationGroupShardConfiguration
# (ReplicationGroupId, NodeGroupCount, ApplyImmediately, NodeGroupsToRemove
# or NodeGroupsToRetain when shrinking): only for cluster mode
# (InvalidParameterValue otherwise); the key space is spread again over the
# node groups. The group must be available (InvalidReplicationGroupState);
# then it is "modifying" for a while. New members are cache clusters of the
# group, with the group's settings; removed ones are gone.
class InvalidParameterCombination(ElastiCacheException):
    code = "InvalidParameterCombination"


def _member_number(cluster_id: str) -> int:
    return int(cluster_id.rsplit("-", 1)[1])


def _new_member(backend: ElastiCacheBackend, group: ReplicationGroup, node_group: dict[str, Any]) -> None:
    members = node_group["node_group_members"]
    number = max((_member_number(m["cache_cluster_id"]) for m in members), default=0) + 1
    if group.cluster_mode == "enabled":
        cluster_id = f"{group.replication_group_id}-{node_group['node_group_id']}-{number:0>3}"
    else:
        cluster_id = f"{group.replication_group_id}-{number:0>3}"
    zones = _subnet_group_zones(backend, group.cache_subnet_group_name)
    zone = zones[len(members) % len(zones)]
    address = f"{cluster_id}.{_group_domain(group)}"
    member: dict[str, Any] = {
        "cache_cluster_id": cluster_id,
        "cache_node_id": node_group["node_group_id"],
        "preferred_availability_zone": zone,
    }
    if group.cluster_mode != "enabled":
        member["read_endpoint"] = {"address": address, "port": group.port}
        member["current_role"] = "primary" if not members else "replica"
    members.append(member)
    group.member_clusters.append(cluster_id)
    cluster = _original_create_cache_cluster(backend, **_member_kwargs(group, cluster_id, zone, group.engine_version))
    cluster.replication_group_id = group.replication_group_id
    _finish_cluster(backend, cluster, member_address=address)
    cluster.auth_token_enabled = group.auth_token_enabled
    cluster.at_rest_encryption_enabled = group.at_rest_encryption_enabled
    backend.cache_clusters[cluster_id] = cluster


def _drop_member(backend: ElastiCacheBackend, group: ReplicationGroup, node_group: dict[str, Any]) -> None:
    member = node_group["node_group_members"].pop()
    group.member_clusters.remove(member["cache_cluster_id"])
    _forget_cluster(backend, member["cache_cluster_id"])


def _spread_slots(group: ReplicationGroup) -> None:
    count = len(group.node_groups)
    for index, node_group in enumerate(group.node_groups):
        first = index * 16384 // count
        last = (index + 1) * 16384 // count - 1
        node_group["slots"] = f"{first}-{last}"


def _group_for_change(self: ElastiCacheResponse) -> tuple[ElastiCacheBackend, ReplicationGroup]:
    backend = _backend(self)
    group = backend.describe_replication_groups(replication_group_id=self._get_param("ReplicationGroupId"))[0]
    _require_available_group(group)
    return backend, group


def _change_replica_count(self: ElastiCacheResponse, growing: bool) -> ActionResult:
    backend, group = _group_for_change(self)
    wanted = self._get_int_param("NewReplicaCount")
    if wanted is None or not 0 <= wanted <= 5:
        raise InvalidParameterValueException("NewReplicaCount must be between 0 and 5.")
    current = len(group.node_groups[0]["node_group_members"]) - 1
    if (growing and wanted <= current) or (not growing and wanted >= current):
        raise InvalidParameterValueException(
            f"NewReplicaCount {wanted} must be {'greater' if growing else 'less'} than the current {current}."
        )
    if wanted < 1 and group.automatic_failover == "enabled":
        raise InvalidParameterCombination(
            "Automatic failover needs at least one replica: disable it before removing the last replica."
        )
    def resize() -> None:
        for node_group in group.node_groups:
            while len(node_group["node_group_members"]) - 1 < wanted:
                _new_member(backend, group, node_group)
            while len(node_group["node_group_members"]) - 1 > wanted:
                _drop_member(backend, group, node_group)

    _set_group_busy(backend, group, "modifying", resize)
    return ActionResult({"ReplicationGroup": group})


def increase_replica_count(self: ElastiCacheResponse) -> ActionResult:
    return _change_replica_count(self, growing=True)


def decrease_replica_count(self: ElastiCacheResponse) -> ActionResult:
    return _change_replica_count(self, growing=False)


def modify_replication_group_shard_configuration(self: ElastiCacheResponse) -> ActionResult:
    backend, group = _group_for_change(self)
    if group.cluster_mode != "enabled":
        raise InvalidParameterValueException(
            f"Replication group {group.replication_group_id} is not in cluster mode: its shards cannot change."
        )
    wanted = self._get_int_param("NodeGroupCount")
    if wanted is None or not 1 <= wanted <= 500:
        raise InvalidParameterValueException("NodeGroupCount must be between 1 and 500.")
    current = len(group.node_groups)
    if wanted == current:
        raise InvalidParameterValueException(f"The replication group already has {current} node groups.")
    leaving: list[str] = []
    if wanted < current:
        remove = self._get_param("NodeGroupsToRemove") or []
        retain = self._get_param("NodeGroupsToRetain") or []
        ids = [node_group["node_group_id"] for node_group in group.node_groups]
        if retain:
            remove = [i for i in ids if i not in retain]
        if not remove or len(ids) - len(remove) != wanted or any(i not in ids for i in remove):
            raise InvalidParameterValueException(
                "NodeGroupsToRemove or NodeGroupsToRetain must name the node groups that leave the group, "
                f"down to {wanted}."
            )
        leaving = list(remove)

    def reshard() -> None:
        if leaving:
            for node_group in [ng for ng in group.node_groups if ng["node_group_id"] in leaving]:
                while node_group["node_group_members"]:
                    _drop_member(backend, group, node_group)
                group.node_groups.remove(node_group)
        else:
            replicas = len(group.node_groups[0]["node_group_members"]) - 1
            next_id = max(int(ng["node_group_id"]) for ng in group.node_groups) + 1
            for number in range(next_id, next_id + wanted - current):
                node_group: dict[str, Any] = {
                    "node_group_id": f"{number:0>4}",
                    "status": "available",
                    "node_group_members": [],
                }
                group.node_groups.append(node_group)
                for _ in range(replicas + 1):
                    _new_member(backend, group, node_group)
        _spread_slots(group)

    _set_group_busy(backend, group, "modifying", reshard)
    return ActionResult({"ReplicationGroup": group})


# ---------------------------------------------------------------------------
# Engine versions (moto: DescribeCacheEngineVersions not implemented; any
# version string was accepted)
# ---------------------------------------------------------------------------
# AWS DescribeCacheEngineVersions (Engine, EngineVersion, MaxRecords, Marker):
# CacheEngineVersions {Engine, EngineVersion, CacheParameterGroupFamily}.
# CreateCacheCluster / CreateReplicationGroup / Modify* with a version the
# engine does not offer: InvalidParameterCombination.
def describe_cache_engine_versions(self: ElastiCacheResponse) -> ActionResult:
    rows = engine_versions.listed(
        engine_versions.ELASTICACHE, self._get_param("Engine"), self._get_param("EngineVersion")
    )
    items, marker = engine_versions.page(rows, self._get_param("Marker"), self._get_int_param("MaxRecords"))
    result: dict[str, Any] = {
        "CacheEngineVersions": [
            {
                "Engine": engine,
                "EngineVersion": version,
                "CacheParameterGroupFamily": family,
                "CacheEngineDescription": engine.capitalize(),
            }
            for engine, version, family in items
        ]
    }
    if marker:
        result["Marker"] = marker
    return ActionResult(result)


def _check_engine_version(engine: str | None, version: str | None, current: str | None = None) -> None:
    engine = engine or "redis"
    if version and engine_versions.resolve(engine_versions.ELASTICACHE, engine, version) is None:
        raise InvalidParameterCombination(f"Cannot find version {version} for {engine}")
    # AWS: an engine is upgraded, never downgraded.
    if version and engine_versions.is_downgrade(current, version):
        raise InvalidParameterCombination(f"Cannot downgrade {engine} from {current} to {version}")


def _patch_engine_version_checks() -> None:
    for method_name in ("create_cache_cluster", "create_replication_group"):
        original = getattr(ElastiCacheBackend, method_name)

        def make(original: Any) -> Any:
            @functools.wraps(original)
            def wrapper(self: ElastiCacheBackend, **kwargs: Any) -> Any:
                _check_engine_version(kwargs.get("engine"), kwargs.get("engine_version"))
                return original(self, **kwargs)

            return wrapper

        setattr(ElastiCacheBackend, method_name, make(original))


def apply() -> None:
    ElastiCacheResponse.describe_cache_engine_versions = describe_cache_engine_versions  # type: ignore[attr-defined]
    _patch_lowercase_identifiers()
    _patch_cache_subnet_group_model()
    _patch_cache_cluster_model()
    _patch_create_cache_cluster()
    _patch_create_replication_group()
    _patch_tagging()
    _patch_engine_version_checks()
    ElastiCacheResponse.modify_cache_subnet_group = modify_cache_subnet_group  # type: ignore[attr-defined]
    ElastiCacheResponse.delete_cache_subnet_group = delete_cache_subnet_group  # type: ignore[attr-defined]
    ElastiCacheResponse.describe_cache_clusters = describe_cache_clusters  # type: ignore[method-assign]
    ElastiCacheResponse.modify_cache_cluster = modify_cache_cluster  # type: ignore[attr-defined]
    ElastiCacheResponse.delete_cache_cluster = delete_cache_cluster  # type: ignore[method-assign]
    ElastiCacheResponse.modify_replication_group = modify_replication_group  # type: ignore[method-assign]
    ElastiCacheResponse.delete_replication_group = delete_replication_group  # type: ignore[method-assign]
    ElastiCacheResponse.increase_replica_count = increase_replica_count  # type: ignore[attr-defined]
    ElastiCacheResponse.decrease_replica_count = decrease_replica_count  # type: ignore[attr-defined]
    ElastiCacheResponse.modify_replication_group_shard_configuration = (  # type: ignore[attr-defined]
        modify_replication_group_shard_configuration
    )
    timeline.advance_before_each_request(ElastiCacheResponse, _backend)
    deletion.purge_before_each_request(ElastiCacheResponse, _backend)

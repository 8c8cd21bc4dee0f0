"""MemoryDB patches: where moto 5.2.5 answers differently from AWS for the
calls stackctl makes.

Checked and already faithful in moto (no patch): CreateSubnetGroup /
DescribeSubnetGroups (SubnetGroupNotFoundFault) / DeleteSubnetGroup
(SubnetGroupInUseFault while a cluster uses it, SubnetGroupNotFoundFault);
CreateUser / DescribeUsers / UpdateUser (passwords are never returned, only
Authentication {Type, PasswordCount}; UserAlreadyExistsFault,
UserNotFoundFault); the "default" user; ClusterEndpoint, NodeType,
EngineVersion, TLSEnabled, SnapshotRetentionLimit, SnapshotWindow,
MaintenanceWindow, SnsTopicArn, SubnetGroupName, ParameterGroupName and ARN
of a cluster; SnapshotArns accepted by CreateCluster; TagResource /
UntagResource / ListTags on clusters, subnet groups and users.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from moto.core.responses import ActionResult
from moto.memorydb.exceptions import (
    ClusterNotFoundFault,
    MemoryDBClientError,
    SubnetGroupNotFoundFault,
)
from moto.memorydb.models import (
    MemoryDBBackend,
    MemoryDBCluster,
    MemoryDBSubnetGroup,
    memorydb_backends,
)
from moto.memorydb.responses import MemoryDBResponse

from .. import deletion, engine_versions, lifecycle, timeline


def _error(code: str, message: str) -> MemoryDBClientError:
    # JSON protocol: the error code is the model's exception shape name, 400.
    return MemoryDBClientError(code, message)


def _backend(response: MemoryDBResponse) -> MemoryDBBackend:
    return memorydb_backends[response.current_account][response.region]


def _params(response: MemoryDBResponse) -> dict[str, Any]:
    return json.loads(response.body or "{}")


OPEN_ACCESS = "open-access"
TOTAL_SLOTS = 16384


# ---------------------------------------------------------------------------
# ACLs (CreateACL, DescribeACLs, UpdateACL, DeleteACL: moto answered 500)
# ---------------------------------------------------------------------------
# AWS ACL: {Name, Status ("active"), UserNames, MinimumEngineVersion,
# PendingChanges {UserNamesToRemove, UserNamesToAdd}, Clusters (names of the
# clusters using it), ARN (arn:aws:memorydb:<region>:<account>:acl/<name>)}.
# Every account has the "open-access" ACL, holding the "default" user.
class MemoryDBACL:
    def __init__(self, backend: MemoryDBBackend, name: str, user_names: list[str]) -> None:
        self.backend = backend
        self.name = name
        self.user_names = list(user_names)
        self.status = "active"
        self.minimum_engine_version = "6.2"
        self.arn = f"arn:aws:memorydb:{backend.region_name}:{backend.account_id}:acl/{name}"

    def clusters(self) -> list[str]:
        return [c.cluster_name for c in list(self.backend.clusters.values()) if c.acl_name == self.name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "Status": self.status,
            "UserNames": list(self.user_names),
            "MinimumEngineVersion": self.minimum_engine_version,
            "PendingChanges": {},
            "Clusters": self.clusters(),
            "ARN": self.arn,
        }


def _acls(backend: MemoryDBBackend) -> dict[str, MemoryDBACL]:
    acls = backend.__dict__.get("_stackctl_acls")
    if acls is None:
        acls = {OPEN_ACCESS: MemoryDBACL(backend, OPEN_ACCESS, ["default"])}
        backend.__dict__["_stackctl_acls"] = acls
    return acls


def _get_acl(backend: MemoryDBBackend, name: str) -> MemoryDBACL:
    acl = _acls(backend).get(name)
    if acl is None:
        raise _error("ACLNotFoundFault", f"ACL {name} not found.")
    return acl


def _check_users(backend: MemoryDBBackend, names: list[str]) -> None:
    if len(set(names)) != len(names):
        raise _error("DuplicateUserNameFault", "Duplicate user names in the request.")
    for name in names:
        if name not in backend.users:
            raise _error("UserNotFoundFault", f"User {name} not found.")


def _sync_user_acl_names(backend: MemoryDBBackend) -> None:
    # User.ACLNames lists the ACLs the user belongs to.
    for user in list(backend.users.values()):
        user.acl_names = [acl.name for acl in _acls(backend).values() if user.user_name in acl.user_names]


# AWS CreateACL: ACLAlreadyExistsFault for an existing name,
# UserNotFoundFault for an unknown user, DuplicateUserNameFault for a name
# given twice; tags given at create are returned by ListTags on the ARN.
def create_acl(self: MemoryDBResponse) -> ActionResult:
    backend = _backend(self)
    params = _params(self)
    name = params["ACLName"]
    if name in _acls(backend):
        raise _error("ACLAlreadyExistsFault", f"ACL {name} already exists.")
    user_names = params.get("UserNames") or []
    _check_users(backend, user_names)
    acl = MemoryDBACL(backend, name, user_names)
    _acls(backend)[name] = acl
    _sync_user_acl_names(backend)
    if params.get("Tags"):
        backend.tagger.tag_resource(acl.arn, params["Tags"])
    _start_busy(backend, ("acl", name), acl, "creating", "active")
    return ActionResult({"ACL": acl.to_dict()})


# AWS DescribeACLs: all ACLs, or the one named by ACLName (ACLNotFoundFault
# if it does not exist).
def describe_acls(self: MemoryDBResponse) -> ActionResult:
    backend = _backend(self)
    name = _params(self).get("ACLName")
    acls = [_get_acl(backend, name)] if name else list(_acls(backend).values())
    return ActionResult({"ACLs": [acl.to_dict() for acl in acls]})


# AWS UpdateACL: UserNamesToAdd / UserNamesToRemove change the ACL's users
# (UserNotFoundFault for an unknown user, DuplicateUserNameFault for a name
# given twice); ACLNotFoundFault for an unknown ACL. The "open-access" ACL
# is managed by AWS and cannot be changed (InvalidParameterValueException).
def update_acl(self: MemoryDBResponse) -> ActionResult:
    backend = _backend(self)
    params = _params(self)
    acl = _get_acl(backend, params["ACLName"])
    if acl.name == OPEN_ACCESS:
        raise _error("InvalidParameterValueException", f"{OPEN_ACCESS} is reserved and cannot be modified.")
    to_add = params.get("UserNamesToAdd") or []
    to_remove = params.get("UserNamesToRemove") or []
    _check_users(backend, to_add)
    _check_users(backend, to_remove)
    if set(to_add) & set(to_remove):
        raise _error(
            "InvalidParameterCombinationException",
            "The same user cannot be both added to and removed from the ACL.",
        )
    acl.user_names = [n for n in acl.user_names if n not in to_remove]
    acl.user_names += [n for n in to_add if n not in acl.user_names]
    _sync_user_acl_names(backend)
    _start_busy(backend, ("acl", acl.name), acl, "modifying", "active")
    return ActionResult({"ACL": acl.to_dict()})


# AWS DeleteACL: "The ACL must first be disassociated from the cluster before
# it can be deleted": InvalidACLStateFault while a cluster (deleting ones
# included) uses it; ACLNotFoundFault for an unknown ACL; "open-access"
# cannot be deleted (InvalidParameterValueException). Answers the ACL as
# "deleting".
def delete_acl(self: MemoryDBResponse) -> ActionResult:
    backend = _backend(self)
    acl = _get_acl(backend, _params(self)["ACLName"])
    if acl.name == OPEN_ACCESS:
        raise _error("InvalidParameterValueException", f"{OPEN_ACCESS} is reserved and cannot be deleted.")
    if acl.clusters():
        raise _error(
            "InvalidACLStateFault",
            f"ACL {acl.name} is in use by cluster(s): {', '.join(acl.clusters())}.",
        )
    answer = acl.to_dict()
    answer["Status"] = "deleting"
    del _acls(backend)[acl.name]
    backend.tagger.delete_all_tags_for_resource(acl.arn)
    _sync_user_acl_names(backend)
    return ActionResult({"ACL": answer})


# AWS DeleteUser: "The user will be removed from all ACLs and in turn removed
# from all clusters." moto left the deleted user's name in the ACLs.
def _patch_delete_user() -> None:
    original = MemoryDBBackend.delete_user

    @functools.wraps(original)
    def delete_user(self: MemoryDBBackend, user_name: str) -> Any:
        user = original(self, user_name)
        for acl in _acls(self).values():
            if user_name in acl.user_names:
                acl.user_names.remove(user_name)
        return user

    MemoryDBBackend.delete_user = delete_user  # type: ignore[method-assign]

    # CreateUser / UpdateUser / DescribeUsers answer User.ACLNames from the
    # ACLs (moto never updated it).
    original_describe = MemoryDBBackend.describe_users

    @functools.wraps(original_describe)
    def describe_users(self: MemoryDBBackend, *args: Any, **kwargs: Any) -> Any:
        _sync_user_acl_names(self)
        return original_describe(self, *args, **kwargs)

    MemoryDBBackend.describe_users = describe_users  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# Tags on ACLs
# ---------------------------------------------------------------------------
# AWS ListTags / TagResource / UntagResource work on ACL ARNs too (unknown
# ACL: ACLNotFoundFault). moto only knew clusters, snapshots, subnet groups
# and users, and answered ClusterNotFoundFault for an ACL.
def _patch_acl_arns() -> None:
    original = MemoryDBBackend._list_arns

    @functools.wraps(original)
    def _list_arns(self: MemoryDBBackend) -> list[str]:
        return original(self) + [acl.arn for acl in _acls(self).values()]

    MemoryDBBackend._list_arns = _list_arns  # type: ignore[method-assign]

    for method_name in ("list_tags", "tag_resource", "untag_resource"):
        original_method = getattr(MemoryDBBackend, method_name)

        def make(original_method: Any) -> Any:
            @functools.wraps(original_method)
            def wrapper(self: MemoryDBBackend, resource_arn: str, *args: Any, **kwargs: Any) -> Any:
                if ":acl/" in resource_arn and resource_arn not in self._list_arns():
                    raise _error("ACLNotFoundFault", f"{resource_arn.split('/')[-1]} is not present")
                return original_method(self, resource_arn, *args, **kwargs)

            return wrapper

        setattr(MemoryDBBackend, method_name, make(original_method))


# ---------------------------------------------------------------------------
# Subnet groups
# ---------------------------------------------------------------------------
# AWS CreateSubnetGroup / UpdateSubnetGroup: every subnet must exist, else
# InvalidSubnet (the model's error code). moto only failed when *none* of
# the subnets existed, and with the code "InvalidSubnetError".
def _check_subnets(backend: MemoryDBBackend, subnet_ids: list[str]) -> None:
    for subnet_id in subnet_ids or []:
        try:
            backend.ec2_backend.get_subnet(subnet_id)
        except Exception:  # noqa: BLE001 - moto's InvalidSubnetIdError
            raise _error("InvalidSubnet", f"Subnet {subnet_id} not found.") from None


def _patch_create_subnet_group() -> None:
    original = MemoryDBBackend.create_subnet_group

    @functools.wraps(original)
    def create_subnet_group(self: MemoryDBBackend, subnet_group_name: str, description: str, subnet_ids: list[str], tags: Any = None) -> MemoryDBSubnetGroup:
        _check_subnets(self, subnet_ids)
        return original(self, subnet_group_name, description, subnet_ids, tags)

    MemoryDBBackend.create_subnet_group = create_subnet_group  # type: ignore[method-assign]


# AWS UpdateSubnetGroup: changes Description and/or SubnetIds;
# SubnetGroupNotFoundFault for an unknown group, InvalidSubnet for an
# unknown subnet; the "default" group cannot be modified. moto answered 500
# (not implemented).
def update_subnet_group(self: MemoryDBResponse) -> ActionResult:
    backend = _backend(self)
    params = _params(self)
    name = params["SubnetGroupName"]
    group = backend.subnet_groups.get(name)
    if group is None:
        raise SubnetGroupNotFoundFault(msg=f"Subnet group {name} not found.")
    if name == "default":
        raise _error("InvalidParameterValueException", "default is reserved and cannot be modified.")
    subnet_ids = params.get("SubnetIds")
    if subnet_ids:
        _check_subnets(backend, subnet_ids)
        group.subnet_ids = list(subnet_ids)
    if params.get("Description") is not None:
        group.description = params["Description"]
    return ActionResult({"SubnetGroup": group.to_dict()})


# ---------------------------------------------------------------------------
# Clusters
# ---------------------------------------------------------------------------
# AWS cluster shards: the 16384 hash slots split evenly, "0-8191",
# "8192-16383" (moto: random ranges like "0-78261"); nodes spread over the
# subnet group's availability zones (moto: random zones of the region, some
# not in the subnet group).
def _spread_shards(cluster: MemoryDBCluster, shards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    zones = cluster.__dict__.get("_stackctl_zones") or [f"{cluster.region}a"]
    count = len(shards)
    for index, shard in enumerate(shards):
        first = index * TOTAL_SLOTS // count
        last = (index + 1) * TOTAL_SLOTS // count - 1
        shard["Slots"] = f"{first}-{last}"
        for node_index, node in enumerate(shard["Nodes"]):
            node["AvailabilityZone"] = zones[(index + node_index) % len(zones)]
    return shards


def _zones_of(backend: MemoryDBBackend, subnet_group_name: str) -> list[str]:
    group = backend.subnet_groups.get(subnet_group_name)
    zones: list[str] = []
    for subnet in group.subnets if group is not None else []:
        if subnet.availability_zone not in zones:
            zones.append(subnet.availability_zone)
    return zones


def _patch_cluster_model() -> None:
    original_get_shard_details = MemoryDBCluster.get_shard_details

    @functools.wraps(original_get_shard_details)
    def get_shard_details(self: MemoryDBCluster) -> list[dict[str, Any]]:
        return _spread_shards(self, original_get_shard_details(self))

    MemoryDBCluster.get_shard_details = get_shard_details  # type: ignore[method-assign]

    # AWS UpdateCluster SecurityGroupIds replaces the cluster's
    # SecurityGroups [{SecurityGroupId, Status}]; moto stored the ids but kept
    # answering the old groups.
    def security_groups(self: MemoryDBCluster) -> list[dict[str, str]]:
        return [{"SecurityGroupId": sg, "Status": "active"} for sg in self.security_group_ids or []]

    def set_security_groups(self: MemoryDBCluster, _value: Any) -> None:
        pass  # derived from security_group_ids

    MemoryDBCluster.security_groups = property(security_groups, set_security_groups)  # type: ignore[attr-defined]


def _check_acl_for_tls(acl_name: str, tls_enabled: bool) -> None:
    # AWS (CreateCluster TLSEnabled): "If you disable TLS, you must use the
    # 'open-access' ACL." moto silently replaced the ACL with open-access.
    if not tls_enabled and acl_name != OPEN_ACCESS:
        raise _error(
            "InvalidParameterCombinationException",
            "Clusters without TLS must use the open-access ACL.",
        )


# AWS CreateCluster: ACLNotFoundFault for an ACL that does not exist (moto
# accepted any name), SubnetGroupNotFoundFault for an unknown subnet group
# (moto: 500 KeyError), NumReplicasPerShard=0 means no replicas
# (AvailabilityMode SingleAZ; moto turned 0 into 1).
def _patch_create_cluster() -> None:
    original = MemoryDBBackend.create_cluster

    @functools.wraps(original)
    def create_cluster(self: MemoryDBBackend, **kwargs: Any) -> MemoryDBCluster:
        _check_engine_version(kwargs.get("engine"), kwargs.get("engine_version"))
        acl_name = kwargs.get("acl_name")
        _get_acl(self, acl_name)
        tls_enabled = kwargs.get("tls_enabled")
        _check_acl_for_tls(acl_name, True if tls_enabled is None else tls_enabled)
        subnet_group_name = kwargs.get("subnet_group_name") or "default"
        if subnet_group_name not in self.subnet_groups:
            raise SubnetGroupNotFoundFault(msg=f"Subnet group {subnet_group_name} not found.")
        if kwargs.get("tags") is None:
            kwargs["tags"] = []
        cluster = original(self, **kwargs)
        cluster.__dict__["_stackctl_zones"] = _zones_of(self, cluster.subnet_group_name)
        if kwargs.get("num_replicas_per_shard") == 0:
            cluster.num_replicas_per_shard = 0
            cluster.availability_mode = "SingleAZ"
        cluster.shards = cluster.get_shard_details()
        return cluster

    MemoryDBBackend.create_cluster = create_cluster  # type: ignore[method-assign]


# AWS UpdateCluster: ACLName must name an existing ACL (ACLNotFoundFault);
# SecurityGroupIds, ReplicaConfiguration.ReplicaCount (0 allowed),
# ShardConfiguration.ShardCount and SnsTopicArn show in DescribeClusters; a
# cluster that is not available (e.g. deleting) is InvalidClusterStateFault.
def _patch_update_cluster() -> None:
    original = MemoryDBBackend.update_cluster

    @functools.wraps(original)
    def update_cluster(self: MemoryDBBackend, cluster_name: str, **kwargs: Any) -> MemoryDBCluster:
        cluster = self.clusters.get(cluster_name)
        if cluster is None:
            raise ClusterNotFoundFault(msg=f"Cluster {cluster_name} not found.")
        if cluster.status != "available":
            raise _error("InvalidClusterStateFault", f"Cluster {cluster_name} is not in available state.")
        _check_engine_version(getattr(cluster, "engine", None), kwargs.get("engine_version"))
        if kwargs.get("engine_version") and engine_versions.is_downgrade(cluster.engine_version, kwargs["engine_version"]):
            raise _error(
                "InvalidParameterValueException",
                f"Cannot downgrade from {cluster.engine_version} to {kwargs['engine_version']}.",
            )
        acl_name = kwargs.get("acl_name")
        if acl_name is not None:
            _get_acl(self, acl_name)
            _check_acl_for_tls(acl_name, cluster.tls_enabled)
        updated = original(self, cluster_name, **kwargs)
        replicas = (kwargs.get("replica_configuration") or {}).get("ReplicaCount")
        if replicas is not None:
            updated.availability_mode = "SingleAZ" if replicas == 0 else "MultiAZ"
        if kwargs.get("sns_topic_arn") and kwargs.get("sns_topic_status") is None:
            updated.sns_topic_status = "active"
        return updated

    MemoryDBBackend.update_cluster = update_cluster  # type: ignore[method-assign]


# AWS DeleteCluster: answers the cluster as "deleting"; a while later it is
# gone (ClusterNotFoundFault), and until then its subnet group and ACL are
# still in use. moto removed it at once; with
# STACKCTL_EMULATOR_DELETE_SECONDS > 0 it now stays "deleting" that long.
# A cluster already deleting: InvalidClusterStateFault.
def _patch_delete_cluster() -> None:
    original = MemoryDBBackend.delete_cluster

    @functools.wraps(original)
    def delete_cluster(self: MemoryDBBackend, cluster_name: str, final_snapshot_name: str | None) -> MemoryDBCluster:
        existing = self.clusters.get(cluster_name)
        if existing is not None and existing.status != "available":
            raise _error("InvalidClusterStateFault", f"Cluster {cluster_name} is not in available state.")
        cluster = original(self, cluster_name, final_snapshot_name)
        # moto popped it; keep it (deleting) until the deletion finishes.
        self.clusters[cluster.cluster_name] = cluster
        for shard in cluster.shards:
            shard["Status"] = "deleting"

        def finish() -> None:
            if self.clusters.get(cluster.cluster_name) is cluster:
                del self.clusters[cluster.cluster_name]
            self.tagger.delete_all_tags_for_resource(cluster.arn)

        deletion.pending(self).schedule(("cluster", cluster.cluster_name), finish)
        return cluster

    MemoryDBBackend.delete_cluster = delete_cluster  # type: ignore[method-assign]


def _patch_update_cluster_response() -> None:
    # moto's handler passes the parameters positionally to the backend;
    # the wrapper above takes them as keywords.
    def update_cluster(self: MemoryDBResponse) -> ActionResult:
        params = _params(self)
        cluster = self.memorydb_backend.update_cluster(
            params.get("ClusterName"),
            description=params.get("Description"),
            security_group_ids=params.get("SecurityGroupIds"),
            maintenance_window=params.get("MaintenanceWindow"),
            sns_topic_arn=params.get("SnsTopicArn"),
            sns_topic_status=params.get("SnsTopicStatus"),
            parameter_group_name=params.get("ParameterGroupName"),
            snapshot_window=params.get("SnapshotWindow"),
            snapshot_retention_limit=params.get("SnapshotRetentionLimit"),
            node_type=params.get("NodeType"),
            engine_version=params.get("EngineVersion"),
            replica_configuration=params.get("ReplicaConfiguration"),
            shard_configuration=params.get("ShardConfiguration"),
            acl_name=params.get("ACLName"),
        )
        return ActionResult({"Cluster": cluster.to_dict()})

    MemoryDBResponse.update_cluster = update_cluster  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# Creation and modification take time (STACKCTL_EMULATOR_CREATE_SECONDS)
# ---------------------------------------------------------------------------
# AWS MemoryDB statuses (lower case on the wire):
#  * CreateCluster answers the cluster "creating" (its shards and nodes
#    "creating" too), "available" a while later; UpdateCluster makes it
#    "updating" (MemoryDB's word: Cluster.Status "Available, Updating,
#    Creating"; not ElastiCache's "modifying"), then "available". UpdateCluster
#    / DeleteCluster of a cluster that is not available is
#    InvalidClusterStateFault (checked above).
#  * CreateACL answers the ACL "creating" (the AWS CLI reference example), then
#    "active"; UpdateACL "modifying", then "active".
#  * CreateUser answers the user "active" already (User.Status is "active",
#    "modifying" or "deleting"; the CLI example shows "active"), so creation
#    is not delayed; UpdateUser makes it "modifying", then "active".
# moto answered the final status at once. A deletion meanwhile wins: the
# final step only moves on from the status it expects.
def _start_busy(backend: MemoryDBBackend, key: Any, resource: Any, busy: str, final: str) -> None:
    if not lifecycle.enabled():
        return

    def begin() -> None:
        if resource.status == final or busy == "creating":
            resource.status = busy

    def finish() -> None:
        if resource.status == busy:
            resource.status = final

    if busy == "creating":
        begin()
        lifecycle.schedule(backend, key, [(1.0, finish)])
        return
    # STACKCTL_EMULATOR_MODIFY_LAG_SECONDS: the old status for a while first.
    lifecycle.schedule_modification(backend, key, begin, finish)


def _set_shards_status(cluster: MemoryDBCluster, status: str, only_from: str | None = None) -> None:
    for shard in cluster.shards:
        if only_from is None or shard.get("Status") == only_from:
            shard["Status"] = status
            for node in shard.get("Nodes", []):
                node["Status"] = status


def _patch_cluster_lifecycle() -> None:
    original_create = MemoryDBBackend.create_cluster

    @functools.wraps(original_create)
    def create_cluster(self: MemoryDBBackend, **kwargs: Any) -> MemoryDBCluster:
        cluster = original_create(self, **kwargs)
        if lifecycle.enabled():
            cluster.status = "creating"
            _set_shards_status(cluster, "creating")

            def finish() -> None:
                if cluster.status == "creating":
                    cluster.status = "available"
                    _set_shards_status(cluster, "available", only_from="creating")

            lifecycle.schedule(self, ("cluster", cluster.cluster_name), [(1.0, finish)])
        return cluster

    MemoryDBBackend.create_cluster = create_cluster  # type: ignore[method-assign]

    original_update = MemoryDBBackend.update_cluster

    @functools.wraps(original_update)
    def update_cluster(self: MemoryDBBackend, cluster_name: str, **kwargs: Any) -> MemoryDBCluster:
        cluster = original_update(self, cluster_name, **kwargs)
        _start_busy(self, ("cluster", cluster.cluster_name), cluster, "updating", "available")
        return cluster

    MemoryDBBackend.update_cluster = update_cluster  # type: ignore[method-assign]

    original_update_user = MemoryDBBackend.update_user

    @functools.wraps(original_update_user)
    def update_user(self: MemoryDBBackend, *args: Any, **kwargs: Any) -> Any:
        user = original_update_user(self, *args, **kwargs)
        _start_busy(self, ("user", user.user_name), user, "modifying", "active")
        return user

    MemoryDBBackend.update_user = update_user  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# Engine versions (moto: DescribeEngineVersions not implemented; any version
# string was accepted)
# ---------------------------------------------------------------------------
# AWS DescribeEngineVersions (Engine, EngineVersion, MaxResults, NextToken):
# EngineVersions {Engine, EngineVersion, EnginePatchVersion,
# ParameterGroupFamily}. CreateCluster / UpdateCluster with a version the
# engine does not offer: InvalidParameterValueException.
def describe_engine_versions(self: MemoryDBResponse) -> ActionResult:
    params = _params(self)
    rows = engine_versions.listed(engine_versions.MEMORYDB, params.get("Engine"), params.get("EngineVersion"))
    items, token = engine_versions.page(rows, params.get("NextToken"), params.get("MaxResults"))
    result: dict[str, Any] = {
        "EngineVersions": [
            {"Engine": engine, "EngineVersion": version, "EnginePatchVersion": f"{version}.0", "ParameterGroupFamily": family}
            for engine, version, family in items
        ]
    }
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def _check_engine_version(engine: str | None, version: str | None) -> None:
    # moto does not pass CreateCluster's Engine on to its model: without it, any engine's versions count.
    engines = [engine] if engine else list(engine_versions.MEMORYDB)
    if version and all(engine_versions.resolve(engine_versions.MEMORYDB, e, version) is None for e in engines):
        raise _error("InvalidParameterValueException", f"Invalid engine version {version} for {engine}.")


def apply() -> None:
    MemoryDBResponse.describe_engine_versions = describe_engine_versions  # type: ignore[attr-defined]
    MemoryDBResponse.create_acl = create_acl  # type: ignore[attr-defined]
    # moto derives the handler name from the action: DescribeACLs -> describe_ac_ls.
    MemoryDBResponse.describe_ac_ls = describe_acls  # type: ignore[attr-defined]
    MemoryDBResponse.update_acl = update_acl  # type: ignore[attr-defined]
    MemoryDBResponse.delete_acl = delete_acl  # type: ignore[attr-defined]
    MemoryDBResponse.update_subnet_group = update_subnet_group  # type: ignore[attr-defined]
    _patch_delete_user()
    _patch_acl_arns()
    _patch_create_subnet_group()
    _patch_cluster_model()
    _patch_create_cluster()
    _patch_update_cluster()
    _patch_update_cluster_response()
    _patch_delete_cluster()
    _patch_cluster_lifecycle()
    timeline.advance_before_each_request(MemoryDBResponse, _backend)
    deletion.purge_before_each_request(MemoryDBResponse, _backend)

"""RDS patches: where moto 5.2.5 answers differently from AWS for the calls
stackctl makes.

Checked and already faithful in moto (no patch): CreateDBInstance with
ManageMasterUserPassword (MasterUserSecret {SecretArn, SecretStatus,
KmsKeyId}, the secret exists in Secrets Manager and goes with the
instance) or MasterUserPassword; EnableIAMDatabaseAuthentication,
StorageEncrypted, DeletionProtection, PubliclyAccessible,
BackupRetentionPeriod, VpcSecurityGroupIds and Tags reported back;
identifiers stored lower-case; DeleteDBInstance on a protected instance is
InvalidParameterCombination; FinalDBSnapshotIdentifier creates a manual
snapshot that DescribeDBSnapshots finds; ListTagsForResource on the
instance ARN; DescribeDBInstances / DescribeDBSubnetGroups of an unknown
name (DBInstanceNotFound, DBSubnetGroupNotFoundFault).
"""

from __future__ import annotations

import functools
import json
import secrets
import string
import uuid
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends
from moto.rds.exceptions import (
    DBInstanceNotFoundError,
    DBSubnetGroupNotFoundError,
    InvalidParameterCombination,
    RDSClientError,
)
from moto.rds.models import DBInstance, DBSubnetGroup, MasterUserSecret, RDSBackend, rds_backends
from moto.rds.responses import RDSResponse

from .. import deletion, engine_versions, lifecycle, timeline


# ---------------------------------------------------------------------------
# DB subnet groups
# ---------------------------------------------------------------------------
# AWS CreateDBSubnetGroup / ModifyDBSubnetGroup:
#  * a subnet that does not exist is InvalidSubnet ("Some input subnets in
#    :[subnet-...] are invalid."); moto answered EC2's
#    InvalidSubnetID.NotFound;
#  * the subnets must cover at least two availability zones, else
#    DBSubnetGroupDoesNotCoverEnoughAZs; moto accepted one zone.
def _subnets(backend: RDSBackend, subnet_ids: list[str]) -> list[Any]:
    ec2 = ec2_backends[backend.account_id][backend.region_name]
    subnets, invalid = [], []
    for subnet_id in subnet_ids or []:
        try:
            subnets.append(ec2.get_subnet(subnet_id))
        except Exception:  # noqa: BLE001 - moto's InvalidSubnetIdError
            invalid.append(subnet_id)
    if invalid:
        raise RDSClientError("InvalidSubnet", f"Some input subnets in :[{', '.join(invalid)}] are invalid.")
    zones = {subnet.availability_zone for subnet in subnets}
    if len(zones) < 2:
        raise RDSClientError(
            "DBSubnetGroupDoesNotCoverEnoughAZs",
            "DB Subnet Group doesn't meet availability zone coverage requirement. Please add"
            f" subnets to cover at least 2 availability zones. Current coverage: {len(zones)}",
        )
    return subnets


def create_db_subnet_group(self: RDSResponse) -> Any:
    from moto.core.responses import ActionResult

    name = self.params.get("DBSubnetGroupName")
    # AWS CreateDBSubnetGroup: a name already in use is DBSubnetGroupAlreadyExists (400); moto
    # answered 200 and overwrote the existing group's description and tags.
    if name in self.backend.subnet_groups:
        raise RDSClientError("DBSubnetGroupAlreadyExists", f"The DB subnet group '{name}' already exists.")
    subnets = _subnets(self.backend, self.params.get("SubnetIds", []))
    group = self.backend.create_subnet_group(
        name,
        self.params.get("DBSubnetGroupDescription"),
        subnets,
        self.params.get("Tags", []),
    )
    return ActionResult({"DBSubnetGroup": group})


# AWS ModifyDBSubnetGroup: replaces the subnets (and description) of the
# group; unknown group: DBSubnetGroupNotFoundFault. moto *removed the group*
# from the account (DescribeDBSubnetGroups no longer found it, and new
# instances could not use it), and answered 500 for an unknown group.
def modify_db_subnet_group(self: RDSResponse) -> Any:
    from moto.core.responses import ActionResult

    name = self.params.get("DBSubnetGroupName")
    group = self.backend.subnet_groups.get(name)
    if group is None:
        raise DBSubnetGroupNotFoundError(name)
    group.subnets = _subnets(self.backend, self.params.get("SubnetIds", []))
    group.vpc_id = group._subnets[0].vpc_id
    description = self.params.get("DBSubnetGroupDescription")
    if description is not None:
        group.description = description
    return ActionResult({"DBSubnetGroup": group})


# AWS DeleteDBSubnetGroup: InvalidDBSubnetGroupStateFault while a DB
# instance (deleting ones included) or DB cluster uses the group. moto
# deleted it regardless.
def _subnet_group_name_of(resource: Any) -> str:
    # DBInstance.db_subnet_group is the group object (its *_name is
    # write-only in moto); DBCluster.db_subnet_group is the name.
    group = getattr(resource, "db_subnet_group", None)
    if group is None:
        return ""
    return (group if isinstance(group, str) else group.name).lower()


def _patch_delete_subnet_group() -> None:
    original = RDSBackend.delete_subnet_group

    @functools.wraps(original)
    def delete_subnet_group(self: RDSBackend, subnet_name: str) -> DBSubnetGroup:
        name = (subnet_name or "").lower()
        for database in list(self.databases.values()):
            if _subnet_group_name_of(database) == name:
                raise RDSClientError(
                    "InvalidDBSubnetGroupStateFault",
                    f"Cannot delete the subnet group '{name}' because at least one database"
                    f" instance: {database.db_instance_identifier} is still using it.",
                )
        for cluster in list(self.clusters.values()):
            if _subnet_group_name_of(cluster) == name:
                raise RDSClientError(
                    "InvalidDBSubnetGroupStateFault",
                    f"Cannot delete the subnet group '{name}' because at least one database"
                    f" cluster: {cluster.db_cluster_identifier} is still using it.",
                )
        return original(self, subnet_name)

    RDSBackend.delete_subnet_group = delete_subnet_group  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# DB instances
# ---------------------------------------------------------------------------
# AWS DBInstance: PendingModifiedValues is always present ({} when nothing
# is pending); an encrypted instance without KmsKeyId uses the account's
# aws/rds key and reports its key ARN. moto omitted PendingModifiedValues
# and reported KmsKeyId "default_kms_key_id".
def _patch_db_instance_model() -> None:
    original_init = DBInstance.__init__

    @functools.wraps(original_init)
    def __init__(self: DBInstance, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.pending_modified_values = {}
        if getattr(self, "kms_key_id", None) == "default_kms_key_id":
            key_id = uuid.uuid5(uuid.NAMESPACE_URL, f"aws/rds/{self.account_id}/{self.region}")
            self.kms_key_id = f"arn:aws:kms:{self.region}:{self.account_id}:key/{key_id}"

    DBInstance.__init__ = __init__  # type: ignore[method-assign]


# AWS ManageMasterUserPassword: the secret RDS creates holds
# {"username": <MasterUsername>, "password": <generated>}. moto stored the
# username "admin" and the same fixed password for every instance, so a
# tool connecting with the secret's username would not notice it is wrong.
_PASSWORD_ALPHABET = string.ascii_letters + string.digits + "!#$%&()*+,-.:;<=>?[]^_{|}~"


def _patch_master_user_secret() -> None:
    def _generate_secret_string(self: MasterUserSecret) -> str:
        username = getattr(self.resource, "master_username", None) or "admin"
        password = "".join(secrets.choice(_PASSWORD_ALPHABET) for _ in range(28))
        return json.dumps({"username": username, "password": password})

    MasterUserSecret._generate_secret_string = _generate_secret_string  # type: ignore[method-assign]


# AWS ModifyDBInstance without ApplyImmediately: DBInstanceClass,
# AllocatedStorage, EngineVersion, MultiAZ, StorageType, Iops, and a
# BackupRetentionPeriod change to or from 0, wait for the next maintenance
# window and are reported in PendingModifiedValues (never applied here: no
# maintenance window comes). With ApplyImmediately=true they, and anything
# pending, are applied now. DeletionProtection, VpcSecurityGroupIds and
# other BackupRetentionPeriod changes apply at once either way. moto applied
# everything at once, hiding a missing ApplyImmediately. An instance that is
# being deleted: InvalidDBInstanceState.
_DEFERRED = {
    "db_instance_class": "DBInstanceClass",
    "allocated_storage": "AllocatedStorage",
    "engine_version": "EngineVersion",
    "multi_az": "MultiAZ",
    "storage_type": "StorageType",
    "iops": "Iops",
}


def _patch_modify_db_instance() -> None:
    original = RDSBackend.modify_db_instance

    @functools.wraps(original)
    def modify_db_instance(self: RDSBackend, db_instance_identifier: str, db_kwargs: dict[str, Any]) -> DBInstance:
        database = self.describe_db_instances(db_instance_identifier)[0]
        _require_not_deleting(database)
        if database.status == "creating":
            # AWS: a DB instance being created cannot be modified yet.
            raise RDSClientError("InvalidDBInstanceState", "Database instance is not in available state.")
        # AWS: storage can only grow ("You can't reduce the amount of storage for a DB instance after
        # storage has been allocated"); moto shrank it.
        asked = db_kwargs.get("allocated_storage")
        if asked is not None and int(asked) < int(database.allocated_storage or 0):
            raise RDSClientError(
                "InvalidParameterCombination",
                f"Invalid storage size: {asked} GiB is less than the {database.allocated_storage} GiB allocated; "
                "allocated storage cannot be reduced.",
            )
        pending: dict[str, Any] = database.__dict__.setdefault("pending_modified_values", {})
        kwargs = dict(db_kwargs)
        if kwargs.get("apply_immediately") and lifecycle.modify_lag() > 0:
            # Applied after the lag: meanwhile AWS shows them pending, the status unchanged.
            for attribute, key in _DEFERRED.items():
                if attribute in kwargs:
                    value = kwargs.pop(attribute)
                    if value != getattr(database, attribute, None):
                        pending[key] = value
            database = original(self, db_instance_identifier, kwargs)
            _modify_later(self, database, original)
            return database
        if kwargs.get("apply_immediately"):
            for attribute, key in _DEFERRED.items():
                if key in pending and attribute not in kwargs:
                    kwargs[attribute] = pending[key]
            if "BackupRetentionPeriod" in pending and "backup_retention_period" not in kwargs:
                kwargs["backup_retention_period"] = pending["BackupRetentionPeriod"]
            pending.clear()
        else:
            for attribute, key in _DEFERRED.items():
                if attribute in kwargs:
                    value = kwargs.pop(attribute)
                    if value != getattr(database, attribute, None):
                        pending[key] = value
            retention = kwargs.get("backup_retention_period")
            if retention is not None and (int(retention) == 0) != (int(database.backup_retention_period or 0) == 0):
                pending["BackupRetentionPeriod"] = int(kwargs.pop("backup_retention_period"))
        database = original(self, db_instance_identifier, kwargs)
        _start_modifying(self, database)
        return database

    RDSBackend.modify_db_instance = modify_db_instance  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# Creation and modification take time (STACKCTL_EMULATOR_CREATE_SECONDS)
# ---------------------------------------------------------------------------
# AWS: CreateDBInstance answers DBInstanceStatus "creating", without an
# Endpoint (it has none until the instance is reachable); then the first
# automated backup runs ("backing-up", Endpoint present); then "available".
# ModifyDBInstance makes the instance "modifying" for a while, then
# "available" again; a DB instance that is still "creating" cannot be
# modified (InvalidDBInstanceState "Database instance is not in available
# state."). moto answered "available" at once. Here "creating" lasts the
# first half of the setting, "backing-up" the second, and every accepted
# ModifyDBInstance means "modifying" for the whole setting (also when the
# changes only went to PendingModifiedValues: the emulator does not model
# which changes AWS applies without a status change). A deletion meanwhile
# wins: the steps only move an instance on from the status they expect.
def _patch_db_instance_lifecycle() -> None:
    original_endpoint = DBInstance.endpoint

    def endpoint(self: DBInstance) -> Any:
        if self.__dict__.get("_stackctl_no_endpoint"):
            return None
        return original_endpoint.fget(self)  # type: ignore[attr-defined]

    DBInstance.endpoint = property(endpoint)  # type: ignore[assignment,method-assign]

    original = RDSBackend.create_db_instance

    @functools.wraps(original)
    def create_db_instance(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
        database = original(self, db_kwargs)
        if lifecycle.enabled():
            database.status = "creating"
            database.__dict__["_stackctl_no_endpoint"] = True

            def backing_up() -> None:
                if database.status == "creating":
                    database.status = "backing-up"
                database.__dict__["_stackctl_no_endpoint"] = False

            def available() -> None:
                if database.status == "backing-up":
                    database.status = "available"

            lifecycle.schedule(
                self, ("db", database.db_instance_identifier), [(0.5, backing_up), (1.0, available)]
            )
        return database

    RDSBackend.create_db_instance = create_db_instance  # type: ignore[method-assign]


def _start_modifying(backend: RDSBackend, database: DBInstance) -> None:
    if not lifecycle.enabled() or database.status not in ("available", "backing-up", "modifying"):
        return
    database.status = "modifying"
    database.__dict__["_stackctl_no_endpoint"] = False

    def available() -> None:
        if database.status == "modifying":
            database.status = "available"

    lifecycle.schedule(backend, ("db", database.db_instance_identifier), [(1.0, available)])


def _modify_later(backend: RDSBackend, database: DBInstance, original: Any) -> None:
    # STACKCTL_EMULATOR_MODIFY_LAG_SECONDS: what ApplyImmediately asked for is
    # applied (and the instance "modifying") only after the lag; until then it
    # stays in PendingModifiedValues and the status is the old one.
    pending: dict[str, Any] = database.__dict__["pending_modified_values"]

    def begin() -> None:
        if database.status == "deleting":
            return
        applied = {attribute: pending.pop(key) for attribute, key in _DEFERRED.items() if key in pending}
        if applied:
            original(backend, database.db_instance_identifier, applied)
        if lifecycle.enabled() and database.status in ("available", "backing-up", "modifying"):
            database.status = "modifying"

    def finish() -> None:
        if database.status == "modifying":
            database.status = "available"

    lifecycle.schedule_modification(backend, ("db", database.db_instance_identifier), begin, finish)


def _require_not_deleting(database: DBInstance) -> None:
    if database.status == "deleting":
        raise RDSClientError(
            "InvalidDBInstanceState",
            f"Instance {database.db_instance_identifier} is already being deleted.",
        )


# AWS DeleteDBInstance:
#  * "If you don't enable [SkipFinalSnapshot], you must specify the
#    FinalDBSnapshotIdentifier parameter", and both together are an error:
#    InvalidParameterCombination. moto deleted without a snapshot in both
#    cases.
#  * the instance answers "deleting" and stays listed (DBInstanceStatus
#    "deleting", its subnet group still in use) until the deletion finishes,
#    then DescribeDBInstances answers DBInstanceNotFound. moto removed it at
#    once; with STACKCTL_EMULATOR_DELETE_SECONDS > 0 it now stays that long.
#  * an instance already being deleted: InvalidDBInstanceState.
def _patch_delete_db_instance() -> None:
    original = RDSBackend.delete_db_instance

    @functools.wraps(original)
    def delete_db_instance(
        self: RDSBackend,
        db_instance_identifier: str,
        final_db_snapshot_identifier: str | None = None,
        skip_final_snapshot: bool | None = False,
        delete_automated_backups: bool | None = True,
    ) -> DBInstance:
        self._validate_db_identifier(db_instance_identifier)
        database = self.databases.get(db_instance_identifier)
        if database is None:
            raise DBInstanceNotFoundError(db_instance_identifier)
        _require_not_deleting(database)
        if not skip_final_snapshot and not final_db_snapshot_identifier:
            raise InvalidParameterCombination(
                "FinalDBSnapshotIdentifier is required unless SkipFinalSnapshot is specified."
            )
        if skip_final_snapshot and final_db_snapshot_identifier:
            raise InvalidParameterCombination(
                "FinalDBSnapshotIdentifier can not be specified when deleting an instance with"
                " SkipFinalSnapshot enabled."
            )
        database = original(
            self,
            db_instance_identifier,
            final_db_snapshot_identifier=final_db_snapshot_identifier,
            skip_final_snapshot=skip_final_snapshot,
            delete_automated_backups=delete_automated_backups,
        )
        # moto removed it; keep it listed as "deleting" until the delay passed.
        self.databases[database.db_instance_identifier] = database

        def finish() -> None:
            if self.databases.get(database.db_instance_identifier) is database:
                del self.databases[database.db_instance_identifier]

        deletion.pending(self).schedule(("db", database.db_instance_identifier), finish)
        return database

    RDSBackend.delete_db_instance = delete_db_instance  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# Engine versions (moto: DescribeDBEngineVersions not implemented; any version
# string was accepted by CreateDBInstance and ModifyDBInstance)
# ---------------------------------------------------------------------------
# AWS DescribeDBEngineVersions (Engine, EngineVersion, MaxRecords, Marker):
# DBEngineVersions {Engine, EngineVersion, DBParameterGroupFamily, Status}.
# CreateDBInstance / ModifyDBInstance with a version the engine does not
# offer: InvalidParameterCombination "Cannot find version X for ENGINE".
def describe_db_engine_versions(self: RDSResponse) -> ActionResult:
    rows = engine_versions.listed(engine_versions.RDS, self._get_param("Engine"), self._get_param("EngineVersion"))
    items, marker = engine_versions.page(rows, self._get_param("Marker"), self._get_int_param("MaxRecords"))
    result: dict[str, Any] = {
        "DBEngineVersions": [
            {
                "Engine": engine,
                "EngineVersion": version,
                "DBParameterGroupFamily": family,
                "DBEngineDescription": engine,
                "Status": "available",
            }
            for engine, version, family in items
        ]
    }
    if marker:
        result["Marker"] = marker
    return ActionResult(result)


def _check_engine_version(engine: str | None, version: str | None) -> None:
    if version and engine in engine_versions.RDS and engine_versions.resolve(engine_versions.RDS, engine, version) is None:
        raise InvalidParameterCombination(f"Cannot find version {version} for {engine}")


def _patch_engine_version_checks() -> None:
    original_create = RDSBackend.create_db_instance

    @functools.wraps(original_create)
    def create_db_instance(self: RDSBackend, db_kwargs: dict[str, Any]) -> DBInstance:
        _check_engine_version(db_kwargs.get("engine"), db_kwargs.get("engine_version"))
        return original_create(self, db_kwargs)

    original_modify = RDSBackend.modify_db_instance

    @functools.wraps(original_modify)
    def modify_db_instance(self: RDSBackend, db_instance_identifier: str, db_kwargs: dict[str, Any]) -> DBInstance:
        wanted = db_kwargs.get("engine_version")
        if wanted:
            database = self.describe_db_instances(db_instance_identifier)[0]
            _check_engine_version(database.engine, wanted)
            current = database.engine_version
            # AWS: no downgrade; a new major version only with AllowMajorVersionUpgrade.
            if engine_versions.is_downgrade(current, wanted):
                raise InvalidParameterCombination(f"Cannot upgrade {database.engine} from {current} to {wanted}")
            families = {
                engine_versions.family(engine_versions.RDS, database.engine, v) for v in (current, wanted)
            }
            if len(families) > 1 and not db_kwargs.get("allow_major_version_upgrade"):
                raise InvalidParameterCombination(
                    "The AllowMajorVersionUpgrade flag must be present when upgrading to a new major version."
                )
        return original_modify(self, db_instance_identifier, db_kwargs)

    RDSBackend.create_db_instance = create_db_instance  # type: ignore[method-assign]
    RDSBackend.modify_db_instance = modify_db_instance  # type: ignore[method-assign]


def apply() -> None:
    RDSResponse.describe_db_engine_versions = describe_db_engine_versions  # type: ignore[attr-defined]
    RDSResponse.create_db_subnet_group = create_db_subnet_group  # type: ignore[method-assign]
    RDSResponse.modify_db_subnet_group = modify_db_subnet_group  # type: ignore[method-assign]
    _patch_delete_subnet_group()
    _patch_db_instance_model()
    _patch_master_user_secret()
    _patch_modify_db_instance()
    _patch_delete_db_instance()
    _patch_db_instance_lifecycle()
    _patch_engine_version_checks()
    timeline.advance_before_each_request(
        RDSResponse, lambda response: rds_backends[response.current_account][response.region]
    )
    deletion.purge_before_each_request(
        RDSResponse, lambda response: rds_backends[response.current_account][response.region]
    )

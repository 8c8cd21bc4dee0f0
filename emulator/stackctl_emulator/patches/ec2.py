"""EC2 patches: where moto 5.2.5 answers differently from AWS for calls stackctl makes.

Each patch names the AWS API behaviour it implements. All of them wrap or
replace methods on moto's classes; moto looks these up per request.
"""

from __future__ import annotations

import copy
import functools
import hashlib
import threading
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2 import utils as ec2_utils
from moto.ec2.exceptions import (
    DependencyViolationError,
    EC2ClientError,
    InvalidSecurityGroupNotFoundError,
)
from moto.ec2.models.iam_instance_profile import (
    IamInstanceProfileAssociation,
    IamInstanceProfileAssociationBackend,
)
from moto.ec2.models.instances import Instance, InstanceBackend
from moto.ec2.models.security_groups import SecurityGroupBackend, SecurityGroupRule
from moto.ec2.responses import EC2Response
from moto.ec2.responses.iam_instance_profiles import IamInstanceProfiles
from moto.ec2.responses.instances import InstanceResponse
from moto.ec2.responses.security_groups import SecurityGroups

from .. import eni_release, lifecycle, propagation, timeline


class IdempotentParameterMismatchError(EC2ClientError):
    def __init__(self) -> None:
        super().__init__(
            "IdempotentParameterMismatch",
            "Arguments on this idempotent request are inconsistent with arguments"
            " used in previous request(s).",
        )


class IncorrectInstanceStateError(EC2ClientError):
    def __init__(self, instance_id: str, required_state: str) -> None:
        super().__init__(
            "IncorrectInstanceState",
            f"The instance '{instance_id}' is not in the '{required_state}' state.",
        )


class CannotDeleteError(EC2ClientError):
    def __init__(self, group_id: str, name: str) -> None:
        super().__init__(
            "CannotDelete",
            f'the specified group: "{group_id}" name: "{name}" cannot be deleted by a user',
        )


# ---------------------------------------------------------------------------
# RunInstances: ClientToken idempotency
# ---------------------------------------------------------------------------
# AWS (EC2 "Ensuring idempotency"): a RunInstances retried with the same
# ClientToken and the same parameters launches nothing and returns the
# original reservation; the same token with different parameters fails with
# IdempotentParameterMismatch. moto ignores the token and launches again,
# which would hide exactly the retry bugs stackctl's tests must catch.
# Without a ClientToken there is no idempotency, and AWS reports an empty
# ClientToken; moto stores the placeholder "ABCDE" instead.

_run_instances_lock = threading.Lock()
# Parameters that do not take part in the "same request?" comparison.
_NOT_COMPARED = {"ClientToken", "DryRun", "Action", "Version"}


def _request_fingerprint(response: InstanceResponse) -> str:
    items = sorted(
        (key, tuple(values))
        for key, values in response.querystring.items()
        if key not in _NOT_COMPARED
    )
    return hashlib.sha256(repr(items).encode("utf-8")).hexdigest()


def _patch_run_instances_client_token() -> None:
    original = InstanceResponse.run_instances

    @functools.wraps(original)
    def run_instances(self: InstanceResponse) -> ActionResult:
        token = self._get_param("ClientToken")
        if not token:
            result = original(self)
            for instance in result.result.instances:  # type: ignore[union-attr]
                instance.client_token = ""
            return result

        with _run_instances_lock:
            backend = self.ec2_backend
            tokens: dict[str, tuple[str, str]] = backend.__dict__.setdefault(
                "_stackctl_client_tokens", {}
            )
            fingerprint = _request_fingerprint(self)
            if token in tokens:
                previous_fingerprint, reservation_id = tokens[token]
                if previous_fingerprint != fingerprint:
                    raise IdempotentParameterMismatchError()
                self.error_on_dryrun()
                reservation = backend.reservations.get(reservation_id)
                if reservation is not None:
                    return ActionResult(reservation)
            result = original(self)
            tokens[token] = (fingerprint, result.result.id)  # type: ignore[union-attr]
            return result

    InstanceResponse.run_instances = run_instances  # type: ignore[method-assign]


# DescribeInstances filter "client-token" (documented AWS filter) is missing
# from moto's table and answers 500 NotImplementedError.
def _patch_client_token_filter() -> None:
    ec2_utils.filter_dict_attribute_mapping.setdefault("client-token", "client_token")


# ---------------------------------------------------------------------------
# Primary network interface of RunInstances: DeleteOnTermination = true
# ---------------------------------------------------------------------------
# AWS: the primary network interface that RunInstances creates from SubnetId
# (no NetworkInterfaces given) has DeleteOnTermination=true and is deleted
# when the instance terminates. moto leaves it behind, "in-use", forever, so
# its security groups could never be deleted.
def _patch_primary_eni_delete_on_termination() -> None:
    original = Instance.prep_nics

    @functools.wraps(original)
    def prep_nics(self: Instance, nic_spec: list[dict[str, Any]], *args: Any, **kwargs: Any) -> None:
        implicit_primary = not nic_spec
        original(self, nic_spec, *args, **kwargs)
        if implicit_primary and 0 in self.nics:
            self.nics[0].delete_on_termination = True

    Instance.prep_nics = prep_nics  # type: ignore[method-assign]


# TerminateInstances on an instance that is already terminated
# ---------------------------------------------------------------------------
# AWS: terminating a terminated instance succeeds and reports it as
# terminated (previous and current state); the call is idempotent. moto runs
# the whole teardown again and fails deleting the primary network interface
# that the first termination already deleted.
def _patch_terminate_idempotent() -> None:
    original = Instance.terminate

    @functools.wraps(original)
    def terminate(self: Instance) -> Any:
        if self._state.name == "terminated":
            return copy.copy(self._state)
        return original(self)

    Instance.terminate = terminate  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# RunInstances without security groups: the VPC's default group
# ---------------------------------------------------------------------------
# AWS (RunInstances SecurityGroupIds): "If you don't specify a security group
# ID, we use the default security group for the VPC." moto launches the
# instance with no security group at all.
def _patch_run_instances_default_security_group() -> None:
    original = InstanceBackend.run_instances

    @functools.wraps(original)
    def run_instances(self: Any, image_id: str, count: int, user_data: Any, security_group_names: list[str], **kwargs: Any) -> Any:
        if (
            not security_group_names
            and not kwargs.get("security_group_ids")
            and not kwargs.get("nics")
            and not kwargs.get("launch_template")
            and kwargs.get("subnet_id")
        ):
            subnet = self.get_subnet(kwargs["subnet_id"])
            default = self.get_security_group_by_name_or_id("default", vpc_id=subnet.vpc_id)
            if default is not None:
                kwargs["security_group_ids"] = [default.id]
        return original(self, image_id, count, user_data, security_group_names, **kwargs)

    InstanceBackend.run_instances = run_instances  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# ModifyInstanceAttribute
# ---------------------------------------------------------------------------
# AWS: InstanceType and UserData can only be changed while the instance is
# stopped, otherwise IncorrectInstanceState. moto changes them on a running
# instance.
_STOPPED_ONLY_ATTRIBUTES = {"instance_type", "user_data"}


def _patch_modify_instance_attribute() -> None:
    original = InstanceBackend.modify_instance_attribute

    @functools.wraps(original)
    def modify_instance_attribute(self: Any, instance_id: str, key: str, value: Any) -> Any:
        if key in _STOPPED_ONLY_ATTRIBUTES:
            instance = self.get_instance(instance_id)
            if instance.state != "stopped":
                raise IncorrectInstanceStateError(instance_id, "stopped")
        return original(self, instance_id, key, value)

    InstanceBackend.modify_instance_attribute = modify_instance_attribute  # type: ignore[method-assign]

    # AWS: ModifyInstanceAttribute Groups replaces the security groups of the
    # instance's primary network interface; unknown ids are
    # InvalidGroup.NotFound. moto stores None for unknown ids and leaves the
    # network interface on its old groups (so DescribeNetworkInterfaces
    # group-id and DeleteSecurityGroup saw stale groups).
    def modify_instance_security_groups(
        self: Any, instance_id: str, new_group_id_list: list[str]
    ) -> Instance:
        instance = self.get_instance(instance_id)
        groups = []
        for group_id in new_group_id_list:
            group = self.get_security_group_from_id(group_id)
            if group is None:
                raise InvalidSecurityGroupNotFoundError(group_id)
            groups.append(group)
        instance.security_groups = groups
        primary = getattr(instance, "nics", {}).get(0)
        if primary is not None:
            primary._group_set = list(groups)
        return instance

    InstanceBackend.modify_instance_security_groups = modify_instance_security_groups  # type: ignore[method-assign]

    # moto runs its "Groups" handler last and unconditionally, so a
    # ModifyInstanceAttribute it does not understand silently *removed all
    # security groups*. Only handle Groups when Groups was sent; anything
    # else falls through to moto's NotImplementedError (a loud 500).
    original_groups_handler = InstanceResponse._security_grp_instance_attribute_handler

    @functools.wraps(original_groups_handler)
    def groups_handler(self: InstanceResponse) -> bool:
        if not self._get_param("Groups", []):
            return False
        return original_groups_handler(self)

    InstanceResponse._security_grp_instance_attribute_handler = groups_handler  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# IAM instance profile shown on the instance
# ---------------------------------------------------------------------------
# AWS: Instance.IamInstanceProfile is {Arn, Id} of the instance profile
# currently associated (Id = the profile's AIPA... id), and follows
# ReplaceIamInstanceProfileAssociation. moto puts the *association* id in Id
# and keeps showing the old profile after a replace.
def _patch_instance_profile_on_instance() -> None:
    original_init = IamInstanceProfileAssociation.__init__

    @functools.wraps(original_init)
    def __init__(self: IamInstanceProfileAssociation, ec2_backend: Any, association_id: str, instance: Instance, iam_instance_profile: Any) -> None:
        original_init(self, ec2_backend, association_id, instance, iam_instance_profile)
        ec2_backend.modify_instance_attribute(
            instance.id,
            "iam_instance_profile",
            {"Arn": iam_instance_profile.arn, "Id": iam_instance_profile.id},
        )

    IamInstanceProfileAssociation.__init__ = __init__  # type: ignore[method-assign]

    original_replace = IamInstanceProfileAssociationBackend.replace_iam_instance_profile_association

    @functools.wraps(original_replace)
    def replace(self: Any, *args: Any, **kwargs: Any) -> IamInstanceProfileAssociation:
        association = original_replace(self, *args, **kwargs)
        profile = association.iam_instance_profile
        self.modify_instance_attribute(
            association.instance_id,
            "iam_instance_profile",
            {"Arn": profile.arn, "Id": profile.id},
        )
        return association

    IamInstanceProfileAssociationBackend.replace_iam_instance_profile_association = replace  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# Security group rules
# ---------------------------------------------------------------------------
# AWS: a rule is identified by protocol, ports and peer (CIDR, group or
# prefix list); the Description is not part of its identity. So Revoke*
# without (or with another) Description removes the rule, and Authorize* of
# the same rule with another Description is InvalidPermission.Duplicate.
# moto compares the whole UserIdGroupPair dict, Description included, so a
# revoke of a group-referencing rule that had a description never matched
# (InvalidPermission.NotFound). Also AWS returns the Description of a
# group-referencing rule in SecurityGroupRules; moto dropped it.
def _same_peer_group(a: dict[str, Any], b: dict[str, Any]) -> bool:
    if bool(a) != bool(b):
        return False
    if not a:
        return True
    return a.get("GroupId") == b.get("GroupId") and a.get("UserId", a.get("OwnerId")) == b.get(
        "UserId", b.get("OwnerId")
    )


def _patch_security_group_rules() -> None:
    def __eq__(self: SecurityGroupRule, other: object) -> bool:
        if not isinstance(other, SecurityGroupRule):
            return NotImplemented
        if self.ip_protocol != other.ip_protocol:
            return False
        if self.ip_range.get("CidrIp") != other.ip_range.get("CidrIp"):
            return False
        if self.ip_range.get("CidrIpv6") != other.ip_range.get("CidrIpv6"):
            return False
        if not _same_peer_group(self.source_group, other.source_group):
            return False
        if self.prefix_list_id != other.prefix_list_id:
            return False
        if self.ip_protocol != "-1":
            if self.from_port != other.from_port or self.to_port != other.to_port:
                return False
        return True

    SecurityGroupRule.__eq__ = __eq__  # type: ignore[method-assign,assignment]
    SecurityGroupRule.__hash__ = None  # type: ignore[assignment]  # mutable, as before

    def description(self: SecurityGroupRule) -> str | None:
        return self.ip_range.get("Description") or self.source_group.get("Description")

    SecurityGroupRule.description = property(description)  # type: ignore[assignment,method-assign]


# ---------------------------------------------------------------------------
# DescribeSecurityGroups with unknown GroupIds
# ---------------------------------------------------------------------------
# AWS: InvalidGroup.NotFound naming the missing group ("The security group
# 'sg-0123' does not exist"). moto subtracted group *objects* from id strings
# and printed the Python set of every requested id.
def _patch_describe_security_groups() -> None:
    def describe_security_groups(
        self: Any,
        group_ids: list[str] | None = None,
        groupnames: list[str] | None = None,
        filters: Any = None,
    ) -> list[Any]:
        matches = [
            group
            for groups in list(self.groups.values())
            for group in list(groups.values())
        ]
        if group_ids:
            matches = [group for group in matches if group.id in group_ids]
            missing = [gid for gid in group_ids if gid not in {g.id for g in matches}]
            if missing:
                raise InvalidSecurityGroupNotFoundError(missing[0])
        if groupnames:
            matches = [group for group in matches if group.name in groupnames]
            missing = [n for n in groupnames if n not in {g.name for g in matches}]
            if missing:
                raise InvalidSecurityGroupNotFoundError(missing[0])
        if filters:
            matches = [group for group in matches if group.matches_filters(filters)]
        return matches

    SecurityGroupBackend.describe_security_groups = describe_security_groups  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# DeleteSecurityGroup
# ---------------------------------------------------------------------------
# AWS: DeleteSecurityGroup fails with DependencyViolation ("resource sg-... has
# a dependent object") while the group is used by an instance or a network
# interface, or referenced by a rule of another security group; the VPC's
# default group cannot be deleted at all (CannotDelete). moto deleted the
# group in every case. A network interface still held after its instance
# terminated (STACKCTL_EMULATOR_ENI_RELEASE_SECONDS) counts too.
def _group_dependents(backend: Any, group_id: str) -> list[str]:
    dependents = []
    for instance in backend.all_instances():
        if instance.state == "terminated":
            continue
        if any(group is not None and group.id == group_id for group in instance.security_groups):
            dependents.append(instance.id)
    for eni in list(backend.enis.values()):
        if any(group.id == group_id for group in eni.group_set if group is not None):
            dependents.append(eni.id)
    for groups in list(backend.groups.values()):
        for other in list(groups.values()):
            if other.id == group_id:
                continue
            for rule in list(other.ingress_rules) + list(other.egress_rules):
                if rule.source_group.get("GroupId") == group_id:
                    dependents.append(other.id)
                    break
    return dependents


# AWS: an RDS DB instance, an ElastiCache cache cluster (replication group
# members are cache clusters) and a MemoryDB cluster put requester-managed
# network interfaces in their subnets, and those carry the resource's security
# groups; while the resource exists (deleting included) the groups cannot be
# deleted (DependencyViolation). moto's services never touched EC2.
def _service_interfaces(account_id: str, region: str, group_id: str) -> list[str]:
    from moto.elasticache.models import elasticache_backends
    from moto.memorydb.models import memorydb_backends
    from moto.rds.models import rds_backends

    from .. import deletion

    backends = [
        rds_backends[account_id][region],
        elasticache_backends[account_id][region],
        memorydb_backends[account_id][region],
    ]
    # Deletions finish with time, whichever service is asked.
    for service in backends:
        deletion.pending(service).purge()
        timeline.of(service).advance()
    holders = []
    for database in list(rds_backends[account_id][region].databases.values()):
        if group_id in (database.vpc_security_group_ids or []):
            holders.append(f"RDS DB instance {database.db_instance_identifier}")
    for cluster in list(elasticache_backends[account_id][region].cache_clusters.values()):
        if group_id in (cluster.security_group_ids or []):
            holders.append(f"ElastiCache cluster {cluster.cache_cluster_id}")
    for cluster in list(memorydb_backends[account_id][region].clusters.values()):
        if group_id in (cluster.security_group_ids or []):
            holders.append(f"MemoryDB cluster {cluster.cluster_name}")
    return holders


def _patch_delete_security_group() -> None:
    # Checked in the API handler, not the backend: moto's DeleteVpc deletes
    # the VPC's default group through the backend, which must keep working.
    original = SecurityGroups.delete_security_group

    @functools.wraps(original)
    def delete_security_group(self: SecurityGroups) -> ActionResult:
        name = self._get_param("GroupName")
        group_id = self._get_param("GroupId")
        # DryRun only checks permissions, before any dependency check.
        self.error_on_dryrun()
        backend = self.ec2_backend
        if group_id:
            group = backend.get_security_group_from_id(group_id)
        elif name:
            group = backend.get_security_group_by_name_or_id(name)
        else:
            group = None
        if group is not None:
            if group.name == "default":
                raise CannotDeleteError(group.id, group.name)
            if _group_dependents(backend, group.id):
                raise DependencyViolationError(f"resource {group.id} has a dependent object")
            held_by = _service_interfaces(backend.account_id, backend.region_name, group.id)
            if held_by:
                raise DependencyViolationError(
                    f"resource {group.id} has a dependent object (network interfaces of {', '.join(held_by)})"
                )
        return original(self)

    SecurityGroups.delete_security_group = delete_security_group  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# Instance states take time (STACKCTL_EMULATOR_CREATE_SECONDS)
# ---------------------------------------------------------------------------
# AWS: RunInstances answers the instance "pending" (code 0) and it becomes
# "running" (16) a while later; StopInstances makes it "stopping" (64), then
# "stopped" (80); StartInstances "pending", then "running". In between:
#  * StopInstances on an instance that is pending after RunInstances is
#    IncorrectInstanceState ("Instance 'i-...' cannot be stopped as it has
#    never reached the 'running' state.");
#  * StartInstances on a stopping instance is IncorrectInstanceState ("The
#    instance 'i-...' is not in a state from which it can be started.");
#  * StopInstances on a stopping instance / StartInstances on a pending one
#    change nothing (and answer the current state as previous state);
#  * ModifyInstanceAttribute InstanceType / UserData still need "stopped"
#    (the patch above), so "stopping" is refused.
# moto switched states at once. With CREATE_SECONDS = 0 nothing changes.
_PENDING, _RUNNING, _STOPPING, _STOPPED = ("pending", 0), ("running", 16), ("stopping", 64), ("stopped", 80)


def _set_state(instance: Instance, state: tuple[str, int]) -> None:
    instance._state.name, instance._state.code = state


def _finish_state(instance: Instance, expected: tuple[str, int], final: tuple[str, int]) -> Any:
    def finish() -> None:
        # Terminated (or otherwise changed) in the meantime: leave it be.
        if instance._state.name == expected[0]:
            _set_state(instance, final)
            if final == _RUNNING:
                instance.__dict__["_stackctl_has_run"] = True

    return finish


def _patch_instance_lifecycle() -> None:
    original_run = InstanceBackend.run_instances

    @functools.wraps(original_run)
    def run_instances(self: Any, *args: Any, **kwargs: Any) -> Any:
        reservation = original_run(self, *args, **kwargs)
        if lifecycle.enabled():
            for instance in reservation.instances:
                _set_state(instance, _PENDING)
                lifecycle.schedule(
                    self, ("instance", instance.id), [(1.0, _finish_state(instance, _PENDING, _RUNNING))]
                )
        return reservation

    InstanceBackend.run_instances = run_instances  # type: ignore[method-assign]

    original_stop = InstanceBackend.stop_instances

    @functools.wraps(original_stop)
    def stop_instances(self: Any, instance_ids: list[str]) -> list[tuple[Instance, Any]]:
        if not lifecycle.enabled():
            return original_stop(self, instance_ids)
        instances = self.get_multi_instances_by_id(instance_ids)
        for instance in instances:
            if instance.state == "pending" and not instance.__dict__.get("_stackctl_has_run"):
                raise EC2ClientError(
                    "IncorrectInstanceState",
                    f"Instance '{instance.id}' cannot be stopped as it has never reached the 'running' state.",
                )
        stopped = []
        for instance in instances:
            if instance.state == "stopping":
                stopped.append((instance, copy.copy(instance._state)))
                continue
            previous = original_stop(self, [instance.id])[0][1]
            if previous.name != "stopped":
                _set_state(instance, _STOPPING)
                lifecycle.schedule(
                    self, ("instance", instance.id), [(1.0, _finish_state(instance, _STOPPING, _STOPPED))]
                )
            stopped.append((instance, previous))
        return stopped

    InstanceBackend.stop_instances = stop_instances  # type: ignore[method-assign]

    original_start = InstanceBackend.start_instances

    @functools.wraps(original_start)
    def start_instances(self: Any, instance_ids: list[str]) -> list[tuple[Instance, Any]]:
        if not lifecycle.enabled():
            return original_start(self, instance_ids)
        instances = self.get_multi_instances_by_id(instance_ids)
        for instance in instances:
            if instance.state == "stopping":
                raise EC2ClientError(
                    "IncorrectInstanceState",
                    f"The instance '{instance.id}' is not in a state from which it can be started.",
                )
        started = []
        for instance in instances:
            if instance.state == "pending":
                started.append((instance, copy.copy(instance._state)))
                continue
            previous = original_start(self, [instance.id])[0][1]
            if previous.name == "stopped":
                _set_state(instance, _PENDING)
                lifecycle.schedule(
                    self, ("instance", instance.id), [(1.0, _finish_state(instance, _PENDING, _RUNNING))]
                )
            started.append((instance, previous))
        return started

    InstanceBackend.start_instances = start_instances  # type: ignore[method-assign]


# ---------------------------------------------------------------------------
# Instance profiles not yet known to EC2 (STACKCTL_EMULATOR_PROFILE_PROPAGATION_SECONDS)
# ---------------------------------------------------------------------------
# AWS (IAM eventual consistency): for a while after CreateInstanceProfile /
# AddRoleToInstanceProfile, EC2 answers RunInstances,
# AssociateIamInstanceProfile and ReplaceIamInstanceProfileAssociation naming
# the profile with InvalidParameterValue (400): "Value (NAME) for parameter
# iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
# (given by ARN: "Value (ARN) for parameter iamInstanceProfile.arn is
# invalid. Invalid IAM Instance Profile ARN"). Nothing is launched. See
# propagation.py. The RunInstances check runs inside the ClientToken
# handling: a retry of a launch that already succeeded returns it, as in AWS.
def _check_profile_propagated(response: Any) -> None:
    name = response._get_param("IamInstanceProfile.Name")
    arn = response._get_param("IamInstanceProfile.Arn")
    account = response.current_account
    if name and propagation.propagating(account, name):
        raise EC2ClientError(
            "InvalidParameterValue",
            f"Value ({name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
        )
    if arn and propagation.propagating(account, propagation.profile_name_of(arn)):
        raise EC2ClientError(
            "InvalidParameterValue",
            f"Value ({arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN",
        )


def _patch_profile_propagation() -> None:
    for cls, method_name in (
        (InstanceResponse, "run_instances"),
        (IamInstanceProfiles, "associate_iam_instance_profile"),
        (IamInstanceProfiles, "replace_iam_instance_profile_association"),
    ):
        original = getattr(cls, method_name)

        def make(original: Any) -> Any:
            @functools.wraps(original)
            def wrapper(self: Any) -> Any:
                _check_profile_propagated(self)
                return original(self)

            return wrapper

        setattr(cls, method_name, make(original))


# ---------------------------------------------------------------------------
# Network interfaces released after termination (STACKCTL_EMULATOR_ENI_RELEASE_SECONDS)
# ---------------------------------------------------------------------------
# AWS: a terminated instance's DeleteOnTermination network interfaces are
# deleted some time after the instance is "terminated". Until then
# DescribeNetworkInterfaces lists them ("in-use", attached to the terminated
# instance; group-id filter included) and DeleteSecurityGroup on their groups
# is DependencyViolation (the DeleteSecurityGroup patch counts every network
# interface). moto (with the DeleteOnTermination patch above) deleted them at
# once. See eni_release.py.
def _patch_eni_release() -> None:
    original = Instance.terminate

    @functools.wraps(original)
    def terminate(self: Instance) -> Any:
        if eni_release.seconds() <= 0 or self._state.name == "terminated":
            return original(self)
        held = [nic for nic in self.nics.values() if nic.delete_on_termination]
        for nic in held:
            nic.delete_on_termination = False  # moto: detach nothing, delete nothing
        try:
            previous = original(self)
        finally:
            for nic in held:
                nic.delete_on_termination = True
        backend = self.ec2_backend
        for nic in held:

            def release(nic: Any = nic) -> None:
                if backend.enis.get(nic.id) is nic:
                    nic.delete()

            timeline.of(backend).start(("eni", nic.id), [(eni_release.seconds(), release)])
        return previous

    Instance.terminate = terminate  # type: ignore[method-assign]


def apply() -> None:
    # Before the ClientToken patch, so that it runs inside it.
    _patch_profile_propagation()
    _patch_run_instances_client_token()
    _patch_client_token_filter()
    _patch_primary_eni_delete_on_termination()
    _patch_terminate_idempotent()
    _patch_run_instances_default_security_group()
    _patch_modify_instance_attribute()
    _patch_instance_profile_on_instance()
    _patch_security_group_rules()
    _patch_describe_security_groups()
    _patch_delete_security_group()
    _patch_instance_lifecycle()
    _patch_eni_release()
    # Due state changes and network interface releases happen first.
    timeline.advance_before_each_request(EC2Response, lambda response: response.ec2_backend)

"""Self-check of the emulator: starts server.py and talks to it with boto3.

    emulator/.venv/bin/python emulator/test_emulator.py

No pytest needed. Prints one line per check and a closing
"N passed, N failed" line; exits non-zero if any check failed.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import random
import select
import signal
import subprocess
import sys
import time
import traceback
import urllib.request
from typing import Any, Callable

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.retries.standard import (
    RetryContext,
    ThrottledRetryableChecker,
    TransientRetryableChecker,
)

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "server.py")
# Ten emulators start together, each with seconds of CPU: on two busy cores that takes a while.
STARTUP_TIMEOUT = 180.0
# STACKCTL_EMULATOR_DELETE_SECONDS of the third emulator (check_deletion_delay).
DELETE_DELAY = 3.0
# STACKCTL_EMULATOR_CREATE_SECONDS / _PROFILE_PROPAGATION_SECONDS /
# _ENI_RELEASE_SECONDS of the "slow" emulator.
SLOW_DELAY = 2.0
# STACKCTL_EMULATOR_LATENCY_SECONDS and _PROFILE_SCALE of the emulators that check them.
LATENCY = 0.2
PROFILE_SCALE = 0.01
# STACKCTL_EMULATOR_THROTTLE_RATE / _SEED of the "sampled" emulator.
SAMPLED_RATE = 0.3
SAMPLED_SEED = 42
# The AWS SDK for Rust's throttling error codes (aws-runtime 1.10.2,
# src/retries/classifiers.rs THROTTLING_ERRORS) and transient HTTP statuses
# (aws-smithy-runtime 1.16.2 TRANSIENT_ERROR_STATUS_CODES): what stackctl's
# SDK retries.
RUST_SDK_THROTTLING_ERRORS = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
    "TooManyRequestsException", "ProvisionedThroughputExceededException",
    "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
    "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
    "EC2ThrottledException",
}
RUST_SDK_TRANSIENT_STATUSES = {500, 502, 503, 504}
AMI_PARAMETERS = [
    "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2",
    "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
]
TRUST_POLICY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


class Emulator:
    def __init__(self, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, "--port", "0", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=sys.stderr,
            env={**os.environ, **(env or {})},
        )
        self.endpoint = ""

    def wait_ready(self) -> str:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], STARTUP_TIMEOUT)
        if not ready:
            self.kill()
            raise RuntimeError("server.py printed no endpoint in time")
        line = self.proc.stdout.readline().decode().strip()
        if not line.startswith("http://127.0.0.1:"):
            self.kill()
            raise RuntimeError(f"unexpected first stdout line: {line!r}")
        self.endpoint = line
        return line

    def client(self, service: str, region: str = "us-east-1", attempts: int = 1) -> Any:
        # attempts=1: no retries, every answer is seen as it came.
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(
                retries={"total_max_attempts": attempts, "mode": "standard"},
                s3={"addressing_style": "path"},
            ),
        )

    def faults(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.endpoint}/_stackctl/faults") as resp:
            return json.load(resp)

    def requests(self) -> list[dict[str, Any]]:
        with urllib.request.urlopen(f"{self.endpoint}/_stackctl/requests") as resp:
            return json.load(resp)

    def reset_requests(self) -> None:
        req = urllib.request.Request(
            f"{self.endpoint}/_stackctl/requests/reset", method="POST", data=b""
        )
        with urllib.request.urlopen(req) as resp:
            assert resp.status == 200

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def expect_error(code: str, status: int, fn: Callable[[], Any]) -> ClientError:
    try:
        fn()
    except ClientError as err:
        got_code = err.response["Error"]["Code"]
        got_status = err.response["ResponseMetadata"]["HTTPStatusCode"]
        assert (got_code, got_status) == (code, status), (
            f"expected {code}/{status}, got {got_code}/{got_status}: {err}"
        )
        return err
    raise AssertionError(f"expected {code}, but the call succeeded")


# --------------------------------------------------------------------------
# checks
# --------------------------------------------------------------------------


def check_seeded_network(emu: Emulator, region: str = "us-east-1") -> None:
    ec2 = emu.client("ec2", region)
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["demo-vpc"]}])["Vpcs"]
    assert len(vpcs) == 1, vpcs
    vpc = vpcs[0]
    assert vpc["CidrBlock"] == "10.20.0.0/16" and not vpc["IsDefault"], vpc
    vpc_id = vpc["VpcId"]
    # The default VPC exists too, as in a real account, and is told apart.
    defaults = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    assert vpc_id not in [v["VpcId"] for v in defaults]

    igws = ec2.describe_internet_gateways(
        Filters=[{"Name": "attachment.vpc-id", "Values": [vpc_id]}]
    )["InternetGateways"]
    assert len(igws) == 1, igws
    igw_id = igws[0]["InternetGatewayId"]

    subnets = {
        next(t["Value"] for t in s["Tags"] if t["Key"] == "Name"): s
        for s in ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
            "Subnets"
        ]
    }
    expected = {
        "demo-vpc-public-a": ("10.20.0.0/24", f"{region}a", True),
        "demo-vpc-public-b": ("10.20.1.0/24", f"{region}b", True),
        "demo-vpc-private-a": ("10.20.10.0/24", f"{region}a", False),
        "demo-vpc-private-b": ("10.20.11.0/24", f"{region}b", False),
    }
    assert set(subnets) == set(expected), sorted(subnets)
    for name, (cidr, az, public_ip) in expected.items():
        s = subnets[name]
        got = (s["CidrBlock"], s["AvailabilityZone"], s["MapPublicIpOnLaunch"])
        assert got == (cidr, az, public_ip), (name, got)

    tables = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])[
        "RouteTables"
    ]
    main = ec2.describe_route_tables(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "association.main", "Values": ["true"]},
        ]
    )["RouteTables"]
    assert len(main) == 1, main
    main_table = main[0]

    def table_of(subnet_id: str) -> dict[str, Any]:
        for table in tables:
            for assoc in table.get("Associations", []):
                if assoc.get("SubnetId") == subnet_id:
                    return table
        return main_table  # no explicit association: the main table applies

    def has_igw_default_route(table: dict[str, Any]) -> bool:
        return any(
            r.get("DestinationCidrBlock") == "0.0.0.0/0" and r.get("GatewayId") == igw_id
            for r in table["Routes"]
        )

    assert not has_igw_default_route(main_table), main_table["Routes"]
    for name, subnet in subnets.items():
        table = table_of(subnet["SubnetId"])
        if name.startswith("demo-vpc-public"):
            assert table["RouteTableId"] != main_table["RouteTableId"], name
            assert has_igw_default_route(table), (name, table["Routes"])
        else:
            assert table["RouteTableId"] == main_table["RouteTableId"], name
            assert not has_igw_default_route(table), (name, table["Routes"])


def check_ssm_ami_parameters(emu: Emulator, region: str = "us-east-1") -> None:
    ssm = emu.client("ssm", region)
    ec2 = emu.client("ec2", region)
    for name in AMI_PARAMETERS:
        param = ssm.get_parameter(Name=name)["Parameter"]
        assert param["Value"].startswith("ami-"), param
        # AWS-owned public parameter: no account in the ARN.
        assert param["ARN"] == f"arn:aws:ssm:{region}::parameter{name}", param["ARN"]
        images = ec2.describe_images(ImageIds=[param["Value"]])["Images"]
        assert len(images) == 1 and images[0]["State"] == "available", images


def check_managed_policy_attach(emu: Emulator) -> None:
    iam = emu.client("iam")
    iam.create_role(
        RoleName="t-role",
        AssumeRolePolicyDocument=TRUST_POLICY,
        Tags=[{"Key": "stackctl:stack", "Value": "t"}],
    )
    for name in ("AmazonSSMManagedInstanceCore", "AWSCloudFormationReadOnlyAccess"):
        iam.attach_role_policy(RoleName="t-role", PolicyArn=f"arn:aws:iam::aws:policy/{name}")
    attached = iam.list_attached_role_policies(RoleName="t-role")["AttachedPolicies"]
    assert {p["PolicyName"] for p in attached} == {
        "AmazonSSMManagedInstanceCore",
        "AWSCloudFormationReadOnlyAccess",
    }, attached
    expect_error(
        "NoSuchEntity",
        404,
        lambda: iam.attach_role_policy(
            RoleName="t-role", PolicyArn="arn:aws:iam::aws:policy/NoSuchPolicyAtAll"
        ),
    )


def check_iam_delete_conflicts(emu: Emulator) -> None:
    iam = emu.client("iam")
    iam.create_role(RoleName="c-role", AssumeRolePolicyDocument=TRUST_POLICY)
    iam.attach_role_policy(
        RoleName="c-role", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    )
    iam.put_role_policy(
        RoleName="c-role",
        PolicyName="inline",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
            }
        ),
    )
    profile = iam.create_instance_profile(
        InstanceProfileName="c-profile", Tags=[{"Key": "stackctl:stack", "Value": "t"}]
    )["InstanceProfile"]
    assert profile["InstanceProfileId"].startswith("AIPA"), profile
    iam.add_role_to_instance_profile(InstanceProfileName="c-profile", RoleName="c-role")

    delete = lambda: iam.delete_role(RoleName="c-role")  # noqa: E731
    expect_error("DeleteConflict", 409, delete)  # in an instance profile
    expect_error(
        "DeleteConflict", 409, lambda: iam.delete_instance_profile(InstanceProfileName="c-profile")
    )
    iam.remove_role_from_instance_profile(InstanceProfileName="c-profile", RoleName="c-role")
    expect_error(
        "NoSuchEntity",
        404,
        lambda: iam.remove_role_from_instance_profile(
            InstanceProfileName="c-profile", RoleName="c-role"
        ),
    )
    expect_error("DeleteConflict", 409, delete)  # managed policy attached
    iam.detach_role_policy(
        RoleName="c-role", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    )
    expect_error("DeleteConflict", 409, delete)  # inline policy
    iam.delete_role_policy(RoleName="c-role", PolicyName="inline")
    iam.delete_role(RoleName="c-role")
    iam.delete_instance_profile(InstanceProfileName="c-profile")
    expect_error("NoSuchEntity", 404, lambda: iam.get_role(RoleName="c-role"))


def _network(emu: Emulator) -> tuple[str, str, str]:
    ec2 = emu.client("ec2")
    vpc_id = ec2.describe_vpcs(Filters=[{"Name": "tag:Name", "Values": ["demo-vpc"]}])["Vpcs"][0][
        "VpcId"
    ]
    subnet_id = ec2.describe_subnets(
        Filters=[{"Name": "tag:Name", "Values": ["demo-vpc-private-a"]}]
    )["Subnets"][0]["SubnetId"]
    ami = emu.client("ssm").get_parameter(Name=AMI_PARAMETERS[1])["Parameter"]["Value"]
    return vpc_id, subnet_id, ami


def _instance_profile(emu: Emulator, name: str) -> None:
    iam = emu.client("iam")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST_POLICY)
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)


def check_run_instances_client_token(emu: Emulator) -> None:
    ec2 = emu.client("ec2")
    vpc_id, subnet_id, ami = _network(emu)
    sg = ec2.create_security_group(GroupName="ct-sg", Description="ct", VpcId=vpc_id)["GroupId"]
    _instance_profile(emu, "ct-profile")

    def run(token: str, instance_type: str = "t3.micro") -> dict[str, Any]:
        return ec2.run_instances(
            ImageId=ami,
            InstanceType=instance_type,
            SubnetId=subnet_id,
            SecurityGroupIds=[sg],
            IamInstanceProfile={"Name": "ct-profile"},
            UserData="#!/bin/bash\necho hello\n",  # boto3 base64-encodes it
            MinCount=1,
            MaxCount=1,
            ClientToken=token,
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [
                        {"Key": "stackctl:stack", "Value": "ct"},
                        {"Key": "stackctl:resource", "Value": "web"},
                    ],
                }
            ],
        )

    first = run("token-abc")
    second = run("token-abc")
    ids = [i["InstanceId"] for i in first["Instances"]]
    assert len(ids) == 1
    assert [i["InstanceId"] for i in second["Instances"]] == ids, (first, second)
    assert second["ReservationId"] == first["ReservationId"]
    expect_error("IdempotentParameterMismatch", 400, lambda: run("token-abc", "t3.small"))

    found = ec2.describe_instances(
        Filters=[
            {"Name": "tag:stackctl:stack", "Values": ["ct"]},
            {"Name": "tag:stackctl:resource", "Values": ["web"]},
            {"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]},
        ]
    )["Reservations"]
    instances = [i for r in found for i in r["Instances"]]
    assert [i["InstanceId"] for i in instances] == ids, instances
    assert instances[0]["ClientToken"] == "token-abc"
    by_token = ec2.describe_instances(Filters=[{"Name": "client-token", "Values": ["token-abc"]}])
    assert [i["InstanceId"] for r in by_token["Reservations"] for i in r["Instances"]] == ids

    # A different token is a new launch.
    third = run("token-def")
    assert third["Instances"][0]["InstanceId"] not in ids
    ec2.terminate_instances(InstanceIds=ids + [third["Instances"][0]["InstanceId"]])


def check_instance_attributes_and_profile(emu: Emulator) -> None:
    ec2 = emu.client("ec2")
    iam = emu.client("iam")
    vpc_id, subnet_id, ami = _network(emu)
    sg1 = ec2.create_security_group(GroupName="attr-1", Description="a", VpcId=vpc_id)["GroupId"]
    sg2 = ec2.create_security_group(GroupName="attr-2", Description="a", VpcId=vpc_id)["GroupId"]
    _instance_profile(emu, "attr-p1")
    _instance_profile(emu, "attr-p2")
    iid = ec2.run_instances(
        ImageId=ami,
        InstanceType="t3.micro",
        SubnetId=subnet_id,
        SecurityGroupIds=[sg1],
        IamInstanceProfile={"Name": "attr-p1"},
        UserData="#!/bin/bash\necho hi\n",
        MinCount=1,
        MaxCount=1,
    )["Instances"][0]["InstanceId"]

    user_data = ec2.describe_instance_attribute(InstanceId=iid, Attribute="userData")
    assert user_data["UserData"]["Value"] == "IyEvYmluL2Jhc2gKZWNobyBoaQo=", user_data

    # Instance type changes need a stopped instance.
    expect_error(
        "IncorrectInstanceState",
        400,
        lambda: ec2.modify_instance_attribute(InstanceId=iid, InstanceType={"Value": "t3.small"}),
    )
    ec2.stop_instances(InstanceIds=[iid])
    ec2.modify_instance_attribute(InstanceId=iid, InstanceType={"Value": "t3.small"})
    got = ec2.describe_instance_attribute(InstanceId=iid, Attribute="instanceType")
    assert got["InstanceType"]["Value"] == "t3.small", got
    ec2.start_instances(InstanceIds=[iid])

    # Groups replace the primary network interface's groups.
    ec2.modify_instance_attribute(InstanceId=iid, Groups=[sg2])
    groups = ec2.describe_instance_attribute(InstanceId=iid, Attribute="groupSet")["Groups"]
    assert [g["GroupId"] for g in groups] == [sg2], groups
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [sg2]}])
    assert [e["Attachment"]["InstanceId"] for e in enis["NetworkInterfaces"]] == [iid], enis
    assert not ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [sg1]}])[
        "NetworkInterfaces"
    ]
    expect_error(
        "InvalidGroup.NotFound",
        400,
        lambda: ec2.modify_instance_attribute(InstanceId=iid, Groups=["sg-0123456789abcdef0"]),
    )
    ec2.delete_security_group(GroupId=sg1)  # no longer used by anything

    # The instance shows the profile currently associated, by profile id.
    p2_id = iam.get_instance_profile(InstanceProfileName="attr-p2")["InstanceProfile"][
        "InstanceProfileId"
    ]
    assocs = ec2.describe_iam_instance_profile_associations(
        Filters=[{"Name": "instance-id", "Values": [iid]}]
    )["IamInstanceProfileAssociations"]
    assert len(assocs) == 1, assocs
    ec2.replace_iam_instance_profile_association(
        AssociationId=assocs[0]["AssociationId"], IamInstanceProfile={"Name": "attr-p2"}
    )
    inst = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]
    assert inst["IamInstanceProfile"]["Arn"].endswith("/attr-p2"), inst["IamInstanceProfile"]
    assert inst["IamInstanceProfile"]["Id"] == p2_id, inst["IamInstanceProfile"]

    ec2.terminate_instances(InstanceIds=[iid])


def check_delete_security_group_dependency(emu: Emulator) -> None:
    ec2 = emu.client("ec2")
    vpc_id, subnet_id, ami = _network(emu)

    # 1. used by an instance (and its network interface)
    used = ec2.create_security_group(
        GroupName="dep-used",
        Description="used",
        VpcId=vpc_id,
        TagSpecifications=[
            {"ResourceType": "security-group", "Tags": [{"Key": "stackctl:stack", "Value": "dep"}]}
        ],
    )["GroupId"]
    iid = ec2.run_instances(
        ImageId=ami,
        InstanceType="t3.micro",
        SubnetId=subnet_id,
        SecurityGroupIds=[used],
        MinCount=1,
        MaxCount=1,
    )["Instances"][0]["InstanceId"]
    err = expect_error(
        "DependencyViolation", 400, lambda: ec2.delete_security_group(GroupId=used)
    )
    assert err.response["Error"]["Message"] == f"resource {used} has a dependent object", err
    ec2.stop_instances(InstanceIds=[iid])
    expect_error("DependencyViolation", 400, lambda: ec2.delete_security_group(GroupId=used))
    ec2.terminate_instances(InstanceIds=[iid])
    state = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]
    assert state["Name"] == "terminated", state
    # The primary network interface went with the instance.
    assert not ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [used]}])[
        "NetworkInterfaces"
    ]
    ec2.delete_security_group(GroupId=used)
    expect_error("InvalidGroup.NotFound", 400, lambda: ec2.describe_security_groups(GroupIds=[used]))

    # 2. referenced by another group's ingress / egress rule
    target = ec2.create_security_group(GroupName="dep-db", Description="db", VpcId=vpc_id)[
        "GroupId"
    ]
    ref = ec2.create_security_group(GroupName="dep-app", Description="app", VpcId=vpc_id)[
        "GroupId"
    ]
    ingress = {
        "IpProtocol": "tcp",
        "FromPort": 5432,
        "ToPort": 5432,
        "UserIdGroupPairs": [{"GroupId": target, "Description": "from db"}],
    }
    ec2.authorize_security_group_ingress(GroupId=ref, IpPermissions=[ingress])
    expect_error("DependencyViolation", 400, lambda: ec2.delete_security_group(GroupId=target))
    # Description is not part of a rule's identity: revoke without it.
    ec2.revoke_security_group_ingress(
        GroupId=ref,
        IpPermissions=[{**ingress, "UserIdGroupPairs": [{"GroupId": target}]}],
    )
    egress = {
        "IpProtocol": "tcp",
        "FromPort": 5432,
        "ToPort": 5432,
        "UserIdGroupPairs": [{"GroupId": target, "Description": "to db"}],
    }
    ec2.authorize_security_group_egress(GroupId=ref, IpPermissions=[egress])
    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [ref]}])
    described = [
        r for r in rules["SecurityGroupRules"] if r.get("ReferencedGroupInfo", {}).get("GroupId") == target
    ]
    assert [(r["IsEgress"], r.get("Description")) for r in described] == [(True, "to db")], rules
    expect_error("DependencyViolation", 400, lambda: ec2.delete_security_group(GroupId=target))
    ec2.revoke_security_group_egress(
        GroupId=ref, IpPermissions=[{**egress, "UserIdGroupPairs": [{"GroupId": target}]}]
    )
    ec2.delete_security_group(GroupId=target)
    ec2.delete_security_group(GroupId=ref)

    # 3. the VPC's default group can never be deleted
    default = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"][0]["GroupId"]
    expect_error("CannotDelete", 400, lambda: ec2.delete_security_group(GroupId=default))


def check_default_security_group(emu: Emulator) -> None:
    # RunInstances without SecurityGroupIds uses the VPC's default group.
    ec2 = emu.client("ec2")
    vpc_id, subnet_id, ami = _network(emu)
    default = ec2.describe_security_groups(
        Filters=[
            {"Name": "vpc-id", "Values": [vpc_id]},
            {"Name": "group-name", "Values": ["default"]},
        ]
    )["SecurityGroups"][0]["GroupId"]
    inst = ec2.run_instances(
        ImageId=ami, InstanceType="t3.micro", SubnetId=subnet_id, MinCount=1, MaxCount=1
    )["Instances"][0]
    assert [g["GroupId"] for g in inst["SecurityGroups"]] == [default], inst["SecurityGroups"]
    ec2.terminate_instances(InstanceIds=[inst["InstanceId"]])


def check_request_log(emu: Emulator) -> None:
    emu.reset_requests()
    assert emu.requests() == []
    emu.client("ec2").describe_vpcs()
    emu.client("iam").get_role(RoleName="t-role")
    emu.client("ssm").get_parameter(Name=AMI_PARAMETERS[0])
    emu.client("sts").get_caller_identity()
    try:
        emu.client("ec2").delete_security_group(GroupId="sg-0123456789abcdef0")
    except ClientError:
        pass
    log = emu.requests()
    got = [(e["service"], e["action"], e["method"]) for e in log]
    assert got == [
        ("ec2", "DescribeVpcs", "POST"),
        ("iam", "GetRole", "POST"),
        ("ssm", "GetParameter", "POST"),
        ("sts", "GetCallerIdentity", "POST"),
        ("ec2", "DeleteSecurityGroup", "POST"),
    ], got
    assert [e["status"] for e in log] == [200, 200, 200, 200, 400], log
    emu.reset_requests()
    assert emu.requests() == []


def check_tagging_and_identity(emu: Emulator) -> None:
    ident = emu.client("sts").get_caller_identity()
    assert ident["Account"] == "123456789012", ident
    ec2 = emu.client("ec2")
    vpc_id, _, _ = _network(emu)
    sg = ec2.create_security_group(
        GroupName="tagged",
        Description="t",
        VpcId=vpc_id,
        TagSpecifications=[
            {"ResourceType": "security-group", "Tags": [{"Key": "stackctl:stack", "Value": "tg"}]}
        ],
    )["GroupId"]
    found = emu.client("resourcegroupstaggingapi").get_resources(
        TagFilters=[{"Key": "stackctl:stack", "Values": ["tg"]}]
    )["ResourceTagMappingList"]
    assert [r["ResourceARN"] for r in found] == [
        f"arn:aws:ec2:us-east-1:123456789012:security-group/{sg}"
    ], found
    ec2.delete_security_group(GroupId=sg)

    # GetResources also lists MemoryDB resources and RDS DB subnet groups, as on AWS.
    _, private_a, _ = _network(emu)
    private_b = ec2.describe_subnets(
        Filters=[{"Name": "tag:Name", "Values": ["demo-vpc-private-b"]}]
    )["Subnets"][0]["SubnetId"]
    tags = [{"Key": "stackctl:stack", "Value": "census"}]
    memorydb = emu.client("memorydb")
    memorydb.create_subnet_group(SubnetGroupName="census-mem", SubnetIds=[private_a], Tags=tags)
    memorydb.create_user(
        UserName="census-user",
        AccessString="on ~* +@all",
        AuthenticationMode={"Type": "password", "Passwords": ["a-long-enough-password-1"]},
        Tags=tags,
    )
    memorydb.create_acl(ACLName="census-acl", UserNames=["census-user"], Tags=tags)
    rds = emu.client("rds")
    rds.create_db_subnet_group(
        DBSubnetGroupName="census-db",
        DBSubnetGroupDescription="d",
        SubnetIds=[private_a, private_b],
        Tags=tags,
    )
    tagging = emu.client("resourcegroupstaggingapi")
    arns = sorted(
        r["ResourceARN"]
        for r in tagging.get_resources(TagFilters=[{"Key": "stackctl:stack", "Values": ["census"]}])[
            "ResourceTagMappingList"
        ]
    )
    assert arns == [
        f"arn:aws:memorydb:us-east-1:{ACCOUNT}:acl/census-acl",
        f"arn:aws:memorydb:us-east-1:{ACCOUNT}:subnetgroup/census-mem",
        f"arn:aws:memorydb:us-east-1:{ACCOUNT}:user/census-user",
        f"arn:aws:rds:us-east-1:{ACCOUNT}:subgrp:census-db",
    ], arns
    expect_error(
        "DBSubnetGroupAlreadyExists",
        400,
        lambda: rds.create_db_subnet_group(
            DBSubnetGroupName="census-db",
            DBSubnetGroupDescription="another",
            SubnetIds=[private_a, private_b],
        ),
    )
    memorydb.delete_acl(ACLName="census-acl")
    memorydb.delete_user(UserName="census-user")
    memorydb.delete_subnet_group(SubnetGroupName="census-mem")
    rds.delete_db_subnet_group(DBSubnetGroupName="census-db")

    # IAM roles and their tags in one account read.
    iam = emu.client("iam")
    iam.create_role(RoleName="census-role", AssumeRolePolicyDocument="{}", Tags=tags)
    roles = iam.get_account_authorization_details(Filter=["Role"])["RoleDetailList"]
    role = next(r for r in roles if r["RoleName"] == "census-role")
    assert role.get("Tags") == tags, role
    iam.delete_role(RoleName="census-role")


def check_unimplemented_is_loud(emu: Emulator) -> None:
    # An operation moto lacks must fail, never look like success.
    try:
        emu.client("ec2").describe_capacity_block_offerings(
            CapacityDurationHours=24, InstanceType="p5.48xlarge", InstanceCount=1
        )
    except Exception:  # noqa: BLE001 - any failure is the point
        return
    raise AssertionError("unimplemented operation answered as if it succeeded")


# --------------------------------------------------------------------------
# ElastiCache, MemoryDB, RDS, Secrets Manager
# --------------------------------------------------------------------------

ACCOUNT = "123456789012"

# Every operation stackctl calls on these services. check_data_services_not_unimplemented
# runs a flow that makes each of them at least once and fails if any answered
# HTTP 500 (moto's "not implemented" HTML page) or was never made.
STACKCTL_OPERATIONS = {
    "elasticache": {
        "CreateCacheSubnetGroup", "DescribeCacheSubnetGroups", "ModifyCacheSubnetGroup",
        "DeleteCacheSubnetGroup", "CreateCacheCluster", "DescribeCacheClusters",
        "ModifyCacheCluster", "DeleteCacheCluster", "CreateReplicationGroup",
        "DescribeReplicationGroups", "ModifyReplicationGroup", "DeleteReplicationGroup",
        "ListTagsForResource", "AddTagsToResource", "RemoveTagsFromResource",
    },
    "memorydb": {
        "CreateSubnetGroup", "DescribeSubnetGroups", "UpdateSubnetGroup", "DeleteSubnetGroup",
        "CreateUser", "DescribeUsers", "UpdateUser", "DeleteUser", "CreateACL", "DescribeACLs",
        "UpdateACL", "DeleteACL", "CreateCluster", "DescribeClusters", "UpdateCluster",
        "DeleteCluster", "ListTags", "TagResource", "UntagResource",
    },
    "rds": {
        "CreateDBSubnetGroup", "DescribeDBSubnetGroups", "ModifyDBSubnetGroup",
        "DeleteDBSubnetGroup", "CreateDBInstance", "DescribeDBInstances", "ModifyDBInstance",
        "DeleteDBInstance", "DescribeDBSnapshots", "ListTagsForResource",
    },
    "secretsmanager": {
        "GetRandomPassword", "CreateSecret", "DescribeSecret", "GetSecretValue",
        "PutSecretValue", "UpdateSecret", "TagResource", "DeleteSecret", "ListSecrets",
    },
}


def _private_subnets(emu: Emulator, region: str = "us-east-1") -> list[str]:
    ec2 = emu.client("ec2", region)
    return [
        ec2.describe_subnets(Filters=[{"Name": "tag:Name", "Values": [name]}])["Subnets"][0]["SubnetId"]
        for name in ("demo-vpc-private-a", "demo-vpc-private-b")
    ]


def _security_group(emu: Emulator, name: str) -> str:
    vpc_id, _, _ = _network(emu)
    return emu.client("ec2").create_security_group(GroupName=name, Description=name, VpcId=vpc_id)[
        "GroupId"
    ]


def _tags(tag_list: list[dict[str, str]]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in tag_list}


def check_data_services_not_unimplemented(emu: Emulator) -> None:
    emu.reset_requests()
    subnets = _private_subnets(emu)
    sg = _security_group(emu, "ops-sg")
    # ElastiCache
    ec = emu.client("elasticache")
    ec.create_cache_subnet_group(
        CacheSubnetGroupName="ops-ec", CacheSubnetGroupDescription="d", SubnetIds=subnets
    )
    ec.describe_cache_subnet_groups(CacheSubnetGroupName="ops-ec")
    ec.modify_cache_subnet_group(CacheSubnetGroupName="ops-ec", CacheSubnetGroupDescription="d2")
    ec.create_cache_cluster(
        CacheClusterId="ops-ec", CacheNodeType="cache.t3.micro", Engine="redis", NumCacheNodes=1,
        CacheSubnetGroupName="ops-ec", SecurityGroupIds=[sg],
    )
    ec.describe_cache_clusters(CacheClusterId="ops-ec", ShowCacheNodeInfo=True)
    ec.modify_cache_cluster(CacheClusterId="ops-ec", SnapshotRetentionLimit=1, ApplyImmediately=True)
    arn = f"arn:aws:elasticache:us-east-1:{ACCOUNT}:cluster:ops-ec"
    ec.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "a", "Value": "b"}])
    ec.list_tags_for_resource(ResourceName=arn)
    ec.remove_tags_from_resource(ResourceName=arn, TagKeys=["a"])
    ec.delete_cache_cluster(CacheClusterId="ops-ec")
    ec.create_replication_group(
        ReplicationGroupId="ops-rg", ReplicationGroupDescription="d", Engine="redis",
        CacheNodeType="cache.t3.micro", NumCacheClusters=2, CacheSubnetGroupName="ops-ec",
    )
    ec.describe_replication_groups(ReplicationGroupId="ops-rg")
    ec.modify_replication_group(ReplicationGroupId="ops-rg", SnapshotRetentionLimit=2, ApplyImmediately=True)
    ec.delete_replication_group(ReplicationGroupId="ops-rg")
    ec.delete_cache_subnet_group(CacheSubnetGroupName="ops-ec")
    # MemoryDB
    mdb = emu.client("memorydb")
    mdb.create_subnet_group(SubnetGroupName="ops-mdb", SubnetIds=subnets)
    mdb.describe_subnet_groups(SubnetGroupName="ops-mdb")
    mdb.update_subnet_group(SubnetGroupName="ops-mdb", Description="d2")
    mdb.create_user(
        UserName="ops-user", AccessString="on ~* +@all",
        AuthenticationMode={"Type": "password", "Passwords": ["p" * 20]},
    )
    mdb.describe_users(UserName="ops-user")
    mdb.update_user(UserName="ops-user", AccessString="on ~* +@read")
    mdb.create_acl(ACLName="ops-acl", UserNames=["ops-user"])
    mdb.describe_acls(ACLName="ops-acl")
    mdb.update_acl(ACLName="ops-acl", UserNamesToRemove=["ops-user"])
    cluster_arn = mdb.create_cluster(
        ClusterName="ops-mdb", NodeType="db.t4g.small", ACLName="ops-acl", SubnetGroupName="ops-mdb"
    )["Cluster"]["ARN"]
    mdb.describe_clusters(ClusterName="ops-mdb", ShowShardDetails=True)
    mdb.update_cluster(ClusterName="ops-mdb", SnapshotRetentionLimit=1)
    mdb.tag_resource(ResourceArn=cluster_arn, Tags=[{"Key": "a", "Value": "b"}])
    mdb.list_tags(ResourceArn=cluster_arn)
    mdb.untag_resource(ResourceArn=cluster_arn, TagKeys=["a"])
    mdb.delete_cluster(ClusterName="ops-mdb")
    mdb.delete_acl(ACLName="ops-acl")
    mdb.delete_user(UserName="ops-user")
    mdb.delete_subnet_group(SubnetGroupName="ops-mdb")
    # RDS
    rds = emu.client("rds")
    rds.create_db_subnet_group(DBSubnetGroupName="ops-rds", DBSubnetGroupDescription="d", SubnetIds=subnets)
    rds.describe_db_subnet_groups(DBSubnetGroupName="ops-rds")
    rds.modify_db_subnet_group(DBSubnetGroupName="ops-rds", SubnetIds=subnets)
    db_arn = rds.create_db_instance(
        DBInstanceIdentifier="ops-rds", DBInstanceClass="db.t3.micro", Engine="postgres",
        AllocatedStorage=20, MasterUsername="app", ManageMasterUserPassword=True,
        DBSubnetGroupName="ops-rds",
    )["DBInstance"]["DBInstanceArn"]
    rds.describe_db_instances(DBInstanceIdentifier="ops-rds")
    rds.modify_db_instance(DBInstanceIdentifier="ops-rds", BackupRetentionPeriod=3, ApplyImmediately=True)
    rds.list_tags_for_resource(ResourceName=db_arn)
    rds.delete_db_instance(DBInstanceIdentifier="ops-rds", FinalDBSnapshotIdentifier="ops-final")
    rds.describe_db_snapshots(DBSnapshotIdentifier="ops-final")
    rds.delete_db_subnet_group(DBSubnetGroupName="ops-rds")
    # Secrets Manager
    sm = emu.client("secretsmanager")
    password = sm.get_random_password(PasswordLength=24, ExcludePunctuation=True)["RandomPassword"]
    sm.create_secret(Name="ops/secret", SecretString=password, Tags=[{"Key": "a", "Value": "b"}])
    sm.describe_secret(SecretId="ops/secret")
    sm.get_secret_value(SecretId="ops/secret")
    sm.put_secret_value(SecretId="ops/secret", SecretString="v2")
    sm.update_secret(SecretId="ops/secret", Description="d2")
    sm.tag_resource(SecretId="ops/secret", Tags=[{"Key": "c", "Value": "d"}])
    sm.list_secrets(Filters=[{"Key": "name", "Values": ["ops/"]}])
    sm.delete_secret(SecretId="ops/secret", ForceDeleteWithoutRecovery=True)

    log = emu.requests()
    errors = [e for e in log if (e["status"] or 500) >= 500]
    assert not errors, errors
    made = {(e["service"], e["action"]) for e in log}
    missing = sorted(
        (service, op) for service, ops in STACKCTL_OPERATIONS.items() for op in ops
        if (service, op) not in made
    )
    assert not missing, missing
    emu.reset_requests()


def check_elasticache_subnet_groups(emu: Emulator) -> None:
    ec = emu.client("elasticache")
    subnets = _private_subnets(emu)
    group = ec.create_cache_subnet_group(
        CacheSubnetGroupName="EC-Subnets", CacheSubnetGroupDescription="d", SubnetIds=subnets,
        Tags=[{"Key": "stackctl:stack", "Value": "ec"}],
    )["CacheSubnetGroup"]
    # Stored lower-case; each subnet reports its zone.
    assert group["CacheSubnetGroupName"] == "ec-subnets", group
    zones = sorted(s["SubnetAvailabilityZone"]["Name"] for s in group["Subnets"])
    assert zones == ["us-east-1a", "us-east-1b"], group
    assert _tags(ec.list_tags_for_resource(ResourceName=group["ARN"])["TagList"]) == {
        "stackctl:stack": "ec"
    }
    expect_error(
        "InvalidSubnet", 400,
        lambda: ec.create_cache_subnet_group(
            CacheSubnetGroupName="ec-bad", CacheSubnetGroupDescription="d", SubnetIds=["subnet-0123456789abcdef0"]
        ),
    )
    modified = ec.modify_cache_subnet_group(
        CacheSubnetGroupName="ec-subnets", CacheSubnetGroupDescription="d2", SubnetIds=subnets[:1]
    )["CacheSubnetGroup"]
    assert modified["CacheSubnetGroupDescription"] == "d2", modified
    assert [s["SubnetIdentifier"] for s in modified["Subnets"]] == subnets[:1], modified
    got = ec.describe_cache_subnet_groups(CacheSubnetGroupName="ec-subnets")["CacheSubnetGroups"][0]
    assert [s["SubnetIdentifier"] for s in got["Subnets"]] == subnets[:1], got
    ec.modify_cache_subnet_group(CacheSubnetGroupName="ec-subnets", SubnetIds=subnets)
    expect_error(
        "CacheSubnetGroupNotFoundFault", 400,
        lambda: ec.modify_cache_subnet_group(CacheSubnetGroupName="ec-nope", CacheSubnetGroupDescription="x"),
    )

    # In use by a cluster -> CacheSubnetGroupInUse; free again once it is gone.
    ec.create_cache_cluster(
        CacheClusterId="ec-user", CacheNodeType="cache.t3.micro", Engine="redis", NumCacheNodes=1,
        CacheSubnetGroupName="ec-subnets",
    )
    expect_error(
        "CacheSubnetGroupInUse", 400, lambda: ec.delete_cache_subnet_group(CacheSubnetGroupName="ec-subnets")
    )
    ec.delete_cache_cluster(CacheClusterId="ec-user")
    # ... and by a replication group.
    ec.create_replication_group(
        ReplicationGroupId="ec-user-rg", ReplicationGroupDescription="d", Engine="redis",
        CacheNodeType="cache.t3.micro", NumCacheClusters=1, CacheSubnetGroupName="ec-subnets",
    )
    expect_error(
        "CacheSubnetGroupInUse", 400, lambda: ec.delete_cache_subnet_group(CacheSubnetGroupName="ec-subnets")
    )
    ec.delete_replication_group(ReplicationGroupId="ec-user-rg")
    ec.delete_cache_subnet_group(CacheSubnetGroupName="ec-subnets")
    expect_error(
        "CacheSubnetGroupNotFoundFault", 400,
        lambda: ec.describe_cache_subnet_groups(CacheSubnetGroupName="ec-subnets"),
    )
    expect_error(
        "CacheSubnetGroupNotFoundFault", 400,
        lambda: ec.delete_cache_subnet_group(CacheSubnetGroupName="ec-subnets"),
    )


def check_elasticache_clusters(emu: Emulator) -> None:
    ec = emu.client("elasticache")
    subnets = _private_subnets(emu)
    sg1 = _security_group(emu, "ec-cluster-1")
    sg2 = _security_group(emu, "ec-cluster-2")
    ec.create_cache_subnet_group(CacheSubnetGroupName="ec-cl", CacheSubnetGroupDescription="d", SubnetIds=subnets)
    expect_error(
        "CacheSubnetGroupNotFoundFault", 400,
        lambda: ec.create_cache_cluster(
            CacheClusterId="ec-x", CacheNodeType="cache.t3.micro", Engine="redis", NumCacheNodes=1,
            CacheSubnetGroupName="ec-nope",
        ),
    )
    created = ec.create_cache_cluster(
        CacheClusterId="EC-Redis", CacheNodeType="cache.t3.micro", Engine="redis", EngineVersion="7.0",
        NumCacheNodes=1, CacheSubnetGroupName="ec-cl", SecurityGroupIds=[sg1],
        SnapshotRetentionLimit=3, SnapshotWindow="04:00-05:00",
        PreferredMaintenanceWindow="sun:05:00-sun:06:00", CacheParameterGroupName="default.redis7",
        Tags=[{"Key": "stackctl:stack", "Value": "ec"}],
    )["CacheCluster"]
    assert created["CacheClusterId"] == "ec-redis", created  # lower-cased, as AWS stores it
    arn = f"arn:aws:elasticache:us-east-1:{ACCOUNT}:cluster:ec-redis"
    assert created["ARN"] == arn, created
    assert _tags(ec.list_tags_for_resource(ResourceName=arn)["TagList"]) == {"stackctl:stack": "ec"}

    plain = ec.describe_cache_clusters(CacheClusterId="ec-redis")["CacheClusters"][0]
    assert "CacheNodes" not in plain, plain  # only with ShowCacheNodeInfo
    cluster = ec.describe_cache_clusters(CacheClusterId="EC-Redis", ShowCacheNodeInfo=True)["CacheClusters"][0]
    nodes = cluster["CacheNodes"]
    assert len(nodes) == 1 and nodes[0]["CacheNodeId"] == "0001", nodes
    assert nodes[0]["Endpoint"]["Address"].endswith(".cache.amazonaws.com"), nodes
    assert nodes[0]["Endpoint"]["Port"] == 6379, nodes
    assert cluster["SecurityGroups"] == [{"SecurityGroupId": sg1, "Status": "active"}], cluster
    assert cluster["CacheSubnetGroupName"] == "ec-cl", cluster
    assert cluster["SnapshotRetentionLimit"] == 3 and cluster["SnapshotWindow"] == "04:00-05:00", cluster
    assert cluster["PreferredMaintenanceWindow"] == "sun:05:00-sun:06:00", cluster
    assert cluster["EngineVersion"] == "7.0", cluster
    assert cluster["CacheParameterGroup"]["CacheParameterGroupName"] == "default.redis7", cluster
    assert cluster["ARN"] == arn and cluster["CacheClusterStatus"] == "available", cluster
    assert cluster["PreferredAvailabilityZone"] in ("us-east-1a", "us-east-1b"), cluster

    # ModifyCacheCluster with ApplyImmediately: response and Describe agree.
    modified = ec.modify_cache_cluster(
        CacheClusterId="ec-redis", CacheNodeType="cache.t3.small", SnapshotRetentionLimit=5,
        SnapshotWindow="06:00-07:00", PreferredMaintenanceWindow="mon:01:00-mon:02:00",
        SecurityGroupIds=[sg2], EngineVersion="7.1", CacheParameterGroupName="custom-redis7",
        ApplyImmediately=True,
    )["CacheCluster"]
    for got in (modified, ec.describe_cache_clusters(CacheClusterId="ec-redis")["CacheClusters"][0]):
        assert got["CacheNodeType"] == "cache.t3.small", got
        assert got["SnapshotRetentionLimit"] == 5 and got["SnapshotWindow"] == "06:00-07:00", got
        assert got["PreferredMaintenanceWindow"] == "mon:01:00-mon:02:00", got
        assert got["SecurityGroups"] == [{"SecurityGroupId": sg2, "Status": "active"}], got
        assert got["EngineVersion"] == "7.1", got
        assert got["CacheParameterGroup"]["CacheParameterGroupName"] == "custom-redis7", got
        assert got["PendingModifiedValues"] == {}, got
    # Without ApplyImmediately the node type waits for the maintenance window.
    pending = ec.modify_cache_cluster(CacheClusterId="ec-redis", CacheNodeType="cache.t3.medium")["CacheCluster"]
    assert pending["CacheNodeType"] == "cache.t3.small", pending
    assert pending["PendingModifiedValues"] == {"CacheNodeType": "cache.t3.medium"}, pending

    # Memcached: NumCacheNodes nodes, each with an endpoint; resize.
    ec.create_cache_cluster(
        CacheClusterId="ec-mc", CacheNodeType="cache.t3.micro", Engine="memcached", NumCacheNodes=2,
        CacheSubnetGroupName="ec-cl", AZMode="cross-az",
    )
    mc = ec.describe_cache_clusters(CacheClusterId="ec-mc", ShowCacheNodeInfo=True)["CacheClusters"][0]
    assert [n["CacheNodeId"] for n in mc["CacheNodes"]] == ["0001", "0002"], mc
    assert all(n["Endpoint"]["Port"] == 11211 for n in mc["CacheNodes"]), mc
    assert {n["CustomerAvailabilityZone"] for n in mc["CacheNodes"]} == {"us-east-1a", "us-east-1b"}, mc
    assert mc["ConfigurationEndpoint"]["Port"] == 11211, mc
    ec.modify_cache_cluster(CacheClusterId="ec-mc", NumCacheNodes=3, ApplyImmediately=True)
    mc = ec.describe_cache_clusters(CacheClusterId="ec-mc", ShowCacheNodeInfo=True)["CacheClusters"][0]
    assert mc["NumCacheNodes"] == 3 and len(mc["CacheNodes"]) == 3, mc

    expect_error(
        "CacheClusterNotFound", 404,
        lambda: ec.modify_cache_cluster(CacheClusterId="ec-nope", SnapshotRetentionLimit=1),
    )
    # Delete: "deleting", then gone (delay 0 here); its tags go with it.
    deleted = ec.delete_cache_cluster(CacheClusterId="ec-redis")["CacheCluster"]
    assert deleted["CacheClusterStatus"] == "deleting", deleted
    expect_error("CacheClusterNotFound", 404, lambda: ec.describe_cache_clusters(CacheClusterId="ec-redis"))
    expect_error("CacheClusterNotFound", 404, lambda: ec.list_tags_for_resource(ResourceName=arn))
    expect_error("CacheClusterNotFound", 404, lambda: ec.delete_cache_cluster(CacheClusterId="ec-redis"))
    ec.delete_cache_cluster(CacheClusterId="ec-mc")
    ec.delete_cache_subnet_group(CacheSubnetGroupName="ec-cl")


def check_elasticache_replication_groups(emu: Emulator) -> None:
    ec = emu.client("elasticache")
    subnets = _private_subnets(emu)
    sg1 = _security_group(emu, "ec-rg-1")
    sg2 = _security_group(emu, "ec-rg-2")
    ec.create_cache_subnet_group(CacheSubnetGroupName="ec-rg", CacheSubnetGroupDescription="d", SubnetIds=subnets)
    expect_error(
        "CacheSubnetGroupNotFoundFault", 400,
        lambda: ec.create_replication_group(
            ReplicationGroupId="ec-x", ReplicationGroupDescription="d", Engine="redis",
            CacheNodeType="cache.t3.micro", NumCacheClusters=2, CacheSubnetGroupName="ec-nope",
        ),
    )
    # Cluster mode disabled: primary + reader endpoints, NumCacheClusters members.
    group = ec.create_replication_group(
        ReplicationGroupId="EC-Sessions", ReplicationGroupDescription="d", Engine="redis",
        CacheNodeType="cache.t3.micro", NumCacheClusters=2, AutomaticFailoverEnabled=True,
        CacheSubnetGroupName="ec-rg", SecurityGroupIds=[sg1], TransitEncryptionEnabled=True,
        AtRestEncryptionEnabled=True, AuthToken="a-long-enough-auth-token",
        Tags=[{"Key": "stackctl:stack", "Value": "ec"}],
    )["ReplicationGroup"]
    assert group["ReplicationGroupId"] == "ec-sessions", group
    assert group["MemberClusters"] == ["ec-sessions-001", "ec-sessions-002"], group
    node_group = group["NodeGroups"][0]
    assert node_group["PrimaryEndpoint"]["Address"] and node_group["PrimaryEndpoint"]["Port"] == 6379, group
    assert node_group["ReaderEndpoint"]["Address"] and node_group["ReaderEndpoint"]["Port"] == 6379, group
    assert group["TransitEncryptionEnabled"] is True and group["AtRestEncryptionEnabled"] is True, group
    assert group["AuthTokenEnabled"] is True and group["AutomaticFailover"] == "enabled", group
    arn = f"arn:aws:elasticache:us-east-1:{ACCOUNT}:replicationgroup:ec-sessions"
    assert group["ARN"] == arn, group
    assert _tags(ec.list_tags_for_resource(ResourceName=arn)["TagList"]) == {"stackctl:stack": "ec"}
    members = ec.describe_cache_clusters(ShowCacheNodeInfo=True)["CacheClusters"]
    members = {c["CacheClusterId"]: c for c in members if c.get("ReplicationGroupId") == "ec-sessions"}
    assert sorted(members) == ["ec-sessions-001", "ec-sessions-002"], members
    for member in members.values():
        assert member["SecurityGroups"] == [{"SecurityGroupId": sg1, "Status": "active"}], member
        assert member["CacheNodes"][0]["Endpoint"]["Address"], member

    modified = ec.modify_replication_group(
        ReplicationGroupId="ec-sessions", SnapshotRetentionLimit=4, CacheNodeType="cache.t3.small",
        AutomaticFailoverEnabled=False, SecurityGroupIds=[sg2], ApplyImmediately=True,
    )["ReplicationGroup"]
    described = ec.describe_replication_groups(ReplicationGroupId="ec-sessions")["ReplicationGroups"][0]
    for got in (modified, described):
        assert got["SnapshotRetentionLimit"] == 4 and got["CacheNodeType"] == "cache.t3.small", got
        assert got["AutomaticFailover"] == "disabled", got
    member = ec.describe_cache_clusters(CacheClusterId="ec-sessions-002")["CacheClusters"][0]
    assert member["SecurityGroups"] == [{"SecurityGroupId": sg2, "Status": "active"}], member
    assert member["CacheNodeType"] == "cache.t3.small", member

    # Cluster mode enabled: configuration endpoint.
    sharded = ec.create_replication_group(
        ReplicationGroupId="ec-sharded", ReplicationGroupDescription="d", Engine="redis",
        CacheNodeType="cache.t3.micro", NumNodeGroups=2, ReplicasPerNodeGroup=1,
        AutomaticFailoverEnabled=True, CacheSubnetGroupName="ec-rg",
        CacheParameterGroupName="default.redis7.cluster.on",
    )["ReplicationGroup"]
    assert sharded["ClusterEnabled"] is True, sharded
    assert sharded["ConfigurationEndpoint"]["Address"] and sharded["ConfigurationEndpoint"]["Port"] == 6379
    assert len(sharded["NodeGroups"]) == 2 and len(sharded["MemberClusters"]) == 4, sharded

    for group_id in ("ec-sessions", "ec-sharded"):
        deleted = ec.delete_replication_group(ReplicationGroupId=group_id)["ReplicationGroup"]
        assert deleted["Status"] == "deleting", deleted
        expect_error(
            "ReplicationGroupNotFoundFault", 404,
            lambda: ec.describe_replication_groups(ReplicationGroupId=group_id),
        )
    expect_error(
        "CacheClusterNotFound", 404, lambda: ec.describe_cache_clusters(CacheClusterId="ec-sessions-001")
    )
    ec.delete_cache_subnet_group(CacheSubnetGroupName="ec-rg")


def check_memorydb_acls_and_users(emu: Emulator) -> None:
    mdb = emu.client("memorydb")
    acls = {a["Name"]: a for a in mdb.describe_acls()["ACLs"]}
    assert acls["open-access"]["UserNames"] == ["default"], acls
    assert acls["open-access"]["Status"] == "active", acls

    user = mdb.create_user(
        UserName="app-user", AccessString="on ~app:* +@all",
        AuthenticationMode={"Type": "password", "Passwords": ["a-long-password-123"]},
        Tags=[{"Key": "stackctl:stack", "Value": "mdb"}],
    )["User"]
    assert user["Authentication"] == {"Type": "password", "PasswordCount": 1}, user
    got = mdb.describe_users(UserName="app-user")["Users"][0]
    assert "a-long-password-123" not in json.dumps(got, default=str), got
    assert set(got["Authentication"]) == {"Type", "PasswordCount"}, got
    mdb.update_user(
        UserName="app-user", AccessString="on ~app:* +@read",
        AuthenticationMode={"Type": "password", "Passwords": ["another-password-1", "another-password-2"]},
    )
    got = mdb.describe_users(UserName="app-user")["Users"][0]
    assert got["AccessString"] == "on ~app:* +@read" and got["Authentication"]["PasswordCount"] == 2, got

    expect_error("UserNotFoundFault", 400, lambda: mdb.create_acl(ACLName="app-acl", UserNames=["nobody"]))
    acl = mdb.create_acl(
        ACLName="app-acl", UserNames=["app-user"], Tags=[{"Key": "stackctl:stack", "Value": "mdb"}]
    )["ACL"]
    assert acl["Name"] == "app-acl" and acl["Status"] == "active", acl
    assert acl["UserNames"] == ["app-user"] and acl["MinimumEngineVersion"], acl
    assert acl["ARN"] == f"arn:aws:memorydb:us-east-1:{ACCOUNT}:acl/app-acl", acl
    assert "PendingChanges" in acl and acl["Clusters"] == [], acl
    assert _tags(mdb.list_tags(ResourceArn=acl["ARN"])["TagList"]) == {"stackctl:stack": "mdb"}
    expect_error("ACLAlreadyExistsFault", 400, lambda: mdb.create_acl(ACLName="app-acl"))
    assert mdb.describe_users(UserName="app-user")["Users"][0]["ACLNames"] == ["app-acl"]
    expect_error("ACLNotFoundFault", 400, lambda: mdb.describe_acls(ACLName="nope"))
    expect_error("ACLNotFoundFault", 400, lambda: mdb.update_acl(ACLName="nope", UserNamesToAdd=["app-user"]))
    expect_error(
        "UserNotFoundFault", 400, lambda: mdb.update_acl(ACLName="app-acl", UserNamesToAdd=["nobody"])
    )
    mdb.create_user(
        UserName="ro-user", AccessString="on ~* +@read",
        AuthenticationMode={"Type": "password", "Passwords": ["a-long-password-456"]},
    )
    updated = mdb.update_acl(ACLName="app-acl", UserNamesToAdd=["ro-user"], UserNamesToRemove=["app-user"])["ACL"]
    assert updated["UserNames"] == ["ro-user"], updated
    assert mdb.describe_acls(ACLName="app-acl")["ACLs"][0]["UserNames"] == ["ro-user"]
    # DeleteUser takes the user out of every ACL.
    mdb.delete_user(UserName="ro-user")
    assert mdb.describe_acls(ACLName="app-acl")["ACLs"][0]["UserNames"] == []
    expect_error("UserNotFoundFault", 400, lambda: mdb.describe_users(UserName="ro-user"))
    deleted = mdb.delete_acl(ACLName="app-acl")["ACL"]
    assert deleted["Status"] == "deleting", deleted
    expect_error("ACLNotFoundFault", 400, lambda: mdb.describe_acls(ACLName="app-acl"))
    expect_error("ACLNotFoundFault", 400, lambda: mdb.delete_acl(ACLName="app-acl"))
    mdb.delete_user(UserName="app-user")


def check_memorydb_clusters(emu: Emulator) -> None:
    mdb = emu.client("memorydb")
    subnets = _private_subnets(emu)
    sg1 = _security_group(emu, "mdb-1")
    sg2 = _security_group(emu, "mdb-2")
    group = mdb.create_subnet_group(
        SubnetGroupName="mdb-sg", SubnetIds=subnets, Tags=[{"Key": "stackctl:stack", "Value": "mdb"}]
    )["SubnetGroup"]
    assert _tags(mdb.list_tags(ResourceArn=group["ARN"])["TagList"]) == {"stackctl:stack": "mdb"}
    expect_error(
        "InvalidSubnet", 400,
        lambda: mdb.create_subnet_group(SubnetGroupName="mdb-bad", SubnetIds=[subnets[0], "subnet-0123456789abcdef0"]),
    )
    updated = mdb.update_subnet_group(SubnetGroupName="mdb-sg", Description="d2", SubnetIds=subnets[:1])["SubnetGroup"]
    assert updated["Description"] == "d2" and [s["Identifier"] for s in updated["Subnets"]] == subnets[:1]
    mdb.update_subnet_group(SubnetGroupName="mdb-sg", SubnetIds=subnets)
    expect_error("SubnetGroupNotFoundFault", 400, lambda: mdb.update_subnet_group(SubnetGroupName="nope", Description="x"))

    mdb.create_user(
        UserName="mdb-app", AccessString="on ~* +@all",
        AuthenticationMode={"Type": "password", "Passwords": ["a-long-password-789"]},
    )
    mdb.create_acl(ACLName="mdb-acl", UserNames=["mdb-app"])
    mdb.create_acl(ACLName="mdb-acl-2")
    expect_error(
        "ACLNotFoundFault", 400,
        lambda: mdb.create_cluster(ClusterName="mdb-x", NodeType="db.t4g.small", ACLName="nope", SubnetGroupName="mdb-sg"),
    )
    expect_error(
        "SubnetGroupNotFoundFault", 400,
        lambda: mdb.create_cluster(ClusterName="mdb-x", NodeType="db.t4g.small", ACLName="mdb-acl", SubnetGroupName="nope"),
    )
    created = mdb.create_cluster(
        ClusterName="mdb-cache", NodeType="db.t4g.small", ACLName="mdb-acl", SubnetGroupName="mdb-sg",
        NumShards=2, NumReplicasPerShard=1, SecurityGroupIds=[sg1], TLSEnabled=True,
        SnapshotRetentionLimit=2, SnapshotWindow="02:00-03:00", MaintenanceWindow="sun:05:00-sun:06:00",
        SnsTopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts", EngineVersion="7.1",
        ParameterGroupName="default.memorydb-redis7",
        SnapshotArns=["arn:aws:s3:::stackctl-seed/dump.rdb"],
        Tags=[{"Key": "stackctl:stack", "Value": "mdb"}],
    )["Cluster"]
    arn = f"arn:aws:memorydb:us-east-1:{ACCOUNT}:cluster/mdb-cache"
    assert created["ARN"] == arn, created
    assert _tags(mdb.list_tags(ResourceArn=arn)["TagList"]) == {"stackctl:stack": "mdb"}
    cluster = mdb.describe_clusters(ClusterName="mdb-cache", ShowShardDetails=True)["Clusters"][0]
    assert cluster["NumberOfShards"] == 2 and len(cluster["Shards"]) == 2, cluster
    assert [s["Slots"] for s in cluster["Shards"]] == ["0-8191", "8192-16383"], cluster
    for shard in cluster["Shards"]:
        assert len(shard["Nodes"]) == 2, shard
        for node in shard["Nodes"]:
            assert node["Endpoint"]["Address"] and node["Endpoint"]["Port"] == 6379, node
            assert node["AvailabilityZone"] in ("us-east-1a", "us-east-1b"), node
    assert cluster["ClusterEndpoint"]["Address"] and cluster["ClusterEndpoint"]["Port"] == 6379, cluster
    expected = {
        "NodeType": "db.t4g.small", "EngineVersion": "7.1", "TLSEnabled": True,
        "SnapshotRetentionLimit": 2, "SnapshotWindow": "02:00-03:00",
        "MaintenanceWindow": "sun:05:00-sun:06:00", "SnsTopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts",
        "ACLName": "mdb-acl", "SubnetGroupName": "mdb-sg", "ParameterGroupName": "default.memorydb-redis7",
        "SecurityGroups": [{"SecurityGroupId": sg1, "Status": "active"}],
    }
    assert {k: cluster.get(k) for k in expected} == expected, cluster
    assert "Shards" not in mdb.describe_clusters(ClusterName="mdb-cache")["Clusters"][0]
    assert mdb.describe_acls(ACLName="mdb-acl")["ACLs"][0]["Clusters"] == ["mdb-cache"]
    expect_error("InvalidACLStateFault", 400, lambda: mdb.delete_acl(ACLName="mdb-acl"))

    expect_error("ACLNotFoundFault", 400, lambda: mdb.update_cluster(ClusterName="mdb-cache", ACLName="nope"))
    mdb.update_cluster(
        ClusterName="mdb-cache", NodeType="db.r7g.large", ShardConfiguration={"ShardCount": 3},
        ReplicaConfiguration={"ReplicaCount": 2}, SnapshotRetentionLimit=4, SnapshotWindow="01:00-02:00",
        MaintenanceWindow="mon:05:00-mon:06:00", SecurityGroupIds=[sg2], ACLName="mdb-acl-2",
        SnsTopicArn=f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts-2",
    )
    cluster = mdb.describe_clusters(ClusterName="mdb-cache", ShowShardDetails=True)["Clusters"][0]
    expected = {
        "NodeType": "db.r7g.large", "NumberOfShards": 3, "SnapshotRetentionLimit": 4,
        "SnapshotWindow": "01:00-02:00", "MaintenanceWindow": "mon:05:00-mon:06:00",
        "SecurityGroups": [{"SecurityGroupId": sg2, "Status": "active"}], "ACLName": "mdb-acl-2",
        "SnsTopicArn": f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts-2",
    }
    assert {k: cluster.get(k) for k in expected} == expected, cluster
    assert [len(s["Nodes"]) for s in cluster["Shards"]] == [3, 3, 3], cluster
    mdb.delete_acl(ACLName="mdb-acl")  # no longer in use

    expect_error("SubnetGroupInUseFault", 400, lambda: mdb.delete_subnet_group(SubnetGroupName="mdb-sg"))
    deleted = mdb.delete_cluster(ClusterName="mdb-cache")["Cluster"]
    assert deleted["Status"] == "deleting", deleted
    expect_error("ClusterNotFoundFault", 400, lambda: mdb.describe_clusters(ClusterName="mdb-cache"))
    expect_error("ClusterNotFoundFault", 400, lambda: mdb.list_tags(ResourceArn=arn))
    mdb.delete_subnet_group(SubnetGroupName="mdb-sg")
    mdb.delete_acl(ACLName="mdb-acl-2")
    mdb.delete_user(UserName="mdb-app")


def check_rds(emu: Emulator) -> None:
    rds = emu.client("rds")
    sm = emu.client("secretsmanager")
    subnets = _private_subnets(emu)
    sg1 = _security_group(emu, "rds-1")
    sg2 = _security_group(emu, "rds-2")
    expect_error(
        "DBSubnetGroupDoesNotCoverEnoughAZs", 400,
        lambda: rds.create_db_subnet_group(
            DBSubnetGroupName="rds-one-az", DBSubnetGroupDescription="d", SubnetIds=subnets[:1]
        ),
    )
    expect_error(
        "InvalidSubnet", 400,
        lambda: rds.create_db_subnet_group(
            DBSubnetGroupName="rds-bad", DBSubnetGroupDescription="d", SubnetIds=["subnet-0123456789abcdef0"]
        ),
    )
    rds.create_db_subnet_group(
        DBSubnetGroupName="RDS-Subnets", DBSubnetGroupDescription="d", SubnetIds=subnets,
        Tags=[{"Key": "stackctl:stack", "Value": "rds"}],
    )
    # ModifyDBSubnetGroup keeps the group (moto used to drop it).
    modified = rds.modify_db_subnet_group(
        DBSubnetGroupName="rds-subnets", DBSubnetGroupDescription="d2", SubnetIds=list(reversed(subnets))
    )["DBSubnetGroup"]
    assert modified["DBSubnetGroupDescription"] == "d2", modified
    got = rds.describe_db_subnet_groups(DBSubnetGroupName="rds-subnets")["DBSubnetGroups"][0]
    assert got["DBSubnetGroupDescription"] == "d2", got
    expect_error(
        "DBSubnetGroupNotFoundFault", 404,
        lambda: rds.modify_db_subnet_group(DBSubnetGroupName="rds-nope", SubnetIds=subnets),
    )

    db = rds.create_db_instance(
        DBInstanceIdentifier="RDS-Main", DBInstanceClass="db.t3.micro", Engine="postgres",
        EngineVersion="16.3", AllocatedStorage=20, MasterUsername="app", ManageMasterUserPassword=True,
        EnableIAMDatabaseAuthentication=True, StorageEncrypted=True, DeletionProtection=True,
        PubliclyAccessible=False, BackupRetentionPeriod=7, VpcSecurityGroupIds=[sg1],
        DBSubnetGroupName="rds-subnets", Tags=[{"Key": "stackctl:stack", "Value": "rds"}],
    )["DBInstance"]
    assert db["DBInstanceIdentifier"] == "rds-main", db
    got = rds.describe_db_instances(DBInstanceIdentifier="rds-main")["DBInstances"][0]
    assert got["IAMDatabaseAuthenticationEnabled"] is True and got["StorageEncrypted"] is True, got
    assert got["KmsKeyId"].startswith("arn:aws:kms:us-east-1:"), got
    assert got["DeletionProtection"] is True and got["PubliclyAccessible"] is False, got
    assert got["BackupRetentionPeriod"] == 7, got
    assert got["VpcSecurityGroups"] == [{"VpcSecurityGroupId": sg1, "Status": "active"}], got
    assert got["PendingModifiedValues"] == {}, got
    secret_arn = got["MasterUserSecret"]["SecretArn"]
    assert json.loads(sm.get_secret_value(SecretId=secret_arn)["SecretString"])["username"] == "app"
    assert _tags(rds.list_tags_for_resource(ResourceName=got["DBInstanceArn"])["TagList"]) == {
        "stackctl:stack": "rds"
    }
    # Without ApplyImmediately, class and storage wait for the maintenance window.
    pending = rds.modify_db_instance(
        DBInstanceIdentifier="rds-main", DBInstanceClass="db.t3.large", AllocatedStorage=50,
        BackupRetentionPeriod=3,
    )["DBInstance"]
    assert pending["DBInstanceClass"] == "db.t3.micro" and pending["AllocatedStorage"] == 20, pending
    assert pending["PendingModifiedValues"] == {"DBInstanceClass": "db.t3.large", "AllocatedStorage": 50}
    assert pending["BackupRetentionPeriod"] == 3, pending
    rds.modify_db_instance(
        DBInstanceIdentifier="rds-main", DBInstanceClass="db.t3.small", VpcSecurityGroupIds=[sg2],
        ApplyImmediately=True,
    )
    got = rds.describe_db_instances(DBInstanceIdentifier="rds-main")["DBInstances"][0]
    assert got["DBInstanceClass"] == "db.t3.small" and got["AllocatedStorage"] == 50, got
    assert got["PendingModifiedValues"] == {}, got
    assert got["VpcSecurityGroups"] == [{"VpcSecurityGroupId": sg2, "Status": "active"}], got

    expect_error(
        "InvalidDBSubnetGroupStateFault", 400,
        lambda: rds.delete_db_subnet_group(DBSubnetGroupName="rds-subnets"),
    )
    expect_error(
        "InvalidParameterCombination", 400,
        lambda: rds.delete_db_instance(DBInstanceIdentifier="rds-main", SkipFinalSnapshot=True),
    )
    rds.modify_db_instance(DBInstanceIdentifier="rds-main", DeletionProtection=False, ApplyImmediately=True)
    expect_error(
        "InvalidParameterCombination", 400, lambda: rds.delete_db_instance(DBInstanceIdentifier="rds-main")
    )
    expect_error(
        "InvalidParameterCombination", 400,
        lambda: rds.delete_db_instance(
            DBInstanceIdentifier="rds-main", SkipFinalSnapshot=True, FinalDBSnapshotIdentifier="rds-x"
        ),
    )
    deleted = rds.delete_db_instance(DBInstanceIdentifier="rds-main", FinalDBSnapshotIdentifier="rds-main-final")
    assert deleted["DBInstance"]["DBInstanceStatus"] == "deleting", deleted
    expect_error("DBInstanceNotFound", 404, lambda: rds.describe_db_instances(DBInstanceIdentifier="rds-main"))
    # The managed master user secret goes with the instance.
    expect_error("ResourceNotFoundException", 404, lambda: sm.describe_secret(SecretId=secret_arn))
    snap = rds.describe_db_snapshots(DBSnapshotIdentifier="rds-main-final")["DBSnapshots"][0]
    assert snap["DBInstanceIdentifier"] == "rds-main" and snap["SnapshotType"] == "manual", snap

    rds.create_db_instance(
        DBInstanceIdentifier="rds-pw", DBInstanceClass="db.t3.micro", Engine="mysql", AllocatedStorage=20,
        MasterUsername="app", MasterUserPassword="a-good-password-1", DBSubnetGroupName="rds-subnets",
    )
    # Storage grows in place and never shrinks.
    grown = rds.modify_db_instance(DBInstanceIdentifier="rds-pw", AllocatedStorage=30, ApplyImmediately=True)
    assert grown["DBInstance"]["AllocatedStorage"] == 30, grown
    expect_error(
        "InvalidParameterCombination", 400,
        lambda: rds.modify_db_instance(DBInstanceIdentifier="rds-pw", AllocatedStorage=20, ApplyImmediately=True),
    )
    rds.delete_db_instance(DBInstanceIdentifier="rds-pw", SkipFinalSnapshot=True)
    assert not rds.describe_db_snapshots(DBInstanceIdentifier="rds-pw", SnapshotType="manual")["DBSnapshots"]
    rds.delete_db_subnet_group(DBSubnetGroupName="rds-subnets")
    expect_error(
        "DBSubnetGroupNotFoundFault", 404, lambda: rds.describe_db_subnet_groups(DBSubnetGroupName="rds-subnets")
    )


def check_secretsmanager(emu: Emulator) -> None:
    sm = emu.client("secretsmanager")
    password = sm.get_random_password(
        PasswordLength=40, ExcludePunctuation=True, ExcludeCharacters="abcXYZ", RequireEachIncludedType=True
    )["RandomPassword"]
    assert len(password) == 40 and not set(password) & set("abcXYZ"), password
    assert all(ch.isalnum() for ch in password), password
    assert any(ch.isdigit() for ch in password) and any(ch.isupper() for ch in password), password
    lower = sm.get_random_password(PasswordLength=16, ExcludeUppercase=True, ExcludeNumbers=True, ExcludePunctuation=True)
    assert lower["RandomPassword"].isalpha() and lower["RandomPassword"].islower(), lower
    expect_error("ValidationException", 400, lambda: sm.get_random_password(PasswordLength=5000))

    arn = sm.create_secret(
        Name="sm/app/db", SecretString='{"password":"one"}', Description="d",
        Tags=[{"Key": "stackctl:stack", "Value": "sm"}],
    )["ARN"]
    expect_error("ResourceExistsException", 400, lambda: sm.create_secret(Name="sm/app/db", SecretString="x"))
    described = sm.describe_secret(SecretId="sm/app/db")
    assert described["ARN"] == arn and _tags(described["Tags"]) == {"stackctl:stack": "sm"}, described
    sm.put_secret_value(SecretId="sm/app/db", SecretString='{"password":"two"}')
    sm.update_secret(SecretId=arn, Description="d2", SecretString='{"password":"three"}')
    assert sm.get_secret_value(SecretId="sm/app/db")["SecretString"] == '{"password":"three"}'
    previous = sm.get_secret_value(SecretId="sm/app/db", VersionStage="AWSPREVIOUS")["SecretString"]
    assert previous == '{"password":"two"}', previous
    # Versions without staging labels are deprecated and not listed.
    stages = sm.describe_secret(SecretId="sm/app/db")["VersionIdsToStages"]
    assert sorted(s for labels in stages.values() for s in labels) == ["AWSCURRENT", "AWSPREVIOUS"], stages
    assert all(stages.values()), stages
    sm.tag_resource(SecretId="sm/app/db", Tags=[{"Key": "owner", "Value": "team"}])
    found = sm.list_secrets(Filters=[{"Key": "tag-key", "Values": ["owner"]}, {"Key": "name", "Values": ["sm/app"]}])
    assert [s["Name"] for s in found["SecretList"]] == ["sm/app/db"], found

    deleted = sm.delete_secret(SecretId="sm/app/db", RecoveryWindowInDays=7)
    assert deleted["DeletionDate"], deleted
    assert sm.describe_secret(SecretId="sm/app/db")["DeletedDate"]
    expect_error("InvalidRequestException", 400, lambda: sm.get_secret_value(SecretId="sm/app/db"))
    assert not sm.list_secrets(Filters=[{"Key": "name", "Values": ["sm/app/db"]}])["SecretList"]
    expect_error("InvalidRequestException", 400, lambda: sm.create_secret(Name="sm/app/db", SecretString="x"))
    expect_error(
        "InvalidParameterException", 400,
        lambda: sm.delete_secret(SecretId="sm/app/db", RecoveryWindowInDays=7, ForceDeleteWithoutRecovery=True),
    )
    sm.delete_secret(SecretId="sm/app/db", ForceDeleteWithoutRecovery=True)
    expect_error("ResourceNotFoundException", 404, lambda: sm.describe_secret(SecretId="sm/app/db"))
    sm.create_secret(Name="sm/app/db", SecretString="again")
    sm.delete_secret(SecretId="sm/app/db", ForceDeleteWithoutRecovery=True)


def check_deletion_delay(emu: Emulator) -> None:
    # Started with STACKCTL_EMULATOR_DELETE_SECONDS: deleted resources stay
    # "deleting" (and keep their subnet groups in use) until the delay passed.
    subnets = _private_subnets(emu)
    ec = emu.client("elasticache")
    mdb = emu.client("memorydb")
    rds = emu.client("rds")
    ec.create_cache_subnet_group(CacheSubnetGroupName="dl", CacheSubnetGroupDescription="d", SubnetIds=subnets)
    ec.create_cache_cluster(
        CacheClusterId="dl-cache", CacheNodeType="cache.t3.micro", Engine="redis", NumCacheNodes=1,
        CacheSubnetGroupName="dl",
    )
    ec.create_replication_group(
        ReplicationGroupId="dl-rg", ReplicationGroupDescription="d", Engine="redis",
        CacheNodeType="cache.t3.micro", NumCacheClusters=2, CacheSubnetGroupName="dl",
    )
    mdb.create_subnet_group(SubnetGroupName="dl", SubnetIds=subnets)
    mdb.create_cluster(ClusterName="dl-mdb", NodeType="db.t4g.small", ACLName="open-access", SubnetGroupName="dl")
    rds.create_db_subnet_group(DBSubnetGroupName="dl", DBSubnetGroupDescription="d", SubnetIds=subnets)
    rds.create_db_instance(
        DBInstanceIdentifier="dl-db", DBInstanceClass="db.t3.micro", Engine="postgres", AllocatedStorage=20,
        MasterUsername="app", MasterUserPassword="a-good-password-1", DBSubnetGroupName="dl",
    )
    started = time.monotonic()
    ec.delete_cache_cluster(CacheClusterId="dl-cache")
    ec.delete_replication_group(ReplicationGroupId="dl-rg")
    mdb.delete_cluster(ClusterName="dl-mdb")
    rds.delete_db_instance(DBInstanceIdentifier="dl-db", SkipFinalSnapshot=True)
    all_deleted = time.monotonic()

    assert ec.describe_cache_clusters(CacheClusterId="dl-cache")["CacheClusters"][0]["CacheClusterStatus"] == "deleting"
    assert ec.describe_replication_groups(ReplicationGroupId="dl-rg")["ReplicationGroups"][0]["Status"] == "deleting"
    assert mdb.describe_clusters(ClusterName="dl-mdb")["Clusters"][0]["Status"] == "deleting"
    assert rds.describe_db_instances(DBInstanceIdentifier="dl-db")["DBInstances"][0]["DBInstanceStatus"] == "deleting"
    expect_error("InvalidCacheClusterState", 400, lambda: ec.delete_cache_cluster(CacheClusterId="dl-cache"))
    expect_error("InvalidDBInstanceState", 400, lambda: rds.delete_db_instance(DBInstanceIdentifier="dl-db", SkipFinalSnapshot=True))
    expect_error("CacheSubnetGroupInUse", 400, lambda: ec.delete_cache_subnet_group(CacheSubnetGroupName="dl"))
    expect_error("SubnetGroupInUseFault", 400, lambda: mdb.delete_subnet_group(SubnetGroupName="dl"))
    expect_error("InvalidDBSubnetGroupStateFault", 400, lambda: rds.delete_db_subnet_group(DBSubnetGroupName="dl"))
    assert time.monotonic() - started < DELETE_DELAY, "checks took longer than the delay"

    time.sleep(max(0.0, all_deleted + DELETE_DELAY + 0.3 - time.monotonic()))
    expect_error("CacheClusterNotFound", 404, lambda: ec.describe_cache_clusters(CacheClusterId="dl-cache"))
    expect_error("ReplicationGroupNotFoundFault", 404, lambda: ec.describe_replication_groups(ReplicationGroupId="dl-rg"))
    expect_error("ClusterNotFoundFault", 400, lambda: mdb.describe_clusters(ClusterName="dl-mdb"))
    expect_error("DBInstanceNotFound", 404, lambda: rds.describe_db_instances(DBInstanceIdentifier="dl-db"))
    ec.delete_cache_subnet_group(CacheSubnetGroupName="dl")
    mdb.delete_subnet_group(SubnetGroupName="dl")
    rds.delete_db_subnet_group(DBSubnetGroupName="dl")


def check_data_services_unimplemented_is_loud(emu: Emulator) -> None:
    # Operations moto lacks on these services must still fail with HTTP 500.
    calls = [
        lambda: emu.client("elasticache").create_cache_parameter_group(
            CacheParameterGroupName="p", CacheParameterGroupFamily="redis7", Description="d"
        ),
        lambda: emu.client("memorydb").create_parameter_group(ParameterGroupName="p", Family="memorydb_redis7"),
    ]
    for call in calls:
        try:
            call()
        except ClientError as err:
            status = err.response["ResponseMetadata"]["HTTPStatusCode"]
            assert status == 500, f"expected HTTP 500, got {status}: {err}"
        except Exception:  # noqa: BLE001 - botocore cannot parse moto's HTML 500 page
            pass
        else:
            raise AssertionError("unimplemented operation answered as if it succeeded")


# --------------------------------------------------------------------------
# fault injection and delays (extra emulators started with the variables set)
# --------------------------------------------------------------------------

# One read call per protocol family stackctl uses: (service, protocol, call).
PROTOCOL_PROBES: list[tuple[str, str, Callable[[Any], Any]]] = [
    ("ec2", "ec2", lambda c: c.describe_vpcs()),
    ("iam", "query", lambda c: c.list_roles()),
    ("sts", "query", lambda c: c.get_caller_identity()),
    ("rds", "query", lambda c: c.describe_db_instances()),
    ("elasticache", "query", lambda c: c.describe_cache_clusters()),
    ("secretsmanager", "json", lambda c: c.list_secrets()),
    ("ssm", "json", lambda c: c.get_parameter(Name=AMI_PARAMETERS[0])),
    ("memorydb", "json", lambda c: c.describe_clusters()),
]


def _client_error(call: Callable[[], Any]) -> ClientError:
    try:
        call()
    except ClientError as err:
        return err
    raise AssertionError("expected an error, but the call succeeded")


def _botocore_retries(err: ClientError) -> tuple[bool, bool]:
    """(throttling, transient) as botocore's standard retry mode sees it."""
    status = err.response["ResponseMetadata"]["HTTPStatusCode"]
    http_response = type("HttpResponse", (), {"status_code": status})()
    context = RetryContext(attempt_number=1, parsed_response=err.response, http_response=http_response)
    return (
        ThrottledRetryableChecker().is_retryable(context),
        TransientRetryableChecker().is_retryable(context),
    )


def check_throttling_every_protocol(emu: Emulator) -> None:
    # Started with STACKCTL_EMULATOR_THROTTLE_RATE=1.0: every AWS request is
    # throttled, in its protocol's format, and never reaches moto.
    expected = {
        "ec2": ("RequestLimitExceeded", 503, "Request limit exceeded."),
        "query": ("Throttling", 400, "Rate exceeded"),
        "json": ("ThrottlingException", 400, "Rate exceeded"),
    }
    for service, protocol, call in PROTOCOL_PROBES:
        err = _client_error(lambda: call(emu.client(service)))
        code, status, message = expected[protocol]
        got = (err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"])
        assert got == (code, status), (service, got, err.response)
        assert err.response["Error"]["Message"] == message, (service, err.response["Error"])
        headers = err.response["ResponseMetadata"]["HTTPHeaders"]
        if protocol == "query":
            assert err.response["Error"]["Type"] == "Sender", (service, err.response["Error"])
        if protocol == "json":
            assert headers.get("x-amzn-errortype") == code, (service, headers)
        assert err.response["ResponseMetadata"].get("RequestId"), (service, err.response)
        assert code in RUST_SDK_THROTTLING_ERRORS, code
        assert _botocore_retries(err)[0], (service, "botocore does not see throttling")
    # A mutating call is refused before moto: nothing was created.
    _client_error(lambda: emu.client("ec2").create_security_group(GroupName="x", Description="x"))
    log = emu.requests()
    assert [e["fault"] for e in log] == [expected[p][0] for _, p, _ in PROTOCOL_PROBES] + ["RequestLimitExceeded"], log
    assert all(e["status"] == expected[p][1] for e, (_, p, _) in zip(log, PROTOCOL_PROBES)), log
    faults = emu.faults()
    assert faults["throttle_rate"] == 1.0 and faults["error_rate"] == 0.0, faults
    assert faults["requests"] == faults["injected"] == faults["throttling"] == len(PROTOCOL_PROBES) + 1, faults
    assert faults["server_errors"] == 0, faults
    assert faults["by_code"] == {"RequestLimitExceeded": 2, "Throttling": 4, "ThrottlingException": 3}, faults
    assert faults["by_service"]["ec2"] == 2 and faults["by_service"]["memorydb"] == 1, faults


def check_server_errors_every_protocol(emu: Emulator) -> None:
    # Started with STACKCTL_EMULATOR_ERROR_RATE=1.0 and a seed: every AWS
    # request gets a 500 or a 503 in its protocol's format.
    allowed = {
        "ec2": {500: "InternalError", 503: "Unavailable"},
        "iam": {500: "InternalFailure", 503: "ServiceUnavailable"},
        "sts": {500: "InternalFailure", 503: "ServiceUnavailable"},
        "rds": {500: "InternalFailure", 503: "ServiceUnavailable"},
        "elasticache": {500: "InternalFailure", 503: "ServiceUnavailable"},
        "secretsmanager": {500: "InternalServiceError", 503: "ServiceUnavailable"},
        "ssm": {500: "InternalServerError", 503: "ServiceUnavailable"},
        "memorydb": {500: "InternalFailure", 503: "ServiceUnavailable"},
    }
    seen: dict[str, set[int]] = {service: set() for service in allowed}
    for _ in range(6):
        for service, protocol, call in PROTOCOL_PROBES:
            err = _client_error(lambda: call(emu.client(service)))
            status = err.response["ResponseMetadata"]["HTTPStatusCode"]
            code = err.response["Error"]["Code"]
            assert allowed[service].get(status) == code, (service, status, code, err.response)
            if protocol == "query":
                assert err.response["Error"]["Type"] == "Receiver", (service, err.response["Error"])
            if protocol == "json":
                headers = err.response["ResponseMetadata"]["HTTPHeaders"]
                assert headers.get("x-amzn-errortype") == code, (service, headers)
            assert status in RUST_SDK_TRANSIENT_STATUSES, status
            assert _botocore_retries(err)[1], (service, "botocore does not see a transient error")
            seen[service].add(status)
    both = [service for service, statuses in seen.items() if statuses == {500, 503}]
    assert both, f"500 and 503 never both occurred: {seen}"
    faults = emu.faults()
    assert faults["server_errors"] == faults["requests"] == 6 * len(PROTOCOL_PROBES), faults
    assert faults["throttling"] == 0, faults


def check_sampled_faults(emu: Emulator) -> None:
    # Started with STACKCTL_EMULATOR_THROTTLE_RATE=0.3 and _SEED=42: about 30%
    # of 200 requests are throttled, exactly the ones the seeded sequence
    # picks (one draw per AWS request, in order).
    ec2 = emu.client("ec2")
    throttled = []
    for _ in range(200):
        try:
            ec2.describe_vpcs()
            throttled.append(False)
        except ClientError as err:
            assert err.response["Error"]["Code"] == "RequestLimitExceeded", err.response
            throttled.append(True)
    count = sum(throttled)
    assert 40 <= count <= 80, f"{count} of 200 throttled at rate {SAMPLED_RATE}"
    rng = random.Random(SAMPLED_SEED)
    assert throttled == [rng.random() < SAMPLED_RATE for _ in range(200)], "not the seeded sequence"
    faults = emu.faults()
    assert (faults["requests"], faults["throttling"], faults["seed"]) == (200, count, SAMPLED_SEED), faults
    # botocore's standard retries get every call through.
    retrying = emu.client("ec2", attempts=10)
    for _ in range(10):
        assert retrying.describe_vpcs()["Vpcs"]


def check_bad_settings_refused() -> None:
    # A bad value stops the server with a message naming the variable; no
    # endpoint is printed.
    cases = {
        "STACKCTL_EMULATOR_THROTTLE_RATE": "1.5",
        "STACKCTL_EMULATOR_ERROR_RATE": "lots",
        "STACKCTL_EMULATOR_SEED": "1.5",
        "STACKCTL_EMULATOR_CREATE_SECONDS": "-1",
        "STACKCTL_EMULATOR_PROFILE_PROPAGATION_SECONDS": "soon",
        "STACKCTL_EMULATOR_ENI_RELEASE_SECONDS": "inf",
        "STACKCTL_EMULATOR_S3_WRITE_SECONDS": "-2",
        "STACKCTL_EMULATOR_LATENCY_SECONDS": "fast",
        "STACKCTL_EMULATOR_PROFILE": "azure",
        "STACKCTL_EMULATOR_PROFILE_SCALE": "0.5",
    }
    runs = []
    for name, value in cases.items():
        runs.append(
            (
                name,
                subprocess.Popen(
                    [sys.executable, SERVER, "--port", "0"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env={**os.environ, name: value},
                ),
            )
        )
    both = subprocess.Popen(
        [sys.executable, SERVER, "--port", "0"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "STACKCTL_EMULATOR_THROTTLE_RATE": "0.6", "STACKCTL_EMULATOR_ERROR_RATE": "0.6"},
    )
    runs.append(("STACKCTL_EMULATOR_ERROR_RATE", both))
    for env in (
        {"STACKCTL_EMULATOR_PROFILE": "aws", "STACKCTL_EMULATOR_CREATE_SECONDS": "1"},
        {"STACKCTL_EMULATOR_PROFILE": "aws", "STACKCTL_EMULATOR_PROFILE_SCALE": "0"},
    ):
        runs.append(
            (
                "STACKCTL_EMULATOR_PROFILE",
                subprocess.Popen(
                    [sys.executable, SERVER, "--port", "0"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    env={**os.environ, **env},
                ),
            )
        )
    for name, proc in runs:
        try:
            out, err = proc.communicate(timeout=STARTUP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"server kept running with a bad {name}") from None
        assert proc.returncode != 0 and out == b"", (name, proc.returncode, out)
        assert name in err.decode(), (name, err.decode()[-500:])


def check_latency(emu: Emulator) -> None:
    # Started with LATENCY_SECONDS=LATENCY: each request takes at least that
    # long; requests made together overlap; the log says when each ran.
    sts = emu.client("sts")
    emu.reset_requests()
    started = time.monotonic()
    sts.get_caller_identity()
    sts.get_caller_identity()
    sequential = time.monotonic() - started
    assert sequential >= 2 * LATENCY, sequential
    ec2 = emu.client("ec2")
    iam = emu.client("iam")
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        for future in [
            pool.submit(sts.get_caller_identity),
            pool.submit(ec2.describe_vpcs),
            pool.submit(iam.list_roles),
            pool.submit(ec2.describe_subnets),
        ]:
            future.result()
    together = time.monotonic() - started
    assert together < 3 * LATENCY, together
    log = emu.requests()
    assert len(log) == 6, log
    for entry in log:
        assert entry["finished"] - entry["started"] >= LATENCY, entry
    first, second = log[0], log[1]
    assert second["started"] >= first["finished"], (first, second)


def check_kind_profile(emu: Emulator) -> None:
    # Started with PROFILE=aws and PROFILE_SCALE=PROFILE_SCALE: each kind
    # takes its own published duration, scaled.
    with urllib.request.urlopen(f"{emu.endpoint}/_stackctl/profile") as resp:
        profile = json.loads(resp.read())
    assert profile["profile"] == "aws", profile
    create = profile["create_seconds"]
    minutes = {"rds-instance": 8, "elasticache-cluster": 7, "elasticache-replication-group": 11, "memorydb-cluster": 20, "ec2-instance": 1}
    for kind, figure in minutes.items():
        assert abs(create[kind] - figure * 60 * PROFILE_SCALE) < 1e-6, (kind, create)
    private = _private_subnets(emu)
    rds = emu.client("rds")
    elasticache = emu.client("elasticache")
    rds.create_db_subnet_group(
        DBSubnetGroupName="profile-db", DBSubnetGroupDescription="d", SubnetIds=private
    )
    elasticache.create_cache_subnet_group(
        CacheSubnetGroupName="profile-cache", CacheSubnetGroupDescription="d", SubnetIds=private
    )
    cache_started = time.monotonic()
    elasticache.create_cache_cluster(
        CacheClusterId="profile-cache",
        Engine="redis",
        CacheNodeType="cache.t3.micro",
        NumCacheNodes=1,
        CacheSubnetGroupName="profile-cache",
    )
    db_started = time.monotonic()
    rds.create_db_instance(
        DBInstanceIdentifier="profile-db",
        DBInstanceClass="db.t3.micro",
        Engine="mysql",
        MasterUsername="admin",
        MasterUserPassword="password123",
        AllocatedStorage=20,
        DBSubnetGroupName="profile-db",
    )

    def cache_status() -> str:
        return elasticache.describe_cache_clusters(CacheClusterId="profile-cache")["CacheClusters"][0]["CacheClusterStatus"]

    def db_status() -> str:
        return rds.describe_db_instances(DBInstanceIdentifier="profile-db")["DBInstances"][0]["DBInstanceStatus"]

    assert cache_status() == "creating" and db_status() == "creating"
    # The cache cluster (7 minutes) is ready before the database (8), which
    # was started after it.
    _wait_until(cache_started + create["elasticache-cluster"] + 0.3)
    assert cache_status() == "available"
    assert db_status() in ("creating", "backing-up"), db_status()
    _wait_until(db_started + create["rds-instance"] + 0.3)
    assert db_status() == "available"
    # Every kind in the profile, MemoryDB's (whose backend the emulator subclasses) included.
    memorydb = emu.client("memorydb")
    acl_started = time.monotonic()
    memorydb.create_acl(ACLName="profile-acl")
    assert memorydb.describe_acls(ACLName="profile-acl")["ACLs"][0]["Status"] == "creating"
    _wait_until(acl_started + create["memorydb-acl"] + 0.3)
    assert memorydb.describe_acls(ACLName="profile-acl")["ACLs"][0]["Status"] == "active"
    rds.delete_db_instance(DBInstanceIdentifier="profile-db", SkipFinalSnapshot=True)
    deleted = time.monotonic()
    assert db_status() == "deleting"
    _wait_until(deleted + profile["delete_seconds"]["rds-instance"] + 0.3)
    expect_error("DBInstanceNotFound", 404, db_status)


def _wait_until(deadline: float) -> None:
    time.sleep(max(0.0, deadline - time.monotonic()))


def check_create_and_modify_take_time(emu: Emulator) -> None:
    # Started with STACKCTL_EMULATOR_CREATE_SECONDS=2: intermediate statuses
    # first, final ones after the delay; modifications take as long.
    subnets = _private_subnets(emu)
    vpc_id, subnet_id, ami = _network(emu)
    ec2, rds, ec, mdb = emu.client("ec2"), emu.client("rds"), emu.client("elasticache"), emu.client("memorydb")
    rds.create_db_subnet_group(DBSubnetGroupName="lc", DBSubnetGroupDescription="d", SubnetIds=subnets)
    ec.create_cache_subnet_group(CacheSubnetGroupName="lc", CacheSubnetGroupDescription="d", SubnetIds=subnets)
    mdb.create_subnet_group(SubnetGroupName="lc", SubnetIds=subnets)

    started = time.monotonic()
    db = rds.create_db_instance(
        DBInstanceIdentifier="lc-db", DBInstanceClass="db.t3.micro", Engine="postgres", AllocatedStorage=20,
        MasterUsername="app", MasterUserPassword="a-good-password-1", DBSubnetGroupName="lc",
    )["DBInstance"]
    assert db["DBInstanceStatus"] == "creating" and "Endpoint" not in db, db
    # RDS is half-way (backing-up) after half the delay: seen first, before the slower checks below.
    db = rds.describe_db_instances(DBInstanceIdentifier="lc-db")["DBInstances"][0]
    assert db["DBInstanceStatus"] == "creating" and "Endpoint" not in db, db
    iid = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", SubnetId=subnet_id, MinCount=1, MaxCount=1)[
        "Instances"
    ][0]["InstanceId"]
    cluster = ec.create_cache_cluster(
        CacheClusterId="lc-cache", CacheNodeType="cache.t3.micro", Engine="redis", NumCacheNodes=1,
        CacheSubnetGroupName="lc",
    )["CacheCluster"]
    assert cluster["CacheClusterStatus"] == "creating", cluster
    group = ec.create_replication_group(
        ReplicationGroupId="lc-rg", ReplicationGroupDescription="d", Engine="redis",
        CacheNodeType="cache.t3.micro", NumCacheClusters=2, CacheSubnetGroupName="lc",
    )["ReplicationGroup"]
    assert group["Status"] == "creating", group
    acl = mdb.create_acl(ACLName="lc-acl")["ACL"]
    assert acl["Status"] == "creating", acl
    user = mdb.create_user(
        UserName="lc-user", AccessString="on ~* +@all",
        AuthenticationMode={"Type": "password", "Passwords": ["a-long-password-123"]},
    )["User"]
    assert user["Status"] == "active", user  # AWS: users are active at once
    mdb_cluster = mdb.create_cluster(
        ClusterName="lc-mdb", NodeType="db.t4g.small", ACLName="open-access", SubnetGroupName="lc"
    )["Cluster"]
    assert mdb_cluster["Status"] == "creating", mdb_cluster
    created = time.monotonic()

    # Intermediate, as Describe shows it.
    def instance() -> dict[str, Any]:
        return ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]

    assert instance()["State"] == {"Code": 0, "Name": "pending"}, instance()["State"]
    pending = ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["pending"]}])
    assert iid in [i["InstanceId"] for r in pending["Reservations"] for i in r["Instances"]]
    err = expect_error("IncorrectInstanceState", 400, lambda: ec2.stop_instances(InstanceIds=[iid]))
    assert "never reached the 'running' state" in err.response["Error"]["Message"], err.response
    got = ec.describe_cache_clusters(CacheClusterId="lc-cache", ShowCacheNodeInfo=True)["CacheClusters"][0]
    assert got["CacheClusterStatus"] == "creating", got
    assert [n["CacheNodeStatus"] for n in got["CacheNodes"]] == ["creating"], got["CacheNodes"]
    assert all("Endpoint" not in n for n in got["CacheNodes"]), got["CacheNodes"]
    assert ec.describe_replication_groups(ReplicationGroupId="lc-rg")["ReplicationGroups"][0]["Status"] == "creating"
    members = ec.describe_cache_clusters(ShowCacheNodeInfo=True)["CacheClusters"]
    members = [m for m in members if m.get("ReplicationGroupId") == "lc-rg"]
    assert len(members) == 2 and {m["CacheClusterStatus"] for m in members} == {"creating"}, members
    assert mdb.describe_clusters(ClusterName="lc-mdb")["Clusters"][0]["Status"] == "creating"
    assert mdb.describe_acls(ACLName="lc-acl")["ACLs"][0]["Status"] == "creating"
    # Not available yet: refused, as in AWS.
    expect_error(
        "InvalidCacheClusterState", 400,
        lambda: ec.modify_cache_cluster(CacheClusterId="lc-cache", SnapshotRetentionLimit=1),
    )
    expect_error("InvalidClusterStateFault", 400, lambda: mdb.update_cluster(ClusterName="lc-mdb", Description="x"))
    expect_error(
        "InvalidDBInstanceState", 400,
        lambda: rds.modify_db_instance(DBInstanceIdentifier="lc-db", BackupRetentionPeriod=3, ApplyImmediately=True),
    )
    assert time.monotonic() - started < SLOW_DELAY, "checks took longer than the delay"

    # Second half of an RDS creation: backing-up, endpoint present.
    _wait_until(started + SLOW_DELAY * 0.5 + 0.2)
    db = rds.describe_db_instances(DBInstanceIdentifier="lc-db")["DBInstances"][0]
    assert db["DBInstanceStatus"] == "backing-up" and db["Endpoint"]["Address"], db
    assert time.monotonic() - started < SLOW_DELAY, "checks took longer than the delay"

    _wait_until(created + SLOW_DELAY + 0.2)
    assert instance()["State"] == {"Code": 16, "Name": "running"}, instance()["State"]
    db = rds.describe_db_instances(DBInstanceIdentifier="lc-db")["DBInstances"][0]
    assert db["DBInstanceStatus"] == "available" and db["Endpoint"]["Address"], db
    got = ec.describe_cache_clusters(CacheClusterId="lc-cache", ShowCacheNodeInfo=True)["CacheClusters"][0]
    assert got["CacheClusterStatus"] == "available", got
    assert [n["CacheNodeStatus"] for n in got["CacheNodes"]] == ["available"], got["CacheNodes"]
    assert got["CacheNodes"][0]["Endpoint"]["Address"], got["CacheNodes"]
    assert ec.describe_replication_groups(ReplicationGroupId="lc-rg")["ReplicationGroups"][0]["Status"] == "available"
    members = [
        m for m in ec.describe_cache_clusters()["CacheClusters"] if m.get("ReplicationGroupId") == "lc-rg"
    ]
    assert {m["CacheClusterStatus"] for m in members} == {"available"}, members
    got_mdb = mdb.describe_clusters(ClusterName="lc-mdb", ShowShardDetails=True)["Clusters"][0]
    assert got_mdb["Status"] == "available", got_mdb
    assert {s["Status"] for s in got_mdb["Shards"]} == {"available"}, got_mdb["Shards"]
    assert mdb.describe_acls(ACLName="lc-acl")["ACLs"][0]["Status"] == "active"

    # Modifications take as long; EC2 stop / start too.
    modified = time.monotonic()
    got = ec.modify_cache_cluster(CacheClusterId="lc-cache", SnapshotRetentionLimit=1)["CacheCluster"]
    assert got["CacheClusterStatus"] == "modifying", got
    got = ec.modify_replication_group(ReplicationGroupId="lc-rg", SnapshotRetentionLimit=1)["ReplicationGroup"]
    assert got["Status"] == "modifying", got
    db = rds.modify_db_instance(DBInstanceIdentifier="lc-db", BackupRetentionPeriod=3, ApplyImmediately=True)
    assert db["DBInstance"]["DBInstanceStatus"] == "modifying", db
    assert mdb.update_cluster(ClusterName="lc-mdb", Description="x")["Cluster"]["Status"] == "updating"
    assert mdb.update_acl(ACLName="lc-acl", UserNamesToAdd=["lc-user"])["ACL"]["Status"] == "modifying"
    assert mdb.update_user(UserName="lc-user", AccessString="on ~app:* +@all")["User"]["Status"] == "modifying"
    stop = ec2.stop_instances(InstanceIds=[iid])["StoppingInstances"][0]
    assert stop["CurrentState"]["Name"] == "stopping" and stop["PreviousState"]["Name"] == "running", stop
    assert instance()["State"] == {"Code": 64, "Name": "stopping"}, instance()["State"]
    expect_error(
        "IncorrectInstanceState", 400,
        lambda: ec2.modify_instance_attribute(InstanceId=iid, InstanceType={"Value": "t3.small"}),
    )
    expect_error("IncorrectInstanceState", 400, lambda: ec2.start_instances(InstanceIds=[iid]))
    assert ec.describe_cache_clusters(CacheClusterId="lc-cache")["CacheClusters"][0]["CacheClusterStatus"] == "modifying"
    assert rds.describe_db_instances(DBInstanceIdentifier="lc-db")["DBInstances"][0]["DBInstanceStatus"] == "modifying"
    assert mdb.describe_clusters(ClusterName="lc-mdb")["Clusters"][0]["Status"] == "updating"
    assert mdb.describe_users(UserName="lc-user")["Users"][0]["Status"] == "modifying"
    expect_error(
        "InvalidReplicationGroupState", 400,
        lambda: ec.delete_replication_group(ReplicationGroupId="lc-rg"),
    )
    assert time.monotonic() - modified < SLOW_DELAY, "checks took longer than the delay"

    _wait_until(time.monotonic() + SLOW_DELAY + 0.2)
    assert ec.describe_cache_clusters(CacheClusterId="lc-cache")["CacheClusters"][0]["CacheClusterStatus"] == "available"
    assert ec.describe_replication_groups(ReplicationGroupId="lc-rg")["ReplicationGroups"][0]["Status"] == "available"
    assert rds.describe_db_instances(DBInstanceIdentifier="lc-db")["DBInstances"][0]["DBInstanceStatus"] == "available"
    assert mdb.describe_clusters(ClusterName="lc-mdb")["Clusters"][0]["Status"] == "available"
    assert mdb.describe_acls(ACLName="lc-acl")["ACLs"][0]["Status"] == "active"
    assert mdb.describe_users(UserName="lc-user")["Users"][0]["Status"] == "active"
    assert instance()["State"] == {"Code": 80, "Name": "stopped"}, instance()["State"]
    start = ec2.start_instances(InstanceIds=[iid])["StartingInstances"][0]
    assert start["CurrentState"]["Name"] == "pending" and start["PreviousState"]["Name"] == "stopped", start
    assert instance()["State"]["Name"] == "pending"
    _wait_until(time.monotonic() + SLOW_DELAY + 0.2)
    assert instance()["State"]["Name"] == "running"

    # A deletion wins over a pending step.
    ec2.terminate_instances(InstanceIds=[iid])
    rds.delete_db_instance(DBInstanceIdentifier="lc-db", SkipFinalSnapshot=True)
    ec.delete_cache_cluster(CacheClusterId="lc-cache")
    ec.delete_replication_group(ReplicationGroupId="lc-rg")
    mdb.delete_cluster(ClusterName="lc-mdb")


def check_profile_propagation(emu: Emulator) -> None:
    # Started with STACKCTL_EMULATOR_PROFILE_PROPAGATION_SECONDS=2: EC2 does
    # not know a new instance profile (or one whose role just changed) yet.
    ec2, iam = emu.client("ec2"), emu.client("iam")
    vpc_id, subnet_id, ami = _network(emu)
    bare = ec2.run_instances(ImageId=ami, InstanceType="t3.micro", SubnetId=subnet_id, MinCount=1, MaxCount=1)[
        "Instances"
    ][0]["InstanceId"]
    iam.create_role(RoleName="pp-role", AssumeRolePolicyDocument=TRUST_POLICY)
    arn = iam.create_instance_profile(InstanceProfileName="pp-profile")["InstanceProfile"]["Arn"]
    iam.add_role_to_instance_profile(InstanceProfileName="pp-profile", RoleName="pp-role")
    changed = time.monotonic()

    def run() -> Any:
        return ec2.run_instances(
            ImageId=ami, InstanceType="t3.micro", SubnetId=subnet_id, MinCount=1, MaxCount=1,
            IamInstanceProfile={"Name": "pp-profile"},
        )

    err = expect_error("InvalidParameterValue", 400, run)
    assert err.response["Error"]["Message"] == (
        "Value (pp-profile) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"
    ), err.response["Error"]
    err = expect_error(
        "InvalidParameterValue", 400,
        lambda: ec2.associate_iam_instance_profile(InstanceId=bare, IamInstanceProfile={"Arn": arn}),
    )
    assert err.response["Error"]["Message"] == (
        f"Value ({arn}) for parameter iamInstanceProfile.arn is invalid. Invalid IAM Instance Profile ARN"
    ), err.response["Error"]
    live = ec2.describe_instances(Filters=[{"Name": "instance-state-name", "Values": ["pending", "running"]}])
    launched = [i["InstanceId"] for r in live["Reservations"] for i in r["Instances"]]
    assert launched == [bare], launched  # the refused RunInstances launched nothing
    assert time.monotonic() - changed < SLOW_DELAY, "checks took longer than the delay"

    _wait_until(changed + SLOW_DELAY + 0.2)
    iid = run()["Instances"][0]["InstanceId"]
    ec2.associate_iam_instance_profile(InstanceId=bare, IamInstanceProfile={"Arn": arn})
    # Another role change starts the wait again.
    iam.remove_role_from_instance_profile(InstanceProfileName="pp-profile", RoleName="pp-role")
    iam.add_role_to_instance_profile(InstanceProfileName="pp-profile", RoleName="pp-role")
    expect_error("InvalidParameterValue", 400, run)
    ec2.terminate_instances(InstanceIds=[iid, bare])


def check_eni_release(emu: Emulator) -> None:
    # Started with STACKCTL_EMULATOR_ENI_RELEASE_SECONDS=2: a terminated
    # instance's network interface keeps its security group busy for a while.
    ec2 = emu.client("ec2")
    vpc_id, subnet_id, ami = _network(emu)
    sg = ec2.create_security_group(GroupName="eni-sg", Description="d", VpcId=vpc_id)["GroupId"]
    iid = ec2.run_instances(
        ImageId=ami, InstanceType="t3.micro", SubnetId=subnet_id, SecurityGroupIds=[sg], MinCount=1, MaxCount=1
    )["Instances"][0]["InstanceId"]
    ec2.terminate_instances(InstanceIds=[iid])
    terminated = time.monotonic()
    state = ec2.describe_instances(InstanceIds=[iid])["Reservations"][0]["Instances"][0]["State"]
    assert state["Name"] == "terminated", state
    enis = ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [sg]}])["NetworkInterfaces"]
    assert [(e["Status"], e["Attachment"]["InstanceId"]) for e in enis] == [("in-use", iid)], enis
    expect_error("DependencyViolation", 400, lambda: ec2.delete_security_group(GroupId=sg))
    assert time.monotonic() - terminated < SLOW_DELAY, "checks took longer than the delay"

    _wait_until(terminated + SLOW_DELAY + 0.2)
    assert not ec2.describe_network_interfaces(Filters=[{"Name": "group-id", "Values": [sg]}])["NetworkInterfaces"]
    ec2.delete_security_group(GroupId=sg)
    # Terminating again changes nothing.
    ec2.terminate_instances(InstanceIds=[iid])


def check_faults_off_by_default(emu: Emulator) -> None:
    faults = emu.faults()
    assert (faults["throttle_rate"], faults["error_rate"], faults["injected"]) == (0.0, 0.0, 0), faults
    assert all(entry["fault"] is None for entry in emu.requests())


# --------------------------------------------------------------------------


def check_service_interfaces_hold_security_groups(emu: Emulator) -> None:
    # Started with STACKCTL_EMULATOR_DELETE_SECONDS: an RDS instance, a cache
    # cluster and a MemoryDB cluster hold their security groups (their network
    # interfaces carry them) while they exist, "deleting" included.
    subnets = _private_subnets(emu)
    ec2 = emu.client("ec2")
    ec = emu.client("elasticache")
    mdb = emu.client("memorydb")
    rds = emu.client("rds")
    groups = {name: _security_group(emu, f"held-{name}") for name in ("db", "cache", "mdb")}
    ec.create_cache_subnet_group(CacheSubnetGroupName="held", CacheSubnetGroupDescription="d", SubnetIds=subnets)
    ec.create_cache_cluster(
        CacheClusterId="held-cache", CacheNodeType="cache.t3.micro", Engine="redis", NumCacheNodes=1,
        CacheSubnetGroupName="held", SecurityGroupIds=[groups["cache"]],
    )
    mdb.create_subnet_group(SubnetGroupName="held", SubnetIds=subnets)
    mdb.create_cluster(
        ClusterName="held-mdb", NodeType="db.t4g.small", ACLName="open-access", SubnetGroupName="held",
        SecurityGroupIds=[groups["mdb"]],
    )
    rds.create_db_subnet_group(DBSubnetGroupName="held", DBSubnetGroupDescription="d", SubnetIds=subnets)
    rds.create_db_instance(
        DBInstanceIdentifier="held-db", DBInstanceClass="db.t3.micro", Engine="postgres", AllocatedStorage=20,
        MasterUsername="app", MasterUserPassword="a-good-password-1", DBSubnetGroupName="held",
        VpcSecurityGroupIds=[groups["db"]],
    )
    for name, holder in (("db", "RDS DB instance held-db"), ("cache", "ElastiCache cluster held-cache"),
                         ("mdb", "MemoryDB cluster held-mdb")):
        err = expect_error("DependencyViolation", 400, lambda: ec2.delete_security_group(GroupId=groups[name]))
        assert holder in err.response["Error"]["Message"], err
    # Moving the cache to another group releases the first one at once.
    other = _security_group(emu, "held-other")
    ec.modify_cache_cluster(CacheClusterId="held-cache", SecurityGroupIds=[other], ApplyImmediately=True)
    ec2.delete_security_group(GroupId=groups["cache"])
    started = time.monotonic()
    ec.delete_cache_cluster(CacheClusterId="held-cache")
    mdb.delete_cluster(ClusterName="held-mdb")
    rds.delete_db_instance(DBInstanceIdentifier="held-db", SkipFinalSnapshot=True)
    for group in (other, groups["mdb"], groups["db"]):
        expect_error("DependencyViolation", 400, lambda: ec2.delete_security_group(GroupId=group))
    assert time.monotonic() - started < DELETE_DELAY, "checks took longer than the delay"
    time.sleep(max(0.0, started + DELETE_DELAY + 0.3 - time.monotonic()))
    for group in (other, groups["mdb"], groups["db"]):
        ec2.delete_security_group(GroupId=group)


def check_replica_and_shard_changes(emu: Emulator) -> None:
    ec = emu.client("elasticache")
    subnets = _private_subnets(emu)
    ec.create_cache_subnet_group(CacheSubnetGroupName="resize", CacheSubnetGroupDescription="d", SubnetIds=subnets)

    def members(group_id: str) -> tuple[list[int], list[str]]:
        group = ec.describe_replication_groups(ReplicationGroupId=group_id)["ReplicationGroups"][0]
        return [len(ng["NodeGroupMembers"]) for ng in group["NodeGroups"]], group["MemberClusters"]

    ec.create_replication_group(
        ReplicationGroupId="resize-rg", ReplicationGroupDescription="d", Engine="redis",
        CacheNodeType="cache.t3.micro", NumCacheClusters=2, CacheSubnetGroupName="resize",
        AutomaticFailoverEnabled=True,
    )
    ec.increase_replica_count(ReplicationGroupId="resize-rg", NewReplicaCount=3, ApplyImmediately=True)
    counts, clusters = members("resize-rg")
    assert counts == [4], counts
    for cluster_id in clusters:
        found = ec.describe_cache_clusters(CacheClusterId=cluster_id)["CacheClusters"][0]
        assert found["ReplicationGroupId"] == "resize-rg", found
    expect_error(
        "InvalidParameterValue", 400,
        lambda: ec.increase_replica_count(ReplicationGroupId="resize-rg", NewReplicaCount=3, ApplyImmediately=True),
    )
    ec.decrease_replica_count(ReplicationGroupId="resize-rg", NewReplicaCount=1, ApplyImmediately=True)
    counts, clusters = members("resize-rg")
    assert counts == [2] and len(clusters) == 2, (counts, clusters)
    expect_error("CacheClusterNotFound", 404, lambda: ec.describe_cache_clusters(CacheClusterId="resize-rg-004"))
    expect_error(
        "InvalidParameterCombination", 400,
        lambda: ec.decrease_replica_count(ReplicationGroupId="resize-rg", NewReplicaCount=0, ApplyImmediately=True),
    )
    expect_error(
        "InvalidParameterValue", 400,
        lambda: ec.modify_replication_group_shard_configuration(
            ReplicationGroupId="resize-rg", NodeGroupCount=2, ApplyImmediately=True
        ),
    )

    ec.create_replication_group(
        ReplicationGroupId="resize-sharded", ReplicationGroupDescription="d", Engine="redis",
        CacheNodeType="cache.t3.micro", NumNodeGroups=2, ReplicasPerNodeGroup=1,
        CacheSubnetGroupName="resize", CacheParameterGroupName="default.redis7.cluster.on",
        AutomaticFailoverEnabled=True,
    )
    ec.modify_replication_group_shard_configuration(
        ReplicationGroupId="resize-sharded", NodeGroupCount=3, ApplyImmediately=True
    )
    counts, clusters = members("resize-sharded")
    assert counts == [2, 2, 2] and len(clusters) == 6, (counts, clusters)
    expect_error(
        "InvalidParameterValue", 400,
        lambda: ec.modify_replication_group_shard_configuration(
            ReplicationGroupId="resize-sharded", NodeGroupCount=2, ApplyImmediately=True
        ),
    )
    ec.modify_replication_group_shard_configuration(
        ReplicationGroupId="resize-sharded", NodeGroupCount=2, ApplyImmediately=True,
        NodeGroupsToRemove=["0003"],
    )
    counts, clusters = members("resize-sharded")
    assert counts == [2, 2] and len(clusters) == 4, (counts, clusters)
    ec.delete_replication_group(ReplicationGroupId="resize-rg")
    ec.delete_replication_group(ReplicationGroupId="resize-sharded")


def check_modify_lag(emu: Emulator) -> None:
    # Started with CREATE_SECONDS and MODIFY_LAG_SECONDS = SLOW_DELAY: after a Modify
    # the old status (and the old values, the changes pending) for the lag,
    # then the busy status with the new values, then available.
    subnets = _private_subnets(emu)
    rds = emu.client("rds")
    ec = emu.client("elasticache")
    mdb = emu.client("memorydb")
    rds.create_db_subnet_group(DBSubnetGroupName="lag", DBSubnetGroupDescription="d", SubnetIds=subnets)
    rds.create_db_instance(
        DBInstanceIdentifier="lag-db", DBInstanceClass="db.t3.micro", Engine="mysql", AllocatedStorage=20,
        MasterUsername="app", MasterUserPassword="a-good-password-1", DBSubnetGroupName="lag",
    )
    ec.create_cache_subnet_group(CacheSubnetGroupName="lag", CacheSubnetGroupDescription="d", SubnetIds=subnets)
    ec.create_cache_cluster(
        CacheClusterId="lag-cache", CacheNodeType="cache.t3.micro", Engine="redis", NumCacheNodes=1,
        CacheSubnetGroupName="lag",
    )
    ec.create_replication_group(
        ReplicationGroupId="lag-rg", ReplicationGroupDescription="d", Engine="redis",
        CacheNodeType="cache.t3.micro", NumCacheClusters=2, CacheSubnetGroupName="lag",
    )
    mdb.create_subnet_group(SubnetGroupName="lag", SubnetIds=subnets)
    mdb.create_cluster(ClusterName="lag-mdb", NodeType="db.t4g.small", ACLName="open-access", SubnetGroupName="lag")
    time.sleep(SLOW_DELAY + 0.3)

    rds.modify_db_instance(DBInstanceIdentifier="lag-db", AllocatedStorage=30, ApplyImmediately=True)
    ec.modify_cache_cluster(CacheClusterId="lag-cache", CacheNodeType="cache.t3.small", ApplyImmediately=True)
    mdb.update_cluster(ClusterName="lag-mdb", NodeType="db.r6g.large")
    ec.increase_replica_count(ReplicationGroupId="lag-rg", NewReplicaCount=2, ApplyImmediately=True)
    modified = time.monotonic()
    group = ec.describe_replication_groups(ReplicationGroupId="lag-rg")["ReplicationGroups"][0]
    assert group["Status"] == "available" and len(group["MemberClusters"]) == 2, group
    db = rds.describe_db_instances(DBInstanceIdentifier="lag-db")["DBInstances"][0]
    assert db["DBInstanceStatus"] == "available" and db["AllocatedStorage"] == 20, db
    assert db["PendingModifiedValues"].get("AllocatedStorage") == 30, db["PendingModifiedValues"]
    cache = ec.describe_cache_clusters(CacheClusterId="lag-cache")["CacheClusters"][0]
    assert cache["CacheClusterStatus"] == "available" and cache["CacheNodeType"] == "cache.t3.micro", cache
    assert cache["PendingModifiedValues"].get("CacheNodeType") == "cache.t3.small", cache["PendingModifiedValues"]
    assert mdb.describe_clusters(ClusterName="lag-mdb")["Clusters"][0]["Status"] == "available"
    assert time.monotonic() - modified < SLOW_DELAY, "checks took longer than the lag"

    _wait_until(modified + SLOW_DELAY + 0.2)
    db = rds.describe_db_instances(DBInstanceIdentifier="lag-db")["DBInstances"][0]
    assert db["DBInstanceStatus"] == "modifying" and db["AllocatedStorage"] == 30, db
    assert not db["PendingModifiedValues"].get("AllocatedStorage"), db["PendingModifiedValues"]
    cache = ec.describe_cache_clusters(CacheClusterId="lag-cache")["CacheClusters"][0]
    assert cache["CacheClusterStatus"] == "modifying" and cache["CacheNodeType"] == "cache.t3.small", cache
    assert mdb.describe_clusters(ClusterName="lag-mdb")["Clusters"][0]["Status"] == "updating"
    group = ec.describe_replication_groups(ReplicationGroupId="lag-rg")["ReplicationGroups"][0]
    assert group["Status"] == "modifying" and len(group["MemberClusters"]) == 3, group

    _wait_until(modified + 2 * SLOW_DELAY + 0.3)
    assert rds.describe_db_instances(DBInstanceIdentifier="lag-db")["DBInstances"][0]["DBInstanceStatus"] == "available"
    assert ec.describe_cache_clusters(CacheClusterId="lag-cache")["CacheClusters"][0]["CacheClusterStatus"] == "available"
    assert mdb.describe_clusters(ClusterName="lag-mdb")["Clusters"][0]["Status"] == "available"
    ec.modify_replication_group(ReplicationGroupId="lag-rg", CacheNodeType="cache.t3.small", ApplyImmediately=True)
    modified = time.monotonic()
    group = ec.describe_replication_groups(ReplicationGroupId="lag-rg")["ReplicationGroups"][0]
    assert group["Status"] == "available" and group["CacheNodeType"] == "cache.t3.micro", group
    _wait_until(modified + SLOW_DELAY + 0.2)
    group = ec.describe_replication_groups(ReplicationGroupId="lag-rg")["ReplicationGroups"][0]
    assert group["Status"] == "modifying" and group["CacheNodeType"] == "cache.t3.small", group


def check_engine_versions(emu: Emulator) -> None:
    """The three Describe*EngineVersions calls list what AWS offers, paged; a create with a version
    the engine does not offer is refused as AWS refuses it."""
    rds = emu.client("rds")
    first = rds.describe_db_engine_versions(Engine="mysql", MaxRecords=5)
    assert len(first["DBEngineVersions"]) == 5 and first.get("Marker"), first
    versions = [v["EngineVersion"] for p in rds.get_paginator("describe_db_engine_versions").paginate(Engine="mysql") for v in p["DBEngineVersions"]]
    assert any(v.startswith("8.0.") for v in versions) and not any(v.startswith("5.1") for v in versions), versions
    assert all(v["Engine"] == "mysql" for p in rds.get_paginator("describe_db_engine_versions").paginate(Engine="mysql") for v in p["DBEngineVersions"])
    subnets = _private_subnets(emu)
    rds.create_db_subnet_group(DBSubnetGroupName="versions", DBSubnetGroupDescription="d", SubnetIds=subnets)
    expect_error(
        "InvalidParameterCombination", 400,
        lambda: rds.create_db_instance(
            DBInstanceIdentifier="old-mysql", Engine="mysql", EngineVersion="5.1", DBInstanceClass="db.t3.micro",
            AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="password123", DBSubnetGroupName="versions",
        ),
    )
    ec = emu.client("elasticache")
    redis = [v["EngineVersion"] for v in ec.describe_cache_engine_versions(Engine="redis")["CacheEngineVersions"]]
    assert "7.1.0" in redis and all(v["Engine"] == "redis" for v in ec.describe_cache_engine_versions(Engine="redis")["CacheEngineVersions"]), redis
    expect_error(
        "InvalidParameterCombination", 400,
        lambda: ec.create_cache_cluster(CacheClusterId="future", Engine="redis", EngineVersion="99.9", CacheNodeType="cache.t3.micro", NumCacheNodes=1),
    )
    ec.create_cache_cluster(CacheClusterId="major-only", Engine="redis", EngineVersion="7.1", CacheNodeType="cache.t3.micro", NumCacheNodes=1)
    # Upgraded, never downgraded; RDS makes a new major version only when asked.
    expect_error(
        "InvalidParameterCombination", 400,
        lambda: ec.modify_cache_cluster(CacheClusterId="major-only", EngineVersion="6.2", ApplyImmediately=True),
    )
    rds.create_db_instance(
        DBInstanceIdentifier="mysql80", Engine="mysql", EngineVersion="8.0", DBInstanceClass="db.t3.micro",
        AllocatedStorage=20, MasterUsername="admin", MasterUserPassword="password123", DBSubnetGroupName="versions",
    )
    expect_error(
        "InvalidParameterCombination", 400,
        lambda: rds.modify_db_instance(DBInstanceIdentifier="mysql80", EngineVersion="5.7", ApplyImmediately=True),
    )
    expect_error(
        "InvalidParameterCombination", 400,
        lambda: rds.modify_db_instance(DBInstanceIdentifier="mysql80", EngineVersion="8.4", ApplyImmediately=True),
    )
    rds.modify_db_instance(
        DBInstanceIdentifier="mysql80", EngineVersion="8.4", AllowMajorVersionUpgrade=True, ApplyImmediately=True
    )
    mdb = emu.client("memorydb")
    listed = mdb.describe_engine_versions(Engine="redis")["EngineVersions"]
    assert {v["EngineVersion"] for v in listed} == {"6.2", "7.0", "7.1"}, listed
    expect_error(
        "InvalidParameterValueException", 400,
        lambda: mdb.create_cluster(ClusterName="future", NodeType="db.t4g.small", ACLName="open-access", EngineVersion="99.9"),
    )


def check_s3_conditional_writes(emu: Emulator) -> None:
    """If-None-Match: * creates only what is absent, If-Match writes and deletes only over that
    version (412 otherwise), and of racing conditional writes exactly one wins."""
    import concurrent.futures

    s3 = emu.client("s3")
    s3.create_bucket(Bucket="state-bucket")
    first = s3.put_object(Bucket="state-bucket", Key="lock", Body=b"a", IfNoneMatch="*")["ETag"]
    expect_error("PreconditionFailed", 412, lambda: s3.put_object(Bucket="state-bucket", Key="lock", Body=b"b", IfNoneMatch="*"))
    expect_error("PreconditionFailed", 412, lambda: s3.put_object(Bucket="state-bucket", Key="lock", Body=b"b", IfMatch='"0000"'))
    second = s3.put_object(Bucket="state-bucket", Key="lock", Body=b"b", IfMatch=first)["ETag"]
    expect_error("PreconditionFailed", 412, lambda: s3.delete_object(Bucket="state-bucket", Key="lock", IfMatch=first))
    s3.delete_object(Bucket="state-bucket", Key="lock", IfMatch=second)
    expect_error("NoSuchKey", 404, lambda: s3.get_object(Bucket="state-bucket", Key="lock"))

    def contend(i: int) -> str:
        try:
            s3.put_object(Bucket="state-bucket", Key="race", Body=str(i).encode(), IfNoneMatch="*")
            return "won"
        except ClientError as e:
            return e.response["Error"]["Code"]

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(contend, range(32)))
    assert results.count("won") == 1, results
    assert set(results) <= {"won", "PreconditionFailed", "ConditionalRequestConflict"}, results
    logged = [r["action"] for r in emu.requests() if r["service"] == "s3"]
    assert {"CreateBucket", "PutObject", "DeleteObject", "GetObject"} <= set(logged), logged


def check_s3_bucket_versioning_document(emu: Emulator) -> None:
    """GetBucketVersioning answers a VersioningConfiguration document (AWS's shape; strict SDKs
    refuse any other root), with Status once versioning was set."""
    s3 = emu.client("s3")
    s3.create_bucket(Bucket="versioned-bucket")

    def root_and_status() -> tuple[str, str | None]:
        with urllib.request.urlopen(f"{emu.endpoint}/versioned-bucket?versioning") as resp:
            body = resp.read().decode()
        import xml.etree.ElementTree as ET

        root = ET.fromstring(body)
        status = root.find("{http://s3.amazonaws.com/doc/2006-03-01/}Status")
        return root.tag.split("}")[-1], status.text if status is not None else None

    assert root_and_status() == ("VersioningConfiguration", None), root_and_status()
    s3.put_bucket_versioning(Bucket="versioned-bucket", VersioningConfiguration={"Status": "Enabled"})
    assert root_and_status() == ("VersioningConfiguration", "Enabled"), root_and_status()
    assert s3.get_bucket_versioning(Bucket="versioned-bucket")["Status"] == "Enabled"


def check_s3_conditional_conflict(emu: Emulator) -> None:
    """A conditional write arriving while another is in progress on the key: 409."""
    import threading

    s3 = emu.client("s3")
    s3.create_bucket(Bucket="conflict-bucket")
    slow = threading.Thread(
        target=lambda: s3.put_object(Bucket="conflict-bucket", Key="lock", Body=b"a", IfNoneMatch="*")
    )
    slow.start()
    time.sleep(SLOW_DELAY / 4)
    expect_error(
        "ConditionalRequestConflict", 409,
        lambda: s3.put_object(Bucket="conflict-bucket", Key="lock", Body=b"b", IfNoneMatch="*"),
    )
    slow.join()
    assert s3.get_object(Bucket="conflict-bucket", Key="lock")["Body"].read() == b"a"


class SharedEmulator:
    """An emulator started with `env`, shared by the timed checks that need
    those settings (as moto's start costs seconds of CPU); started at once,
    in parallel with the others."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.emulator = Emulator("--exit-with-stdin", env=env)
        self.ready = False

    def get(self) -> Emulator:
        if not self.ready:
            self.emulator.wait_ready()
            self.ready = True
        return self.emulator

    def kill(self) -> None:
        self.emulator.kill()


class TimedCheck:
    """A check that measures time against an emulator.

    A busy machine (a parallel build, a loaded CI runner) can slow the
    client enough that a correct emulator looks wrong: a resource is seen
    `available` because the calls before took longer than its delay. Such a
    check gets up to TIMED_ATTEMPTS attempts: the first on the shared
    emulator, each later one on a fresh emulator of the same settings, so
    that a failed attempt's leftovers never reach the next. A real defect (a
    resource available at once, a delay never ending) fails every attempt.
    """

    def __init__(self, name: str, shared: SharedEmulator, check: Callable[[Emulator], None]) -> None:
        self.name = name
        self.shared = shared
        self.check = check

    def emulator(self, attempt: int) -> Emulator:
        if attempt == 1:
            return self.shared.get()
        emu = Emulator("--exit-with-stdin", env=self.shared.env)
        emu.wait_ready()
        return emu


TIMED_ATTEMPTS = 3


def main() -> int:
    passed = failed = 0

    def record_failure(name: str) -> None:
        nonlocal failed
        failed += 1
        # stderr too: the test command keeps only stderr of a passing self-check.
        for stream in (sys.stdout, sys.stderr):
            print(f"FAIL {name}", file=stream, flush=True)
            traceback.print_exc(file=stream)

    def run(name: str, fn: Callable[[], None]) -> None:
        nonlocal passed
        started = time.monotonic()
        try:
            fn()
        except Exception:  # noqa: BLE001
            record_failure(name)
        else:
            passed += 1
            print(f"ok   {name} ({time.monotonic() - started:.1f}s)", flush=True)

    def run_timed(timed: TimedCheck) -> None:
        nonlocal passed
        for attempt in range(1, TIMED_ATTEMPTS + 1):
            started = time.monotonic()
            emu = timed.emulator(attempt)
            try:
                timed.check(emu)
            except Exception as err:  # noqa: BLE001
                if attempt == TIMED_ATTEMPTS:
                    record_failure(f"{timed.name} (attempt {attempt} of {TIMED_ATTEMPTS})")
                    return
                # Both streams: a retry is worth seeing even when the self-check passes.
                for stream in (sys.stdout, sys.stderr):
                    print(f"again {timed.name}: attempt {attempt} failed: {err!r}", file=stream, flush=True)
            else:
                passed += 1
                print(f"ok   {timed.name} ({time.monotonic() - started:.1f}s)", flush=True)
                return
            finally:
                if attempt > 1:
                    emu.kill()

    main_emu = Emulator("--exit-with-stdin")
    multi = Emulator("--region", "us-east-1", "--region", "eu-west-1", "--exit-with-stdin")
    throttled = Emulator("--exit-with-stdin", env={"STACKCTL_EMULATOR_THROTTLE_RATE": "1.0"})
    failing = Emulator(
        "--exit-with-stdin",
        env={"STACKCTL_EMULATOR_ERROR_RATE": "1.0", "STACKCTL_EMULATOR_SEED": "7"},
    )
    sampled = Emulator(
        "--exit-with-stdin",
        env={
            "STACKCTL_EMULATOR_THROTTLE_RATE": str(SAMPLED_RATE),
            "STACKCTL_EMULATOR_SEED": str(SAMPLED_SEED),
        },
    )
    delayed = SharedEmulator({"STACKCTL_EMULATOR_DELETE_SECONDS": str(DELETE_DELAY)})
    slow = SharedEmulator({
        "STACKCTL_EMULATOR_CREATE_SECONDS": str(SLOW_DELAY),
        "STACKCTL_EMULATOR_PROFILE_PROPAGATION_SECONDS": str(SLOW_DELAY),
        "STACKCTL_EMULATOR_S3_WRITE_SECONDS": str(SLOW_DELAY),
        "STACKCTL_EMULATOR_ENI_RELEASE_SECONDS": str(SLOW_DELAY),
    })
    lagged = SharedEmulator({
        "STACKCTL_EMULATOR_CREATE_SECONDS": str(SLOW_DELAY),
        "STACKCTL_EMULATOR_MODIFY_LAG_SECONDS": str(SLOW_DELAY),
    })
    latent = SharedEmulator({"STACKCTL_EMULATOR_LATENCY_SECONDS": str(LATENCY)})
    profiled = SharedEmulator(
        {"STACKCTL_EMULATOR_PROFILE": "aws", "STACKCTL_EMULATOR_PROFILE_SCALE": str(PROFILE_SCALE)}
    )
    shared = [delayed, slow, lagged, latent, profiled]
    timed = [
        TimedCheck("S3_WRITE_SECONDS=2: racing conditional writes, 409", slow, check_s3_conditional_conflict),
        TimedCheck("service network interfaces hold security groups", delayed,
                   check_service_interfaces_hold_security_groups),
        TimedCheck(f"deletions finish after STACKCTL_EMULATOR_DELETE_SECONDS={DELETE_DELAY:g}", delayed,
                   check_deletion_delay),
        TimedCheck(f"CREATE_SECONDS={SLOW_DELAY:g}: creations and modifications take time", slow,
                   check_create_and_modify_take_time),
        TimedCheck(f"MODIFY_LAG_SECONDS={SLOW_DELAY:g}: the old status first, the changes pending", lagged,
                   check_modify_lag),
        TimedCheck(f"PROFILE_PROPAGATION_SECONDS={SLOW_DELAY:g}: RunInstances rejected, then accepted", slow,
                   check_profile_propagation),
        TimedCheck(f"ENI_RELEASE_SECONDS={SLOW_DELAY:g}: security group held, then freed", slow, check_eni_release),
        TimedCheck(f"LATENCY_SECONDS={LATENCY:g}: every request takes it, together they overlap", latent,
                   check_latency),
        TimedCheck(f"PROFILE=aws PROFILE_SCALE={PROFILE_SCALE:g}: each kind takes its own time", profiled,
                   check_kind_profile),
    ]
    extra = [throttled, failing, sampled]
    try:
        main_emu.wait_ready()
        multi.wait_ready()
        for emu in extra:
            emu.wait_ready()

        run("seeded network us-east-1", lambda: check_seeded_network(main_emu))
        run("seeded network eu-west-1 (--region twice)", lambda: check_seeded_network(multi, "eu-west-1"))
        run("ssm AMI parameters us-east-1", lambda: check_ssm_ami_parameters(main_emu))
        run("ssm AMI parameters eu-west-1", lambda: check_ssm_ami_parameters(multi, "eu-west-1"))
        run("managed policy attach", lambda: check_managed_policy_attach(main_emu))
        run("iam delete conflicts", lambda: check_iam_delete_conflicts(main_emu))
        run("RunInstances ClientToken idempotency", lambda: check_run_instances_client_token(main_emu))
        run("instance attributes and profile", lambda: check_instance_attributes_and_profile(main_emu))
        run("DeleteSecurityGroup DependencyViolation", lambda: check_delete_security_group_dependency(main_emu))
        run("replicas and shards change in place", lambda: check_replica_and_shard_changes(main_emu))
        run("engine versions listed and checked", lambda: check_engine_versions(main_emu))
        run("S3 conditional writes", lambda: check_s3_conditional_writes(main_emu))
        run("S3 GetBucketVersioning document", lambda: check_s3_bucket_versioning_document(main_emu))
        run("RunInstances default security group", lambda: check_default_security_group(main_emu))
        run("tagging api and sts", lambda: check_tagging_and_identity(main_emu))
        run("unimplemented operation fails loudly", lambda: check_unimplemented_is_loud(main_emu))
        run("elasticache/memorydb/rds/secretsmanager: no operation unimplemented", lambda: check_data_services_not_unimplemented(main_emu))
        run("elasticache/memorydb: unimplemented operation fails loudly", lambda: check_data_services_unimplemented_is_loud(main_emu))
        run("elasticache subnet groups", lambda: check_elasticache_subnet_groups(main_emu))
        run("elasticache cache clusters", lambda: check_elasticache_clusters(main_emu))
        run("elasticache replication groups", lambda: check_elasticache_replication_groups(main_emu))
        run("memorydb ACLs and users", lambda: check_memorydb_acls_and_users(main_emu))
        run("memorydb clusters", lambda: check_memorydb_clusters(main_emu))
        run("rds subnet groups and instances", lambda: check_rds(main_emu))
        run("secretsmanager", lambda: check_secretsmanager(main_emu))
        run("request log", lambda: check_request_log(main_emu))
        run("fault injection off by default", lambda: check_faults_off_by_default(main_emu))
        run("THROTTLE_RATE=1.0: every protocol's throttling error", lambda: check_throttling_every_protocol(throttled))
        run("ERROR_RATE=1.0: every protocol's 500 / 503", lambda: check_server_errors_every_protocol(failing))
        run(f"THROTTLE_RATE={SAMPLED_RATE:g} SEED={SAMPLED_SEED}: seeded share of 200 requests", lambda: check_sampled_faults(sampled))
        for check in timed:
            run_timed(check)
        run("bad STACKCTL_EMULATOR_* values stop the server", check_bad_settings_refused)

        def stdin_eof() -> None:
            assert main_emu.proc.stdin is not None
            main_emu.proc.stdin.close()
            code = main_emu.proc.wait(timeout=15)
            assert code == 0, code
            # Only the endpoint line was ever written to stdout.
            assert main_emu.proc.stdout is not None
            assert main_emu.proc.stdout.read() == b""

        def sigterm() -> None:
            multi.proc.send_signal(signal.SIGTERM)
            code = multi.proc.wait(timeout=15)
            assert code == 0, code

        run("--exit-with-stdin exits on stdin EOF", stdin_eof)
        run("SIGTERM exits cleanly", sigterm)
    finally:
        main_emu.kill()
        multi.kill()
        for emu in extra:
            emu.kill()
        for emu_shared in shared:
            emu_shared.kill()

    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Self-check of the emulator: starts server.py and talks to it with boto3.

    emulator/.venv/bin/python emulator/test_emulator.py

No pytest needed. Prints one line per check and a closing
"N passed, N failed" line; exits non-zero if any check failed.
"""

from __future__ import annotations

import json
import os
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

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = os.path.join(HERE, "server.py")
STARTUP_TIMEOUT = 60.0
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
    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, "--port", "0", *args],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=sys.stderr,
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

    def client(self, service: str, region: str = "us-east-1") -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"max_attempts": 1}),
        )

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


def main() -> int:
    passed = failed = 0

    def run(name: str, fn: Callable[[], None]) -> None:
        nonlocal passed, failed
        started = time.monotonic()
        try:
            fn()
        except Exception:  # noqa: BLE001
            failed += 1
            print(f"FAIL {name}", flush=True)
            traceback.print_exc(file=sys.stdout)
        else:
            passed += 1
            print(f"ok   {name} ({time.monotonic() - started:.1f}s)", flush=True)

    main_emu = Emulator("--exit-with-stdin")
    multi = Emulator("--region", "us-east-1", "--region", "eu-west-1", "--exit-with-stdin")
    try:
        main_emu.wait_ready()
        multi.wait_ready()

        run("seeded network us-east-1", lambda: check_seeded_network(main_emu))
        run("seeded network eu-west-1 (--region twice)", lambda: check_seeded_network(multi, "eu-west-1"))
        run("ssm AMI parameters us-east-1", lambda: check_ssm_ami_parameters(main_emu))
        run("ssm AMI parameters eu-west-1", lambda: check_ssm_ami_parameters(multi, "eu-west-1"))
        run("managed policy attach", lambda: check_managed_policy_attach(main_emu))
        run("iam delete conflicts", lambda: check_iam_delete_conflicts(main_emu))
        run("RunInstances ClientToken idempotency", lambda: check_run_instances_client_token(main_emu))
        run("instance attributes and profile", lambda: check_instance_attributes_and_profile(main_emu))
        run("DeleteSecurityGroup DependencyViolation", lambda: check_delete_security_group_dependency(main_emu))
        run("RunInstances default security group", lambda: check_default_security_group(main_emu))
        run("tagging api and sts", lambda: check_tagging_and_identity(main_emu))
        run("unimplemented operation fails loudly", lambda: check_unimplemented_is_loud(main_emu))
        run("request log", lambda: check_request_log(main_emu))

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

    print(f"{passed} passed, {failed} failed", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

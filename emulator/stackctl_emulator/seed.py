"""Seeds the network stackctl expects to find (it looks VPCs up, never creates them).

Done with boto3 against the running server, i.e. through the same API (and the
same patches) the tool uses, so the seeded objects are exactly what AWS would
hold after these calls. The request log is cleared afterwards by server.py.

Per region:
  VPC 10.20.0.0/16                     Name=demo-vpc (DNS support + hostnames on)
  internet gateway, attached           Name=demo-vpc-igw
  route table 0.0.0.0/0 -> IGW         Name=demo-vpc-public, explicitly associated
                                       with both public subnets
  10.20.0.0/24  <region>a  public      Name=demo-vpc-public-a   MapPublicIpOnLaunch
  10.20.1.0/24  <region>b  public      Name=demo-vpc-public-b   MapPublicIpOnLaunch
  10.20.10.0/24 <region>a  private     Name=demo-vpc-private-a
  10.20.11.0/24 <region>b  private     Name=demo-vpc-private-b
The private subnets have no explicit association, so they use the VPC's main
route table, which only has the local route (no IGW).
"""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

VPC_NAME = "demo-vpc"
VPC_CIDR = "10.20.0.0/16"
PUBLIC_SUBNETS = [("a", "10.20.0.0/24"), ("b", "10.20.1.0/24")]
PRIVATE_SUBNETS = [("a", "10.20.10.0/24"), ("b", "10.20.11.0/24")]


def _tags(resource_type: str, name: str) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": [{"Key": "Name", "Value": name}]}]


def seed_region(endpoint: str, region: str) -> dict[str, Any]:
    ec2 = boto3.client(
        "ec2",
        endpoint_url=endpoint,
        region_name=region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )

    vpc_id = ec2.create_vpc(
        CidrBlock=VPC_CIDR, TagSpecifications=_tags("vpc", VPC_NAME)
    )["Vpc"]["VpcId"]
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsSupport={"Value": True})
    ec2.modify_vpc_attribute(VpcId=vpc_id, EnableDnsHostnames={"Value": True})

    igw_id = ec2.create_internet_gateway(
        TagSpecifications=_tags("internet-gateway", f"{VPC_NAME}-igw")
    )["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw_id, VpcId=vpc_id)

    public_rt = ec2.create_route_table(
        VpcId=vpc_id, TagSpecifications=_tags("route-table", f"{VPC_NAME}-public")
    )["RouteTable"]["RouteTableId"]
    ec2.create_route(
        RouteTableId=public_rt, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw_id
    )

    subnets: dict[str, str] = {}
    for suffix, cidr in PUBLIC_SUBNETS:
        name = f"{VPC_NAME}-public-{suffix}"
        subnet_id = ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=cidr,
            AvailabilityZone=f"{region}{suffix}",
            TagSpecifications=_tags("subnet", name),
        )["Subnet"]["SubnetId"]
        ec2.modify_subnet_attribute(
            SubnetId=subnet_id, MapPublicIpOnLaunch={"Value": True}
        )
        ec2.associate_route_table(RouteTableId=public_rt, SubnetId=subnet_id)
        subnets[name] = subnet_id

    for suffix, cidr in PRIVATE_SUBNETS:
        name = f"{VPC_NAME}-private-{suffix}"
        subnets[name] = ec2.create_subnet(
            VpcId=vpc_id,
            CidrBlock=cidr,
            AvailabilityZone=f"{region}{suffix}",
            TagSpecifications=_tags("subnet", name),
        )["Subnet"]["SubnetId"]

    # moto loads a region's public SSM parameters (and IAM's managed policies) on first use, which
    # takes half a second, and builds each service's backend on its first request (about 0.1 s
    # each, one at a time under the interpreter lock): done here, so the first requests of a run
    # cost what AWS's would. Reads only: nothing is created.
    for service, warm in (
        ("ssm", lambda c: c.get_parameter(Name="/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64")),
        ("iam", lambda c: c.list_policies(Scope="AWS", MaxItems=1)),
        ("sts", lambda c: c.get_caller_identity()),
        ("rds", lambda c: c.describe_db_engine_versions(Engine="mysql")),
        ("rds", lambda c: c.describe_db_subnet_groups()),
        ("elasticache", lambda c: c.describe_cache_engine_versions(Engine="redis")),
        ("elasticache", lambda c: c.describe_cache_subnet_groups()),
        ("memorydb", lambda c: c.describe_engine_versions()),
        ("memorydb", lambda c: c.describe_subnet_groups()),
        ("resourcegroupstaggingapi", lambda c: c.get_resources()),
        ("secretsmanager", lambda c: c.list_secrets()),
        # S3 also answers `HEAD /`, which stackctl sends first to see that the endpoint is up.
        ("s3", lambda c: c.list_buckets()),
    ):
        warm(
            boto3.client(
                service,
                endpoint_url=endpoint,
                region_name=region,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                config=Config(retries={"max_attempts": 1}),
            )
        )

    return {
        "vpc_id": vpc_id,
        "internet_gateway_id": igw_id,
        "public_route_table_id": public_rt,
        "subnets": subnets,
    }

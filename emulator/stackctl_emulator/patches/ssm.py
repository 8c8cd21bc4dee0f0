"""SSM patches.

moto already ships the public parameters stackctl reads
(/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2 and
.../al2023-ami-kernel-default-x86_64), pointing at AMIs that its EC2
DescribeImages knows; test_emulator.py checks that in every seeded region.
"""

from __future__ import annotations

import functools

from moto.ssm import models as ssm_models


# AWS: public parameters under /aws/service/ belong to AWS, not to the caller;
# their ARN has an empty account field
# ("arn:aws:ssm:us-east-1::parameter/aws/service/..."). moto puts the caller's
# account id there.
def _patch_public_parameter_arn() -> None:
    original = ssm_models.parameter_arn

    @functools.wraps(original)
    def parameter_arn(account_id: str, region: str, parameter_name: str) -> str:
        if parameter_name.lstrip("/").startswith("aws/service/"):
            account_id = ""
        return original(account_id, region, parameter_name)

    ssm_models.parameter_arn = parameter_arn


def apply() -> None:
    _patch_public_parameter_arn()

"""Patches to moto, one module per AWS service.

moto looks its response handlers and backend methods up at request time, so
replacing them after import (before the server handles a request) is enough.
Every patch states the AWS API behaviour it implements.
"""

from . import ec2, iam, ssm


def apply_all() -> None:
    ec2.apply()
    iam.apply()
    ssm.apply()

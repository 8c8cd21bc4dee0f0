"""Patches to moto, one module per AWS service.

moto looks its response handlers and backend methods up at request time, so
replacing them after import (before the server handles a request) is enough.
Every patch states the AWS API behaviour it implements.
"""

from .. import deletion
from . import ec2, elasticache, iam, memorydb, rds, secretsmanager, ssm


def apply_all() -> None:
    # STACKCTL_EMULATOR_DELETE_SECONDS is read once, here, at startup.
    deletion.configure()
    ec2.apply()
    iam.apply()
    ssm.apply()
    elasticache.apply()
    memorydb.apply()
    rds.apply()
    secretsmanager.apply()

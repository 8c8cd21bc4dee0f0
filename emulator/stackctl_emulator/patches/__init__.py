"""Patches to moto, one module per AWS service.

moto looks its response handlers and backend methods up at request time, so
replacing them after import (before the server handles a request) is enough.
Every patch states the AWS API behaviour it implements.
"""

from .. import deletion, eni_release, lifecycle, profile, propagation, request_log
from . import ec2, elasticache, iam, memorydb, rds, s3, secretsmanager, ssm, tagging


def apply_all() -> None:
    # STACKCTL_EMULATOR_PROFILE(_SCALE), _LATENCY_SECONDS, _DELETE_SECONDS,
    # _CREATE_SECONDS, _PROFILE_PROPAGATION_SECONDS and _ENI_RELEASE_SECONDS are read once,
    # here, at startup (a bad value exits with a message).
    profile.configure()
    request_log.configure()
    deletion.configure()
    lifecycle.configure()
    propagation.configure()
    eni_release.configure()
    s3.configure()
    ec2.apply()
    iam.apply()
    ssm.apply()
    elasticache.apply()
    memorydb.apply()
    rds.apply()
    secretsmanager.apply()
    tagging.apply()
    s3.apply()

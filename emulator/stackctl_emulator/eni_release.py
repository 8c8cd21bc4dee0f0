"""Network interfaces that outlive their instance for a while.

AWS: when an instance terminates, its network interfaces with
DeleteOnTermination are detached and deleted some time later, not at once.
Until then DescribeNetworkInterfaces still lists them (``in-use``, attached to
the terminated instance) and DeleteSecurityGroup on their groups answers
``DependencyViolation``; tools that delete a security group right after
terminating its instance must retry. moto deletes the interface at once.

``STACKCTL_EMULATOR_ENI_RELEASE_SECONDS`` (read once at startup; default
``0``: deleted with the instance, as before) is how long the interface stays.
``patches/ec2.py`` holds the interfaces back and releases them through the
EC2 backend's :mod:`timeline`.
"""

from __future__ import annotations

from . import envconfig

ENV_VAR = "STACKCTL_EMULATOR_ENI_RELEASE_SECONDS"

_seconds = 0.0


def configure() -> None:
    global _seconds
    _seconds = envconfig.seconds(ENV_VAR)


def seconds() -> float:
    return _seconds

"""IAM eventual consistency for instance profiles.

AWS: IAM changes take a while to reach EC2. Right after CreateInstanceProfile
or AddRoleToInstanceProfile, RunInstances / AssociateIamInstanceProfile /
ReplaceIamInstanceProfileAssociation naming the profile fail with
``InvalidParameterValue`` ("Value (NAME) for parameter iamInstanceProfile.name
is invalid. Invalid IAM Instance Profile name", or ``.arn`` / "Invalid IAM
Instance Profile ARN" when the ARN was given) for seconds, sometimes longer;
tools are expected to retry. moto knows the profile at once.

``STACKCTL_EMULATOR_PROFILE_PROPAGATION_SECONDS`` (read once at startup;
default ``0``, off) is how long EC2 does not know a profile after either IAM
call (the last one counts). ``patches/iam.py`` records the calls,
``patches/ec2.py`` checks them.
"""

from __future__ import annotations

import threading
import time

from . import envconfig

ENV_VAR = "STACKCTL_EMULATOR_PROFILE_PROPAGATION_SECONDS"

_seconds = 0.0
_lock = threading.Lock()
# (account id, instance profile name) -> monotonic time EC2 knows it from
_visible_from: dict[tuple[str, str], float] = {}


def configure() -> None:
    global _seconds
    _seconds = envconfig.seconds(ENV_VAR)


def seconds() -> float:
    return _seconds


def changed(account_id: str, profile_name: str) -> None:
    """CreateInstanceProfile / AddRoleToInstanceProfile happened just now."""
    if _seconds <= 0:
        return
    with _lock:
        _visible_from[(account_id, profile_name)] = time.monotonic() + _seconds


def profile_name_of(arn: str) -> str:
    # arn:aws:iam::123456789012:instance-profile/optional/path/NAME
    return arn.rsplit("/", 1)[-1]


def propagating(account_id: str, profile_name: str) -> bool:
    """True while EC2 does not know the profile yet."""
    with _lock:
        visible_from = _visible_from.get((account_id, profile_name))
        if visible_from is None:
            return False
        if time.monotonic() >= visible_from:
            del _visible_from[(account_id, profile_name)]
            return False
        return True

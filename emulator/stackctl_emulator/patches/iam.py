"""IAM patches: where moto 5.2.5 answers differently from AWS for calls stackctl makes.

Checked and already faithful in moto (no patch): DeleteRole answers
DeleteConflict while the role is in an instance profile, has attached managed
policies or has inline policies; DeleteInstanceProfile answers DeleteConflict
while it holds a role; AddRoleToInstanceProfile on a full profile answers
LimitExceeded; missing entities answer NoSuchEntity (404).
"""

from __future__ import annotations

import functools
from typing import Any

from moto.iam.exceptions import NotFoundException
from moto.iam.models import IAMBackend, InstanceProfile
from moto.iam.utils import generate_access_key_id_from_account_id

from .. import propagation


# AWS: RemoveRoleFromInstanceProfile for a role that exists but is not in the
# profile is a NoSuchEntity client error. moto calls list.remove() and answers
# HTTP 500 (ValueError), which the tool would take for a server fault and
# retry.
def _patch_remove_role_from_instance_profile() -> None:
    original = IAMBackend.remove_role_from_instance_profile

    @functools.wraps(original)
    def remove_role_from_instance_profile(self: IAMBackend, profile_name: str, role_name: str) -> None:
        profile = self.get_instance_profile(profile_name)  # NoSuchEntity if missing
        self.get_role(role_name)  # NoSuchEntity if missing
        if not any(role.name == role_name for role in profile.roles):
            raise NotFoundException(
                f"The role with name {role_name} cannot be found in instance profile {profile_name}."
            )
        return original(self, profile_name, role_name)

    IAMBackend.remove_role_from_instance_profile = remove_role_from_instance_profile  # type: ignore[method-assign]


# AWS: InstanceProfileId is a unique id like the other IAM ids, "AIPA" followed
# by upper-case letters and digits (21 characters), and EC2 reports the same
# id in Instance.IamInstanceProfile.Id. moto makes 20 random lower-case
# characters.
def _patch_instance_profile_id() -> None:
    original = IAMBackend.create_instance_profile

    @functools.wraps(original)
    def create_instance_profile(self: IAMBackend, *args: Any, **kwargs: Any) -> InstanceProfile:
        profile = original(self, *args, **kwargs)
        profile.id = generate_access_key_id_from_account_id(
            account_id=self.account_id, prefix="AIPA", total_length=21
        )
        propagation.changed(self.account_id, profile.name)
        return profile

    IAMBackend.create_instance_profile = create_instance_profile  # type: ignore[method-assign]


# AWS (IAM eventual consistency): a new instance profile, or a role just
# added to one, is not usable by EC2 at once. Both calls are recorded for the
# EC2 check (propagation.py, STACKCTL_EMULATOR_PROFILE_PROPAGATION_SECONDS).
def _patch_add_role_to_instance_profile() -> None:
    original = IAMBackend.add_role_to_instance_profile

    @functools.wraps(original)
    def add_role_to_instance_profile(self: IAMBackend, profile_name: str, role_name: str) -> None:
        result = original(self, profile_name, role_name)
        propagation.changed(self.account_id, profile_name)
        return result

    IAMBackend.add_role_to_instance_profile = add_role_to_instance_profile  # type: ignore[method-assign]


def apply() -> None:
    _patch_remove_role_from_instance_profile()
    _patch_instance_profile_id()
    _patch_add_role_to_instance_profile()

"""Secrets Manager patches: where moto 5.2.5 answers differently from AWS for
the calls stackctl makes.

Checked and already faithful in moto (no patch): GetRandomPassword
(PasswordLength, Exclude* options, IncludeSpace, RequireEachIncludedType);
CreateSecret with Tags (ResourceExistsException for an existing name);
DescribeSecret; GetSecretValue (AWSCURRENT / AWSPREVIOUS);
PutSecretValue; UpdateSecret; TagResource; DeleteSecret with
RecoveryWindowInDays (7-30, else InvalidParameterException; the secret is
then "marked deleted": GetSecretValue is InvalidRequestException,
DescribeSecret shows DeletedDate, ListSecrets hides it unless
IncludePlannedDeletion) or ForceDeleteWithoutRecovery (gone at once; both
together are InvalidParameterException); ListSecrets filters name / tag-key /
tag-value.
"""

from __future__ import annotations

import functools
from typing import Any

from moto.secretsmanager.exceptions import InvalidRequestException, SecretsManagerClientError
from moto.secretsmanager.models import FakeSecret, SecretsManagerBackend


# AWS CreateSecret with the name of a secret that is scheduled for deletion:
# InvalidRequestException "You can't create this secret because a secret
# with this name is already scheduled for deletion." moto answered
# ResourceExistsException, as for a live secret.
def _patch_create_secret_scheduled_for_deletion() -> None:
    original = SecretsManagerBackend.create_secret

    @functools.wraps(original)
    def create_secret(self: SecretsManagerBackend, name: str, *args: Any, **kwargs: Any) -> str:
        existing = self.secrets[name] if name in self.secrets.keys() else None
        if isinstance(existing, FakeSecret) and existing.is_deleted():
            raise InvalidRequestException(
                "You can't create this secret because a secret with this name is already"
                " scheduled for deletion."
            )
        return original(self, name, *args, **kwargs)

    SecretsManagerBackend.create_secret = create_secret  # type: ignore[method-assign]


# AWS DescribeSecret VersionIdsToStages / ListSecrets SecretVersionsToStages:
# only versions that have staging labels ("Versions that don't have staging
# labels are considered deprecated"). moto also listed deprecated versions
# with an empty label list.
def _patch_version_ids_to_stages() -> None:
    original = FakeSecret._form_version_ids_to_stages

    @functools.wraps(original)
    def _form_version_ids_to_stages(self: FakeSecret) -> dict[str, Any]:
        return {version: stages for version, stages in original(self).items() if stages}

    FakeSecret._form_version_ids_to_stages = _form_version_ids_to_stages  # type: ignore[method-assign]


# AWS GetRandomPassword with PasswordLength > 4096 fails model validation:
# ValidationException ("1 validation error detected: Value '5000' at
# 'passwordLength' failed to satisfy constraint: Member must have value less
# than or equal to 4096"). moto answered that text under the code
# InvalidParameterValue.
def _patch_random_password_length() -> None:
    original = SecretsManagerBackend.get_random_password

    @functools.wraps(original)
    def get_random_password(self: SecretsManagerBackend, password_length: int, *args: Any, **kwargs: Any) -> str:
        if password_length > 4096:
            raise SecretsManagerClientError(
                "ValidationException",
                f"1 validation error detected: Value '{password_length}' at 'passwordLength'"
                " failed to satisfy constraint: Member must have value less than or equal to 4096",
            )
        return original(self, password_length, *args, **kwargs)

    SecretsManagerBackend.get_random_password = get_random_password  # type: ignore[method-assign]


def apply() -> None:
    _patch_create_secret_scheduled_for_deletion()
    _patch_version_ids_to_stages()
    _patch_random_password_length()

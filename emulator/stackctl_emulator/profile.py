"""How long each kind of resource takes, as AWS publishes it, scaled down.

``STACKCTL_EMULATOR_PROFILE`` (read once at startup): ``aws`` gives every
create, modification and deletion the duration AWS documents or users
commonly measure for that kind, times ``STACKCTL_EMULATOR_PROFILE_SCALE``
(default ``1/60``: one emulated second per real minute). Unset or empty: off,
and ``STACKCTL_EMULATOR_CREATE_SECONDS`` / ``_DELETE_SECONDS`` give every kind
the same duration as before. Setting both is refused: which one wins would be
a guess.

The figures, in minutes (create / delete), are what a user sees in the
console for a small resource:

- EC2 instance: 1 / 0 (``pending`` to ``running``; the emulator terminates at
  once, see ``STACKCTL_EMULATOR_ENI_RELEASE_SECONDS`` for what lingers).
- RDS DB instance: 8 / 6 (MySQL ``db.t3.micro``, single-AZ; the RDS user guide
  says "can take several minutes").
- ElastiCache cache cluster: 7 / 5; replication group: 11 / 8.
- MemoryDB cluster: 20 / 10 (the MemoryDB developer guide: "can take up to
  20 minutes" for a cluster to become available); ACL and user: 1 / 1.

``GET /_stackctl/profile`` answers the durations in force, in seconds, by
kind, so a benchmark can compute a stack's critical path from them.
"""

from __future__ import annotations

import os
from typing import Any

from . import envconfig

ENV_VAR = "STACKCTL_EMULATOR_PROFILE"
SCALE_VAR = "STACKCTL_EMULATOR_PROFILE_SCALE"
PATH = "/_stackctl/profile"

# (backend class, key tag used by the patches) -> (kind as stackctl names it, create, delete minutes)
_MINUTES: dict[tuple[str, str], tuple[str, float, float]] = {
    ("EC2Backend", "instance"): ("ec2-instance", 1.0, 0.0),
    ("RDSBackend", "db"): ("rds-instance", 8.0, 6.0),
    ("ElastiCacheBackend", "cluster"): ("elasticache-cluster", 7.0, 5.0),
    ("ElastiCacheBackend", "replicationgroup"): ("elasticache-replication-group", 11.0, 8.0),
    ("MemoryDBBackend", "cluster"): ("memorydb-cluster", 20.0, 10.0),
    ("MemoryDBBackend", "acl"): ("memorydb-acl", 1.0, 1.0),
    ("MemoryDBBackend", "user"): ("memorydb-user", 1.0, 1.0),
}

_scale: float | None = None


def configure() -> None:
    """Reads the profile; exits with a message on a bad value."""
    global _scale
    name = os.environ.get(ENV_VAR, "").strip()
    raw_scale = os.environ.get(SCALE_VAR, "").strip()
    if not name:
        if raw_scale:
            raise SystemExit(f"{SCALE_VAR} is set but {ENV_VAR} is not; set {ENV_VAR}=aws")
        _scale = None
        return
    if name != "aws":
        raise SystemExit(f"{ENV_VAR} must be `aws` (or unset), got {name!r}")
    for other in ("STACKCTL_EMULATOR_CREATE_SECONDS", "STACKCTL_EMULATOR_DELETE_SECONDS"):
        if os.environ.get(other, "").strip():
            raise SystemExit(f"{ENV_VAR} and {other} are both set; set one of them")
    scale = envconfig.seconds(SCALE_VAR) if raw_scale else 1.0 / 60.0
    if scale <= 0:
        raise SystemExit(f"{SCALE_VAR} must be greater than 0, got {raw_scale!r}")
    _scale = scale


def enabled() -> bool:
    return _scale is not None


def _entry(backend: Any, key: Any) -> tuple[str, float, float] | None:
    tag = key[0] if isinstance(key, tuple) and key else None
    # By class or base class: the tagging patch subclasses some of moto's backends.
    for cls in type(backend).__mro__:
        entry = _MINUTES.get((cls.__name__, tag))
        if entry is not None:
            return entry
    return None


def create_seconds(backend: Any, key: Any) -> float | None:
    """The scaled create (and modify) duration of the resource ``key``, or None
    when the profile is off or does not know the kind."""
    entry = _entry(backend, key)
    if _scale is None or entry is None:
        return None
    return entry[1] * 60.0 * _scale


def delete_seconds(backend: Any, key: Any) -> float | None:
    entry = _entry(backend, key)
    if _scale is None or entry is None:
        return None
    return entry[2] * 60.0 * _scale


def status() -> dict[str, Any]:
    """What ``GET /_stackctl/profile`` answers."""
    if _scale is None:
        return {"profile": None, "scale": None, "create_seconds": {}, "delete_seconds": {}}
    return {
        "profile": "aws",
        "scale": _scale,
        "create_seconds": {kind: create * 60.0 * _scale for kind, create, _ in _MINUTES.values()},
        "delete_seconds": {kind: delete * 60.0 * _scale for kind, _, delete in _MINUTES.values()},
    }

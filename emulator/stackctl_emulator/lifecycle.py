"""Creations and modifications that take time, as in AWS.

``STACKCTL_EMULATOR_CREATE_SECONDS`` (read once at startup; default ``0``,
off): for that many seconds after a create / modify call the resource reports
its intermediate status in every Describe, then its final one. moto makes
everything final at once, so a tool that forgets to wait for ``available``
(and, say, reads an endpoint that does not exist yet, or modifies a cluster
that is still being created) passes against moto and fails against AWS.

The service patches (``patches/ec2.py``, ``rds.py``, ``elasticache.py``,
``memorydb.py``) set the intermediate status and register the later steps on
the backend's :mod:`timeline`; nothing changes while the setting is 0.
"""

from __future__ import annotations

from typing import Any, Callable

from . import envconfig, profile, timeline

ENV_VAR = "STACKCTL_EMULATOR_CREATE_SECONDS"
LAG_ENV_VAR = "STACKCTL_EMULATOR_MODIFY_LAG_SECONDS"

_seconds = 0.0
_lag = 0.0


def configure() -> None:
    global _seconds, _lag
    _seconds = envconfig.seconds(ENV_VAR)
    _lag = envconfig.seconds(LAG_ENV_VAR)


def modify_lag() -> float:
    """``STACKCTL_EMULATOR_MODIFY_LAG_SECONDS``: after a Modify call AWS often
    reports the old status (``available``) for a while before ``modifying``;
    the changes it defers show in PendingModifiedValues meanwhile. A wait
    that looks at the status alone ends before the change has begun."""
    return _lag


def enabled() -> bool:
    return _seconds > 0 or profile.enabled()


def seconds_for(backend: Any, key: Any) -> float:
    """How long a create or modification of ``key`` takes: its kind's figure
    under ``STACKCTL_EMULATOR_PROFILE``, else ``STACKCTL_EMULATOR_CREATE_SECONDS``."""
    from_profile = profile.create_seconds(backend, key)
    return _seconds if from_profile is None else from_profile


def schedule(backend: Any, key: Any, steps: list[tuple[float, Callable[[], None]]]) -> None:
    """``steps``: (fraction of the duration, callback), e.g. ``[(1.0, done)]``."""
    duration = seconds_for(backend, key)
    timeline.of(backend).start(key, [(fraction * duration, step) for fraction, step in steps])


def schedule_modification(
    backend: Any, key: Any, begin: Callable[[], None], finish: Callable[[], None]
) -> None:
    """A modification: ``begin`` (apply what was deferred, show the busy
    status) after the modify lag, then ``finish`` (the final status) after
    the create/modify duration. Without a lag ``begin`` runs now."""
    if _lag <= 0:
        begin()
        if enabled():
            schedule(backend, key, [(1.0, finish)])
        return
    steps = [(_lag, begin)]
    if enabled():
        steps.append((_lag + seconds_for(backend, key), finish))
    timeline.of(backend).start(key, steps)

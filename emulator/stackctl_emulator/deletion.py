"""Deletions that finish: AWS reports a deleted cluster / DB instance as
``deleting`` for a while, then it is gone (Describe answers its NotFound
error). moto either keeps such resources ``deleting`` forever or drops them
at once, so the ElastiCache, MemoryDB and RDS patches hand every deletion to
this module instead.

``STACKCTL_EMULATOR_DELETE_SECONDS`` (read once, when the patches are
applied at startup; default ``0``) is how long a deleted resource stays
visible as ``deleting``. With ``0`` the Delete call still answers
``deleting`` (as AWS does), and the next Describe no longer finds it.

Expired deletions are finished lazily, at the start of every request to the
service that owns them (see :func:`purge_before_each_request`), so no timer
threads touch moto's state behind a request's back.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from typing import Any, Callable

from . import profile

ENV_VAR = "STACKCTL_EMULATOR_DELETE_SECONDS"

_delay_seconds = 0.0


def configure() -> None:
    """Reads the delay from the environment (called once from apply_all)."""
    global _delay_seconds
    raw = os.environ.get(ENV_VAR, "").strip()
    if not raw:
        _delay_seconds = 0.0
        return
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{ENV_VAR} must be a number of seconds, got {raw!r}") from None
    if value < 0:
        raise SystemExit(f"{ENV_VAR} must not be negative, got {raw!r}")
    _delay_seconds = value


def delay_seconds() -> float:
    return _delay_seconds


class PendingDeletions:
    """Per-backend (account + region) list of deletions still in progress."""

    def __init__(self, backend: Any) -> None:
        self.lock = threading.RLock()
        self._due: dict[Any, tuple[float, Callable[[], None]]] = {}
        self._backend = backend

    def schedule(self, key: Any, finish: Callable[[], None]) -> None:
        """Finishes the deletion now (delay 0) or once the delay has passed.
        ``key`` identifies the resource; scheduling it twice keeps the first
        deadline (a second Delete does not extend the deletion)."""
        from_profile = profile.delete_seconds(self._backend, key)
        delay = _delay_seconds if from_profile is None else from_profile
        with self.lock:
            if delay <= 0:
                self._due.pop(key, None)
                finish()
                return
            if key not in self._due:
                self._due[key] = (time.monotonic() + delay, finish)

    def is_pending(self, key: Any) -> bool:
        with self.lock:
            return key in self._due

    def purge(self) -> None:
        now = time.monotonic()
        with self.lock:
            expired = [key for key, (deadline, _) in self._due.items() if deadline <= now]
            for key in expired:
                _, finish = self._due.pop(key)
                finish()


def pending(backend: Any) -> PendingDeletions:
    found = backend.__dict__.get("_stackctl_pending_deletions")
    if found is None:
        found = backend.__dict__.setdefault("_stackctl_pending_deletions", PendingDeletions(backend))
    return found


def purge_before_each_request(response_cls: type, backend_of: Callable[[Any], Any]) -> None:
    """Wraps ``response_cls.call_action`` so that every request first finishes
    the deletions whose delay has passed (in the backend the request
    addresses), then is handled by moto as before."""
    original = response_cls.call_action

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        pending(backend_of(self)).purge()
        return original(self)

    response_cls.call_action = call_action  # type: ignore[method-assign]

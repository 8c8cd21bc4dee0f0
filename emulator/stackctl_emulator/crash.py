"""Crash injection: kill the client right after the N-th mutating AWS request.

Tests use it to prove that stackctl survives a crash at any point: the emulator
is the one place that sees every request, so the client carries no test-only
code path. The request is fully handled (the resource exists in the emulator)
and only then is the client killed with SIGKILL, before it can read the answer
— the worst moment for a tool that records what it created.

* ``POST /_stackctl/crash`` with ``{"pid": P, "after": N}`` arms the trigger
  (``"after": 0`` disarms it) and resets the count.
* ``GET  /_stackctl/crash`` answers ``{"mutations": count, "armed": bool}``:
  the number of mutating requests since the last POST, so a test can learn how
  many crash points a run has.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Any

PATH = "/_stackctl/crash"

# Reads never change anything; everything else does (Create*, Delete*, Put*, Run*, Authorize*, ...).
_READ_PREFIXES = ("Describe", "List", "Get")


def is_mutating(action: str | None) -> bool:
    return action is not None and not action.startswith(_READ_PREFIXES)


class CrashTrigger:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._after = 0
        self._count = 0

    def arm(self, pid: int | None, after: int) -> None:
        with self._lock:
            self._pid = pid if after > 0 else None
            self._after = after
            self._count = 0

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {"mutations": self._count, "armed": self._pid is not None}

    def count(self, action: str | None) -> int | None:
        """Counts a mutating request; returns the pid to kill when this is the chosen one."""
        if not is_mutating(action):
            return None
        with self._lock:
            self._count += 1
            if self._pid is not None and self._count == self._after:
                pid, self._pid = self._pid, None
                return pid
        return None

    @staticmethod
    def kill(pid: int) -> None:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

"""Things that happen a while after a request, without timer threads.

AWS finishes work in the background: a DB instance becomes ``available``
minutes after CreateDBInstance answered, a terminated instance's network
interface goes away a little later. The emulator imitates this with
deadlines: a patch registers what will happen and when (``Timeline.start``),
and every request to the service first runs the steps whose time has come
(``advance_before_each_request``), before moto handles it. So a Describe
always sees the state AWS would show at that moment, and nothing changes
moto's state behind a request's back. (``deletion.py`` does the same for
deletions.)
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any, Callable

Step = tuple[float, Callable[[], None]]


class Timeline:
    """Per-backend (account + region) list of pending steps, by key."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._steps: dict[Any, list[tuple[float, Callable[[], None]]]] = {}

    def start(self, key: Any, steps: list[Step]) -> None:
        """Schedules ``steps`` ((seconds from now, callback), ...) for the
        resource ``key``, replacing what was still pending for it (a new
        modification restarts the clock). Callbacks check themselves that the
        resource is still in the state they expect (it may have been deleted
        or changed since)."""
        now = time.monotonic()
        with self.lock:
            self._steps[key] = sorted(
                ((now + delay, step) for delay, step in steps), key=lambda item: item[0]
            )

    def cancel(self, key: Any) -> None:
        with self.lock:
            self._steps.pop(key, None)

    def advance(self) -> None:
        now = time.monotonic()
        with self.lock:
            for key in list(self._steps):
                steps = self._steps[key]
                while steps and steps[0][0] <= now:
                    _, step = steps.pop(0)
                    step()
                # A step may have started a new schedule for its key: keep that one.
                if not steps and self._steps.get(key) is steps:
                    del self._steps[key]


def of(backend: Any) -> Timeline:
    return backend.__dict__.setdefault("_stackctl_timeline", Timeline())


def advance_before_each_request(response_cls: type, backend_of: Callable[[Any], Any]) -> None:
    """Wraps ``response_cls.call_action`` so that every request first runs
    the due steps of the backend it addresses, then is handled as before."""
    original = response_cls.call_action

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        of(backend_of(self)).advance()
        return original(self)

    response_cls.call_action = call_action  # type: ignore[method-assign]

"""Reading the emulator's STACKCTL_EMULATOR_* settings from the environment.

Every setting is read once, at startup, before the server listens. A value
that cannot be used stops the server with a message naming the variable, the
value and what is expected (``SystemExit``: the message goes to stderr, the
exit status is 1 and no endpoint line is printed), so a typo never silently
means "off".
"""

from __future__ import annotations

import math
import os


def _raw(name: str) -> str:
    return os.environ.get(name, "").strip()


def seconds(name: str) -> float:
    """A duration in seconds, >= 0; unset or empty means 0 (off)."""
    raw = _raw(name)
    if not raw:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number of seconds, got {raw!r}") from None
    if not math.isfinite(value) or value < 0:
        raise SystemExit(f"{name} must be a finite number of seconds >= 0, got {raw!r}")
    return value


def rate(name: str) -> float:
    """A share of requests between 0.0 and 1.0; unset or empty means 0 (off)."""
    raw = _raw(name)
    if not raw:
        return 0.0
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number from 0.0 to 1.0, got {raw!r}") from None
    if not 0.0 <= value <= 1.0:  # also rejects nan
        raise SystemExit(f"{name} must be a number from 0.0 to 1.0, got {raw!r}")
    return value


def integer(name: str) -> int | None:
    """An integer (any sign); unset or empty means None."""
    raw = _raw(name)
    if not raw:
        return None
    try:
        return int(raw, 10)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None

"""The engine versions each service offers, and the calls that list them.

moto 5.2.5 implements none of DescribeDBEngineVersions, DescribeCacheEngineVersions or MemoryDB's
DescribeEngineVersions, and creates databases and caches with any version string at all, where AWS
refuses a version it does not offer. The catalogue follows what the three calls list in us-east-1
(standard and extended support); creates and modifies are checked against it the way AWS checks them:
an exact version, or a major version (`8.0`, `7.1`, `16`) that AWS resolves to its current minor.
"""

from __future__ import annotations

from typing import Any

RDS: dict[str, list[tuple[str, str]]] = {
    # (version, parameter group family)
    "mysql": [(v, "mysql5.7") for v in ["5.7.44"]]
    + [(f"8.0.{m}", "mysql8.0") for m in range(36, 44)]
    + [(f"8.4.{m}", "mysql8.4") for m in range(3, 7)],
    "mariadb": [(v, f"mariadb{v.rsplit('.', 1)[0]}") for v in ["10.5.29", "10.6.22", "10.11.13", "11.4.7", "11.8.3"]],
    "postgres": [
        (f"{major}.{minor}", f"postgres{major}")
        for major, first, last in [(11, 22, 22), (12, 15, 22), (13, 10, 22), (14, 7, 19), (15, 2, 14), (16, 1, 10), (17, 1, 6), (18, 1, 1)]
        for minor in range(first, last + 1)
    ],
}

ELASTICACHE: dict[str, list[tuple[str, str]]] = {
    "redis": [
        ("4.0.10", "redis4.0"),
        ("5.0.6", "redis5.0"),
        ("6.0.5", "redis6.x"),
        ("6.2.6", "redis6.x"),
        ("7.0.7", "redis7"),
        ("7.1.0", "redis7"),
    ],
    "valkey": [("7.2.6", "valkey7"), ("8.0.1", "valkey8"), ("8.1.0", "valkey8")],
}

MEMORYDB: dict[str, list[tuple[str, str]]] = {
    "redis": [("6.2", "memorydb_redis6"), ("7.0", "memorydb_redis7"), ("7.1", "memorydb_redis7")],
    "valkey": [("7.2", "memorydb_valkey7"), ("7.3", "memorydb_valkey7")],
}


def resolve(catalogue: dict[str, list[tuple[str, str]]], engine: str, version: str) -> str | None:
    """The version AWS would run for `version`: itself, or the newest of a major version; None when
    the engine offers no such version."""
    versions = [v for v, _ in catalogue.get(engine, [])]
    if version in versions:
        return version
    matching = [v for v in versions if v.startswith(version + ".")]
    return matching[-1] if matching else None


def listed(
    catalogue: dict[str, list[tuple[str, str]]], engine: str | None, version: str | None
) -> list[tuple[str, str, str]]:
    """(engine, version, family) rows, filtered as the Describe calls filter: by engine, and by exact
    version."""
    rows = []
    for name, versions in catalogue.items():
        if engine and name != engine:
            continue
        for v, family in versions:
            if version and v != version:
                continue
            rows.append((name, v, family))
    return rows


def page(rows: list[Any], marker: str | None, limit: int | None) -> tuple[list[Any], str | None]:
    """One page of rows and the marker of the next (None on the last page)."""
    start = int(marker) if marker and marker.isdigit() else 0
    size = max(1, min(limit or 100, 100))
    end = start + size
    return rows[start:end], (str(end) if end < len(rows) else None)


def family(catalogue: dict[str, list[tuple[str, str]]], engine: str, version: str) -> str | None:
    """The parameter group family (the major version) `version` belongs to."""
    resolved = resolve(catalogue, engine, version)
    return next((f for v, f in catalogue.get(engine, []) if v == resolved), None)


def _parts(version: str) -> tuple[int, ...]:
    return tuple(int(p) if p.isdigit() else 0 for p in version.split("."))


def is_downgrade(current: str | None, wanted: str) -> bool:
    """Whether `wanted` is older than `current`; `8.0` is not older than `8.0.43` (it names it)."""
    if not current or current == wanted or current.startswith(wanted + "."):
        return False
    return _parts(wanted) < _parts(current)

"""Resource Groups Tagging API (GetResources): what it lists.

AWS's GetResources lists every tagged resource of the services that support
it, MemoryDB included (resource types memorydb:cluster, memorydb:subnetgroup,
memorydb:user, memorydb:acl), and RDS DB subnet groups (rds:subgrp). moto
5.2.5 leaves MemoryDB out altogether and lists no RDS subnet group, so a tool
that finds a stack's resources by tag would miss them here but not on AWS.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from moto.core.resource_tagging import TaggableResourcesMixin, TaggedResource
from moto.memorydb.models import MemoryDBBackend, memorydb_backends
from moto.rds.models import RDSBackend


class TaggableMemoryDBBackend(MemoryDBBackend, TaggableResourcesMixin):
    SERVICE_NAMESPACE = "memorydb"
    # moto finds a backend's URL routes through the module its class is defined in.
    __module__ = MemoryDBBackend.__module__

    def iter_tagged_resources(self) -> Iterator[TaggedResource]:
        for arn in self._list_arns():
            # arn:aws:memorydb:<region>:<account>:<type>/<name>
            resource_type, _, name = arn.split(":", 5)[5].partition("/")
            if resource_type == "user" and name == "default":
                continue
            yield TaggedResource(
                arn=arn,
                tags=self.tagger.get_tag_dict_for_resource(arn),
                resource_type=f"memorydb:{resource_type}",
            )


def _patch_rds_subnet_groups() -> None:
    original = RDSBackend.iter_tagged_resources

    def iter_tagged_resources(self: RDSBackend) -> Iterator[Any]:
        yield from original(self)
        for group in self.subnet_groups.values():
            yield TaggedResource(
                arn=group.arn,
                tags={tag["Key"]: tag["Value"] for tag in group.tags or []},
                resource_type="rds:subgrp",
            )

    RDSBackend.iter_tagged_resources = iter_tagged_resources  # type: ignore[method-assign]


def apply() -> None:
    # Backends are made on first use, after this runs: from then on they are taggable.
    memorydb_backends.backend = TaggableMemoryDBBackend  # type: ignore[assignment]
    _patch_rds_subnet_groups()

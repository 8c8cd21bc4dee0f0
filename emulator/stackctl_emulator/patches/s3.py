"""S3 patches: conditional writes that are atomic, as AWS makes them.

AWS PutObject / DeleteObject with If-None-Match: * or If-Match: <etag>: a
failed condition is 412 PreconditionFailed (moto already answers that), and
the check and the write are one step: of two conditional writes racing on one
key, one wins and the other gets 412 or 409 ConditionalRequestConflict ("A
conflicting conditional operation is currently in progress against this
resource. Please try again."). moto checks, then writes, without a lock, so
in its threaded server two `If-None-Match: *` writes could both succeed: a
lock taken with a lease could be taken twice. Here every write to a key holds
that key's lock; a conditional write that finds it held answers 409.

GetBucketVersioning answers a `VersioningConfiguration` document, as AWS
does; moto wraps it in a `GetBucketVersioningResponse` root, which boto3
tolerates and the AWS SDK for Rust refuses.

STACKCTL_EMULATOR_S3_WRITE_SECONDS holds each conditional write that long
before it is carried out, so tests can race two writes deterministically.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

from moto.s3.responses import S3Response

from .. import envconfig

_CONFLICT = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    "<Error><Code>ConditionalRequestConflict</Code>"
    "<Message>A conflicting conditional operation is currently in progress against this resource. "
    "Please try again.</Message></Error>"
)

_guard = threading.Lock()
_locks: dict[tuple[str, str], threading.Lock] = {}
_write_seconds = 0.0


def configure() -> None:
    global _write_seconds
    _write_seconds = envconfig.seconds("STACKCTL_EMULATOR_S3_WRITE_SECONDS")


def _lock_of(bucket: str, key: str) -> threading.Lock:
    with _guard:
        return _locks.setdefault((bucket, key), threading.Lock())


def _one_at_a_time(original: Any) -> Any:
    @functools.wraps(original)
    def handler(self: S3Response) -> Any:
        conditional = self.headers.get("If-Match") or self.headers.get("If-None-Match")
        lock = _lock_of(self.bucket_name, self.parse_key_name())
        if conditional:
            if not lock.acquire(blocking=False):
                return 409, {"Content-Type": "application/xml"}, _CONFLICT
        else:
            lock.acquire()
        try:
            if conditional and _write_seconds:
                time.sleep(_write_seconds)
            return original(self)
        finally:
            lock.release()

    return handler


def _get_bucket_versioning(self: S3Response) -> Any:
    status = self.backend.get_bucket_versioning(self.bucket_name)
    inner = f"<Status>{status}</Status>" if status else ""
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{inner}</VersioningConfiguration>'
    )
    return 200, {"Content-Type": "application/xml"}, body


def apply() -> None:
    S3Response.get_bucket_versioning = _get_bucket_versioning  # type: ignore[method-assign]
    S3Response.put_object = _one_at_a_time(S3Response.put_object)  # type: ignore[method-assign]
    S3Response.delete_object = _one_at_a_time(S3Response.delete_object)  # type: ignore[method-assign]

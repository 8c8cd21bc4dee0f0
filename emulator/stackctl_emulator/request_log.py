"""In-memory log of the AWS requests the emulator received.

stackctl's tests use it to assert *which* API calls the tool made (e.g. "a
second `apply` made no RunInstances call"), something moto itself cannot say.

WSGI middleware placed in front of moto's DomainDispatcherApplication:

* ``GET  /_stackctl/requests``        -> JSON list of logged requests
* ``POST /_stackctl/requests/reset``  -> clears the list

Neither path is logged itself. Every other request is logged before it is
handed to moto, unchanged, as
``{"service", "action", "method", "path", "status", "fault"}``; ``fault`` is
the error code when the request was answered by fault injection
(:mod:`faults`) instead of moto, else null.

The same middleware serves the other control paths: ``/_stackctl/crash``
(:mod:`crash`) and ``GET /_stackctl/faults`` (:mod:`faults`).
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs

from . import crash, envconfig, faults, profile

LATENCY_VAR = "STACKCTL_EMULATOR_LATENCY_SECONDS"

# Every AWS request waits this long before it is handled, as a round trip to
# AWS does (50-150 ms): calls made one after another add up, calls made
# together do not. Read once at startup by ``configure``.
_latency = 0.0


def configure() -> None:
    global _latency
    _latency = envconfig.seconds(LATENCY_VAR)

LOG_PATH = "/_stackctl/requests"
RESET_PATH = "/_stackctl/requests/reset"

# SigV4: "AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/ec2/aws4_request, ..."
_CREDENTIAL_SCOPE = re.compile(r"Credential=[^/,\s]+/\d{8}/[^/]+/([^/]+)/aws4_request")
# Smithy RPCv2 (CBOR) puts the operation in the path.
_RPC_V2_PATH = re.compile(r"^/service/[^/]+/operation/([^/?]+)")


class RequestLog:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []

    def append(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)

    def snapshot(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _service_of(environ: dict[str, Any]) -> str | None:
    match = _CREDENTIAL_SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if match:
        return match.group(1)
    # Presigned URLs carry the scope in the query string instead.
    cred = parse_qs(environ.get("QUERY_STRING", "")).get("X-Amz-Credential")
    if cred:
        parts = cred[0].split("/")
        if len(parts) >= 4:
            return parts[3]
    return None


def _buffer_body(environ: dict[str, Any]) -> bytes:
    """Reads the request body and puts an identical stream back for moto."""
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length_header = environ.get("CONTENT_LENGTH") or ""
    if length_header.isdigit():
        body = stream.read(int(length_header))
    elif environ.get("wsgi.input_terminated"):
        # Chunked upload, already de-chunked by werkzeug: read to the end.
        body = stream.read()
        environ["CONTENT_LENGTH"] = str(len(body))
    else:
        return b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _action_of(environ: dict[str, Any]) -> str | None:
    # awsQuery / ec2 protocols: Action in the query string (GET) or form body.
    query_action = parse_qs(environ.get("QUERY_STRING", "")).get("Action")
    if query_action:
        return query_action[0]
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        body = _buffer_body(environ)
        form_action = parse_qs(body.decode("utf-8", "replace")).get("Action")
        if form_action:
            return form_action[0]
    # awsJson protocols: "X-Amz-Target: AmazonSSM.GetParameter" -> GetParameter
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target.rsplit(".", 1)[-1]
    match = _RPC_V2_PATH.match(environ.get("PATH_INFO", ""))
    if match:
        return match.group(1)
    if _service_of(environ) == "s3":
        return _s3_action(environ)
    # Other REST protocols have no action name; "path" in the entry identifies them.
    return None


def _s3_action(environ: dict[str, Any]) -> str | None:
    """The S3 operation a REST request is (path-style addressing: /bucket/key), so crash injection
    counts object writes as the mutations they are."""
    method = environ.get("REQUEST_METHOD", "GET")
    parts = environ.get("PATH_INFO", "/").lstrip("/").split("/", 1)
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    has_key = len(parts) == 2 and parts[1] != ""
    if not parts[0]:
        return "ListBuckets" if method == "GET" else None
    if has_key:
        if method == "PUT":
            return "CopyObject" if environ.get("HTTP_X_AMZ_COPY_SOURCE") else "PutObject"
        return {"GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject"}.get(method)
    if method == "PUT":
        return "PutBucketVersioning" if "versioning" in query else "CreateBucket"
    if method == "GET":
        if "versioning" in query:
            return "GetBucketVersioning"
        if "versions" in query:
            return "ListObjectVersions"
        return "ListObjectsV2" if query.get("list-type") == ["2"] else "ListObjects"
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    return {"HEAD": "HeadBucket", "DELETE": "DeleteBucket"}.get(method)


def _json_response(
    start_response: Callable[..., Any], status: str, payload: Any
) -> Iterable[bytes]:
    body = json.dumps(payload).encode("utf-8")
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]


class RequestLogMiddleware:
    def __init__(
        self,
        app: Callable[..., Any],
        log: RequestLog,
        fault_injector: faults.FaultInjector | None = None,
    ) -> None:
        self.app = app
        self.log = log
        self.crash = crash.CrashTrigger()
        self.faults = fault_injector or faults.FaultInjector()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")

        if path in (LOG_PATH, RESET_PATH):
            if path == LOG_PATH and method == "GET":
                return _json_response(start_response, "200 OK", self.log.snapshot())
            if path == RESET_PATH and method == "POST":
                self.log.clear()
                return _json_response(start_response, "200 OK", {"reset": True})
            allowed = "GET" if path == LOG_PATH else "POST"
            return _json_response(
                start_response,
                "405 Method Not Allowed",
                {"error": f"{method} not allowed on {path}; use {allowed}"},
            )

        if path == crash.PATH:
            if method == "GET":
                return _json_response(start_response, "200 OK", self.crash.status())
            body = _buffer_body(environ)
            try:
                request = json.loads(body or b"{}")
                self.crash.arm(request.get("pid"), int(request.get("after", 0)))
            except (ValueError, TypeError) as error:
                return _json_response(start_response, "400 Bad Request", {"error": str(error)})
            return _json_response(start_response, "200 OK", self.crash.status())

        if path == profile.PATH:
            return _json_response(start_response, "200 OK", profile.status())

        if path == faults.PATH:
            if method == "GET":
                return _json_response(start_response, "200 OK", self.faults.status())
            return _json_response(
                start_response,
                "405 Method Not Allowed",
                {"error": f"{method} not allowed on {path}; use GET"},
            )

        entry: dict[str, Any] = {
            "service": _service_of(environ),
            "action": _action_of(environ),
            "method": method,
            "path": path,
            "status": None,
            "fault": None,
            "started": time.monotonic(),
            "finished": None,
        }
        self.log.append(entry)
        if _latency > 0:
            time.sleep(_latency)

        def recording_start_response(status: str, headers: Any, *args: Any) -> Any:
            # Filled in place: the entry is already in the list, so a request
            # that never answers (or crashes moto) is still visible.
            try:
                entry["status"] = int(status.split(" ", 1)[0])
            except ValueError:
                pass
            entry["finished"] = time.monotonic()
            return start_response(status, headers, *args)

        drawn = self.faults.draw(environ, entry["service"], entry["action"])
        if drawn is not None:
            # Answered here, never seen by moto, and not a crash point: the
            # request did nothing. The body is read so the connection stays
            # usable for the client's retry.
            fault, protocol = drawn
            _buffer_body(environ)
            entry["fault"] = fault.code
            return fault.respond(protocol, entry["service"], environ, recording_start_response)

        response = self.app(environ, recording_start_response)
        victim = self.crash.count(entry["action"])
        if victim is not None:
            # The request is done: the client dies before it reads the answer.
            response = list(response)
            crash.CrashTrigger.kill(victim)
        return response

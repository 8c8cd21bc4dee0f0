"""Fault injection: a share of AWS requests answered with a throttling error
or a server error, as a busy AWS does.

AWS throttles API calls per account and answers the odd request with a 5xx;
SDKs retry both (the AWS SDK for Rust classifies the throttling codes below as
throttling errors and HTTP 500/502/503/504 as transient errors). moto never
does either, so a tool's retry handling would only be exercised in
production. With these settings the emulator answers a random share of AWS
requests itself, *without passing them to moto* (nothing is created,
changed or counted as a crash point), in the error format of the service's
protocol:

* EC2 (ec2 protocol): ``<Response><Errors><Error><Code/><Message/></Error>
  </Errors><RequestID/></Response>``; throttling is HTTP 503
  ``RequestLimitExceeded`` "Request limit exceeded."; server errors HTTP 500
  ``InternalError`` or HTTP 503 ``Unavailable`` (EC2 API error codes).
* awsQuery (IAM, STS, RDS, ElastiCache): ``<ErrorResponse><Error><Type/>
  <Code/><Message/></Error><RequestId/></ErrorResponse>``; throttling is
  HTTP 400, Type Sender, ``Throttling`` "Rate exceeded"; server errors HTTP
  500 Receiver ``InternalFailure`` or HTTP 503 Receiver
  ``ServiceUnavailable`` (the common errors of these APIs).
* awsJson (Secrets Manager, SSM, MemoryDB): ``x-amzn-ErrorType`` header and
  ``{"__type", "message"}`` body; throttling is HTTP 400
  ``ThrottlingException`` "Rate exceeded"; server errors HTTP 500 with the
  service's modelled server error (Secrets Manager ``InternalServiceError``,
  SSM ``InternalServerError``; MemoryDB models none: the common
  ``InternalFailure``) or HTTP 503 ``ServiceUnavailable``.

REST and Smithy RPCv2 (CBOR) requests, which stackctl does not make, are never
faulted (and not counted).

Configured once at startup, all off by default:

* ``STACKCTL_EMULATOR_THROTTLE_RATE`` (0.0-1.0): share of requests throttled.
* ``STACKCTL_EMULATOR_ERROR_RATE`` (0.0-1.0): share answered with a 5xx
  (500 or 503, half each). The two rates together must not exceed 1.0.
* ``STACKCTL_EMULATOR_SEED`` (integer): seeds the random sequence, so the
  same requests in the same order meet the same faults. Without it every run
  differs.

Faults start once the server is seeded (``FaultInjector.start``).
``GET /_stackctl/faults`` answers the settings and counters as JSON.
"""

from __future__ import annotations

import json
import random
import threading
import uuid
from typing import Any, Callable, Iterable
from xml.sax.saxutils import escape

from . import envconfig

PATH = "/_stackctl/faults"
THROTTLE_VAR = "STACKCTL_EMULATOR_THROTTLE_RATE"
ERROR_VAR = "STACKCTL_EMULATOR_ERROR_RATE"
SEED_VAR = "STACKCTL_EMULATOR_SEED"

EC2 = "ec2"
QUERY = "awsQuery"
JSON = "awsJson"

# awsQuery error bodies carry the API's XML namespace, as AWS sends them.
_QUERY_NAMESPACES = {
    "iam": "https://iam.amazonaws.com/doc/2010-05-08/",
    "sts": "https://sts.amazonaws.com/doc/2011-06-15/",
    "rds": "http://rds.amazonaws.com/doc/2014-10-31/",
    "elasticache": "http://elasticache.amazonaws.com/doc/2015-02-02/",
}

# awsJson: the server error shape each service's model defines (HTTP 500).
_JSON_SERVER_ERRORS = {
    "secretsmanager": "InternalServiceError",
    "ssm": "InternalServerError",
}

_RATE_EXCEEDED = "Rate exceeded"
_INTERNAL_FAILURE = "The request processing has failed because of an unknown error, exception or failure."
_SERVICE_UNAVAILABLE = "The request has failed due to a temporary failure of the server."


class Fault:
    """One injected error answer: HTTP status, code, message (and the
    awsQuery Type)."""

    def __init__(self, kind: str, status: int, code: str, message: str, sender: bool) -> None:
        self.kind = kind  # "throttling" or "server_error"
        self.status = status
        self.code = code
        self.message = message
        self.sender = sender

    def respond(
        self, protocol: str, service: str | None, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request_id = str(uuid.uuid4())
        code, message = escape(self.code), escape(self.message)
        headers: list[tuple[str, str]]
        if protocol == EC2:
            body = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>"
                f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
            ).encode()
            headers = [("Content-Type", "text/xml;charset=UTF-8")]
        elif protocol == QUERY:
            namespace = _QUERY_NAMESPACES.get(service or "")
            xmlns = f' xmlns="{namespace}"' if namespace else ""
            error_type = "Sender" if self.sender else "Receiver"
            body = (
                f"<ErrorResponse{xmlns}><Error><Type>{error_type}</Type><Code>{code}</Code>"
                f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
                "</ErrorResponse>"
            ).encode()
            headers = [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)]
        else:
            body = json.dumps({"__type": self.code, "message": self.message}, separators=(",", ":")).encode()
            content_type = environ.get("CONTENT_TYPE") or "application/x-amz-json-1.1"
            headers = [
                ("Content-Type", content_type),
                ("x-amzn-RequestId", request_id),
                ("x-amzn-ErrorType", self.code),
            ]
        headers.append(("Content-Length", str(len(body))))
        reason = {400: "Bad Request", 500: "Internal Server Error", 503: "Service Unavailable"}[self.status]
        start_response(f"{self.status} {reason}", headers)
        return [body]


def _throttling(protocol: str) -> Fault:
    if protocol == EC2:
        return Fault("throttling", 503, "RequestLimitExceeded", "Request limit exceeded.", True)
    if protocol == QUERY:
        return Fault("throttling", 400, "Throttling", _RATE_EXCEEDED, True)
    return Fault("throttling", 400, "ThrottlingException", _RATE_EXCEEDED, True)


def _server_error(protocol: str, service: str | None, unavailable: bool) -> Fault:
    if protocol == EC2:
        if unavailable:
            return Fault("server_error", 503, "Unavailable", "The server is overloaded and can't handle the request.", False)
        return Fault("server_error", 500, "InternalError", "An internal error has occurred.", False)
    if unavailable:
        return Fault("server_error", 503, "ServiceUnavailable", _SERVICE_UNAVAILABLE, False)
    if protocol == JSON:
        return Fault("server_error", 500, _JSON_SERVER_ERRORS.get(service or "", "InternalFailure"), _INTERNAL_FAILURE, False)
    return Fault("server_error", 500, "InternalFailure", _INTERNAL_FAILURE, False)


def protocol_of(environ: dict[str, Any], service: str | None, action: str | None) -> str | None:
    """The wire protocol of an AWS request, or None for REST / RPCv2 CBOR."""
    if environ.get("HTTP_X_AMZ_TARGET"):
        return JSON
    if action is None or environ.get("PATH_INFO", "").startswith("/service/"):
        return None
    return EC2 if service == "ec2" else QUERY


class FaultInjector:
    def __init__(self, throttle_rate: float = 0.0, error_rate: float = 0.0, seed: int | None = None) -> None:
        self.throttle_rate = throttle_rate
        self.error_rate = error_rate
        self.seed = seed
        self._random = random.Random(seed)
        self._lock = threading.Lock()
        self._started = False
        self._requests = 0
        self._by_code: dict[str, int] = {}
        self._by_service: dict[str, int] = {}
        self._throttled = 0
        self._server_errors = 0

    @classmethod
    def from_environment(cls) -> "FaultInjector":
        throttle_rate = envconfig.rate(THROTTLE_VAR)
        error_rate = envconfig.rate(ERROR_VAR)
        if throttle_rate + error_rate > 1.0:
            raise SystemExit(
                f"{THROTTLE_VAR} + {ERROR_VAR} must not exceed 1.0,"
                f" got {throttle_rate:g} + {error_rate:g}"
            )
        return cls(throttle_rate, error_rate, envconfig.integer(SEED_VAR))

    def start(self) -> None:
        """Faults begin (called once the server is seeded)."""
        with self._lock:
            self._started = True

    def draw(self, environ: dict[str, Any], service: str | None, action: str | None) -> tuple[Fault, str] | None:
        """Decides the fate of one AWS request: a (fault, protocol) to answer
        with, or None to pass it to moto."""
        if self.throttle_rate <= 0 and self.error_rate <= 0:
            return None
        protocol = protocol_of(environ, service, action)
        if protocol is None:
            return None
        with self._lock:
            if not self._started:
                return None
            self._requests += 1
            roll = self._random.random()
            if roll < self.throttle_rate:
                fault = _throttling(protocol)
                self._throttled += 1
            elif roll < self.throttle_rate + self.error_rate:
                fault = _server_error(protocol, service, unavailable=self._random.random() < 0.5)
                self._server_errors += 1
            else:
                return None
            self._by_code[fault.code] = self._by_code.get(fault.code, 0) + 1
            key = service or "?"
            self._by_service[key] = self._by_service.get(key, 0) + 1
        return fault, protocol

    def status(self) -> dict[str, Any]:
        with self._lock:
            return {
                "throttle_rate": self.throttle_rate,
                "error_rate": self.error_rate,
                "seed": self.seed,
                "requests": self._requests,
                "injected": self._throttled + self._server_errors,
                "throttling": self._throttled,
                "server_errors": self._server_errors,
                "by_code": dict(self._by_code),
                "by_service": dict(self._by_service),
            }

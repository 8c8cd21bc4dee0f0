"""moto's ThreadedMotoServer with the request-log middleware (request log,
crash trigger, fault injection) in front of it."""

from __future__ import annotations

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

from .faults import FaultInjector
from .request_log import RequestLog, RequestLogMiddleware


class LoggingMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer builds its WSGI app inside ``_server_entry`` and
    offers no hook to wrap it, so this override repeats those few lines with
    the middleware added. Everything else (threading, start/stop, moto's
    request handler that keeps underscore headers) is moto's own."""

    def __init__(
        self, ip_address: str, port: int, request_log: RequestLog, fault_injector: FaultInjector
    ) -> None:
        super().__init__(ip_address=ip_address, port=port, verbose=False)
        self.request_log = request_log
        self.fault_injector = fault_injector

    def _server_entry(self) -> None:
        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            self._ip_address,
            self._port,
            RequestLogMiddleware(app, self.request_log, self.fault_injector),
            True,  # threaded, as in moto
            request_handler=MotoRequestHandler,
        )
        self._server_ready_event.set()
        self._server.serve_forever()

"""The local stack's moto server: moto's ThreadedMotoServer, plus a flag raised by every request
that may change what devstack.persist snapshots (a DynamoDB write, an S3 PUT/POST/DELETE), so the
periodic snapshot runs only after a change and an idle stack writes nothing."""
from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from moto.moto_server.threaded_moto_server import MotoRequestHandler, ThreadedMotoServer

DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


def changes_state(environ: dict[str, Any]) -> bool:
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target.startswith("DynamoDB_"):
        return target.split(".", 1)[-1] in DYNAMODB_WRITES
    return "/s3/aws4_request" in environ.get("HTTP_AUTHORIZATION", "") and \
        environ.get("REQUEST_METHOD") in ("PUT", "POST", "DELETE")


class LocalMotoServer(ThreadedMotoServer):
    def __init__(self, ip_address: str, port: int):
        super().__init__(ip_address=ip_address, port=port, verbose=False)
        self.changed = threading.Event()

    def _server_entry(self) -> None:  # ThreadedMotoServer's, with the app wrapped
        from moto.server import DomainDispatcherApplication, create_backend_app
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)

        def tracking(environ: dict[str, Any], start_response: Callable) -> Any:
            if changes_state(environ):
                self.changed.set()
            return app(environ, start_response)

        self._server = make_server(self._ip_address, self._port, tracking, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()

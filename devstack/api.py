"""`chalice local` under the API function's role: the same app.py routes API Gateway would invoke,
with every AWS call authorised against the api_handler role's policies (devstack.iam_local).

    python -m devstack.api local --host 127.0.0.1 --port 8000 --stage dev --no-autoreload
    (environment prepared by `python -m devstack`: the function's deployed environment and the
    role's credentials from sts:AssumeRole)

Quiet (issue 16): no access-log line per request (the paths carry heartbeat tokens, /ping/{token}:
a secret in a log), no "Serving on" (the stack's banner says it), and no click `Aborted!` on
Ctrl-C: the parent stops this process with SIGTERM.
"""
from __future__ import annotations

import os
import signal
import sys


def quiet_chalice_local() -> None:
    from chalice import local

    local.ChaliceRequestHandler.log_message = lambda self, *args: None  # type: ignore[method-assign]

    def serve_forever(self: local.LocalDevServer) -> None:
        self.server.serve_forever()

    local.LocalDevServer.serve_forever = serve_forever  # type: ignore[method-assign]


def main() -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the stack's Ctrl-C reaches us too: the parent decides
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    from chalice.cli import main as chalice_main

    from devstack import console, iam_local

    console.configure()
    quiet_chalice_local()
    iam_local.identity_from_env(dict(os.environ))
    sys.argv = ["chalice", *sys.argv[1:]]
    return chalice_main()


if __name__ == "__main__":
    raise SystemExit(main())

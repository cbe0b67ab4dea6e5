"""`chalice local` under the API function's role: the same app.py routes API Gateway would invoke,
with every AWS call authorised against the api_handler role's policies (devstack.iam_local).

    python -m devstack.api local --host 127.0.0.1 --port 8000 --stage dev --no-autoreload
    (environment prepared by `python -m devstack`: the function's deployed environment and the
    role's credentials from sts:AssumeRole)
"""
from __future__ import annotations

import os
import sys


def main() -> int:
    from chalice.cli import main as chalice_main

    from devstack import iam_local

    iam_local.identity_from_env(dict(os.environ))
    sys.argv = ["chalice", *sys.argv[1:]]
    return chalice_main()


if __name__ == "__main__":
    raise SystemExit(main())

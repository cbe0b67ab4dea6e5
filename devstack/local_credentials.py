"""The local stack's API key and Slack signing secret (issue 16, point 2): generated once into
`<data dir>/local-credentials.json` (mode 0600, gitignored with the data dir) for the dev stage
only, printed in the start banner with a copy-paste `curl` for each. A value already in the
environment (API_KEY, SLACK_SIGNING_SECRET) wins and is not written. Deployed stages read theirs
from SSM Parameter Store (chalicelib.secrets); nothing here runs for them.
"""
from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

FILE = "local-credentials.json"
_NAMES = {"api_key": "API_KEY", "slack_signing_secret": "SLACK_SIGNING_SECRET"}


@dataclass(frozen=True)
class LocalCredentials:
    api_key: str
    slack_signing_secret: str
    path: Path
    from_environment: tuple[str, ...] = ()

    @property
    def environ(self) -> dict[str, str]:
        return {"API_KEY": self.api_key, "SLACK_SIGNING_SECRET": self.slack_signing_secret}


def ensure(data_dir: Path, environ: Mapping[str, str], stage: str) -> LocalCredentials:
    """The stack's credentials: the environment's, else the data dir's, else new ones (saved)."""
    if stage != "dev":
        raise ValueError(f"local credentials are for the dev stage only, not {stage!r}")
    path = data_dir / FILE
    stored: dict[str, str] = {}
    if path.exists():
        stored = json.loads(path.read_text())
    values, from_env = {}, []
    for field, variable in _NAMES.items():
        if environ.get(variable):
            values[field] = environ[variable]
            from_env.append(variable)
        else:
            values[field] = stored.get(field) or f"local-{secrets.token_urlsafe(18)}"
    generated = {f: values[f] for f, v in _NAMES.items() if v not in from_env}
    if generated and generated != {f: stored.get(f) for f in generated}:
        data_dir.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({**stored, **generated}, indent=1))
        os.chmod(tmp, 0o600)
        tmp.replace(path)
    return LocalCredentials(values["api_key"], values["slack_signing_secret"], path, tuple(from_env))


def howto(api_url: str, credentials: LocalCredentials, series: str, slack_args: str = "") -> list[str]:
    """Banner lines: the key and secret (local, dev only), a curl that follows `series` through the
    API (its notification prints on this console), and the same follow as a signed Slack command."""
    import shlex

    source = f"from {', '.join(credentials.from_environment)}" if credentials.from_environment else \
        f"saved in {credentials.path}"
    body = json.dumps({"destination": "console:", "kind": "series", "match": series})
    return [
        f"  local API key {credentials.api_key}  Slack signing secret {credentials.slack_signing_secret}"
        f"  ({source}; dev stage only)",
        f"  API:   curl -s -H 'X-Api-Key: {credentials.api_key}' -H 'Content-Type: application/json' "
        f"-d {shlex.quote(body)} {api_url}/subscriptions",
        f"  or Slack: .venv/bin/python -m devstack.slack_sign{slack_args} {shlex.quote('follow ' + series)} | sh",
    ]


def main(argv: list[str] | None = None) -> int:
    """`eval "$(python -m devstack.local_credentials)"`: the local stack's key and secret as shell
    exports (README "make run"), read from the data dir `make run` wrote them to."""
    import argparse
    import shlex
    import sys

    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(prog="python -m devstack.local_credentials", description=main.__doc__)
    parser.add_argument("--data-dir", default=os.environ.get("NEWBOOKS_DATA_DIR", str(root / ".data")))
    args = parser.parse_args(argv)
    path = Path(args.data_dir) / FILE
    if not path.exists():
        print(f"no {path}: start the stack once (make run)", file=sys.stderr)
        return 2
    stored = json.loads(path.read_text())
    for field, variable in _NAMES.items():
        print(f"export {variable}={shlex.quote(stored[field])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

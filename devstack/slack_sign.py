"""A signed Slack slash-command request for the local stack, as a `curl` to run at once (the
signature is valid for 5 minutes: chalicelib/slackbot/verify.py).

    python -m devstack.slack_sign "follow ONE PIECE" | sh
    python -m devstack.slack_sign --url http://127.0.0.1:8000 "today"      (prints the curl)

The secret is SLACK_SIGNING_SECRET, else the one `make run` generated in
<data dir>/local-credentials.json. Signing follows Slack's "Verifying requests from Slack"
(https://docs.slack.dev/authentication/verifying-requests-from-slack, read 2026-12-03):
v0=HMAC-SHA256(secret, "v0:<timestamp>:<raw body>").
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shlex
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent


def signed_command(secret: str, text: str, *, timestamp: int, channel: str = "C0LOCAL", user: str = "U0LOCAL",
                   command: str = "/newbooks") -> tuple[str, dict[str, str]]:
    """The form body of a slash command and the headers that sign it. Pure."""
    # Slack's response_url is where deferred answers go: a closed local port (the answer also
    # prints on the console), never a public host.
    body = urlencode({"command": command, "text": text, "channel_id": channel, "user_id": user,
                      "team_id": "T0LOCAL", "response_url": "http://127.0.0.1:9/slack-response"})
    digest = hmac.new(secret.encode(), f"v0:{timestamp}:{body}".encode(), hashlib.sha256).hexdigest()
    return body, {"Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": str(timestamp),
                  "X-Slack-Signature": f"v0={digest}"}


def curl(url: str, body: str, headers: dict[str, str]) -> str:
    parts = ["curl", "-s", "-X", "POST", f"{url.rstrip('/')}/slack/commands"]
    for name, value in headers.items():
        parts += ["-H", f"{name}: {value}"]
    return shlex.join([*parts, "--data", body])


def local_secret(data_dir: Path) -> str | None:
    if os.environ.get("SLACK_SIGNING_SECRET"):
        return os.environ["SLACK_SIGNING_SECRET"]
    from devstack.local_credentials import FILE

    path = data_dir / FILE
    return json.loads(path.read_text()).get("slack_signing_secret") if path.exists() else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.slack_sign", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("text", help="what follows /newbooks, e.g. 'follow ONE PIECE'")
    parser.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('NEWBOOKS_PORT', '8000')}")
    parser.add_argument("--data-dir", default=os.environ.get("NEWBOOKS_DATA_DIR", str(ROOT / ".data")))
    parser.add_argument("--channel", default="C0LOCAL")
    args = parser.parse_args(argv)
    secret = local_secret(Path(args.data_dir))
    if not secret:
        print("no Slack signing secret: start the stack once (make run) or set SLACK_SIGNING_SECRET", file=sys.stderr)
        return 2
    body, headers = signed_command(secret, args.text, timestamp=int(time.time()), channel=args.channel)
    print(curl(args.url, body, headers))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

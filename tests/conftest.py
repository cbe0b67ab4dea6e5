"""Shared fixtures. `aws` gives a test in-process moto (`mock_aws`) with every declared resource
created and the application's environment pointing at it."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# Never let a test reach a real AWS account, whatever the machine has configured.
os.environ.update(
    {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
        "NEWBOOKS_SSM_DISABLED": "1",
    }
)
os.environ.pop("AWS_PROFILE", None)
os.environ.pop("AWS_ENDPOINT_URL", None)


def pytest_configure(config: pytest.Config) -> None:
    """Every DNS query of the uptime checker goes to a sink on 127.0.0.1 (tests/dns_sink.py),
    never to the machine's name server; a test that needs its own DNS peer sets its own."""
    from tests.dns_sink import DnsSink

    config._dns_sink = DnsSink()  # type: ignore[attr-defined]
    os.environ["NEWBOOKS_DNS_SERVERS"] = config._dns_sink.address  # type: ignore[attr-defined]


@pytest.fixture
def aws(monkeypatch):
    """In-process moto with the template's data resources (devstack.deploy.deploy_resources);
    yields the env mapping."""
    from moto import mock_aws

    from chalicelib import bootstrap
    from devstack.deploy import deploy_resources

    with mock_aws():
        monkeypatch.setenv("NEWBOOKS_STAGE", "test")
        env = deploy_resources("test")
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        bootstrap.reset()
        yield env
    bootstrap.reset()

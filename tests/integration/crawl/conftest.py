"""Fixtures of the crawl pipeline tests: a release site on the shared HTTP peer and the crawl
worker on moto reading it."""
from __future__ import annotations

import pytest

from tests.integration.peer_testkit import Site


@pytest.fixture
def site():
    s = Site()
    yield s
    s.close()


@pytest.fixture
def service(aws, site):
    from chalicelib.crawl.service import build
    from chalicelib.crawl.sources_config import SourceConfig
    from chalicelib.settings import get_settings
    from crawlers.fetcher import Fetcher

    svc = build(get_settings())
    svc.sources = [SourceConfig("pw", "previewsworld", (site.url,))]
    svc.fetcher_factory = lambda: Fetcher(user_agent="newbooks-test", min_host_delay_s=0, sleep=lambda s: None)
    return svc

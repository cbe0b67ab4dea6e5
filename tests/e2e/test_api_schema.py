"""schemathesis against /openapi.json on the local stack: no 5xx and no response that breaks the
documented schema, on every operation (protected ones with the stack's API key).

Bounded: examples + coverage + fuzzing phases with few examples per operation. Two adjustments,
both about the local stack rather than the API:
- unexpected methods TRACE and QUERY are not sent: `chalice local`'s http.server answers them
  501 itself (no route of ours runs; API Gateway answers them before any function);
- GET /releases skips the coverage phase and gets few fuzzing examples: a filter that matches
  nothing costs the bounded 12 Queries, and moto's Query on the local stack's few thousand
  releases takes ~1 s each (real DynamoDB: ~10 ms). tests/integration/api covers its 4xx cases.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.stack import BOOTING

pytestmark = [pytest.mark.e2e, BOOTING]  # may wait for a stack to boot (tests/e2e/stack.py)

CHECKS = "not_a_server_error,response_schema_conformance"


def config(api_key: str) -> str:
    return f"""
headers = {{ "X-Api-Key" = "{api_key}" }}
request-timeout = 60.0

[phases.coverage]
unexpected-methods = ["get", "put", "post", "delete", "options", "patch"]

[phases.stateful]
enabled = false

[[operations]]
include-name = "GET /status/{{target}}"
parameters = {{ "path.target" = "peers-healthy" }}

[[operations]]
include-name = "GET /releases"
phases.coverage.enabled = false
generation.max-examples = 4
"""


def test_schemathesis_finds_no_server_error_and_no_schema_violation(api_stack, tmp_path):
    toml = tmp_path / "schemathesis.toml"
    toml.write_text(config(api_stack.api_key))
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(toml), "run",
        api_stack.base + "/openapi.json", "--checks", CHECKS, "--max-examples", "8", "--seed", "20261123",
        "--workers", "1", "--no-color", "--report", "junit", "--report-junit-path", str(tmp_path / "junit.xml"),
    ]
    run = subprocess.run(command, capture_output=True, text=True, timeout=280, cwd=tmp_path)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-8000:]
    operations = re.search(r"Operations:\s+(\d+) selected / (\d+) total", output)
    assert operations and operations.group(1) == operations.group(2) and int(operations.group(1)) >= 14, output[-3000:]
    cases = re.search(r"(\d+) generated, (\d+) passed", output)
    assert cases and int(cases.group(1)) >= 100 and cases.group(1) == cases.group(2), output[-3000:]

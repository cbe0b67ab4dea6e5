"""The test tree collects in any order (issue 16 point 8): the static rules behind it, checked
on the real tree and, to show the check bites, on a small tree that breaks them."""
from __future__ import annotations

from pathlib import Path

from tests.collect_check import TESTS, folders, layout_problems, unit_purity_problems


def test_the_real_tree_follows_the_layout_rules():
    assert layout_problems() == []


def test_every_test_file_is_in_exactly_one_collection_unit():
    names = {name for name, _ in folders()}
    assert {"tests/integration/notify", "tests/integration/fetcher", "tests/unit/crawlers", "tests/e2e"} <= names
    covered: list[Path] = []
    for _, args in folders():
        for arg in args:
            path = TESTS.parent / arg
            covered += [path] if path.suffix == ".py" else list(path.rglob("test_*.py"))
    assert sorted(covered) == sorted(TESTS.rglob("test_*.py"))  # all of them, none twice


def _tree(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / "tests" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root / "tests"


def test_the_rules_catch_conftest_imports_bare_helpers_and_missing_packages(tmp_path):
    tests = _tree(tmp_path, {
        "__init__.py": "",
        "a/__init__.py": "",
        "a/conftest.py": "X = 1\n",
        "a/a_kit.py": "Y = 2\n",
        "a/test_one.py": "from conftest import X\nfrom a_kit import Y\nimport json\nfrom tests.a.a_kit import Y as Z\n",
        "b/test_two.py": "def test_x():\n    pass\n",
    })
    problems = layout_problems(tests)
    assert any("tests/b: no __init__.py" in p for p in problems)
    assert any("test_one.py:1: imports 'conftest'" in p for p in problems)
    assert any("test_one.py:2: imports 'a_kit'" in p for p in problems)
    assert len(problems) == 3  # json and the package import are fine


def test_unit_tests_stay_pure(tmp_path):
    """tests/unit holds no AWS stand-in, no sockets, no subprocess (issue 15): each kind is caught,
    and the same code under tests/integration is fine."""
    impure = {
        "moto.py": "from moto import mock_aws\n",
        "moto_name.py": "import moto\n\n\ndef test_x():\n    with moto.mock_aws():\n        pass\n",
        "sock.py": "import socket\n",
        "server.py": "from http.server import ThreadingHTTPServer\n",
        "server_module.py": "from http import server\n",
        "tcp.py": "import socketserver\n",
        "proc.py": "import subprocess\n",
        "kit.py": "from tests.integration.api.api_testkit import API_KEY\n",
        "fixture.py": "def test_x(aws, tmp_path):\n    pass\n",
        "conftest.py": "import pytest\n\n\n@pytest.fixture\ndef table(aws):\n    return aws\n",
    }
    pure = {"pure.py": "import json\nfrom http import HTTPStatus\nfrom chalicelib import aws\n\n\ndef test_x(tmp_path):\n    pass\n"}
    files = {"__init__.py": "", "unit/__init__.py": "", "integration/__init__.py": ""}
    files |= {f"unit/{name}": text for name, text in {**impure, **pure}.items()}
    files |= {f"integration/{name}": text for name, text in impure.items()}
    problems = unit_purity_problems(_tree(tmp_path, files))
    flagged = {p.split(":")[0].rsplit("/", 1)[-1] for p in problems}
    assert flagged == set(impure), problems
    assert all(p.startswith("tests/unit/") and "move it to tests/integration" in p for p in problems)

"""The one YAML loader (chalicelib.configfile): every bad file is a ConfigError naming the file
and the line, and every config file of ours loads through it."""
from __future__ import annotations

import pytest

from chalicelib.configfile import ConfigError, load_mapping, load_yaml


def test_bad_yaml_names_file_line_and_column(tmp_path):
    path = tmp_path / "targets.yaml"
    path.write_text("targets:\n  - name: a\n    url: [unclosed\n  - name: b\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_yaml(path)
    message = str(err.value)
    assert message.startswith(f"{path}:4:") and "invalid YAML" in message, message


def test_indentation_error_names_its_line(tmp_path):
    path = tmp_path / "sources.yaml"
    path.write_text("a: 1\n  b: 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}:2:\d+: invalid YAML: mapping values are not allowed"):
        load_yaml(path)


def test_unset_variable_names_file_and_line(tmp_path, monkeypatch):
    monkeypatch.delenv("NEWBOOKS_TEST_UNSET_X", raising=False)
    path = tmp_path / "subscriptions.yaml"
    path.write_text("alert_routes:\n  slack: ${NEWBOOKS_TEST_UNSET_X}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}:2: environment variable NEWBOOKS_TEST_UNSET_X is not set"):
        load_yaml(path)


def test_variables_expand_with_defaults_and_secrets_stay(tmp_path, monkeypatch):
    monkeypatch.setenv("NEWBOOKS_TEST_PEER", "http://127.0.0.1:9")
    path = tmp_path / "c.yaml"
    path.write_text("url: ${NEWBOOKS_TEST_PEER}/x\nother: ${NEWBOOKS_TEST_UNSET_Y:-fallback}\n"
                    "key: ${secret:api_key}\n", encoding="utf-8")
    assert load_yaml(path) == {"url": "http://127.0.0.1:9/x", "other": "fallback", "key": "${secret:api_key}"}


def test_unreadable_and_empty_files(tmp_path):
    with pytest.raises(ConfigError, match=r"missing\.yaml: cannot read"):
        load_yaml(tmp_path / "missing.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing configured\n", encoding="utf-8")
    assert load_mapping(empty) == {}


def test_mapping_files_refuse_another_top_level(tmp_path):
    path = tmp_path / "ops.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ops\.yaml: the top level must be a mapping, not list"):
        load_mapping(path)


def test_subscriptions_file_errors_come_through_the_loader(tmp_path):
    from chalicelib.notify.subscriptions import load_yaml as load_subscriptions

    path = tmp_path / "subscriptions.yaml"
    path.write_text("subscriptions:\n  - destination: console\n    kind: [\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}:\d+:\d+: invalid YAML"):
        load_subscriptions(path)


def test_ops_file_errors_come_through_the_loader(tmp_path):
    from infra.build_template import ops_config

    path = tmp_path / "ops.yaml"
    path.write_text("prod:\n  email: [a@b.invalid\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"^{path}:\d+:\d+: invalid YAML"):
        ops_config("prod", path)

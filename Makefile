# newbooks: the two commands are `make run` and `make test` (see README).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv run test package bench clean lint check-collect

venv: $(STAMP)

# Reinstall only when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

run: venv
	$(PY) -m devstack

# Headless Chromium for tests/e2e/test_pages_chromium.py (Debian's package; root in CI).
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

test: venv browser
	$(PY) -m pytest

# Gates not yet in `make test` (issue 15.5): ruff over the repo, mypy over chalicelib/ and crawlers/.
lint: venv
	$(VENV)/bin/ruff check .
	$(PY) -m mypy chalicelib crawlers

# Each test folder collects alone and beside every other, in both orders (issue 16.8; minutes).
check-collect: venv
	$(PY) -m tests.collect_check

package: venv
	$(PY) -m infra.build_template --stage $${STAGE:-prod} --out build

bench: venv
	@set -e; for script in bench/*.py; do echo "== $$script"; $(PY) $$script; done

clean:
	rm -rf build .data .pytest_cache

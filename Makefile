# newbooks: the two commands are `make run` and `make test` (see README).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv run test package bench clean

venv: $(STAMP)

# Reinstall only when a requirements file changes.
$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $(STAMP)

# Command one: package the dev stage (the same `make package` step), deploy that template into
# the local moto server through CloudFormation, and run it (README "Deployed locally").
run: venv
	$(MAKE) --no-print-directory package STAGE=dev OUT=build/dev
	$(PY) -m devstack --no-package --build-dir build/dev

# Headless Chromium for tests/e2e/test_pages_chromium.py (Debian's package; root in CI).
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

test: venv browser
	$(PY) -m pytest

package: venv
	$(PY) -m infra.build_template --stage $${STAGE:-prod} --out $${OUT:-build}

bench: venv
	@set -e; for script in bench/*.py; do echo "== $$script"; $(PY) $$script; done

clean:
	rm -rf build .data .pytest_cache

# newbooks: the two commands are `make run` and `make test` (see README).
PYTHON ?= python3.11
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: venv run test package bench clean browser a11y lint check-collect

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

# axe-core and the Nu HTML checker (vnu.jar) for the page checks in tests/e2e/test_pages_chromium.py:
# npm packages into .tools/ (gitignored), install scripts off (vnu-jar's would fetch a Java of its
# own); Java from Debian when missing. Playwright (requirements-dev.txt) drives Debian's Chromium.
A11Y_STAMP := .tools/.installed-axe-core-4.14.1-vnu-jar-26.9.27

a11y: $(A11Y_STAMP)

$(A11Y_STAMP):
	command -v java >/dev/null || (apt-get update -qq && apt-get install -y -qq default-jre-headless)
	command -v npm >/dev/null || (apt-get update -qq && apt-get install -y -qq npm)
	npm install --prefix .tools --no-save --ignore-scripts --no-audit --no-fund --loglevel=error axe-core@4.14.1 vnu-jar@26.9.27
	touch $@

# The gates run first (seconds) so a lint or type error fails before the suite. The e2e tests
# run in two groups on 2 pytest-xdist workers (tests/e2e/conftest.py: they mostly wait on the
# stacks' schedules); unit and integration tests then share the machine's 2 cores (README "Figures").
test: venv browser a11y lint
	$(PY) -m pytest -n 2 --dist loadgroup --durations=15 tests/e2e
	$(PY) -m pytest -n 2 tests/unit tests/integration

# Gates (issue 15.5): ruff over the repo, mypy --strict (mypy.ini) over chalicelib/ and crawlers/.
lint: venv
	$(VENV)/bin/ruff check .
	$(PY) -m mypy chalicelib crawlers

# Each test folder collects alone and beside every other, in both orders (issue 16.8; minutes).
check-collect: venv
	$(PY) -m tests.collect_check

package: venv
	$(PY) -m infra.build_template --stage $${STAGE:-prod} --out $${OUT:-build}

bench: venv
	@set -e; for script in bench/*.py; do echo "== $$script"; $(PY) $$script; done

clean:
	rm -rf build .data .pytest_cache

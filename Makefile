# paybutton: `make demo` runs the demo, `make test` runs the tests. Both install what they need into .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
# The suite runs on this many processes (pytest-xdist; each file stays on one): most tests wait on servers,
# browsers and databases, so two share two cores well. PYTEST_WORKERS=0 runs it in this process.
PYTEST_WORKERS ?= 2

# Where PYTHONDONTWRITEBYTECODE is set (as on these machines) nothing is ever compiled to .pyc, and every process
# (`serve`, `demo`, each CLI call of the tests) compiles the whole stack again: 3-4x slower start-up. Compile once.
bytecode:
	@$(BIN)/python -m compileall -q -j 0 $(VENV)/lib src >/dev/null

.PHONY: bytecode demo serve test test-fast lint bench chaos fuzz browsers clean messages image-test compose-test

$(STAMP): pyproject.toml
	@command -v uv >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv
	@test -x $(BIN)/python || uv venv --quiet --python $(PYTHON) $(VENV)
	uv pip install --quiet --python $(BIN)/python -e '.[test]'
	@$(MAKE) --no-print-directory bytecode
	@touch $(STAMP)

demo: $(STAMP)
	$(BIN)/paybutton demo --port $(PORT)

serve: $(STAMP)
	$(BIN)/paybutton serve --port $(PORT)

browsers:
	@(test -x /usr/bin/chromium && test -d /usr/share/fonts/truetype/wqy) || (apt-get update -qq && apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null)

test: $(STAMP) browsers bytecode
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy
	$(BIN)/vulture
	$(BIN)/pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

test-fast: $(STAMP)
	$(BIN)/pytest -x -q -m "not browser and not slow" $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check src tests bench examples
	$(BIN)/mypy
	$(BIN)/vulture

bench: $(STAMP)
	$(BIN)/python -m bench.orders $(BENCH_ARGS)

chaos: $(STAMP)
	$(BIN)/python -m bench.chaos $(CHAOS_ARGS)

# Schemathesis over every operation of /openapi.json, long: PAYBUTTON_FUZZ_SECONDS (default 300) per database,
# SQLite then PostgreSQL (PAYBUTTON_TEST_PG_URL). FUZZ_ARGS goes to pytest; PAYBUTTON_FUZZ_* pass through the env.
PAYBUTTON_FUZZ_SECONDS ?= 300
fuzz: $(STAMP)
	@rc=0; for db in sqlite postgresql; do \
		PAYBUTTON_FUZZ_SECONDS=$(PAYBUTTON_FUZZ_SECONDS) PAYBUTTON_FUZZ_DB=$$db \
		$(BIN)/pytest -q -p no:cacheprovider tests/api/test_schemathesis.py $(FUZZ_ARGS) || rc=1; \
	done; exit $$rc

# Texts: extract every msgid (Python N_/gettext/pgettext, templates' {% trans %}/_(), the scripts' L()) and update
# src/paybutton/locale/*/LC_MESSAGES/messages.po; then fill the empty zh_CN msgstrs. tests/unit/test_catalogs.py checks.
messages: $(STAMP)
	$(BIN)/python -m paybutton.i18n.messages

# The container image (Containerfile), built without a registry and run on SQLite and PostgreSQL: README, "Container".
image-test:
	scripts/image-test.sh

# compose.yaml with podman-compose: PostgreSQL, two instances, an order placed at one, read at the other (README,
# "Container").
compose-test:
	scripts/compose-test.sh

# Every package of the image, pinned with hashes; regenerate after changing pyproject.toml's dependencies.
container/requirements.lock: pyproject.toml
	uv pip compile pyproject.toml --quiet --python-version 3.11 --python-platform x86_64-manylinux_2_28 \
		--generate-hashes --no-header -o $@

# podman-compose for `make compose-test`, pinned with hashes (the script installs it into a venv of its own); after
# changing the version here: make -B container/compose-tools.lock
container/compose-tools.lock:
	echo 'podman-compose==1.6.0' | uv pip compile - --quiet --python-version 3.11 --generate-hashes --no-header -o $@

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache test-artifacts

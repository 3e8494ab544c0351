# Two commands matter: `make run` and `make test` (`make test-fast` is the quick loop). All set everything up.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Keep compiled modules and pytest's rewritten test modules in __pycache__ (ignored by
# git): where the environment sets PYTHONDONTWRITEBYTECODE, every test process, and
# every command a test starts, would compile them all again (about 5 s a process).
export PYTHONDONTWRITEBYTECODE :=

.PHONY: run reset test test-fast install translations lint format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

translations: install
	$(BIN)/python -m devtools.i18n compile

## make run: migrate the database, start the Stripe emulator (without STRIPE_SECRET_KEY) and the app
run: translations
	$(BIN)/python -m devtools.run

## make reset: forget the development data: the SQLite database and the emulator's state
## (both or neither: a database without the emulator's customers has dead manage links)
reset:
	rm -f instance/support.db instance/support.db-wal instance/support.db-shm \
		instance/stripe-emulator.json instance/demo-staff-login.txt

## make test: lint, check translations, run every test on SQLite, PostgreSQL and in Chromium
## (in two processes: pytest-xdist, each with its own databases and emulator)
test: translations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python -m devtools.i18n check
	$(BIN)/python -m pytest -n 2

## make test-fast: the loop while working: SQLite only, no browser, no PostgreSQL, no slow tests
test-fast: translations
	$(BIN)/python -m pytest -n 2 --databases sqlite -m "not browser and not pgcluster and not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## make bench: every benchmark of the product in bench/, each printing ratios against its own
## baseline (bench/suite.py, which times the test suite against an earlier commit's, runs alone)
bench: translations
	$(BIN)/python bench/banner.py
	$(BIN)/python bench/bandit.py
	$(BIN)/python bench/webhooks.py
	$(BIN)/python bench/stats.py   # seeds up to 1M supporters: several minutes
	$(BIN)/python bench/expiring_cards.py   # seeds 1M gifts: about two minutes

clean:
	rm -rf $(VENV) instance/*.db

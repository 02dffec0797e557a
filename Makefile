# Tribu: `make run` serves the app with its worker on SQLite; `make test` runs every test.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgres lint format messages train-sentiment clean

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

run: $(STAMP)
	$(BIN)/tribu manage migrate --no-input
	$(BIN)/tribu demo
	$(BIN)/tribu serve

# The SQLite leg always runs; the PostgreSQL leg runs against DATABASE_URL, or a throwaway
# local cluster when PostgreSQL is installed. TRIBU_REQUIRE_POSTGRES=1 makes it mandatory.
test: $(STAMP)
	$(BIN)/python scripts/run_tests.py

test-sqlite: $(STAMP)
	$(BIN)/python scripts/run_tests.py --sqlite-only

lint: $(STAMP)
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Needs GNU gettext (apt-get install gettext).
messages: $(STAMP)
	cd tribu && ../$(BIN)/tribu manage makemessages --locale fr --no-obsolete --ignore 'testing/*'
	cd tribu && ../$(BIN)/tribu manage compilemessages --locale fr

# Retrains both sentiment tiers from ../shared/data/sentiment (needs gcc; PyTorch's CPU
# build goes into .venv). The accurate tier is fused with the fast one: fast goes first.
train-sentiment: $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[train]'
	$(BIN)/python scripts/train_sentiment.py
	$(BIN)/python scripts/finetune_sentiment.py

clean:
	rm -rf $(VENV) build *.egg-info

# The project's commands. Each one (re)builds .venv when it is missing or pyproject.toml changed.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# A DAGSTER_HOME the user set (a PostgreSQL-backed instance, say) wins over the local default.
DAGSTER_HOME ?= $(CURDIR)/.dagster_home
export DAGSTER_HOME
export HF_HUB_OFFLINE ?= 1
RUN_CONFIG ?=
PYTEST_ARGS ?=

.PHONY: run test ui bench lint venv clean

venv: $(STAMP)

$(STAMP): pyproject.toml serving/pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e "./serving[http,s3]" -e ".[dev,deploy]"
	@touch $(STAMP)

$(DAGSTER_HOME):
	@mkdir -p $(DAGSTER_HOME)

run: $(STAMP) | $(DAGSTER_HOME)
	$(BIN)/python -m ft_assets.run_all $(if $(RUN_CONFIG),--config $(RUN_CONFIG),)

test: $(STAMP)
	$(BIN)/ruff check ft_assets ft_resources serving tests benchmarks data
	$(BIN)/python -m pytest $(PYTEST_ARGS)

ui: $(STAMP) | $(DAGSTER_HOME)
	$(BIN)/dagster dev -h 127.0.0.1 -p 3000

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all

lint: $(STAMP)
	$(BIN)/ruff check ft_assets ft_resources serving tests benchmarks data
	$(BIN)/ruff format --check ft_assets ft_resources serving tests benchmarks data

clean:
	rm -rf $(VENV) artifacts .dagster_home

.PHONY: rollback
rollback: $(STAMP)
	$(BIN)/python -m ft_assets.promotion.rollback $(VERSION)

# Lists what retention would delete; APPLY=1 deletes it. KEEP (default 3) materializations kept per asset.
.PHONY: prune
prune: $(STAMP) | $(DAGSTER_HOME)
	$(BIN)/python -m ft_assets.retention $(if $(KEEP),--keep $(KEEP),) $(if $(APPLY),--apply,)

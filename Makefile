# Two commands set up everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
CITY ?= xiamen

.PHONY: demo test bench lint install build-city clean figures screenshots

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

build-city: $(STAMP)
	$(BIN)/xiuhua build-city $(CITY)

GPKG := data/$(CITY)/build/city.gpkg
SOURCES := $(wildcard data/$(CITY)/*.csv data/$(CITY)/*.geojson data/$(CITY)/*.toml) data/catalog/matters.csv

$(GPKG): $(SOURCES) | $(STAMP)
	$(BIN)/xiuhua build-city $(CITY)

# The demo builds the city (when its sources changed), fills the embedded store with a month of synthetic cases
# and demo accounts (when empty), and serves the app at http://127.0.0.1:8050 until Ctrl+C.
demo: $(STAMP) $(GPKG)
	$(BIN)/xiuhua db upgrade
	$(BIN)/xiuhua seed-demo --if-empty
	$(BIN)/xiuhua summary $(CITY)
	$(BIN)/xiuhua serve --host 127.0.0.1 --port 8050 --demo

# Screenshots of each page for the README (headless Debian chromium), the wall also at 3840x2160; refuses to run
# without a CJK font (Debian: apt-get install fonts-noto-cjk), as the Chinese labels would be boxes.
screenshots: $(STAMP) $(GPKG)
	$(BIN)/xiuhua db upgrade
	$(BIN)/xiuhua seed-demo --if-empty
	$(BIN)/python docs/screenshots.py

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy geo cities store dispatch
	$(BIN)/python -m pytest -n 2 --dist loadgroup

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy geo cities store dispatch

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf data/*/build var .pytest_cache .mypy_cache .ruff_cache

figures: $(STAMP) $(GPKG)
	$(BIN)/python docs/figures.py

# mlops-course: two commands for a newcomer, `make course` and `make test`.
# Everything else here is for authors. Every target sets up what it needs first.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: course test shell install lint typecheck exercises check-exercises notebooks check-notebooks bench server-stop doctor clean site

# The virtualenv is rebuilt only when the project's dependencies change.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# What only the project's own tests need on top (the checks of deploy/).
TEST_STAMP := $(VENV)/.installed-test
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,deploy-checks,pipeline,site,workshop]"
	@touch $(TEST_STAMP)

## course: set up, start the local MLflow server and JupyterLab (Ctrl-C stops both)
course: $(STAMP)
	$(BIN)/mlops-course course

## shell: a shell with the course's virtualenv active (mlops-course, python, jupyter on PATH)
shell: $(STAMP)
	@echo "The course's shell: mlops-course is on PATH. Type 'exit' to leave."
	@VIRTUAL_ENV="$(CURDIR)/$(VENV)" PATH="$(CURDIR)/$(BIN):$$PATH" bash -i

## test: set up, then run every check of the project (what CI runs)
test: $(TEST_STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" MLOPS_COURSE_TARGET=solutions \
		$(BIN)/python -m pytest tests notebooks --nbval-lax --nbval-current-env

## lint: ruff's rules and formatting (what CI runs first)
lint: $(STAMP)
	$(BIN)/ruff check mlops_course solutions exercises tests bench authors/notebooks pipeline site
	$(BIN)/ruff format --check mlops_course solutions tests bench pipeline site

## typecheck: mypy on mlops_course/ (settings in pyproject.toml; the CLI handlers fully typed)
typecheck: $(STAMP)
	$(BIN)/mypy

## exercises: regenerate exercises/ from solutions/ (edited files are backed up first)
exercises: $(STAMP)
	$(BIN)/mlops-course author exercises

## check-exercises: exit 1 if exercises/ differs from a fresh generation from solutions/
check-exercises: $(STAMP)
	$(BIN)/mlops-course author exercises --check

## notebooks: regenerate notebooks/*.ipynb from authors/notebooks/*.py (outputs stripped)
notebooks: $(STAMP)
	$(BIN)/mlops-course author notebooks

## bench: every benchmark, each against its baseline measured in the same run (~20 min idle)
BENCHES := server check registry serving serving_batch validation monitoring workshop
bench: $(STAMP)
	@for b in $(BENCHES); do echo "== bench/bench_$$b.py"; \
		PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/python bench/bench_$$b.py || exit 1; done

## site: the course as a static website in site/_build/html (every notebook executed, ~8 min;
## unchanged notebooks with unchanged course code come from site/_build/.jupyter_cache)
SITE_STAMP := $(VENV)/.installed-site
$(SITE_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,site]"
	@touch $(SITE_STAMP)

site: $(SITE_STAMP)
	$(BIN)/python site/build.py

## check-notebooks: exit 1 if a notebook differs from its source in authors/notebooks/
check-notebooks: $(STAMP)
	$(BIN)/mlops-course author notebooks --check

doctor: $(STAMP)
	$(BIN)/mlops-course doctor

server-stop: $(STAMP)
	$(BIN)/mlops-course server stop

clean:
	-$(BIN)/mlops-course server stop 2>/dev/null
	rm -rf .mlops-course build *.egg-info

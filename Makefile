# threadkit: `make check` for learners, `make test` for the kit itself.
# Every target creates .venv on first use and installs the pinned requirements it needs.

PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
LEARNER_STAMP    := $(VENV)/.learner-installed
INSTRUCTOR_STAMP := $(VENV)/.instructor-installed

TASK       ?=
SEED       ?=
SUBMISSION ?= exercises
VERBOSE    ?=

CHECK_ARGS = --submission $(SUBMISSION) $(if $(TASK),--task $(TASK)) \
             $(if $(SEED),--seed $(SEED)) $(if $(VERBOSE),--verbose)

.PHONY: check test test-slow lint format clean

## Learners ------------------------------------------------------------------

check: $(LEARNER_STAMP)  ## run the checks on exercises/ (TASK=id, SEED=n, VERBOSE=1)
	@$(PY) -m graders check $(CHECK_ARGS)

## The kit itself ------------------------------------------------------------

test: lint  ## the kit's own proof: graders pass every solution and kill every mutant
	$(PY) -m pytest -m "not slow" tests

test-slow: $(INSTRUCTOR_STAMP)  ## 20x repetitions and other long runs
	$(PY) -m pytest -m slow tests

lint: $(INSTRUCTOR_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(INSTRUCTOR_STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## Set-up --------------------------------------------------------------------

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(LEARNER_STAMP): requirements/learner.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/learner.txt
	@touch $@

$(INSTRUCTOR_STAMP): requirements/learner.txt requirements/instructor.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/instructor.txt
	@touch $@ $(LEARNER_STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build

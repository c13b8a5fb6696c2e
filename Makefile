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
             $(if $(SEED),--seed $(SEED)) $(if $(VERBOSE),--verbose) \
             $(if $(SUMMARY),--summary "$(SUMMARY)")

.PHONY: check test test-slow lint format clean

## Learners ------------------------------------------------------------------

check: $(LEARNER_STAMP)  ## run the checks on exercises/ (TASK=id, SEED=n, VERBOSE=1, SUMMARY=file)
	@$(PY) -m graders check $(CHECK_ARGS)

## Learners: hints, watch, timeline, demo; the handout (make release) -------
# The same targets reach learners through templates/learner/Makefile in their release.
SUMMARY ?=
RESET   ?=
OUT     ?=
LATENCY ?=
TIMELINE_STAMP := $(VENV)/.timeline-installed

.PHONY: hint watch timeline demo release

hint: $(LEARNER_STAMP)  ## one more hint for a task each time (TASK=id, RESET=1 starts over)
	@$(PY) -m graders hint $(if $(TASK),--task $(TASK)) $(if $(RESET),--reset)

watch: $(LEARNER_STAMP)  ## re-check a task each time its file is saved (SUBMISSION=dir)
	@$(PY) -m graders watch --submission $(SUBMISSION)

timeline: $(LEARNER_STAMP) $(if $(OUT),$(TIMELINE_STAMP))  ## requests per thread (TASK=id, OUT=png)
	@$(PY) -m graders timeline --task $(or $(TASK),downloader) --submission $(SUBMISSION) \
		$(if $(OUT),--out "$(OUT)")

demo: $(LEARNER_STAMP)  ## the downloader against a local server, real delays (LATENCY=s)
	@$(PY) -m graders demo --task $(or $(TASK),downloader) --submission $(SUBMISSION) \
		$(if $(LATENCY),--latency $(LATENCY))

release: $(LEARNER_STAMP)  ## write the learner's handout into OUT=dir (allow-listed files only)
	@test -n "$(OUT)" || { echo "usage: make release OUT=dir"; exit 2; }
	@$(PY) -m graders release --out "$(OUT)"

$(TIMELINE_STAMP): requirements/timeline.txt | $(LEARNER_STAMP)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/timeline.txt
	@touch $@

## Instructors: the nbgrader course ------------------------------------------
# Notebooks generated from exercises/, fixtures/<id>/solution.py and the checks (README: nbgrader).
NBGRADER_OUT ?= build/nbgrader

.PHONY: nbgrader solutions requirements

solutions: $(LEARNER_STAMP)  ## every reference solution in build/solutions/, laid out like exercises/
	@$(PY) -m graders solutions --out build/solutions

requirements: $(LEARNER_STAMP)  ## each task's numbered requirements, with their checks and mutants
	@$(PY) -m graders requirements $(if $(TASK),--task $(TASK))

nbgrader: $(INSTRUCTOR_STAMP)  ## write the nbgrader course into NBGRADER_OUT (default build/nbgrader)
	@$(PY) -m graders nbgrader --out "$(NBGRADER_OUT)"

## Instructors: grading (README: "Instructors: grading") --------------------
# make grade SUBMISSIONS=dir OUT=dir        every learner's folder or .zip, hidden checks on
# make grade-one SUBMISSION=dir OUT=dir     one submission (CI)
# make gradescope OUT=autograder.zip        the Gradescope autograder (README: Gradescope)
SUBMISSIONS ?=
JOBS        ?=
ISOLATION   ?=
REGRADE     ?=
FAIL_UNDER  ?=
GRADE_ARGS  ?=
GRADE_OPTS = $(if $(ISOLATION),--isolation $(ISOLATION)) $(GRADE_ARGS)

.PHONY: grade grade-one gradescope

grade: $(LEARNER_STAMP)  ## grade SUBMISSIONS=dir into OUT=dir (JOBS=n, ISOLATION=, REGRADE=1)
	@test -n "$(SUBMISSIONS)" -a -n "$(OUT)" || { echo "usage: make grade SUBMISSIONS=dir OUT=dir"; exit 2; }
	@$(PY) -m graders grade --submissions "$(SUBMISSIONS)" --out "$(OUT)" \
		$(if $(JOBS),--jobs $(JOBS)) $(if $(REGRADE),--regrade) $(GRADE_OPTS)

grade-one: $(LEARNER_STAMP)  ## grade SUBMISSION=dir into OUT=dir (SUMMARY=file, FAIL_UNDER=%)
	@test -n "$(OUT)" || { echo "usage: make grade-one SUBMISSION=dir OUT=dir"; exit 2; }
	@$(PY) -m graders grade-one --submission "$(SUBMISSION)" --out "$(OUT)" \
		$(if $(SUMMARY),--summary "$(SUMMARY)") $(if $(FAIL_UNDER),--fail-under $(FAIL_UNDER)) \
		$(GRADE_OPTS)

gradescope: $(LEARNER_STAMP)  ## the Gradescope autograder zip (OUT=file, default build/autograder.zip)
	@$(PY) -m graders gradescope $(if $(OUT),--out "$(OUT)")

## Instructors: speed (README: "Speed") ------------------------------------
# make bench                 every standard row, 5 runs each, 100 submissions per batch
# make bench QUICK=1         3 runs, 20 submissions per batch
# make bench BASELINE=dir    the same rows on another checkout too, alternating (same sitting)
QUICK      ?=
BASELINE   ?=
BENCH_ARGS ?=

.PHONY: bench

bench: $(INSTRUCTOR_STAMP)  ## time check, watch, grade-one, grade (QUICK=1, BASELINE=dir) -> build/bench.json
	@$(PY) -m graders bench $(if $(QUICK),--quick) $(if $(BASELINE),--baseline "$(BASELINE)") \
		$(if $(ISOLATION),--isolation $(ISOLATION)) $(if $(JOBS),--jobs $(JOBS)) $(BENCH_ARGS)

## The kit itself ------------------------------------------------------------
# make mutate [TASK=id] [JOBS=n]   mutants of every solution, graded; survivors must be killed
#                                  or listed in fixtures/mutation/equivalent.txt
.PHONY: mutate

mutate: $(LEARNER_STAMP)  ## mutation testing of the checks (TASK=id, JOBS=n); build/mutation.json
	@$(PY) -m graders mutate $(if $(TASK),--task $(TASK)) $(if $(JOBS),--jobs $(JOBS))


# Most tests wait (latches, simulated latency, grading processes): two at once per core, as
# make check runs tasks (check_jobs). A file whose tests share a module-scoped fixture
# (nbgrader's course, the hostile batch) stays in one worker (--dist loadgroup).
# On 2 cores, four workers: 184 s against 202 s with three, and every test passed in two runs
# with both cores kept busy by other processes.
TEST_JOBS ?= $(shell $(PYTHON) -c "import os; print(2 * (len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count() or 1))")

test: lint  ## the kit's own proof: graders pass every solution and kill every mutant
	$(PY) -m pytest -m "not slow" -n $(TEST_JOBS) --dist loadgroup tests

test-slow: $(INSTRUCTOR_STAMP)  ## 20x repetitions and other long runs
	$(PY) -m pytest -m slow tests

lint: $(INSTRUCTOR_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

format: $(INSTRUCTOR_STAMP)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## Set-up --------------------------------------------------------------------

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(LEARNER_STAMP): requirements/learner.txt | $(VENV)/bin/python
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements/learner.txt
	@touch $@

# The instructor's tools (about 120 packages) install through uv, pinned in
# requirements/installer.txt: a fresh .venv in 17 s instead of pip's 64 s (no cache, measured).
# uv also applies requirements/overrides.txt (pip has no overrides: its .venv is slower to import).
# uv does not read pip's configuration: where only pip reaches the packages (a mirror in
# pip.conf), or uv cannot be installed, pip installs them as before; INSTALLER=pip skips uv.
INSTALLER ?= uv

$(INSTRUCTOR_STAMP): requirements/learner.txt requirements/instructor.txt requirements/overrides.txt | $(VENV)/bin/python
	@if [ "$(INSTALLER)" = uv ] \
	    && $(PY) -m pip install --quiet --disable-pip-version-check -r requirements/installer.txt \
	    && $(VENV)/bin/uv pip install --quiet --python $(PY) -r requirements/instructor.txt \
	       --override requirements/overrides.txt; \
	then echo "installed requirements/instructor.txt with uv"; \
	else $(PY) -m pip install --quiet --disable-pip-version-check -r requirements/instructor.txt; fi
	@touch $@ $(LEARNER_STAMP)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache build

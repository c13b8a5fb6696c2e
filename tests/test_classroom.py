"""GitHub Classroom's points: what each task's workflow step outputs, read as the reporter reads it.

classroom-resources/autograding-grading-reporter takes the runner ids from its `runners` input,
reads each one's `<ID>_RESULTS` environment variable, base64-decodes it into
`{"version", "status", "max_score", "tests": [{"name", "status", "score", "message",
"test_code", "filename", "line_no", "duration"}]}`, and reports "Points X/Y": the sum of every
test's score over the sum of every runner's max_score (src/main.js, src/notify-classroom.js).
The step's output is taken from the file $GITHUB_OUTPUT points at, as GitHub does.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
import yaml

from graders.cli import main as graders_cli
from graders.engine.isolated import IsolatedRun
from graders.engine.runner import CheckResult, TaskResult
from graders.instructor.mutants import read_mutant
from graders.instructor.release import render_workflow
from graders.kit.feedback import CheckFailed, Location
from graders.learner.classroom import decode, result
from graders.tasks import TASKS, get_task
from tests.helpers import EXERCISES, ROOT, SOLUTIONS, submission_of

# Its module-scoped fixtures are built once: under pytest-xdist (make test) every test of
# this file runs in one worker (--dist loadgroup).
pytestmark = pytest.mark.xdist_group("classroom")

WORKFLOW = ROOT / "templates/learner/.github/workflows/check.yml"
REPORTER = "classroom-resources/autograding-grading-reporter@v1"
STATUS = {"enum": ["pass", "fail", "error"]}
RESULT_SCHEMA = {
    "type": "object",
    "required": ["version", "status", "max_score", "tests"],
    "properties": {
        "version": {"const": 1},
        "status": STATUS,
        "max_score": {"type": "integer", "minimum": 0},
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "required": [
                    "name",
                    "status",
                    "score",
                    "message",
                    "test_code",
                    "filename",
                    "line_no",
                    "duration",
                ],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "status": STATUS,
                    "score": {"type": "number", "minimum": 0},
                    "message": {"type": "string"},
                    "test_code": {"type": "string"},
                    "filename": {"type": "string"},
                    "line_no": {"type": "integer", "minimum": 0},
                    "duration": {"type": "number", "minimum": 0},
                },
                "additionalProperties": False,
            },
        },
    },
    "additionalProperties": False,
}


def step_output(task_id: str, folder: Path, tmp_path: Path) -> str:
    """What `python -m graders classroom --task ID` leaves in $GITHUB_OUTPUT: its result."""
    output = tmp_path / f"github-output-{task_id}"
    code = graders_cli(
        ["classroom", "--task", task_id, "--submission", str(folder)] + ["--output", str(output)]
    )
    assert code == 0
    lines = output.read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("result=")
    return lines[0].removeprefix("result=")


def reporter_points(env: dict[str, str], runners: str) -> tuple[float, int, bool]:
    """Points, max points and whether the job fails, as the reporter works them out."""
    results = [decode(env[f"{runner.strip().upper()}_RESULTS"]) for runner in runners.split(",")]
    total = sum(test["score"] for r in results if r["max_score"] for test in r["tests"])
    most = sum(r["max_score"] for r in results if r["max_score"])
    return total, most, any(r["status"] != "pass" for r in results)


@pytest.fixture(scope="module")
def reporter_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """The reporter's environment after every task's step, on the solutions and on the stubs."""
    env = {}
    for name, folder in (("solutions", SOLUTIONS), ("stubs", EXERCISES)):
        tmp = tmp_path_factory.mktemp(name)
        env[name] = {f"{t.id.upper()}_RESULTS": step_output(t.id, folder, tmp) for t in TASKS}
    return env


@pytest.mark.parametrize("which", ["solutions", "stubs"])
def test_every_step_outputs_what_the_reporter_reads(reporter_env, which: str):
    for task in TASKS:
        data = decode(reporter_env[which][f"{task.id.upper()}_RESULTS"])
        jsonschema.validate(data, RESULT_SCHEMA)
        checks = task.checks()  # visible only: what the learner sees
        assert data["max_score"] == task.max_points() == sum(c.points for c in checks)
        assert [t["name"] for t in data["tests"]] == [c.title for c in checks]
        assert all(t["filename"].endswith(f"/{task.module}") for t in data["tests"])
        if which == "solutions":
            assert data["status"] == "pass"
            assert [t["score"] for t in data["tests"]] == [c.points for c in checks]
            assert all(t["status"] == "pass" and t["message"] == "" for t in data["tests"])
        else:
            assert data["status"] == "fail"
            assert all(t["score"] == 0 and t["status"] == "fail" for t in data["tests"])
            assert all(t["message"] for t in data["tests"])  # what the learner's code did
            not_started = [t for t in data["tests"] if t["message"].startswith("Not started yet")]
            assert all(t["line_no"] > 0 for t in not_started)  # the stub's `raise` line


def test_the_reporter_sums_them_into_classroom_points(reporter_env):
    runners = ",".join(t.id for t in TASKS)
    full = sum(t.max_points() for t in TASKS)
    assert reporter_points(reporter_env["solutions"], runners) == (full, full, False)
    assert reporter_points(reporter_env["stubs"], runners) == (0, full, True)


def test_a_mutant_loses_exactly_its_failed_checks_points(tmp_path: Path):
    task = get_task("counter_lock")
    mutant = read_mutant(task, task.files().mutants / "no_lock.py")
    folder = submission_of(task, mutant.path, tmp_path / "exercises")
    data = decode(step_output(task.id, folder, tmp_path))
    failed = {t["name"] for t in data["tests"] if t["status"] == "fail"}
    visible_fails = {c.title for c in task.checks() if c.name in mutant.expect_fail}
    assert failed == visible_fails and data["status"] == "fail"
    lost = sum(c.points for c in task.checks() if c.title in failed)
    assert sum(t["score"] for t in data["tests"]) == task.max_points() - lost
    assert mutant.expect_message in next(t["message"] for t in data["tests"] if t["message"])
    assert data["tests"][0]["test_code"].startswith("make check TASK=counter_lock SEED=")


def test_the_command_writes_github_output_and_prints_the_same_line(tmp_path: Path):
    """As the workflow runs it: a subprocess with $GITHUB_OUTPUT set, from the kit's folder."""
    output = tmp_path / "github_output"
    output.write_text("earlier=kept\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["GITHUB_OUTPUT"] = str(output)
    done = subprocess.run(
        [sys.executable, "-m", "graders", "classroom", "--task", "start_join"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = output.read_text().splitlines()
    assert lines[0] == "earlier=kept" and lines[1] == f"result={done.stdout.strip()}"
    assert decode(done.stdout.strip())["status"] == "fail"  # the stubs in exercises/
    assert "start_join: 0/" in done.stderr  # the log says it in words


def test_the_handout_workflow_has_one_runner_per_task_and_the_reporter():
    workflow = yaml.safe_load(render_workflow(WORKFLOW.read_text()))
    (job,) = workflow["jobs"].values()
    steps = job["steps"]
    by_id = {s["id"]: s for s in steps if "id" in s}
    assert list(by_id) == [t.id for t in TASKS]
    for task in TASKS:
        assert by_id[task.id]["run"] == f".venv/bin/python -m graders classroom --task {task.id}"
    (reporter,) = [s for s in steps if s.get("uses") == REPORTER]
    assert reporter["with"]["runners"] == ",".join(t.id for t in TASKS)
    assert reporter["env"] == {
        f"{t.id.upper()}_RESULTS": f"${{{{ steps.{t.id}.outputs.result }}}}" for t in TASKS
    }
    assert steps.index(reporter) > max(steps.index(by_id[t.id]) for t in TASKS)
    summary = steps[-1]
    assert summary["if"] == "always()" and 'SUMMARY="$GITHUB_STEP_SUMMARY"' in summary["run"]
    assert workflow["permissions"]["checks"] == "write"  # the reporter updates the check run
    install = next(s for s in steps if "learner-installed" in s.get("run", ""))
    target = install["run"].split()[-1]
    makefile = (ROOT / "templates/learner/Makefile").read_text()
    assert re.search(r"^STAMP\s*:=\s*\$\(VENV\)/\.learner-installed", makefile, re.M)
    assert target == ".venv/.learner-installed"


def test_a_never_ending_import_costs_the_step_its_import_budget(tmp_path: Path, monkeypatch):
    """The step runs the same grading process as make check: THREADKIT_IMPORT_SECONDS reaches
    it, and a module whose import never ends fails every check at that budget."""
    monkeypatch.setenv("THREADKIT_IMPORT_SECONDS", "1")
    folder = tmp_path / "exercises"
    folder.mkdir()
    (folder / "counter.py").write_text("import time\ntime.sleep(10**9)\n")
    start = time.monotonic()
    data = decode(step_output("counter_lock", folder, tmp_path))
    took = time.monotonic() - start
    assert data["status"] == "fail" and sum(t["score"] for t in data["tests"]) == 0
    assert all("did not finish within 1 s" in t["message"] for t in data["tests"])
    assert all(t["line_no"] == 2 for t in data["tests"])  # the sleep's line
    assert took < 1 + 20, took  # starting the process on a loaded machine; the limit is 60 s


def test_line_no_is_the_feedbacks_location_line_not_a_number_in_its_text():
    task = get_task("counter_lock")
    located = CheckFailed("s", location=Location("exercises/counter.py", 16, "x")).feedback
    worded = CheckFailed("s", where="exercises/counter.py:16  `x`").feedback  # text only
    checks = TaskResult(task.id, seed=1)
    for name, feedback in (("a", located), ("b", worded), ("c", None)):
        checks.checks.append(
            CheckResult(
                task=task.id,
                name=name,
                title=name,
                max_points=1,
                hidden=False,
                passed=feedback is None,
                feedback=feedback,
            )
        )
    tests = result(IsolatedRun(checks, "", 0), task)["tests"]
    assert [t["line_no"] for t in tests] == [16, 0, 0]  # type: ignore[index]

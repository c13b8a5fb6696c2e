"""The import budget in this process (graders.kit.import_budget): what it lets through, what it
stops, and what it says. The grading process's own use of it is tests/test_batch_hostile.py.

Every module here ends by itself a few seconds later, so no test leaves a thread spinning in
the test process.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from graders.kit.checks import Context
from graders.kit.feedback import CheckFailed
from graders.kit.import_budget import ImportBudget, ImportOverrun, setting
from graders.kit.loader import load_module
from tests.helpers import SOLUTIONS

BUDGET = 0.5
SPIN = "import time\nend = time.monotonic() + 3\nwhile time.monotonic() < end:\n    pass\n"


def module(tmp_path: Path, text: str, name: str = "counter.py") -> Path:
    folder = tmp_path / "exercises"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text)
    return folder / name


def test_an_honest_module_imports_through_the_budget_as_before():
    path = SOLUTIONS / "counter.py"
    budget = ImportBudget(5.0, path)
    assert budget.first_import(lambda: load_module(path, budget)) is None
    ctx = Context("counter_lock", path, 1, import_budget=budget)
    assert ctx.load().run_threads(4, 50) == 200
    assert budget.overrun is None and budget.imports == 2 and budget.spent < 5.0


def test_a_spinning_import_is_stopped_at_the_budget_with_its_line(tmp_path):
    path = module(tmp_path, SPIN)
    budget = ImportBudget(BUDGET, path)
    start = time.monotonic()
    failed = budget.first_import(lambda: load_module(path, budget))
    assert time.monotonic() - start < BUDGET + 2.0
    assert failed is not None and budget.overrun == failed
    assert failed.summary == f"Importing exercises/counter.py did not finish within {BUDGET:g} s"
    assert failed.where == "exercises/counter.py:3  `while time.monotonic() < end:`"
    assert "top level" in failed.details[0] and 'if __name__ == "__main__":' in failed.hint
    with pytest.raises(ImportOverrun):  # no import runs the module again once it ran out
        load_module(path, budget)
    assert budget.imports == 1


def test_a_module_quick_once_and_slow_afterwards_gains_nothing(tmp_path):
    path = module(
        tmp_path,
        "import builtins, time\n"
        "if getattr(builtins, '_threadkit_seen', False):\n"
        "    end = time.monotonic() + 3\n"
        "    while time.monotonic() < end:\n"
        "        pass\n"
        "builtins._threadkit_seen = True\n",
    )
    budget = ImportBudget(BUDGET, path)
    try:
        assert budget.first_import(lambda: load_module(path, budget)) is None
        ctx = Context("counter_lock", path, 1, import_budget=budget)
        with pytest.raises(ImportOverrun) as raised:
            ctx.load()
    finally:
        import builtins

        del builtins._threadkit_seen  # type: ignore[attr-defined]
    assert "again for a check" in raised.value.feedback.summary
    assert raised.value.feedback.where.startswith("exercises/counter.py:4")


def test_each_import_has_a_budget_of_its_own_so_a_slow_demo_is_not_failed(tmp_path):
    # A top-level demo that takes a third of the budget, imported four times: 4/3 of it in all.
    path = module(tmp_path, "import time\ntime.sleep(0.5)\n")
    budget = ImportBudget(1.5, path)
    assert budget.first_import(lambda: load_module(path, budget)) is None
    for _ in range(3):
        load_module(path, budget)
    assert budget.overrun is None and budget.imports == 4 and budget.spent > 1.5


def test_what_the_import_raised_reaches_the_check_as_before(tmp_path):
    path = module(tmp_path, "x = 1\nraise ValueError('top')\n")
    budget = ImportBudget(5.0, path)
    assert budget.first_import(lambda: load_module(path, budget)) is None  # the checks say it
    with pytest.raises(CheckFailed) as raised:
        load_module(path, budget)
    assert raised.value.feedback.summary == "Importing exercises/counter.py raised ValueError: top"
    assert raised.value.feedback.where == "exercises/counter.py:2  `raise ValueError('top')`"
    syntax = module(tmp_path, "def f(:\n", "bank.py")
    with pytest.raises(CheckFailed, match="syntax error"):
        load_module(syntax, ImportBudget(5.0, syntax))


def test_an_import_runs_beside_the_caller_not_in_it(tmp_path):
    path = module(tmp_path, "import threading\nwhere = threading.current_thread().name\n")
    caller = threading.current_thread().name
    assert load_module(path).where == caller  # without a budget: as before
    assert load_module(path, ImportBudget(5.0, path)).where == "threadkit-import"


def test_threads_the_first_import_left_running_end_the_task(tmp_path):
    path = module(
        tmp_path,
        "import threading, time\n"
        "def spin():\n"
        "    end = time.monotonic() + 3\n"
        "    while time.monotonic() < end:\n"
        "        time.sleep(0.01)\n"
        "threading.Thread(target=spin, name='spinner').start()\n",
    )
    budget = ImportBudget(BUDGET, path)
    failed = budget.first_import(lambda: load_module(path, budget))
    assert failed is not None
    assert failed.summary.endswith(f"started threads that were still running {BUDGET:g} s later")
    assert failed.got == "still running: spinner"
    assert failed.details[0].startswith("spinner is at exercises/counter.py:")


def test_threads_the_first_import_waits_for_are_fine_when_they_end(tmp_path):
    path = module(
        tmp_path,
        "import threading, time\nthreading.Thread(target=time.sleep, args=(0.1,)).start()\n",
    )
    budget = ImportBudget(5.0, path)
    assert budget.first_import(lambda: load_module(path, budget)) is None
    assert 0.05 < budget.spent < 5.0


def test_the_setting_comes_from_the_environment_or_the_default():
    assert setting({}) == 5.0
    assert setting({"THREADKIT_IMPORT_SECONDS": "2.5"}) == 2.5
    assert setting({"THREADKIT_IMPORT_SECONDS": "0"}) == 0.0  # off
    assert setting({"THREADKIT_IMPORT_SECONDS": "soon"}) == 5.0
    assert setting({"THREADKIT_IMPORT_SECONDS": "-1"}) == 5.0

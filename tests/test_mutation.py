"""Mutation testing of the checks (graders/mutation, `python -m graders mutate`).

Fast: each operator on small snippets (what it rewrites, where it does not apply), mutant ids
that survive unrelated edits, dedupe, the equivalent list and the report. Slow: the real run
over every solution, which must leave no survivor unlisted in fixtures/mutation/equivalent.txt.
"""

from __future__ import annotations

import ast
import json
import textwrap
from pathlib import Path

import pytest

from graders.cli import main
from graders.instructor.mutation import generate
from graders.instructor.mutation.equivalent import EQUIVALENT_FILE, read_equivalent, stale
from graders.instructor.mutation.generate import SolutionFile, all_mutants, mutants_of, mutations
from graders.instructor.mutation.grade import Graded
from graders.instructor.mutation.operators import OPERATORS, Operator, Site
from graders.instructor.mutation.report import score, table, verdicts
from graders.instructor.mutation.walk import places, statement_key
from graders.tasks import get_task


def norm(source: str) -> str:
    """Source as the mutants are written (ast.unparse), so tests compare meaning, not layout."""
    return ast.unparse(ast.parse(textwrap.dedent(source))) + "\n"


def mutate(operator: str, source: str, skip: frozenset[str] = frozenset()) -> list[str | None]:
    return mutations(textwrap.dedent(source), operator, skip)


START_JOIN = """
    import threading

    def run(items):
        threads = [threading.Thread(target=work, args=(item, 2)) for item in items]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return len(threads)
"""


def test_every_operator_has_a_unit_test():
    tested = {name.removeprefix("test_").split("__")[0] for name in globals()}
    missing = [op.name for op in OPERATORS if op.name.replace("-", "_") not in tested]
    assert missing == []


# --- joins ----------------------------------------------------------------------------------


def test_join_delete__removes_the_join_and_keeps_the_loop_valid():
    assert mutate("join-delete", START_JOIN) == [norm(START_JOIN).replace("thread.join()", "pass")]


def test_join_delete__skips_string_and_path_joins():
    source = """
        import os
        def f(parts, sep):
            ', '.join(parts)
            sep.join(parts)
            os.path.join('a', 'b')
            t.join(1.5)
    """
    assert mutate("join-delete", source) == [norm(source).replace("    t.join(1.5)\n", "")]


def test_join_into_start__joins_each_thread_right_after_starting_it():
    expected = """
        import threading

        def run(items):
            threads = [threading.Thread(target=work, args=(item, 2)) for item in items]
            for thread in threads:
                thread.start()
                thread.join()
            return len(threads)
    """
    assert mutate("join-into-start", START_JOIN) == [norm(expected)]


def test_join_into_start__needs_a_later_join():
    source = """
        def f(threads):
            for t in threads:
                t.start()
    """
    assert mutate("join-into-start", source) == []


def test_return_before_join__returns_the_functions_value_before_joining():
    expected = norm(START_JOIN).replace(
        "    for thread in threads:\n        thread.join()",
        "    return len(threads)\n    for thread in threads:\n        thread.join()",
    )
    assert mutate("return-before-join", START_JOIN) == [expected]


def test_return_before_join__bare_return_and_only_where_joins_are():
    source = """
        def f(t):
            t.start()
            t.join()
        def g():
            return 1
    """
    assert mutate("return-before-join", source) == [
        norm(source).replace("    t.join()", "    return\n    t.join()")
    ]


# --- locks ----------------------------------------------------------------------------------

COUNTER = """
    import threading
    counter = 0
    lock = threading.Lock()

    def increment(times):
        global counter
        for _ in range(times):
            with lock:
                new = counter + 1
                counter = new

    def reset():
        global counter
        counter = 0
"""


def test_with_delete__keeps_the_body_without_the_lock():
    expected = norm(COUNTER).replace(
        "        with lock:\n            new = counter + 1\n            counter = new",
        "        new = counter + 1\n        counter = new",
    )
    assert mutate("with-delete", COUNTER) == [expected]


def test_with_delete__skips_with_as():
    assert mutate("with-delete", "with open(p) as f:\n    f.read()\n") == []


def test_with_shrink__holds_the_lock_for_one_statement_at_a_time():
    first, second = mutate("with-shrink", COUNTER)
    locked = "        with lock:\n            new = counter + 1\n            counter = new"
    assert first == norm(COUNTER).replace(
        locked, "        with lock:\n            new = counter + 1\n        counter = new"
    )
    assert second == norm(COUNTER).replace(
        locked, "        new = counter + 1\n        with lock:\n            counter = new"
    )


def test_with_shrink__skips_a_one_statement_body():
    assert mutate("with-shrink", "with lock:\n    x = 1\n") == []


def test_lock_local__moves_the_lock_into_the_function_and_into_the_loop():
    into, loop = mutate("lock-local", COUNTER)
    assert "    global counter\n    lock = threading.Lock()\n    for _ in" in into
    assert "    for _ in range(times):\n        lock = threading.Lock()\n" in loop
    assert "\ndef reset():\n    global counter\n    counter = 0" in into  # reset has no lock


def test_lock_local__a_lock_of_a_function_moves_into_its_nested_worker():
    source = """
        import threading
        def pool(jobs):
            lock = threading.Lock()
            def worker():
                while True:
                    with lock:
                        if not jobs:
                            return
                        jobs.pop()
            return worker
    """
    into, loop = mutate("lock-local", source)
    assert "    def worker():\n        lock = threading.Lock()\n        while True:" in into
    assert "        while True:\n            lock = threading.Lock()\n" in loop


def test_lock_local__skips_other_assignments():
    assert mutate("lock-local", "x = make()\ndef f():\n    return x\n") == []


def test_global_drop__deletes_the_global_statement():
    found = mutate("global-drop", COUNTER)
    assert len(found) == 2
    assert found[0] == norm(COUNTER).replace("    global counter\n    for", "    for", 1)


# --- starting threads -----------------------------------------------------------------------


def test_start_to_run__runs_the_thread_in_the_caller():
    assert mutate("start-to-run", START_JOIN) == [
        norm(START_JOIN).replace("thread.start()", "thread.run()")
    ]


def test_start_to_run__skips_start_with_arguments():
    assert mutate("start-to-run", "m.start(0)\n") == []


def test_call_target__calls_the_function_with_its_args():
    assert mutate("call-target", START_JOIN) == [
        norm(START_JOIN).replace("target=work, args=", "target=work(item, 2), args=")
    ]


def test_call_target__skips_lambdas_and_calls_without_target():
    assert mutate("call-target", "Thread(target=lambda: f(1))\nThread(None, f)\n") == []


def test_args_lambda__late_binding_over_the_loop_variable():
    assert mutate("args-lambda", START_JOIN) == [
        norm(START_JOIN.replace("target=work, args=(item, 2)", "target=lambda: work(item, 2)"))
    ]


def test_args_lambda__skips_args_without_loop_variables():
    source = "def f(n):\n    return [Thread(target=g, args=(n,)) for _ in range(3)]\n"
    assert mutate("args-lambda", source) == []


def test_args_drop__drops_each_argument_in_turn():
    assert mutate("args-drop", START_JOIN) == [
        norm(START_JOIN).replace("args=(item, 2)", "args=(2,)"),
        norm(START_JOIN).replace("args=(item, 2)", "args=(item,)"),
    ]


def test_args_swap__swaps_pairs_that_differ():
    source = "Thread(target=f, args=(a, b, a))\n"
    assert mutate("args-swap", source) == [
        norm("Thread(target=f, args=(b, a, a))"),
        norm("Thread(target=f, args=(a, a, b))"),
    ]


def test_args_drop__skips_args_that_are_not_a_literal_tuple():
    assert mutate("args-drop", "Thread(target=f, args=params)\n") == []


# --- order ----------------------------------------------------------------------------------


def test_iter_reorder__reorders_the_items_under_enumerate():
    source = """
        def download(urls):
            for i, url in enumerate(urls):
                save(url, i)
    """
    assert mutate("iter-reorder", source) == [
        norm(source).replace("enumerate(urls)", "enumerate(reversed(list(urls)))"),
        norm(source).replace("enumerate(urls)", "enumerate(sorted(urls))"),
    ]


def test_iter_reorder__sorts_inputs_only_and_reverses_ranges_directly():
    source = "def f(n):\n    return [g(i) for i in range(n)]\n"
    assert mutate("iter-reorder", source) == [
        norm(source).replace("range(n)", "reversed(range(n))")
    ]


def test_iter_reorder__skips_unused_variables_and_start_join_loops():
    assert mutate("iter-reorder", START_JOIN) == [
        norm(START_JOIN).replace("in items]", "in reversed(list(items))]"),
        norm(START_JOIN).replace("in items]", "in sorted(items)]"),
    ]
    assert mutate("iter-reorder", "def f(n):\n    for _ in range(n):\n        g()\n") == []


def test_range_bound__shifts_each_bound_folding_constants():
    found = mutate("range-bound", "for s in range(1, steps + 1):\n    f(s)\n")
    assert found == [
        norm("for s in range(2, steps + 1):\n    f(s)"),
        norm("for s in range(0, steps + 1):\n    f(s)"),
        norm("for s in range(1, steps + 2):\n    f(s)"),
        norm("for s in range(1, steps):\n    f(s)"),
    ]


def test_range_bound__a_single_bound():
    assert mutate("range-bound", "range(n)\n") == [norm("range(n + 1)"), norm("range(n - 1)")]


# --- the usual ------------------------------------------------------------------------------


def test_arith__swaps_plus_and_minus_but_not_on_text():
    source = "x = a + 1\ny -= 2\nz = 'a' + b\nw = f'{a}' + b\n"
    assert mutate("arith", source) == [
        norm(source).replace("a + 1", "a - 1"),
        norm(source).replace("y -= 2", "y += 2"),
    ]


def test_compare__swaps_each_operator():
    assert mutate("compare", "a < b <= c\nx is None\n") == [
        norm("a <= b <= c\nx is None"),
        norm("a < b < c\nx is None"),
        norm("a < b <= c\nx is not None"),
    ]


def test_not_drop__removes_a_not():
    assert mutate("not-drop", "if not todo:\n    stop()\n") == [norm("if todo:\n    stop()")]


def test_const__numbers_and_bools_not_strings():
    assert mutate("const", "while True:\n    f(3, 'x', None)\n") == [
        norm("while False:\n    f(3, 'x', None)"),
        norm("while True:\n    f(4, 'x', None)"),
        norm("while True:\n    f(2, 'x', None)"),
    ]


# --- what is never mutated ------------------------------------------------------------------


def test_given_functions_and_the_main_block_are_left_alone():
    source = textwrap.dedent(
        """
        def worker(name, steps=3):
            for step in range(1, steps + 1):
                print(name, step)

        def run(names):
            return len(names) + 1

        if __name__ == "__main__":
            run(["a"])
        """
    )
    tree = ast.parse(source)
    functions = {p.function for p in places(tree, frozenset({"worker"}))}
    assert functions == {"<module>", "run"}
    assert mutate("const", source, frozenset({"worker"})) == [
        norm(source).replace("len(names) + 1", "len(names) + 2"),
        norm(source).replace("len(names) + 1", "len(names) + 0"),
    ]


def test_the_stubs_given_functions_are_found():
    assert generate.given_functions(get_task("start_join")) == {"worker"}
    assert generate.given_functions(get_task("downloader")) == {"save_url", "download_sequential"}


# --- ids, dedupe, compile -------------------------------------------------------------------

SOLUTION = """
    import threading

    def worker(name, steps=3, delay=1.0):
        print(name)

    def helper(a, b):
        return a + b

    def run_workers(names=("A", "B"), steps=3, delay=1.0):
        threads = [threading.Thread(target=worker, args=(n, steps, delay)) for n in names]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
"""


def ids_of(tmp_path: Path, source: str) -> dict[str, str]:
    path = tmp_path / "start_join.py"
    path.write_text(textwrap.dedent(source))
    return {m.id: m.source for m in mutants_of(SolutionFile(get_task("start_join"), path))}


def test_ids_survive_unrelated_edits(tmp_path):
    before = ids_of(tmp_path, SOLUTION)
    edited = SOLUTION.replace("return a + b", "# a comment\n        return a + b + 0").replace(
        "def helper", "LIMIT = 5\n\n\n    def helper"
    )
    after = ids_of(tmp_path, edited)
    mine = {i for i in before if "/run_workers/" in i}
    assert mine and mine <= set(after)
    assert all("/helper/" not in i or i not in after for i in before if "arith" in i)


def test_ids_name_task_solution_operator_function_and_statement(tmp_path):
    found = ids_of(tmp_path, SOLUTION)
    join = [i for i in found if "/join-delete/" in i]
    assert len(join) == 1
    task, solution, operator, function, tail = join[0].split("/")
    assert (task, solution, operator, function) == (
        "start_join",
        "start_join",
        "join-delete",
        "run_workers",
    )
    assert tail.endswith("#0") and len(tail) == len("abcdef#0")
    assert len(found) == len(set(found))


def test_statement_hashes_are_the_same_on_every_python_version():
    """Pinned: ast.unparse and ast.dump differ between 3.10 and 3.13, the ids must not (CI and
    the equivalent list run on several versions)."""
    join = ast.parse("thread.join()").body[0]
    function = ast.parse("def f(a, b=1):\n    return f'{a}x'").body[0]
    loop = ast.parse("for t in ts:\n    t.start()").body[0]
    assert statement_key(join, whole=True) == "a6eab7"
    assert statement_key(function, whole=True) == "733c1d"
    assert statement_key(loop, whole=False) == "23ddc6"
    other_body = ast.parse("for t in ts:\n    t.join()").body[0]
    assert statement_key(other_body, whole=False) == "23ddc6"  # the header only


def test_default_arguments_belong_to_their_function(tmp_path):
    consts = [i for i in ids_of(tmp_path, SOLUTION) if "/const/" in i]
    assert consts and all("/run_workers/" in i for i in consts)


def test_identical_and_uncompilable_mutants_are_dropped(tmp_path, monkeypatch):
    def twice_the_same(tree, skip):
        node = next(n for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value == 3)
        place = next(iter(places(tree)))
        same = Site(place, lambda: setattr(node, "value", 4))
        return [same, Site(place, lambda: setattr(node, "value", 4)), Site(place, lambda: None)]

    def uncompilable(tree, skip):
        return [Site(next(iter(places(tree))), lambda: tree.body.append(ast.Return(None)))]

    monkeypatch.setattr(
        generate,
        "OPERATORS",
        [Operator("same", "", twice_the_same), Operator("bad", "", uncompilable)],
    )
    found = ids_of(tmp_path, SOLUTION)
    assert len(found) == 1  # the second is the first again, the third the original
    assert "steps=4" in next(iter(found.values()))


@pytest.fixture(scope="module")
def every_mutant() -> list[generate.Mutant]:
    """Every mutant of every solution (generating them takes a second or two)."""
    return all_mutants()


def test_every_solution_has_mutants_and_none_is_the_original(every_mutant):
    mutants = every_mutant
    solutions = {m.solution.path for m in mutants}
    assert solutions == {s.path for s in generate.solution_files()}
    for mutant in mutants:
        assert mutant.source != mutant.solution.original()
    assert len({m.id for m in mutants}) == len(mutants)


# --- the equivalent list and the report -----------------------------------------------------


def test_equivalent_list_reads_ids_and_reasons(tmp_path):
    listed = tmp_path / "equivalent.txt"
    listed.write_text("# comment\n\na/b/c/d/123456#0  same output\nz/b/c/d/654321#0  why\n")
    entries = read_equivalent(listed)
    assert entries == {"a/b/c/d/123456#0": "same output", "z/b/c/d/654321#0": "why"}
    assert stale(entries, {"z/b/c/d/654321#0"}, {"a", "z"}) == ["a/b/c/d/123456#0"]
    assert stale(entries, set(), {"z"}) == ["z/b/c/d/654321#0"]


def test_equivalent_list_needs_a_reason(tmp_path):
    listed = tmp_path / "equivalent.txt"
    listed.write_text("a/b/c/d/123456#0\n")
    with pytest.raises(ValueError, match="needs a reason"):
        read_equivalent(listed)


def test_the_committed_equivalent_list_names_existing_mutants(every_mutant):
    listed = read_equivalent(EQUIVALENT_FILE)
    ids = {m.id for m in every_mutant}
    tasks = {i.split("/", 1)[0] for i in listed}
    assert stale(listed, ids, tasks) == []


def test_report_counts_and_scores(tmp_path):
    path = tmp_path / "start_join.py"
    path.write_text(textwrap.dedent(SOLUTION))
    mutants = mutants_of(SolutionFile(get_task("start_join"), path))[:4]
    graded = {
        m.id: Graded(m.id, ("joined",) if k < 2 else (), 1.0, "") for k, m in enumerate(mutants)
    }
    found = verdicts(mutants, graded, {mutants[3].id: "same behaviour"})
    assert [v.status for v in found] == ["killed", "killed", "survived", "equivalent"]
    assert score(found) == pytest.approx(2 / 3)
    text = table(found, ["start_join"])
    assert "4/2/1/1" in text and "66.7%" in text


def test_list_and_show_need_no_grading(capsys):
    assert main(["mutate", "--list", "--task", "counter_lock"]) == 0
    listing = capsys.readouterr().out.splitlines()
    first = listing[0].split()[0]
    assert first.startswith("counter_lock/counter/") and listing[-1].endswith("mutants")
    assert main(["mutate", "--show", first]) == 0
    shown = capsys.readouterr().out
    assert shown.startswith("--- a/fixtures/counter_lock/solution.py") and "\n-" in shown


@pytest.mark.slow
@pytest.mark.timeout(5400)  # 760 mutants, two at a time: 33 to 47 min on a loaded 2-core machine
def test_no_survivor_is_unlisted(tmp_path, capsys):
    out = tmp_path / "mutation.json"
    code = main(["mutate", "--jobs", "2", "--out", str(out)])
    report = capsys.readouterr().out
    survivors = [
        m["id"] for m in json.loads(out.read_text())["mutants"] if m["status"] == "survived"
    ]
    assert (code, survivors) == (0, []), report

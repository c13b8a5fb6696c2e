"""graders.kit.loader: every import is a fresh module, compiled afresh."""

from __future__ import annotations

from graders.kit.loader import load_module


def test_each_import_is_a_fresh_module_with_code_of_its_own(tmp_path):
    """Not even the code objects are shared. CPython 3.12 instruments a traced code object in
    place (sys.settrace runs on sys.monitoring there), so code shared between imports carries
    one run's tracing into the next: with a per-process compile cache, counter_lock's
    many_threads stopped catching its mutants on 3.12.1, and only there."""
    path = tmp_path / "counter.py"
    path.write_text("counter = 0\n\ndef bump():\n    global counter\n    counter += 1\n")
    first = load_module(path)
    first.bump()
    second = load_module(path)
    assert second is not first and second.counter == 0 and first.counter == 1
    assert second.bump.__code__ is not first.bump.__code__


def test_a_changed_file_runs_its_new_source(tmp_path):
    path = tmp_path / "answer.py"
    path.write_text("def answer():\n    return 1\n")
    assert load_module(path).answer() == 1
    # a new size: a .pyc written within the same second would otherwise pass for it
    path.write_text("def answer():\n    return 22\n")
    assert load_module(path).answer() == 22

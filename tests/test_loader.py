"""graders.kit.loader: every import is a fresh module, and each version of the file is compiled
once per process."""

from __future__ import annotations

from graders.kit.loader import load_module


def test_each_import_is_a_fresh_module_that_shares_only_the_compiled_code(tmp_path):
    path = tmp_path / "counter.py"
    path.write_text("counter = 0\n\ndef bump():\n    global counter\n    counter += 1\n")
    first = load_module(path)
    first.bump()
    second = load_module(path)
    assert second is not first and second.counter == 0 and first.counter == 1
    assert second.bump is not first.bump
    assert second.bump.__code__ is first.bump.__code__  # compiled once


def test_a_changed_file_is_compiled_again(tmp_path):
    path = tmp_path / "answer.py"
    path.write_text("def answer():\n    return 1\n")
    assert load_module(path).answer() == 1
    path.write_text("def answer():\n    return 2\n")
    assert load_module(path).answer() == 2

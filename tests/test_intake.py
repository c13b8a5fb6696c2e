"""graders.engine.intake: the only way modules leave a submission, by one set of rules.

Registry names only; regular files only, never through a symlink; a size cap; the shallowest
copy within three levels for a handed-in folder or zip, the top only for a grading process's
copy; a single named file and a notebook's module by the same rules.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from graders.engine import intake
from graders.learner import notebook
from graders.tasks import get_task
from tests.helpers import SOLUTIONS

CAP = intake.MAX_MODULE_BYTES
SYMLINK = "it is a symlink, and symlinks are not followed"
TOO_BIG = "it is over 256 KiB"
CLIMBS = "its path leaves the submission ('..' or a leading '/')"
COUNTER = get_task("counter_lock")


def folder_with(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data.encode() if isinstance(data, str) else data)
    return root


def test_only_files_named_like_a_registered_module_are_taken(tmp_path):
    sub = folder_with(
        tmp_path / "sub",
        {
            "counter.py": "right = True\n",
            "conftest.py": "planted\n",
            "pytest.ini": "[pytest]\n",
            "results.json": "{}",
            "sitecustomize.py": "planted\n",
            "Counter.py.bak": "old\n",
            "graders/__init__.py": "planted\n",
            "__pycache__/counter.cpython-311.pyc": b"\0",
        },
    )
    (sub / "bank.py").mkdir()  # a folder named like a module is no module
    assert intake.take(sub) == {"counter.py": b"right = True\n"}


def test_a_symlink_is_never_followed_the_module_or_a_folder_on_the_way(tmp_path):
    elsewhere = folder_with(tmp_path / "elsewhere", {"counter.py": "secret\n", "bank.py": "x\n"})
    sub = tmp_path / "sub"
    sub.mkdir()
    (sub / "counter.py").symlink_to(elsewhere / "counter.py")
    (sub / "inner").symlink_to(elsewhere, target_is_directory=True)  # inner/bank.py
    assert intake.take(sub) == {}
    refused = intake.take_all(sub).refused  # the report says why, not "missing"
    assert refused == {"counter.py": intake.Refusal("counter.py", SYMLINK)}
    with pytest.raises(ValueError, match="symlink"):
        intake.read_one(sub / "counter.py")


def test_a_file_over_the_size_cap_is_not_taken(tmp_path):
    sub = folder_with(tmp_path / "sub", {"counter.py": "#" * CAP, "bank.py": "#" * (CAP + 1)})
    assert sorted(intake.take(sub)) == ["counter.py"]
    assert intake.take_all(sub).refused == {"bank.py": intake.Refusal("bank.py", TOO_BIG)}
    with pytest.raises(ValueError, match="256 KiB"):
        intake.read_one(sub / "bank.py")


def test_a_fifo_is_not_a_module_and_does_not_block_the_intake(tmp_path):
    sub = tmp_path / "sub"
    sub.mkdir()
    os.mkfifo(sub / "counter.py")  # opening it for reading would wait for a writer forever
    assert intake.take(sub) == {}
    assert intake.take_all(sub).refused["counter.py"].why == "it is not a regular file"


def test_the_shallowest_copy_wins_within_three_levels(tmp_path):
    sub = folder_with(
        tmp_path / "sub",
        {
            "top/old/counter.py": "older\n",
            "top/counter.py": "right\n",
            "a/b/bank.py": "two folders down\n",
            "a/b/c/start_join.py": "three folders down: too deep\n",
        },
    )
    assert intake.take(sub) == {"bank.py": b"two folders down\n", "counter.py": b"right\n"}
    assert intake.take(sub, levels=1) == {}


def test_a_grading_process_copy_takes_the_top_of_its_folder_and_keeps_its_name(tmp_path):
    sub = folder_with(tmp_path / "exercises", {"counter.py": "top\n", "x/bank.py": "deeper\n"})
    (tmp_path / "work").mkdir()
    copy = intake.copy_modules(sub, tmp_path / "work")
    assert copy == tmp_path / "work" / "exercises"
    assert sorted(p.name for p in copy.iterdir()) == ["counter.py"]


def test_a_zip_refuses_climbing_absolute_and_symlinked_members(tmp_path):
    archive_path = tmp_path / "sub.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        archive.writestr("../counter.py", "escaped\n")
        archive.writestr("/bank.py", "absolute\n")
        link = zipfile.ZipInfo("start_join.py")
        link.external_attr = 0o120777 << 16  # a symlink member: its "data" is the target
        archive.writestr(link, "/etc/passwd")
        archive.writestr("__MACOSX/sub/downloader.py", "resource fork\n")
        archive.writestr("sub/worker_pool.py", "right\n")
    taken = intake.take_all(archive_path)
    assert taken.modules == {"worker_pool.py": b"right\n"}
    assert {name: r.why for name, r in taken.refused.items()} == {
        "counter.py": CLIMBS,
        "bank.py": CLIMBS,
        "start_join.py": SYMLINK,
    }  # __MACOSX is a Mac's folder of resource forks: not refused, never looked at


def test_a_refused_copy_is_not_reported_when_another_copy_is_taken(tmp_path):
    sub = folder_with(tmp_path / "sub", {"inner/counter.py": "right\n"})
    (sub / "counter.py").symlink_to(sub / "inner" / "counter.py")
    taken = intake.take_all(sub)
    assert (taken.modules, taken.refused) == ({"counter.py": b"right\n"}, {})


def test_a_zip_with_too_many_entries_is_refused_whole(tmp_path):
    archive_path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive_path, "w") as archive:
        for i in range(intake.MAX_ZIP_MEMBERS + 1):
            archive.writestr(f"f{i}", "")
    with pytest.raises(ValueError, match="entries"):
        intake.take(archive_path)


def test_a_notebooks_module_behind_a_symlink_is_not_graded_from_elsewhere(tmp_path):
    """`%%writefile counter.py` makes a regular file; a symlink to a solution does not move
    the grading to the solution's folder: the module is missing from the notebook's."""
    (tmp_path / COUNTER.module).symlink_to(SOLUTIONS / COUNTER.module)
    first = COUNTER.checks()[0]
    with pytest.raises(notebook.NotebookCheckFailed, match="is missing"):
        notebook.check(COUNTER.id, first.name, tmp_path / COUNTER.module)

"""The grading parent writes the kit's .pyc files, so grading processes never compile it."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from graders.engine import bytecode, process


def _package(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "kit"
    (root / "engine").mkdir(parents=True)
    module = root / "engine" / "guard_like.py"
    module.write_text("VALUE = 1\n")
    return root, Path(importlib.util.cache_from_source(str(module)))


def test_writes_missing_bytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    root, cached = _package(tmp_path)
    bytecode.compile_kit(root)
    assert cached.is_file()


def test_once_per_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    root, cached = _package(tmp_path)
    bytecode.compile_kit(root)
    cached.unlink()
    bytecode.compile_kit(root)
    assert not cached.exists(), "the second call walks the tree again"


def test_respects_no_bytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    root, cached = _package(tmp_path)
    bytecode.compile_kit(root)
    assert not cached.exists()


def test_unwritable_kit_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    root, cached = _package(tmp_path)
    cached.parent.write_text("a file where __pycache__ would go: no .pyc fits, even for root")
    bytecode.compile_kit(root)
    assert not cached.exists()
    assert capsys.readouterr() == ("", "")


def _installed_without_bytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package on sys.path as uv installs it by default: sources only."""
    package = tmp_path / "site" / "fresh_pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from fresh_pkg.part import VALUE\n")
    (package / "part.py").write_text("VALUE = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    return package


def test_compiles_an_installed_package_that_has_no_bytecode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", False)
    package = _installed_without_bytecode(tmp_path, monkeypatch)
    bytecode.compile_packages(["fresh_pkg", "no_such_package"])
    for name in ("__init__.py", "part.py"):
        assert Path(importlib.util.cache_from_source(str(package / name))).is_file()
    assert "fresh_pkg" not in sys.modules, "found, not imported"


def test_packages_respect_no_bytecode(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "dont_write_bytecode", True)
    package = _installed_without_bytecode(tmp_path, monkeypatch)
    bytecode.compile_packages(["fresh_pkg"])
    assert not (package / "__pycache__").exists()


IMPORTS_OF_A_GRADING_PROCESS = """
import sys, sysconfig
before = set(sys.modules)
from graders.engine import zygote
from graders.tasks import TASKS
zygote._preload()
for task in TASKS:
    task.checks(hidden=True)
site = sysconfig.get_paths()["purelib"]
print(*sorted({
    name.partition(".")[0]
    for name, module in list(sys.modules.items())
    if name not in before and (getattr(module, "__file__", None) or "").startswith(site)
}))
"""


def test_grading_packages_name_every_package_a_grading_process_imports() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS_OF_A_GRADING_PROCESS],
        capture_output=True,
        text=True,
        check=True,
        env=process.environment(),
    )
    found = set(done.stdout.split())
    assert "requests" in found
    assert found <= set(bytecode.GRADING_PACKAGES)

"""The grading parent writes the kit's .pyc files, so grading processes never compile it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from graders.engine import bytecode


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

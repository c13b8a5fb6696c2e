"""The kit's own .pyc files, written by the grading parent before it starts a grading process.

Grading processes run with PYTHONDONTWRITEBYTECODE (graders.engine.process.environment): no
.pyc litter in a learner's folder, and under bwrap the kit is read-only anyway. So the modules
that only a grading process imports (the guard, the worker, the HTTP adapter, the hidden
suites), and any suite edited since the parent last imported it, were compiled from source by
every zygote and by every fresh worker: about 35 ms of CPU a process, nine times a submission
under bwrap. The parent, which may write, compiles whatever is missing or stale first; when all
is current that costs one stat per module (about 8 ms for the whole kit).

The same holds for the packages only grading processes import (requests and its own, and
requests_mock): pip writes their bytecode when it installs them, uv does not unless asked, so in
the instructor's .venv every grading process compiled them from source. The parent compiles a
package that has no bytecode at all (one stat per package when it has).
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from collections.abc import Iterable
from pathlib import Path

from graders import paths

# What a grading process imports from site-packages (tests/test_bytecode.py keeps it complete).
GRADING_PACKAGES = ("requests", "requests_mock", "urllib3", "idna", "charset_normalizer", "certifi")

_lock = threading.Lock()
_done: set[Path] = set()


def prepare() -> None:
    """Before a grading process starts: the kit's bytecode, and the grading packages' where
    their installer wrote none."""
    compile_kit()
    compile_packages()


def compile_kit(root: Path = paths.GRADERS) -> None:
    """Write the .pyc of every module under `root` that has none or an outdated one, once per
    process. Does nothing where the caller asked for no bytecode (PYTHONDONTWRITEBYTECODE,
    -B), and quietly leaves what it cannot write (a read-only kit): the grading processes then
    compile from source, as they always could."""
    with _lock:
        if root in _done or sys.dont_write_bytecode:
            return
        _done.add(root)
        import compileall  # here: grading processes import this module, never call this

        compileall.compile_dir(root, quiet=2)


def compile_packages(names: Iterable[str] = GRADING_PACKAGES) -> None:
    """Write the bytecode of each installed package in `names` whose `__init__` has none (an
    installer compiles a whole package or none of it), once per package and process; as
    compile_kit, nothing under PYTHONDONTWRITEBYTECODE and quietly nothing where it cannot."""
    with _lock:
        if sys.dont_write_bytecode:
            return
        for name in names:
            spec = importlib.util.find_spec(name)  # a top-level name: found, not imported
            if spec is None or spec.origin is None or not spec.submodule_search_locations:
                continue
            folder = Path(spec.origin).parent
            if folder in _done or Path(importlib.util.cache_from_source(spec.origin)).exists():
                continue
            _done.add(folder)
            import compileall

            compileall.compile_dir(folder, quiet=2)

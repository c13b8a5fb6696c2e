"""The kit's own .pyc files, written by the grading parent before it starts a grading process.

Grading processes run with PYTHONDONTWRITEBYTECODE (graders.engine.process.environment): no
.pyc litter in a learner's folder, and under bwrap the kit is read-only anyway. So the modules
that only a grading process imports (the guard, the worker, the HTTP adapter, the hidden
suites), and any suite edited since the parent last imported it, were compiled from source by
every zygote and by every fresh worker: about 35 ms of CPU a process, nine times a submission
under bwrap. The parent, which may write, compiles whatever is missing or stale first; when all
is current that costs one stat per module (about 8 ms for the whole kit).
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from graders import paths

_lock = threading.Lock()
_done: set[Path] = set()


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

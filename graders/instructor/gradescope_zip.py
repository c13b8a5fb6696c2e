"""The Gradescope autograder zip (`make gradescope OUT=autograder.zip`).

Gradescope unpacks the zip into /autograder/source, runs `setup.sh` once (as root) to build the
image and, for every submission, `run_autograder` (copied to /autograder/run_autograder). Both
sit at the zip's root (templates/gradescope/). The rest is only what grading needs, from an
allow-list like the learner's release: graders/ with every task's hidden checks, the learner's
pinned requirements (what setup.sh installs), the Makefile (its `.venv` set-up) and
pyproject.toml. Never fixtures/ (the reference solutions), tests/, exercises/ (submissions
bring their own modules), .venv, build/ or bytecode.

The zip is reproducible: members in sorted order with a fixed timestamp, so the same kit gives
the same bytes (an instructor can tell whether the uploaded autograder is current).
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

from graders.paths import GRADERS, KIT_ROOT, REQUIREMENTS, TEMPLATES

SCRIPTS = ("setup.sh", "run_autograder")  # at the zip's root, executable
TOP_FILES = ("Makefile", "pyproject.toml")
REQUIREMENT_FILES = ("learner.txt",)
NEVER = ("fixtures/", "tests/", "exercises/", ".venv/", "build/", "docs/", "templates/")
FIXED_TIME = (2020, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Built:
    path: Path
    names: list[str]  # every member, in zip order
    size: int  # bytes of the zip file


def members(root: Path = KIT_ROOT) -> dict[str, Path]:
    """Every member of the zip: its name in the zip -> its source file."""
    files = {name: root / TEMPLATES.relative_to(KIT_ROOT) / "gradescope" / name for name in SCRIPTS}
    graders = root / GRADERS.relative_to(KIT_ROOT)
    for path in sorted(graders.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            files[path.relative_to(root).as_posix()] = path
    for name in REQUIREMENT_FILES:
        source = root / REQUIREMENTS.relative_to(KIT_ROOT) / name
        files[source.relative_to(root).as_posix()] = source
    for name in TOP_FILES:
        files[name] = root / name
    leaked = sorted(name for name in files if name.startswith(NEVER))
    if leaked:
        raise ValueError(f"not for the autograder: {', '.join(leaked)}")
    return files


def build(out: str | Path, root: Path = KIT_ROOT) -> Built:
    """Write the autograder zip to `out` (replacing it); what it holds."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = members(root)
    partial = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files, key=lambda n: (n not in SCRIPTS, n)):
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (0o100755 if name in SCRIPTS else 0o100644) << 16
            archive.writestr(info, files[name].read_bytes())
    partial.replace(out)
    with zipfile.ZipFile(out) as archive:
        names = archive.namelist()
    return Built(out, names, out.stat().st_size)

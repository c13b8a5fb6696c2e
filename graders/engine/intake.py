"""Taking the exercise modules out of a submission: the only code that does.

Whatever grades a learner's work (`make check`, `make grade`, a notebook's test cells,
`pytest --threadkit`) grades a private copy of modules taken here, by one set of rules:

- only files named like a registered task's module (graders.tasks.TASKS), so a conftest.py, a
  pytest.ini, a planted results.json or a graders/ package never comes along;
- regular files only, never through a symlink (the file, or any folder between it and the
  submission's top), never a path that climbs out ('..') or starts at '/';
- at most MAX_MODULE_BYTES each (a bigger one is not taken);
- from a folder or a .zip, at the shallowest level the name appears (then the first by path),
  within MAX_LEVELS levels (the top and two folders down): a zip often holds one top folder.
  A zip is read member by member with the size cap, at most MAX_ZIP_MEMBERS entries, so a zip
  bomb costs nothing.

`make grade` takes from the handed-in folder or zip (graders.instructor.batch.isolate); every
grading process then takes from the folder it is given at its top only (`copy_modules`: what a
message names, `exercises/counter.py`, is then where the learner's file is); a single file
given to `make check` is read by the same rules (`read_one`).
"""

from __future__ import annotations

import os
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from graders.tasks import TASKS

MAX_MODULE_BYTES = 256 * 1024
MAX_LEVELS = 3  # the submission's top, and the folders one and two down
MAX_ZIP_MEMBERS = 2000

# level, path inside the submission, module name, contents (or why the file was not taken)
Found = tuple[int, str, str, "bytes | Refusal"]


@dataclass(frozen=True)
class Refusal:
    """A file with a module's name that the rules did not take, and why (for the report)."""

    path: str  # inside the submission
    why: str

    def sentence(self) -> str:
        return f"{self.path} was not taken: {self.why}"


@dataclass
class Taken:
    """What a submission holds: the modules taken, by file name, and for each module name
    that was not taken from anywhere, why its first copy was refused."""

    modules: dict[str, bytes] = field(default_factory=dict)
    refused: dict[str, Refusal] = field(default_factory=dict)


def module_names() -> set[str]:
    """The file names a submission's modules may have: the registry's, nothing else."""
    return {task.module for task in TASKS}


def take(source: Path, *, levels: int = MAX_LEVELS) -> dict[str, bytes]:
    """The exercise modules in `source` (a folder, or a .zip file), by module file name.

    `levels` is how many levels to look at (1: the top only). Raises zipfile.BadZipFile,
    OSError or ValueError when a zip cannot be read.
    """
    return take_all(source, levels=levels).modules


def take_all(source: Path, *, levels: int = MAX_LEVELS) -> Taken:
    """`take`, and why each module that was handed in but not taken was refused (a symlink,
    too big, a path that climbs out): the report then says so instead of "missing"."""
    wanted = module_names()
    if source.is_dir():
        return _shallowest(_folder_members(source, wanted, levels))
    return _shallowest(_zip_members(source, wanted, levels))


def copy_modules(submission: Path, workdir: Path) -> Path:
    """A private copy of the modules at the top of the folder `submission`, for one grading
    process, in `workdir`. The copy keeps the folder's name, so messages still say
    `exercises/counter.py`."""
    copy = workdir / (submission.resolve().name or "submission")
    copy.mkdir()
    write(take(submission, levels=1) if submission.is_dir() else {}, copy)
    return copy


def write(modules: dict[str, bytes], into: Path) -> None:
    """Write taken modules into the folder `into` (created if needed)."""
    into.mkdir(parents=True, exist_ok=True)
    for name, data in modules.items():
        (into / name).write_bytes(data)


def read_one(path: Path) -> bytes:
    """One file a learner names (`make check SUBMISSION=file.py TASK=id`), by the same rules;
    ValueError saying why it cannot be taken."""
    data = _read_regular(path)
    if data is None:
        raise ValueError(f"{path} cannot be checked: {_why_not(str(path))}")
    return data


def _shallowest(members: Iterator[Found]) -> Taken:
    """For each module name, the copy nearest the top (then the first by path); a refused
    copy only where no copy was taken (the nearest the top, again)."""
    chosen: dict[str, tuple[int, str, bytes]] = {}
    refused: dict[str, tuple[int, str, Refusal]] = {}
    for level, path, module, data in members:
        pick = chosen if isinstance(data, bytes) else refused
        if module not in pick or (level, path) < pick[module][:2]:
            pick[module] = (level, path, data)  # type: ignore[assignment]
    return Taken(
        {module: data for module, (_, _, data) in sorted(chosen.items())},
        {m: why for m, (_, _, why) in sorted(refused.items()) if m not in chosen},
    )


def _folder_members(root: Path, wanted: set[str], levels: int) -> Iterator[Found]:
    """Modules in `root`, level by level; never into a symlinked folder, and no deeper once
    every wanted name has been found (a deeper copy would never be chosen)."""
    level, missing = [root], set(wanted)
    for below in range(levels):
        found_here: set[str] = set()
        folders: list[Path] = []
        for folder in level:
            for entry in _entries(folder):
                if entry.is_dir(follow_symlinks=False):
                    folders.append(Path(entry.path))
                elif entry.name in wanted:
                    inside = Path(entry.path).relative_to(root).as_posix()
                    data = _read_regular(Path(entry.path))
                    if data is None:
                        yield below, inside, entry.name, Refusal(inside, _why_not(entry.path))
                        continue
                    found_here.add(entry.name)
                    yield below, inside, entry.name, data
        missing -= found_here
        if not missing:
            return
        level = folders


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as entries:
            return sorted(entries, key=lambda e: e.name)
    except OSError:
        return []


def _read_regular(path: Path) -> bytes | None:
    """The file's bytes if it is a regular file (not a symlink) of at most MAX_MODULE_BYTES,
    checked on the open file itself, so nothing can be swapped in between; else None."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_MODULE_BYTES:
            return None
        with os.fdopen(os.dup(fd), "rb") as f:
            data = f.read(MAX_MODULE_BYTES + 1)
    except OSError:
        return None
    finally:
        os.close(fd)
    return data if len(data) <= MAX_MODULE_BYTES else None


def _too_big() -> str:
    return f"it is over {MAX_MODULE_BYTES // 1024} KiB"


def _why_not(path: str) -> str:
    """Why _read_regular took nothing from `path`, in words for the report."""
    try:
        info = os.lstat(path)
    except OSError as exc:
        return f"it could not be read ({exc.strerror})"
    if stat.S_ISLNK(info.st_mode):
        return "it is a symlink, and symlinks are not followed"
    if not stat.S_ISREG(info.st_mode):
        return "it is not a regular file"
    if info.st_size > MAX_MODULE_BYTES:
        return _too_big()
    return "it could not be read"


def _zip_refusal(info: zipfile.ZipInfo, path: PurePosixPath) -> str:
    """Why a zip member with a module's name is not taken ("" if it is)."""
    if path.is_absolute() or ".." in path.parts:
        return "its path leaves the submission ('..' or a leading '/')"
    if stat.S_ISLNK(info.external_attr >> 16):
        return "it is a symlink, and symlinks are not followed"
    if info.file_size > MAX_MODULE_BYTES:
        return _too_big()
    return ""


def _zip_members(source: Path, wanted: set[str], levels: int) -> Iterator[Found]:
    with zipfile.ZipFile(source) as archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise ValueError(f"more than {MAX_ZIP_MEMBERS} entries")
        for info in infos:
            path = PurePosixPath(info.filename.replace("\\", "/"))
            below = len(path.parts) - 1
            if (
                info.is_dir()
                or path.name not in wanted
                or below >= levels
                or path.parts[0] == "__MACOSX"
            ):
                continue
            if why := _zip_refusal(info, path):
                yield below, path.as_posix(), path.name, Refusal(path.as_posix(), why)
                continue
            with archive.open(info) as member:
                data = member.read(MAX_MODULE_BYTES + 1)
            if len(data) <= MAX_MODULE_BYTES:
                yield below, path.as_posix(), path.name, data
            else:  # the header lied about the size
                yield below, path.as_posix(), path.name, Refusal(path.as_posix(), _too_big())

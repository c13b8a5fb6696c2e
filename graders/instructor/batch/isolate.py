"""Step 2, isolate: a private folder holding only the learner's exercise modules, screened.

Only files named like a registered task's module are taken (so a conftest.py, a pytest.ini, a
fake results.json or a planted graders/ package never comes along), from the folder or the zip,
at the shallowest depth they appear (a zip often holds one top folder), never through a
symlink, never bigger than MAX_MODULE_BYTES, never a path that climbs out ('..'). A zip is read
member by member with a size cap, so a zip bomb costs nothing. The digest of what was taken
identifies the submission for the resume logic; the screen's findings travel with it.
"""

from __future__ import annotations

import hashlib
import stat
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from graders.instructor.batch.load import Submission
from graders.instructor.batch.screen import Finding, screen
from graders.tasks import TASKS

MAX_MODULE_BYTES = 256 * 1024
MAX_DEPTH = 3
MAX_ZIP_MEMBERS = 2000


@dataclass
class Prepared:
    """A submission ready to run: its private folder, digest, and what the screen found."""

    submission: Submission
    folder: Path
    digest: str
    findings: dict[str, list[Finding]] = field(default_factory=dict)  # by module file name
    problem: str = ""  # why nothing could be taken (a broken zip), for every task's feedback

    @property
    def learner(self) -> str:
        return self.submission.learner

    def has(self, module: str) -> bool:
        return (self.folder / module).is_file()


def prepare(submission: Submission, into: Path) -> Prepared:
    """Copy the submission's exercise modules into `into` (created) and screen them."""
    into.mkdir(parents=True, exist_ok=True)
    wanted = {t.module for t in TASKS}
    problem = ""
    try:
        found = dict(_best(_members(submission.source, wanted)))
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        found, problem = {}, f"the submission could not be read ({exc})"
    digest = hashlib.sha256()
    findings: dict[str, list[Finding]] = {}
    for module in sorted(found):
        data = found[module]
        (into / module).write_bytes(data)
        digest.update(module.encode() + b"\0" + hashlib.sha256(data).digest())
        flagged = screen(data.decode("utf-8", errors="replace"))
        if flagged:
            findings[module] = flagged
    return Prepared(submission, into, digest.hexdigest(), findings, problem)


def _best(members: Iterator[tuple[int, str, str, bytes]]) -> Iterator[tuple[str, bytes]]:
    """For each module name, the copy nearest the top (then the first by path)."""
    chosen: dict[str, tuple[int, str, bytes]] = {}
    for depth, path, module, data in members:
        if module not in chosen or (depth, path) < chosen[module][:2]:
            chosen[module] = (depth, path, data)
    for module, (_, _, data) in chosen.items():
        yield module, data


def _members(source: Path, wanted: set[str]) -> Iterator[tuple[int, str, str, bytes]]:
    if source.is_dir():
        yield from _folder_members(source, wanted)
    else:
        yield from _zip_members(source, wanted)


def _folder_members(root: Path, wanted: set[str]) -> Iterator[tuple[int, str, str, bytes]]:
    for depth in range(MAX_DEPTH):
        for path in sorted(root.glob("/".join(["*"] * (depth + 1)))):
            rel = path.relative_to(root)
            if path.name not in wanted or any(p.is_symlink() for p in _chain(root, rel)):
                continue
            if path.is_file() and path.stat().st_size <= MAX_MODULE_BYTES:
                yield depth, rel.as_posix(), path.name, path.read_bytes()


def _chain(root: Path, rel: Path) -> Iterator[Path]:
    """Every path from root down to root/rel (to refuse a symlink anywhere on the way)."""
    current = root
    for part in rel.parts:
        current = current / part
        yield current


def _zip_members(source: Path, wanted: set[str]) -> Iterator[tuple[int, str, str, bytes]]:
    with zipfile.ZipFile(source) as archive:
        infos = archive.infolist()
        if len(infos) > MAX_ZIP_MEMBERS:
            raise ValueError(f"more than {MAX_ZIP_MEMBERS} entries")
        for info in infos:
            path = PurePosixPath(info.filename.replace("\\", "/"))
            mode = info.external_attr >> 16
            depth = len(path.parts) - 1
            if (
                info.is_dir()
                or path.name not in wanted
                or path.is_absolute()
                or ".." in path.parts
                or stat.S_ISLNK(mode)
                or depth >= MAX_DEPTH
                or info.file_size > MAX_MODULE_BYTES
                or path.parts[0] == "__MACOSX"
            ):
                continue
            with archive.open(info) as member:
                data = member.read(MAX_MODULE_BYTES + 1)
            if len(data) <= MAX_MODULE_BYTES:
                yield depth, path.as_posix(), path.name, data

"""Step 1, load: the submissions in a folder, one per learner.

Every sub-folder is one learner's submission, named by learner id; so is every .zip file (the
id is its name without .zip). Hidden entries (.git, .DS_Store) are skipped. Nothing is read
or unpacked here: that is the isolate step's job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

_UNSAFE = re.compile(r"[^A-Za-z0-9._@+-]")


@dataclass(frozen=True)
class Submission:
    """One learner's work: a folder laid out like exercises/, or a .zip of one."""

    learner: str  # safe as a file name and a CSV cell
    source: Path


def find_submissions(root: Path) -> list[Submission]:
    """The submissions in `root`, sorted by learner id (ValueError if `root` is no folder)."""
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder of submissions")
    found: dict[str, Submission] = {}
    for entry in sorted(root.iterdir(), key=lambda p: (p.is_file(), p.name)):
        if entry.name.startswith(".") or entry.is_symlink():
            continue
        if entry.is_dir():
            learner = learner_id(entry.name)
        elif entry.is_file() and entry.suffix.lower() == ".zip":
            learner = learner_id(entry.stem)
            if learner in found:  # alice/ and alice.zip: keep both, apart
                learner = learner_id(entry.name)
        else:
            continue
        found[learner] = Submission(learner, entry)
    return sorted(found.values(), key=lambda s: s.learner)


def learner_id(name: str) -> str:
    """A learner id safe for file names and CSV cells (unsafe characters become '_')."""
    cleaned = _UNSAFE.sub("_", name).strip("._") or "_"
    return cleaned[:100]

"""Step 2, isolate: a private folder holding only the learner's exercise modules, screened.

The modules are taken from the folder or the zip by graders.engine.intake, the one place with
the rules (registry names, regular files, no symlink, no '..', a size cap, zips read member by
member, the shallowest copy within three levels). Here the digest of what was taken identifies
the submission for the resume logic, and the screen's findings travel with it.
"""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from graders.engine import intake
from graders.instructor.batch.load import Submission
from graders.instructor.batch.screen import Finding, screen


@dataclass
class Prepared:
    """A submission ready to run: its private folder, digest, and what the screen found."""

    submission: Submission
    folder: Path
    digest: str
    findings: dict[str, list[Finding]] = field(default_factory=dict)  # by module file name
    problem: str = ""  # why nothing could be taken (a broken zip), for every task's feedback
    refused: dict[str, intake.Refusal] = field(default_factory=dict)  # handed in, not taken

    @property
    def learner(self) -> str:
        return self.submission.learner

    def has(self, module: str) -> bool:
        return (self.folder / module).is_file()


def prepare(submission: Submission, into: Path) -> Prepared:
    """Copy the submission's exercise modules into `into` (created) and screen them."""
    problem = ""
    try:
        taken = intake.take_all(submission.source)
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        taken, problem = intake.Taken(), f"the submission could not be read ({exc})"
    found = taken.modules
    intake.write(found, into)
    digest = hashlib.sha256()
    findings: dict[str, list[Finding]] = {}
    for module in sorted(found):
        data = found[module]
        digest.update(module.encode() + b"\0" + hashlib.sha256(data).digest())
        flagged = screen(data.decode("utf-8", errors="replace"))
        if flagged:
            findings[module] = flagged
    return Prepared(submission, into, digest.hexdigest(), findings, problem, taken.refused)

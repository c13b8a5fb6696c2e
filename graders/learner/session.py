"""The little the kit remembers between a learner's commands: hints shown, the task next up.

Kept as small JSON files in `.threadkit/` in the learner's folder (the kit's root). The folder
holds its own `.gitignore` (`*`), as pytest's cache does, so it never ends up in a learner's
commits whatever their repository ignores. Losing it loses nothing that matters.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from graders.paths import KIT_ROOT

DEFAULT_DIR = KIT_ROOT / ".threadkit"


class LearnerState:
    """Named JSON documents in one self-ignoring folder."""

    def __init__(self, folder: str | Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else DEFAULT_DIR

    def read(self, name: str) -> dict[str, Any]:
        """The document, or {} if it is missing or unreadable."""
        try:
            data = json.loads((self.folder / f"{name}.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def write(self, name: str, data: dict[str, Any]) -> None:
        """Replace the document atomically (a crash leaves the old one or the new one)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        ignore = self.folder / ".gitignore"
        if not ignore.exists():
            ignore.write_text("# threadkit's memory of your hints; not part of your work\n*\n")
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=f".{name}-", suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f, indent=2, sort_keys=True)
        os.replace(tmp, self.folder / f"{name}.json")

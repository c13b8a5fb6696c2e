"""Where the kit's files are: the one module that knows the tree's layout.

Every other module asks here (or asks a `Task` for its `files()`), so that moving a folder is
one edit. Paths are absolute, resolved from this file.
"""

from __future__ import annotations

from pathlib import Path

KIT_ROOT = Path(__file__).resolve().parent.parent
GRADERS = KIT_ROOT / "graders"
TASKS_DIR = GRADERS / "tasks"
EXERCISES = KIT_ROOT / "exercises"
FIXTURES = KIT_ROOT / "fixtures"
HOSTILE = FIXTURES / "hostile"
TEMPLATES = KIT_ROOT / "templates"
REQUIREMENTS = KIT_ROOT / "requirements"
DOCS = KIT_ROOT / "docs"
BUILD = KIT_ROOT / "build"

"""fixtures/mutation/equivalent.txt: survivors that behave like the original.

One mutant a line, `<mutant id>  <reason>`: the id as `python -m graders mutate --list`
prints it, then why the mutant's behaviour is the same as the solution's as far as the task
text goes. Blank lines and lines starting with `#` are ignored. Every other survivor is a
missing check.
"""

from __future__ import annotations

from pathlib import Path

from graders.paths import FIXTURES

EQUIVALENT_FILE = FIXTURES / "mutation" / "equivalent.txt"


def read_equivalent(path: Path = EQUIVALENT_FILE) -> dict[str, str]:
    """{mutant id: reason}; a ValueError for a line without a reason or a repeated id."""
    listed: dict[str, str] = {}
    if not path.is_file():
        return listed
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = line.split(None, 1)
        if len(parts) < 2:
            raise ValueError(f"{path}:{number}: a listed mutant needs a reason: {line.strip()}")
        mutant_id, reason = parts[0], parts[1].strip()
        if mutant_id in listed:
            raise ValueError(f"{path}:{number}: {mutant_id} is listed twice")
        listed[mutant_id] = reason
    return listed


def stale(listed: dict[str, str], generated: set[str], tasks: set[str]) -> list[str]:
    """Listed ids of the given tasks that no longer name a mutant (the code or operator
    changed): their entries should go."""
    return sorted(i for i in listed if i.split("/", 1)[0] in tasks and i not in generated)

"""The solution files, their mutants with stable ids, and the diff of one mutant.

A mutant's id is `task/solution/operator/function/hash[~variant]#k`: the file it comes from
(the reference solution is named by its module, an alternative by its file name), the
operator, the function holding the mutated statement, a short hash of that statement's
source (ast.unparse, so formatting and comments do not count), the operator's variant at
that site, and k, the occurrence among sites sharing all of that. Editing another statement
or function leaves the id alone.

Mutants are written with ast.unparse; one that does not compile, or whose source is the
original's or an earlier mutant's of the same file, is dropped.
"""

from __future__ import annotations

import ast
import copy
import difflib
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from graders.instructor.mutation.operators import OPERATORS, Operator, Site, get_operator
from graders.instructor.mutation.walk import FUNCTIONS, MODULE, Place, statement_key
from graders.paths import KIT_ROOT
from graders.tasks import TASKS, Task, get_task

GIVEN = re.compile(r"\bGiven\b")


@dataclass(frozen=True)
class SolutionFile:
    """A correct solution of a task: the reference one or an alternative."""

    task: Task
    path: Path

    @property
    def name(self) -> str:
        """`counter` for the reference solution of counter.py, `executor` for an alternative."""
        if self.path == self.task.files().solution:
            return Path(self.task.module).stem  # ids stay as they were before the tree moved
        return self.path.stem

    def original(self) -> str:
        """The solution as the mutants are written: through ast.unparse."""
        return ast.unparse(ast.parse(self.path.read_text(), str(self.path))) + "\n"


@dataclass(frozen=True)
class Mutant:
    id: str
    task: str
    solution: SolutionFile
    operator: str
    function: str  # qualified name of the function holding the mutated statement
    line: int  # of that statement in the solution file
    source: str


def solution_files(task_id: str | None = None) -> list[SolutionFile]:
    """Every task's reference solution then its alternatives, in registry order."""
    tasks = [get_task(task_id)] if task_id else list(TASKS)
    files = []
    for task in tasks:
        files.append(SolutionFile(task, task.files().solution))
        alternatives = sorted(task.files().alternatives.glob("*.py"))
        files += [SolutionFile(task, path) for path in alternatives]
    return files


def given_functions(task: Task) -> frozenset[str]:
    """The functions the task's stub gives (their docstring says "Given"): never mutated, as
    the learner is told not to change them and the checks may stand in for them."""
    stub = task.files().stub
    if not stub.is_file():
        return frozenset()
    tree = ast.parse(stub.read_text())
    return frozenset(
        node.name
        for node in tree.body
        if isinstance(node, FUNCTIONS) and GIVEN.search(ast.get_docstring(node) or "")
    )


def mutants_of(solution: SolutionFile) -> list[Mutant]:
    """Every distinct, compiling mutant of one solution file, operator by operator."""
    tree = ast.parse(solution.path.read_text(), str(solution.path))
    skip = given_functions(solution.task)
    seen = {ast.unparse(tree) + "\n"}
    found = []
    for op in OPERATORS:
        for k, (mutant_id, site) in enumerate(_ids(solution, op, tree, skip)):
            source = _mutated(tree, op, k, skip)
            if source is None or source in seen:
                continue
            seen.add(source)
            function = _function_of(site.place)
            found.append(
                Mutant(mutant_id, solution.task.id, solution, op.name, function, site.line, source)
            )
    return found


def all_mutants(task_id: str | None = None) -> list[Mutant]:
    """The mutants of every solution file of one task, or of every task."""
    return [m for solution in solution_files(task_id) for m in mutants_of(solution)]


def _ids(
    solution: SolutionFile, op: Operator, tree: ast.Module, skip: frozenset[str]
) -> Iterator[tuple[str, Site]]:
    """(id, site) for each of the operator's sites in the unmutated tree, in order."""
    seen: Counter[str] = Counter()
    for site in op.find(tree, skip):
        function = _function_of(site.place).replace(MODULE, "module")
        key = statement_key(site.place.stmt, whole=site.whole)
        variant = f"~{site.variant}" if site.variant else ""
        stem = f"{solution.task.id}/{solution.name}/{op.name}/{function}/{key}{variant}"
        yield f"{stem}#{seen[stem]}", site
        seen[stem] += 1


def _function_of(place: Place) -> str:
    """The function a site belongs to: a def's header (its defaults) belongs to the def."""
    if isinstance(place.stmt, (*FUNCTIONS, ast.ClassDef)):
        prefix = "" if place.function == MODULE else place.function + "."
        return prefix + place.stmt.name
    return place.function


def _mutated(tree: ast.Module, op: Operator, k: int, skip: frozenset[str]) -> str | None:
    """The source of the tree with the operator's k-th site mutated; None if it does not
    compile."""
    mutant = copy.deepcopy(tree)
    op.find(mutant, skip)[k].apply()
    ast.fix_missing_locations(mutant)
    try:
        source = ast.unparse(mutant) + "\n"
        compile(source, "<mutant>", "exec")
    except (SyntaxError, ValueError, TypeError, AttributeError):
        return None
    return source


def mutations(source: str, operator: str, skip: frozenset[str] = frozenset()) -> list[str | None]:
    """Every rewrite one operator makes of a module's source, in site order (None: it does
    not compile). No ids, no dedupe: for trying an operator on a snippet."""
    tree = ast.parse(source)
    op = get_operator(operator)
    return [_mutated(tree, op, k, skip) for k in range(len(op.find(tree, skip)))]


def find_mutant(mutant_id: str) -> Mutant:
    """The mutant with this id; a ValueError naming the near ones otherwise."""
    task_id = mutant_id.split("/", 1)[0]
    mutants = all_mutants(task_id)
    for mutant in mutants:
        if mutant.id == mutant_id:
            return mutant
    near = difflib.get_close_matches(mutant_id, [m.id for m in mutants], n=3)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise ValueError(f"no mutant {mutant_id!r}{hint}")


def diff(mutant: Mutant) -> str:
    """The unified diff from the (unparsed) solution to the mutant."""
    original = mutant.solution.original().splitlines(keepends=True)
    mutated = mutant.source.splitlines(keepends=True)
    where = mutant.solution.path.relative_to(KIT_ROOT)
    return "".join(difflib.unified_diff(original, mutated, f"a/{where}", f"b/{mutant.id}"))

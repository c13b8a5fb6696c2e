"""The solution cell's code: the exercise stub, with the reference solution in nbgrader regions.

`nbgrader generate_assignment` replaces each `### BEGIN SOLUTION` ... `### END SOLUTION` region
with one fixed text, which the course sets to CODE_STUB (a comment). `merge` places the regions
so that what the learners get is the exercise file itself, line for line, plus that comment:

- a function whose body differs keeps the stub's signature, docstring, comments and the
  statements both versions start with; then comes the region (the rest of the solution's body,
  closed by a `return` when it could fall through); then the rest of the stub's body, which the
  solution never reaches and the release keeps: a `raise NotImplementedError`, or given code the
  learner must change (the racy loop of counter_lock);
- statements only the solution has (`lock = threading.Lock()`) are a region where the solution
  has them; any other statement that differs keeps the stub's text and is followed by a region
  with the solution's (the later definition wins);
- statements only the stub has stay as they are. The module docstring is left out: it is the
  notebook's task text.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
CODE_STUB = "# YOUR CODE HERE"  # ClearSolutions.code_stub in the course's nbgrader_config.py

_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_EXITS = (ast.Return, ast.Raise)


@dataclass(frozen=True)
class Source:
    """A parsed module: its lines, its docstring, and its top-level statements after that."""

    lines: list[str]
    docstring: str
    body: list[ast.stmt]
    start: int  # index of the first line after the docstring and the blank lines that follow

    @classmethod
    def parse(cls, text: str, name: str) -> Source:
        tree = ast.parse(text, filename=name)
        lines = text.splitlines()
        body, start = tree.body, 0
        if _docstring_node(body):
            start = body[0].end_lineno or 0
            body = body[1:]
        while start < len(lines) and not lines[start].strip():
            start += 1
        return cls(lines, ast.get_docstring(tree) or "", body, start)

    def text(self, first: ast.stmt, last: ast.stmt) -> list[str]:
        """The lines from `first` (with the comments right above it) to the end of `last`."""
        top = first_line(first)
        while top > 0 and self.lines[top - 1].strip().startswith("#"):
            top -= 1
        return self.lines[top : last.end_lineno]


@dataclass(frozen=True)
class Region:
    """Solution code that goes before stub line `at`, at the given indentation."""

    at: int
    indent: str
    lines: tuple[str, ...]


def merge(stub_text: str, solution_text: str) -> tuple[Source, list[Region]]:
    """The stub and the regions that turn it into the solution."""
    stub = Source.parse(stub_text, "stub")
    solution = Source.parse(solution_text, "solution")
    return stub, list(_regions(stub, solution))


def render(stub: Source, regions: Sequence[Region], *, solved: bool) -> str:
    """The cell's code: with solution regions (`solved`), or as nbgrader releases it."""
    out: list[str] = []
    for index in range(stub.start, len(stub.lines) + 1):
        for region in (r for r in regions if r.at == index):
            if solved:
                out += [region.indent + BEGIN, *region.lines, region.indent + END]
            else:
                out.append(region.indent + CODE_STUB)
        if index < len(stub.lines):
            out.append(stub.lines[index])
    return "\n".join(out) + "\n"


def solution_cell_code(stub_text: str, solution_text: str) -> str:
    """The stub with the solution in regions; a ValueError if the result would not compile."""
    stub, regions = merge(stub_text, solution_text)
    code = render(stub, regions, solved=True)
    try:
        compile(code, "<solution cell>", "exec")
    except SyntaxError as exc:
        raise ValueError(f"the merged solution does not compile: {exc}") from None
    return code


def first_line(node: ast.stmt) -> int:
    """0-based index of a statement's first line, decorators included."""
    decorators = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)]) - 1


def normalized(node: ast.AST) -> str:
    """A statement's AST without docstrings, comments or positions: equal means same code."""
    node = copy.deepcopy(node)
    for sub in ast.walk(node):
        body = getattr(sub, "body", None)
        if isinstance(sub, (*_FUNCTIONS, ast.ClassDef)) and _docstring_node(body):
            sub.body = body[1:] or [ast.Pass()]
    return ast.dump(node)


def _regions(stub: Source, solution: Source) -> Iterator[Region]:
    keys = SequenceMatcher(None, [_key(s) for s in stub.body], [_key(s) for s in solution.body])
    keys.autojunk = False
    for op, i1, i2, j1, j2 in keys.get_opcodes():
        if op == "equal":
            for ours, theirs in zip(stub.body[i1:i2], solution.body[j1:j2]):
                region = _differing(solution, ours, theirs)
                if region is not None:
                    yield region
        elif j2 > j1:  # insert or replace: the stub's statements stay, the solution's follow
            at = (stub.body[i2 - 1].end_lineno or 0) if i2 > 0 else _top(stub)
            yield Region(at, "", tuple(solution.text(solution.body[j1], solution.body[j2 - 1])))


def _top(stub: Source) -> int:
    return first_line(stub.body[0]) if stub.body else len(stub.lines)


def _key(node: ast.stmt) -> tuple[str, ...]:
    """What pairs a stub statement with the solution's: a name where there is one."""
    if isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
        return ("def", node.name)
    if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return ("assign", *(ast.dump(t) for t in targets))
    return ("statement", normalized(node))


def _differing(solution: Source, ours: ast.stmt, theirs: ast.stmt) -> Region | None:
    """The region a pair of same-named statements needs: none, one in the body, or one after."""
    if normalized(ours) == normalized(theirs):
        return None
    if isinstance(ours, _FUNCTIONS) and type(ours) is type(theirs):
        if _header(ours) == _header(theirs):
            return _function_region(solution, ours, theirs)
    return Region(ours.end_lineno or 0, "", tuple(solution.text(theirs, theirs)))


def _header(func: ast.FunctionDef) -> list[str]:
    parts = (*func.decorator_list, func.args, func.returns)
    return [ast.dump(n) for n in parts if n is not None]


def _function_region(solution: Source, ours: ast.FunctionDef, theirs: ast.FunctionDef) -> Region:
    """One region in the function: after the first statements both share, before the stub's rest."""
    mine, yours = _body(ours), _body(theirs)
    shared = _shared_prefix(mine, yours)
    rest, new = mine[shared:], yours[shared:]
    indent = " " * (mine or ours.body)[0].col_offset
    code = (
        _reindented(solution.text(new[0], new[-1]), " " * new[0].col_offset, indent) if new else []
    )
    if rest and not (new and isinstance(new[-1], _EXITS)):
        code.append(indent + "return")  # so that the stub's rest, kept for the release, never runs
    at = first_line(rest[0]) if rest else ours.end_lineno or 0
    return Region(at, indent, tuple(code))


def _shared_prefix(mine: list[ast.stmt], yours: list[ast.stmt]) -> int:
    pairs = enumerate(zip(mine, yours))
    return next(
        (i for i, (a, b) in pairs if normalized(a) != normalized(b)), min(len(mine), len(yours))
    )


def _body(func: ast.FunctionDef) -> list[ast.stmt]:
    return func.body[1:] if _docstring_node(func.body) else list(func.body)


def _docstring_node(body: object) -> bool:
    if not isinstance(body, list) or not body or not isinstance(body[0], ast.Expr):
        return False
    value = body[0].value
    return isinstance(value, ast.Constant) and isinstance(value.value, str)


def _reindented(lines: list[str], old: str, new: str) -> list[str]:
    if old == new:
        return list(lines)
    return [new + line[len(old) :] if line.startswith(old) else line for line in lines]

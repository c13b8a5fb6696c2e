"""Navigating a module's statements: where each one is, in which function, and its name.

Operators find their sites through `places(tree)`, which visits every statement a learner
writes (not the functions the stub gives, not the `if __name__ == "__main__":` block, which
no check runs) together with the list that holds it and the function it belongs to. A
mutant's id is built from that function's qualified name and a hash of the statement's own
source (`statement_key`), so it survives edits elsewhere in the file.
"""

from __future__ import annotations

import ast
import copy
import hashlib
from collections.abc import Iterator
from dataclasses import dataclass

MODULE = "<module>"
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
BODY_FIELDS = ("body", "orelse", "finalbody")


@dataclass(frozen=True)
class Place:
    """One statement, the list that holds it, and the function it is in."""

    function: str  # qualified name of the enclosing function or class, MODULE at top level
    body: list[ast.stmt]  # the list holding the statement (operators splice it)
    stmt: ast.stmt

    @property
    def index(self) -> int:
        """The statement's position in `body`, found by identity (bodies change under us)."""
        return next(i for i, s in enumerate(self.body) if s is self.stmt)


def places(tree: ast.Module, skip: frozenset[str] = frozenset()) -> Iterator[Place]:
    """Every statement of `tree` in source order, parents before children.

    Functions whose qualified name is in `skip` (the stub's given functions) and the module's
    `if __name__ == "__main__":` block are left out entirely.
    """
    yield from _places_in(tree.body, MODULE, skip)


def _places_in(body: list[ast.stmt], function: str, skip: frozenset[str]) -> Iterator[Place]:
    for stmt in list(body):
        if function == MODULE and _is_main_guard(stmt):
            continue
        inner = function
        if isinstance(stmt, (*FUNCTIONS, ast.ClassDef)):
            inner = stmt.name if function == MODULE else f"{function}.{stmt.name}"
            if inner in skip:
                continue
        yield Place(function, body, stmt)
        for child in child_bodies(stmt):
            yield from _places_in(child, inner, skip)


def child_bodies(stmt: ast.AST) -> Iterator[list[ast.stmt]]:
    """The statement lists directly inside a statement (bodies, else, handlers, cases)."""
    for name in BODY_FIELDS:
        value = getattr(stmt, name, None)
        if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
            yield value
    for handler in getattr(stmt, "handlers", []):
        yield handler.body
    for case in getattr(stmt, "cases", []):
        yield case.body


def _is_main_guard(stmt: ast.stmt) -> bool:
    return isinstance(stmt, ast.If) and ast.unparse(stmt.test) in (
        "__name__ == '__main__'",
        "'__main__' == __name__",
    )


@dataclass(frozen=True)
class Edge:
    """A node and where it hangs: `parent.field` or `parent.field[index]`."""

    parent: ast.AST
    field: str
    index: int | None
    node: ast.AST

    def replace(self, new: ast.AST) -> None:
        """Put `new` where the node was."""
        if self.index is None:
            setattr(self.parent, self.field, new)
        else:
            getattr(self.parent, self.field)[self.index] = new


def own_edges(stmt: ast.stmt) -> Iterator[Edge]:
    """The nodes of a statement itself (its expressions, not the statements nested in it),
    each with the place it hangs from, in source order."""
    for name, value in ast.iter_fields(stmt):
        if name in BODY_FIELDS:
            continue
        if name in ("handlers", "cases"):
            for part in value:  # an except clause's type, a case's pattern: not their bodies
                yield from _edges_below(part, skip=("body", "name"))
            continue
        yield from _edges_of(stmt, name, value)


def own_nodes(stmt: ast.stmt) -> Iterator[ast.AST]:
    """The statement and its own nodes (see own_edges)."""
    yield stmt
    for edge in own_edges(stmt):
        yield edge.node


def _edges_of(parent: ast.AST, name: str, value: object) -> Iterator[Edge]:
    items = list(enumerate(value)) if isinstance(value, list) else [(None, value)]
    for index, child in items:
        if isinstance(child, ast.AST):
            yield Edge(parent, name, index, child)
            yield from _edges_below(child)


def _edges_below(node: ast.AST, skip: tuple[str, ...] = ()) -> Iterator[Edge]:
    for name, value in ast.iter_fields(node):
        if name not in skip:
            yield from _edges_of(node, name, value)


def statement_key(stmt: ast.stmt, *, whole: bool) -> str:
    """A short hash naming a statement by its code.

    `whole` hashes the statement with everything nested in it (for operators that act on the
    whole statement: delete a `with`, move a join); otherwise only its own header, so editing
    a loop's body leaves the ids of mutants in the loop's header alone.
    """
    node: ast.AST = stmt
    if not whole:
        node = copy.copy(stmt)  # shallow: the statement itself is not changed
        for name in (*BODY_FIELDS, "handlers", "cases"):
            if getattr(node, name, None):
                setattr(node, name, [])
    return hashlib.sha1(canonical(node).encode()).hexdigest()[:6]


def canonical(node: object) -> str:
    """The tree as text that is the same on every Python version (ast.unparse and ast.dump
    are not): node types and field values, positions left out, and empty fields (None, [])
    left out, as newer versions add fields that way (type_params in 3.12)."""
    if isinstance(node, ast.AST):
        fields = [
            f"{name}={canonical(value)}"
            for name, value in ast.iter_fields(node)
            if value is not None and not (isinstance(value, list) and not value)
        ]
        return f"{type(node).__name__}({','.join(fields)})"
    if isinstance(node, list):
        return "[" + ",".join(canonical(item) for item in node) + "]"
    return repr(node)


def function_defs(root: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function defined anywhere under `root` (root itself included)."""
    for node in ast.walk(root):
        if isinstance(node, FUNCTIONS):
            yield node


def local_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's own code, not those of the functions nested in it."""
    for child in ast.iter_child_nodes(function):
        if isinstance(child, (*FUNCTIONS, ast.ClassDef)):
            continue
        yield child
        yield from local_nodes(child)


def loads(root: ast.AST, name: str) -> bool:
    """Whether `name` is read anywhere under `root`."""
    return any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, ast.Load)
        for n in ast.walk(root)
    )


def names_in(root: ast.AST) -> set[str]:
    """Every plain name under `root`."""
    return {n.id for n in ast.walk(root) if isinstance(n, ast.Name)}


def parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """A function's parameter names."""
    a = function.args
    every = a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]
    return {arg.arg for arg in every}


def qualified_functions(
    tree: ast.Module, skip: frozenset[str] = frozenset()
) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function of the module by qualified name (the stub's given ones left out)."""
    found = {}
    for place in places(tree, skip):
        if isinstance(place.stmt, FUNCTIONS):
            prefix = "" if place.function == MODULE else place.function + "."
            found[prefix + place.stmt.name] = place.stmt
    return found

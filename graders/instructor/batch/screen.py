"""Screening a learner's source for code that reaches into the grader (part of the isolate step).

This runs in the instructor's process, on the source text, before anything runs, so learner
code cannot influence it: it is the evidence "taken from where the learner cannot reach". It
looks for the few ways a Python module can get at another module's state: introspection
modules and builtins (gc, inspect, ctypes, importlib, sys.modules, eval, getattr/setattr,
vars, globals), dunder attributes (__globals__, __dict__, __code__, __subclasses__ ...) and
strings that name them, other objects' private attributes, frame and traceback internals,
and rebinding an attribute of an imported module, class or function (monkeypatching:
`time.perf_counter = ...`, `threading.Thread.start = ...`, `requests.get = ...`).

Honest threading code needs none of these. A module with a finding still runs (its feedback
is kept for the instructor) but its task scores 0, "held for review", with the line and why.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

DENIED_MODULES = frozenset(
    "graders gc inspect ctypes _ctypes cffi importlib builtins signal _signal pickle _pickle "
    "marshal types code codeop runpy unittest pdb bdb trace dis copyreg tests fixtures".split()
)
DENIED_BUILTINS = frozenset(
    "eval exec compile globals vars locals __import__ breakpoint setattr delattr "
    "__builtins__ __loader__ __spec__".split()
)
DENIED_ATTRIBUTES = frozenset(
    "modules settrace setprofile excepthook addaudithook audit monitoring tb_frame f_back "
    "f_locals f_globals f_code f_builtins gi_frame cr_frame ag_frame gi_code currentframe "
    "walk_stack walk_tb get_adapter attrgetter methodcaller".split()
)
ALLOWED_DUNDERS = frozenset(
    "__init__ __name__ __class__ __doc__ __main__ __enter__ __exit__ __str__ __repr__ "
    "__len__ __iter__ __next__ __call__ __eq__ __ne__ __hash__ __lt__ __le__ __gt__ __ge__ "
    "__bool__ __contains__ __getitem__ __setitem__ __delitem__ __add__ __sub__ __mul__ "
    "__slots__ __file__".split()
)
_DUNDER_TEXT = re.compile(r"__[A-Za-z0-9_]+__")


@dataclass(frozen=True)
class Finding:
    """One construct that reaches into the grader: where, and what."""

    line: int
    what: str

    def render(self) -> str:
        return f"line {self.line}: {self.what}"


def screen(source: str) -> list[Finding]:
    """Every finding in one module's source, in line order (a syntax error is not a finding)."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    visitor = _Screen()
    visitor.visit(tree)
    return sorted(set(visitor.findings), key=lambda f: (f.line, f.what))


class _Screen(ast.NodeVisitor):
    def __init__(self) -> None:
        self.findings: list[Finding] = []
        self.imported: set[str] = set()  # names bound to imported modules, classes, functions
        self.functions: set[str] = set()  # module-level functions of the learner's own

    def flag(self, node: ast.AST, what: str) -> None:
        self.findings.append(Finding(getattr(node, "lineno", 0), what))

    def visit_Module(self, node: ast.Module) -> None:
        self.functions = {
            n.name for n in node.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._module(node, alias.name)
            self.imported.add(alias.asname or alias.name.partition(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self._module(node, node.module or "")
        for alias in node.names:
            if alias.name in DENIED_ATTRIBUTES or alias.name.startswith("_"):
                self.flag(node, f"imports {alias.name} from {node.module}")
            self.imported.add(alias.asname or alias.name)

    def _module(self, node: ast.AST, name: str) -> None:
        if name.partition(".")[0] in DENIED_MODULES:
            self.flag(node, f"imports {name}, which can reach into the grader")

    def visit_Name(self, node: ast.Name) -> None:
        if node.id in DENIED_BUILTINS:
            self.flag(node, f"uses {node.id}, which can reach into the grader")

    def visit_Call(self, node: ast.Call) -> None:
        if isinstance(node.func, ast.Name) and node.func.id in ("getattr", "hasattr"):
            name = node.args[1] if len(node.args) > 1 else None
            if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
                self.flag(node, f"{node.func.id}() with a computed attribute name")
            elif name.value.startswith("_"):
                self.flag(node, f"{node.func.id}() of the private attribute {name.value}")
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        attr = node.attr
        if attr.startswith("__") and attr.endswith("__") and attr not in ALLOWED_DUNDERS:
            self.flag(node, f"uses .{attr}, which can reach into the grader")
        elif attr.startswith("_") and not _is_own(node.value):
            self.flag(node, f"uses another object's private attribute .{attr}")
        elif attr in DENIED_ATTRIBUTES:
            self.flag(node, f"uses .{attr}, which can reach into the grader")
        if isinstance(node.ctx, ast.Store | ast.Del):
            root = _root(node)
            if root in self.imported or root in self.functions:
                self.flag(node, f"changes {ast.unparse(node)} (monkeypatching)")
        self.generic_visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        if isinstance(node.value, ast.Name | ast.Attribute) and _root(node.value) in self.imported:
            for target in node.targets:  # `t = time` makes `t` a module alias too
                if isinstance(target, ast.Name):
                    self.imported.add(target.id)
        self.generic_visit(node)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            for name in _DUNDER_TEXT.findall(node.value):
                if name not in ALLOWED_DUNDERS:
                    self.flag(node, f"names {name} in a string")


def _is_own(node: ast.expr) -> bool:
    """`self._x`, `cls._x`, `super()._x`: a class's own private attributes are fine."""
    if isinstance(node, ast.Name):
        return node.id in ("self", "cls")
    return (
        isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"
    )


def _root(node: ast.expr) -> str:
    """The name an attribute chain starts from: `a` for `a.b.c`, '' if not a plain name."""
    while isinstance(node, ast.Attribute | ast.Subscript | ast.Call):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else ""

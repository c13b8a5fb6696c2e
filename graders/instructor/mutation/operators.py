"""The mutation operators: the mistakes a learner makes with threads, as AST rewrites.

Each operator finds its sites in a module (`find(tree, skip) -> [Site]`) and each site knows
how to mutate the tree it was found in (`site.apply()`, in place). To make the k-th mutant,
generate.py finds the sites again in a fresh copy of the tree and applies the k-th: finding
is deterministic, so the copy's k-th site is the original's. Operators never rewrite the
stub's given functions or the `__main__` block (walk.places leaves them out).

The threading operators come first (join, lock, start, target, args, order, return, global),
then the usual arithmetic, comparison and constant swaps.
"""

from __future__ import annotations

import ast
import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial

from graders.instructor.mutation.walk import (
    MODULE,
    Place,
    function_defs,
    loads,
    local_nodes,
    names_in,
    own_edges,
    own_nodes,
    parameters,
    places,
    qualified_functions,
)

LOCK_TYPES = ("Lock", "RLock")


@dataclass
class Site:
    """One place an operator can mutate, and how (`apply` rewrites the tree in place)."""

    place: Place  # the statement whose source names the mutant
    apply: Callable[[], None]
    variant: str = ""  # which of the operator's rewrites of this site (e.g. "+1", "LtE")
    whole: bool = False  # the id hashes the whole statement, not just its header
    line: int = 0


Finder = Callable[[ast.Module, frozenset[str]], list[Site]]


@dataclass(frozen=True)
class Operator:
    name: str
    summary: str
    find: Finder


OPERATORS: list[Operator] = []


def operator(name: str, summary: str) -> Callable[[Finder], Finder]:
    """Register a finder as the operator `name` (registration order is the report's order)."""

    def register(find: Finder) -> Finder:
        OPERATORS.append(Operator(name, summary, find))
        return find

    return register


def get_operator(name: str) -> Operator:
    for op in OPERATORS:
        if op.name == name:
            return op
    raise ValueError(f"unknown mutation operator {name!r}")


# --- recognising threading code ------------------------------------------------------------


def _method_call(node: ast.AST, name: str) -> ast.Call | None:
    """`node` if it is a call `<receiver>.name(...)` on something other than a literal."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == name
        and not isinstance(node.func.value, (ast.Constant, ast.JoinedStr))
    ):
        return node
    return None


def is_thread_join(node: ast.AST) -> bool:
    """`t.join()` or `t.join(timeout)`: not os.path.join(a, b), not sep.join(parts)."""
    call = _method_call(node, "join")
    if call is None or ast.unparse(call.func.value).endswith("path"):
        return False
    if any(k.arg != "timeout" for k in call.keywords) or len(call.args) > 1:
        return False
    return not call.args or isinstance(call.args[0], ast.Constant)


def is_thread_start(node: ast.AST) -> bool:
    """`t.start()`."""
    call = _method_call(node, "start")
    return call is not None and not call.args and not call.keywords


def _call_statement(stmt: ast.stmt, test: Callable[[ast.AST], bool]) -> bool:
    return isinstance(stmt, ast.Expr) and test(stmt.value)


def _is_lock_with(stmt: ast.stmt) -> bool:
    """`with lock:` (a name or attribute, no `as`): not `with open(...) as f`."""
    return isinstance(stmt, ast.With) and all(
        item.optional_vars is None and isinstance(item.context_expr, (ast.Name, ast.Attribute))
        for item in stmt.items
    )


def _lock_assignment(stmt: ast.stmt) -> str | None:
    """The name bound by `name = threading.Lock()` (or Lock(), RLock()), else None."""
    if not (
        isinstance(stmt, ast.Assign)
        and len(stmt.targets) == 1
        and isinstance(stmt.targets[0], ast.Name)
        and isinstance(stmt.value, ast.Call)
    ):
        return None
    func = stmt.value.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return stmt.targets[0].id if called in LOCK_TYPES else None


def _keyword(call: ast.Call, name: str) -> ast.keyword | None:
    return next((k for k in call.keywords if k.arg == name), None)


def _thread_calls(place: Place) -> Iterator[ast.Call]:
    """Calls with `target=<a function>` in the statement: Thread(target=f, args=...)."""
    for node in own_nodes(place.stmt):
        if isinstance(node, ast.Call):
            target = _keyword(node, "target")
            if target is not None and isinstance(target.value, (ast.Name, ast.Attribute)):
                yield node


# --- editing statement lists -----------------------------------------------------------------


def _splice(body: list[ast.stmt], stmt: ast.stmt, new: list[ast.stmt]) -> None:
    """Replace `stmt` in `body` by `new` (an empty body gets a `pass`)."""
    index = next(i for i, s in enumerate(body) if s is stmt)
    body[index : index + 1] = new
    if not body:
        body.append(ast.Pass())


def _leading_declarations(body: list[ast.stmt]) -> int:
    """How many statements open a function body as docstring, `global` or `nonlocal`."""
    count = 0
    for stmt in body:
        is_doc = (
            count == 0
            and isinstance(stmt, ast.Expr)
            and isinstance(stmt.value, ast.Constant)
            and isinstance(stmt.value.value, str)
        )
        if not (is_doc or isinstance(stmt, (ast.Global, ast.Nonlocal))):
            break
        count += 1
    return count


def _site(
    place: Place, variant: str, whole: bool, edit: Callable[..., object], *args: object
) -> Site:
    """A site whose mutation is `edit(*args)`."""
    return Site(place, partial(edit, *args), variant, whole, getattr(place.stmt, "lineno", 0))


# --- joins -----------------------------------------------------------------------------------


@operator("join-delete", "delete a thread's .join() call")
def join_delete(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    return [
        _site(p, "", True, _splice, p.body, p.stmt, [])
        for p in places(tree, skip)
        if _call_statement(p.stmt, is_thread_join)
    ]


@operator("join-into-start", "move the join into the loop that starts the threads")
def join_into_start(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    sites = []
    for p in places(tree, skip):
        if not isinstance(p.stmt, ast.For):
            continue
        starts = [s for s in p.stmt.body if _call_statement(s, is_thread_start)]
        join = _later_join(p)
        if starts and join is not None:
            sites.append(_site(p, "", True, _join_in_loop, p, starts[0], *join))
    return sites


def _later_join(p: Place) -> tuple[ast.stmt, list[ast.stmt], ast.stmt] | None:
    """The first join after the start loop, in the same body: (holder, its body, join)."""
    for later in p.body[p.index + 1 :]:
        if _call_statement(later, is_thread_join):
            return later, p.body, later
        if isinstance(later, ast.For):
            for stmt in later.body:
                if _call_statement(stmt, is_thread_join):
                    return later, later.body, stmt
    return None


def _join_in_loop(
    p: Place, start: ast.Expr, holder: ast.stmt, holder_body: list[ast.stmt], join: ast.stmt
) -> None:
    receiver = copy.deepcopy(start.value.func.value)
    call = ast.Call(ast.Attribute(receiver, "join", ast.Load()), [], [])
    index = next(i for i, s in enumerate(p.stmt.body) if s is start)
    p.stmt.body.insert(index + 1, ast.Expr(call))
    if holder is join or len(holder_body) == 1:
        _splice(p.body, holder, [])
    else:
        _splice(holder_body, join, [])


@operator("return-before-join", "return before the threads are joined")
def return_before_join(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    sites = []
    for name, function in qualified_functions(tree, skip).items():
        body = function.body
        first = next((s for s in body if any(map(is_thread_join, local_nodes(s)))), None)
        if first is None:
            continue
        returns = [s for s in body if isinstance(s, ast.Return) and s.value is not None]
        value = returns[-1].value if returns else None
        place = Place(name, body, first)
        sites.append(_site(place, "", True, _return_before, place, value))
    return sites


def _return_before(place: Place, value: ast.expr | None) -> None:
    place.body.insert(place.index, ast.Return(copy.deepcopy(value)))


# --- locks -----------------------------------------------------------------------------------


@operator("with-delete", "delete a `with lock:`, keeping its body")
def with_delete(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    return [
        _site(p, "", True, _splice, p.body, p.stmt, p.stmt.body)
        for p in places(tree, skip)
        if _is_lock_with(p.stmt)
    ]


@operator("with-shrink", "hold the lock for one statement of the `with` body only")
def with_shrink(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    sites = []
    for p in places(tree, skip):
        if _is_lock_with(p.stmt) and len(p.stmt.body) > 1:
            for k in range(len(p.stmt.body)):
                sites.append(_site(p, str(k), True, _shrink, p, k))
    return sites


def _shrink(p: Place, keep: int) -> None:
    body = p.stmt.body
    locked = ast.With(p.stmt.items, [body[keep]])
    _splice(p.body, p.stmt, body[:keep] + [locked] + body[keep + 1 :])


@operator("lock-local", "create the lock in the function that uses it, or in its loop")
def lock_local(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    functions = qualified_functions(tree, skip)
    names = {id(f): q for q, f in functions.items()}
    sites = []
    for p in places(tree, skip):
        name = _lock_assignment(p.stmt)
        if name is None:
            continue
        scope = tree if p.function == MODULE else functions.get(p.function)
        for function in function_defs(scope) if scope is not None else []:
            qual = names.get(id(function))
            if qual is None:
                continue
            if function is not scope and any(loads(n, name) for n in local_nodes(function)):
                sites.append(_site(p, f"in:{qual}", True, _into, p, function.body))
            for loop in _innermost_loops(function, name):
                sites.append(_site(p, f"loop:{qual}", True, _into, p, loop.body))
    return sites


def _innermost_loops(function: ast.AST, name: str) -> list[ast.For | ast.While]:
    """The function's own loops that use `name` and hold no other loop that does."""
    loops = [
        n for n in local_nodes(function) if isinstance(n, (ast.For, ast.While)) and loads(n, name)
    ]
    return [
        outer
        for outer in loops
        if not any(inner is not outer and _contains(outer, inner) for inner in loops)
    ]


def _contains(outer: ast.AST, inner: ast.AST) -> bool:
    return any(node is inner for node in ast.walk(outer))


def _into(p: Place, body: list[ast.stmt]) -> None:
    body.insert(_leading_declarations(body), copy.deepcopy(p.stmt))


@operator("global-drop", "delete a `global` statement")
def global_drop(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    return [
        _site(p, "", True, _splice, p.body, p.stmt, [])
        for p in places(tree, skip)
        if isinstance(p.stmt, ast.Global)
    ]


# --- starting threads: start, target, args ---------------------------------------------------


@operator("start-to-run", "call .run() instead of .start()")
def start_to_run(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    return [
        _site(p, "", False, setattr, node.func, "attr", "run")
        for p in places(tree, skip)
        for node in own_nodes(p.stmt)
        if is_thread_start(node)
    ]


@operator("call-target", "call the target instead of passing it: target=f(*args)")
def call_target(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    return [
        _site(p, "", False, _call_the_target, call)
        for p in places(tree, skip)
        for call in _thread_calls(p)
    ]


def _target_call(call: ast.Call) -> ast.Call:
    """`f(a, b, **kw)` from Thread(target=f, args=(a, b), kwargs=kw)."""
    target = _keyword(call, "target").value
    args_kw, kwargs_kw = _keyword(call, "args"), _keyword(call, "kwargs")
    args: list[ast.expr] = []
    if args_kw is not None:
        value = args_kw.value
        literal = isinstance(value, (ast.Tuple, ast.List))
        args = list(value.elts) if literal else [ast.Starred(value, ast.Load())]
    keywords = [ast.keyword(None, kwargs_kw.value)] if kwargs_kw is not None else []
    return copy.deepcopy(ast.Call(target, args, keywords))


def _call_the_target(call: ast.Call) -> None:
    _keyword(call, "target").value = _target_call(call)


@operator("args-lambda", "target=lambda: f(<loop variables>) instead of args=")
def args_lambda(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    functions = qualified_functions(tree, skip)
    sites = []
    for p in places(tree, skip):
        loop_names = _loop_variables(functions.get(p.function, tree))
        for call in _thread_calls(p):
            args = _keyword(call, "args")
            if args is not None and names_in(args.value) & loop_names:
                sites.append(_site(p, "", False, _late_binding, call))
    return sites


def _loop_variables(function: ast.AST) -> set[str]:
    """Names bound by the for loops and comprehensions of a function's own code."""
    found: set[str] = set()
    for node in local_nodes(function):
        if isinstance(node, (ast.For, ast.comprehension)):
            found |= names_in(node.target)
    return found


def _late_binding(call: ast.Call) -> None:
    body = _target_call(call)
    no_params = ast.arguments([], [], None, [], [], None, [])
    _keyword(call, "target").value = ast.Lambda(no_params, body)
    call.keywords = [k for k in call.keywords if k.arg not in ("args", "kwargs")]


def _args_tuples(tree: ast.Module, skip: frozenset[str]) -> Iterator[tuple[Place, ast.expr]]:
    for p in places(tree, skip):
        for call in _thread_calls(p):
            args = _keyword(call, "args")
            if args is not None and isinstance(args.value, (ast.Tuple, ast.List)):
                yield p, args.value


@operator("args-drop", "drop one argument from args=(...)")
def args_drop(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    return [
        _site(p, str(k), False, t.elts.pop, k)
        for p, t in _args_tuples(tree, skip)
        for k in range(len(t.elts))
    ]


@operator("args-swap", "swap two arguments in args=(...)")
def args_swap(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    sites = []
    for p, t in _args_tuples(tree, skip):
        for i in range(len(t.elts)):
            for j in range(i + 1, len(t.elts)):
                if ast.unparse(t.elts[i]) != ast.unparse(t.elts[j]):
                    sites.append(_site(p, f"{i}-{j}", False, _swap, t.elts, i, j))
    return sites


def _swap(items: list[ast.expr], i: int, j: int) -> None:
    items[i], items[j] = items[j], items[i]


# --- order -----------------------------------------------------------------------------------


@operator("iter-reorder", "reversed() or sorted() around a loop's iterable")
def iter_reorder(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    functions = qualified_functions(tree, skip)
    sites = []
    for p in places(tree, skip):
        function = functions.get(p.function)
        inputs = parameters(function) if function is not None else set()
        for holder, used in _loops(p.stmt):
            if not used:
                continue
            inner, put = _reorderable(holder)
            sites.append(_site(p, "reversed", False, put, _reversed(inner)))
            if not _is_range(inner) and names_in(inner) & inputs:
                wrap = ast.Call(ast.Name("sorted", ast.Load()), [inner], [])
                sites.append(_site(p, "sorted", False, put, wrap))
    return sites


def _loops(stmt: ast.stmt) -> Iterator[tuple[ast.For | ast.comprehension, bool]]:
    """The statement's own for loop and comprehensions, and whether the loop variable is used.

    A loop that only starts or joins its threads is left out: the order in which threads are
    started or joined is no part of any task.
    """
    if isinstance(stmt, ast.For):
        only_start_join = all(
            _call_statement(s, lambda n: is_thread_start(n) or is_thread_join(n)) for s in stmt.body
        )
        if not only_start_join:
            used = any(loads(s, n) for s in stmt.body + stmt.orelse for n in names_in(stmt.target))
            yield stmt, used
    for node in own_nodes(stmt):
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            for k, gen in enumerate(node.generators):
                rest = [getattr(node, f) for f in ("elt", "key", "value") if hasattr(node, f)]
                rest += gen.ifs + [g.iter for g in node.generators[k + 1 :]]
                rest += [c for g in node.generators[k + 1 :] for c in g.ifs]
                used = any(loads(r, n) for r in rest for n in names_in(gen.target))
                yield gen, used


def _reorderable(
    holder: ast.For | ast.comprehension,
) -> tuple[ast.expr, Callable[[ast.expr], None]]:
    """What to reorder and how to put it back: in `enumerate(xs)`, `xs` (so the indices no
    longer match the items: the mistake that matters), else the iterable itself."""
    it = holder.iter
    if isinstance(it, ast.Call) and getattr(it.func, "id", "") == "enumerate" and it.args:
        return it.args[0], lambda new: it.args.__setitem__(0, new)
    return it, lambda new: setattr(holder, "iter", new)


def _is_range(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and getattr(node.func, "id", "") == "range"


def _reversed(inner: ast.expr) -> ast.Call:
    if not _is_range(inner):
        inner = ast.Call(ast.Name("list", ast.Load()), [inner], [])
    return ast.Call(ast.Name("reversed", ast.Load()), [inner], [])


@operator("range-bound", "range() bound +1 or -1")
def range_bound(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    sites = []
    for p in places(tree, skip):
        for node in own_nodes(p.stmt):
            if _is_range(node) and 1 <= len(node.args) <= 3:
                bounds = [0] if len(node.args) == 1 else [0, 1]
                for k in bounds:
                    for delta in (1, -1):
                        shifted = _shift(node.args[k], delta)
                        variant = f"{k}{delta:+d}"
                        sites.append(_site(p, variant, False, node.args.__setitem__, k, shifted))
    return sites


def _shift(expr: ast.expr, delta: int) -> ast.expr:
    """`expr + delta`, folded: 3 -> 4, n + 1 -> n + 2, n + 1 - 1 -> n."""
    if isinstance(expr, ast.Constant) and type(expr.value) is int:
        return ast.Constant(expr.value + delta)
    if (
        isinstance(expr, ast.BinOp)
        and isinstance(expr.op, (ast.Add, ast.Sub))
        and isinstance(expr.right, ast.Constant)
        and type(expr.right.value) is int
    ):
        sign = 1 if isinstance(expr.op, ast.Add) else -1
        total = sign * expr.right.value + delta
        if total == 0:
            return expr.left
        op = ast.Add() if total > 0 else ast.Sub()
        return ast.BinOp(expr.left, op, ast.Constant(abs(total)))
    op = ast.Add() if delta > 0 else ast.Sub()
    return ast.BinOp(expr, op, ast.Constant(abs(delta)))


# --- the usual: arithmetic, comparisons, constants -------------------------------------------

SWAPPED_ARITH = {ast.Add: ast.Sub, ast.Sub: ast.Add}
SWAPPED_COMPARE = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


@operator("arith", "+ and - swapped")
def arith(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    sites = []
    for p in places(tree, skip):
        for node in own_nodes(p.stmt):
            swapped = SWAPPED_ARITH.get(type(getattr(node, "op", None)))
            if swapped is None or not isinstance(node, (ast.BinOp, ast.AugAssign)):
                continue
            operands = [node.left, node.right] if isinstance(node, ast.BinOp) else [node.value]
            if not any(map(_is_text, operands)):
                sites.append(_site(p, swapped.__name__, False, setattr, node, "op", swapped()))
    return sites


@operator("compare", "< <=, > >=, == !=, is/is not, in/not in swapped")
def compare(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    sites = []
    for p in places(tree, skip):
        for node in own_nodes(p.stmt):
            if isinstance(node, ast.Compare):
                for k, op in enumerate(node.ops):
                    new = SWAPPED_COMPARE[type(op)]
                    sites.append(_site(p, new.__name__, False, node.ops.__setitem__, k, new()))
    return sites


@operator("not-drop", "a condition's `not` removed")
def not_drop(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    return [
        _site(p, "", False, edge.replace, edge.node.operand)
        for p in places(tree, skip)
        for edge in own_edges(p.stmt)
        if isinstance(edge.node, ast.UnaryOp) and isinstance(edge.node.op, ast.Not)
    ]


@operator("const", "a number +1 or -1, a bool flipped")
def const(tree: ast.Module, skip: frozenset[str]) -> list[Site]:
    sites = []
    for p in places(tree, skip):
        for node in own_nodes(p.stmt):
            if not isinstance(node, ast.Constant):
                continue
            value = node.value
            if type(value) is bool:
                sites.append(_site(p, "flip", False, setattr, node, "value", not value))
            elif type(value) in (int, float):
                for delta in (1, -1):
                    new = value + delta
                    sites.append(_site(p, f"{delta:+d}", False, setattr, node, "value", new))
    return sites

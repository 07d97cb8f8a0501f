"""Which parts of a notebook an exercise needs: its definition and what that uses.

A notebook is a module whose top-level statements run in order, so after "Run all" a name
is bound by its *last* binding statement. The grader reproduces that state for one
exercise without running the narrative (plots, training loops, ``check(...)`` calls):

* it starts from the last statement binding the exercise's name;
* a ``def`` or ``class`` uses globals when it is *called*, so each name it mentions resolves
  to the last binding anywhere in the notebook; any other statement runs where it stands,
  so its names resolve to the last binding *before* it;
* it follows those names transitively, and keeps only statements it may run: imports,
  ``def``/``class``, assignments, and ``if``/``try`` blocks (guarded imports). Loops,
  ``with`` blocks and bare expressions are never run.

The kept statements go to the worker as the original cells with every other line blanked,
so line numbers in error messages match what the student sees.
"""
from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field

from autograder.notebook import CodeCell, Notebook

_RUNNABLE = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef,
             ast.Assign, ast.AnnAssign, ast.AugAssign, ast.If, ast.Try)
if hasattr(ast, "TryStar"):
    _RUNNABLE = _RUNNABLE + (ast.TryStar,)
_DEFERRED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
_BUILTINS = set(dir(builtins))


@dataclass
class Statement:
    position: int  # order in the notebook
    cell: CodeCell
    node: ast.stmt
    binds: set[str]
    uses: set[str]

    @property
    def runnable(self) -> bool:
        return isinstance(self.node, _RUNNABLE)

    @property
    def deferred(self) -> bool:
        return isinstance(self.node, _DEFERRED)

    @property
    def lines(self) -> range:
        first = self.node.lineno
        for decorator in getattr(self.node, "decorator_list", []):
            first = min(first, decorator.lineno)
        return range(first, self.node.end_lineno + 1)


@dataclass
class Slice:
    """The code one exercise needs, as (label, source) pairs in notebook order."""

    name: str
    cells: list[tuple[str, str]] = field(default_factory=list)
    defined_in: CodeCell | None = None
    notes: list[str] = field(default_factory=list)  # said to the student if the exercise fails
    unrunnable: dict[str, str] = field(default_factory=dict)  # name -> why the grader lacks it

    @property
    def found(self) -> bool:
        return self.defined_in is not None


def statements(nb: Notebook) -> list[Statement]:
    out = []
    for cell in nb.cells:
        if cell.tree is None:
            continue
        for node in cell.tree.body:
            out.append(Statement(len(out), cell, node, _binds(node), _uses(node)))
    return out


def slice_exercise(nb: Notebook, name: str) -> Slice:
    stmts = statements(nb)
    result = Slice(name)
    bindings: dict[str, list[Statement]] = {}
    for stmt in stmts:
        for bound in stmt.binds:
            bindings.setdefault(bound, []).append(stmt)

    _note_syntax_errors(nb, name, result)
    target = bindings.get(name, [])
    if not target:
        return result
    last = target[-1]
    if not last.runnable:
        result.notes.append(
            f"`{name}` is last bound in {last.cell.label} by a statement the grader does not run "
            "(a loop or `with` block); define it with `def` at the top level of its cell"
        )
        return result
    result.defined_in = last.cell

    keep: set[int] = set()
    star_imports = [s for s in stmts if "*" in s.binds and s.runnable]
    todo = [last]
    while todo:
        stmt = todo.pop()
        if stmt.position in keep:
            continue
        keep.add(stmt.position)
        for used in stmt.uses:
            found = _resolve(bindings.get(used, []), stmt)
            if found is not None:
                todo.append(found)
            elif used in bindings and used not in _BUILTINS:
                where = bindings[used][-1].cell.label
                result.unrunnable[used] = (
                    f"`{used}` is defined only in {where}, in code the grader does not run "
                    "(loops, `with` blocks, plots); define it in the exercise's cell or inside "
                    "the function"
                )
            elif used not in _BUILTINS:
                todo.extend(s for s in star_imports if s.position < stmt.position or stmt.deferred)
    result.cells = _render(stmts, keep)
    return result


def _resolve(candidates: list[Statement], user: Statement) -> Statement | None:
    runnable = [s for s in candidates if s.runnable]
    if user.deferred:
        return runnable[-1] if runnable else None
    earlier = [s for s in runnable if s.position < user.position]
    return earlier[-1] if earlier else None


def _render(stmts: list[Statement], keep: set[int]) -> list[tuple[str, str]]:
    by_cell: dict[int, tuple[CodeCell, set[int]]] = {}
    for stmt in stmts:
        if stmt.position in keep:
            cell, lines = by_cell.setdefault(stmt.cell.index, (stmt.cell, set()))
            lines.update(stmt.lines)
    rendered = []
    for index in sorted(by_cell):
        cell, lines = by_cell[index]
        source_lines = cell.python.split("\n")
        kept = [line if number in lines else "" for number, line in enumerate(source_lines, start=1)]
        rendered.append((cell.label, "\n".join(kept)))
    return rendered


def _note_syntax_errors(nb: Notebook, name: str, result: Slice) -> None:
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    for cell in nb.cells:
        if cell.syntax_error and pattern.search(cell.source):
            result.notes.append(
                f"{cell.label} mentions `{name}` but has a syntax error ({cell.syntax_error}), "
                "so the grader skipped that cell"
            )


def _binds(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, ast.Import):
        return {alias.asname or alias.name.split(".")[0] for alias in node.names}
    if isinstance(node, ast.ImportFrom):
        return {alias.asname or alias.name for alias in node.names}
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        return {root for target in targets for root in _target_roots(target)}
    if isinstance(node, ast.Expr):
        return set()
    # Compound statements (if/try/for/while/with/match): everything bound anywhere inside.
    bound = set()
    for child in ast.walk(node):
        if child is node:
            continue
        if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            bound.add(child.id)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(child.name)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            bound |= _binds(child)
    return bound


def _target_roots(target: ast.expr) -> set[str]:
    """``x = ...`` binds x; ``x[0] = ...`` and ``x.a = ...`` change x, so they count too."""
    if isinstance(target, ast.Name):
        return {target.id}
    if isinstance(target, (ast.Tuple, ast.List)):
        return {root for elt in target.elts for root in _target_roots(elt)}
    if isinstance(target, ast.Starred):
        return _target_roots(target.value)
    if isinstance(target, (ast.Attribute, ast.Subscript)):
        return _target_roots(target.value)
    return set()


def _uses(node: ast.stmt) -> set[str]:
    """Every name the statement reads (an over-approximation: an extra statement costs time only).

    For assignments the plain targets are bound, not read; ``x[0] = 1`` and ``x += 1`` read x.
    """
    if not isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        return {child.id for child in ast.walk(node) if isinstance(child, ast.Name)}
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    parts = [p for p in (node.value, getattr(node, "annotation", None)) if p is not None]
    used = {c.id for part in parts for c in ast.walk(part) if isinstance(c, ast.Name)}
    used |= {
        c.id for t in targets for c in ast.walk(t) if isinstance(c, ast.Name) and isinstance(c.ctx, ast.Load)
    }
    if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
        used.add(node.target.id)
    return used

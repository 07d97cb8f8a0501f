"""Put the reference solutions into a chapter notebook (``python -m autograder fill``).

Each exercise's definition (its ``def`` or ``class`` statement, decorators included) is
replaced by the source of the reference in ``solutions/``; everything else in the cell and
the notebook is kept as it is. The input file is only read.
"""
from __future__ import annotations

import ast
import copy
import inspect
import json
from pathlib import Path

from autograder.exercises import resolve_chapter
from autograder.notebook import NotebookError, load_notebook, parse_notebook
from autograder.report import atomic_write
from autograder.slicing import statements
from autograder.spec import Chapter


def reference_source(exercise) -> str:
    return inspect.getsource(exercise.reference).rstrip("\n")


def stub_source(exercise) -> str:
    """The student's stub, made from the reference: for a function, its signature and
    docstring then ``raise NotImplementedError``; for a class, its header and docstring, and
    each method so reduced."""
    source = reference_source(exercise)
    definition = ast.parse(source).body[0]
    lines = source.split("\n")
    if isinstance(definition, ast.ClassDef):
        out = lines[: _docstring(definition, exercise.name).end_lineno]
        for node in definition.body[1:]:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                out.append("")
                out.extend(_function_stub(node, lines))
        return "\n".join(out)
    return "\n".join(_function_stub(definition, lines, exercise.name))


def _docstring(node, name: str) -> ast.Expr:
    first = node.body[0]
    if not (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)):
        raise ValueError(f"the reference {name} ({node.name}) has no docstring")
    return first


def _function_stub(node, lines: list[str], name: str | None = None) -> list[str]:
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    first = node.body[0]
    has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
    if name is not None and not has_doc:
        _docstring(node, name)  # exercises must have one: raises
    end = first.end_lineno if has_doc else first.lineno - 1
    indent = " " * first.col_offset
    return lines[start - 1: end] + [indent + "raise NotImplementedError"]


def exercise_cells(doc: dict, chapter: Chapter) -> dict[str, int]:
    """Exercise name -> index (among all cells) of the cell holding its last definition."""
    nb = parse_notebook(doc)
    found = {}
    for stmt in statements(nb):
        for exercise in chapter.exercises:
            if exercise.name in stmt.binds and stmt.deferred:
                found[exercise.name] = (stmt.cell.index, stmt)
    return found


def fill_document(doc: dict, chapter: Chapter, source=reference_source) -> dict:
    """A deep copy of the notebook with every exercise's definition replaced by
    ``source(exercise)``: the reference (default), or ``stub_source`` to reset the stubs."""
    doc = copy.deepcopy(doc)
    located = exercise_cells(doc, chapter)
    missing = [e.name for e in chapter.exercises if e.name not in located]
    if missing:
        raise NotebookError(f"the notebook defines no {', '.join(missing)}; cannot fill it")
    # Replace from the bottom of each cell up, so earlier line numbers stay valid.
    for name, (index, stmt) in sorted(located.items(), key=lambda kv: -kv[1][1].node.lineno):
        exercise = chapter.exercise(name)
        cell = doc["cells"][index]
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        lines = text.split("\n")
        span = stmt.lines
        lines[span.start - 1: span.stop - 1] = source(exercise).split("\n")
        text = "\n".join(lines)
        # Keep the cell's own form: nbformat stores sources as lists of lines on disk.
        cell["source"] = text.splitlines(keepends=True) if isinstance(cell["source"], list) else text
    return doc


def fill_file(notebook: str | Path, output: str | Path) -> Path:
    notebook, output = Path(notebook), Path(output)
    if output.exists() and output.resolve() == notebook.resolve():
        raise NotebookError(f"{output}: refusing to overwrite the notebook being filled; choose another -o")
    nb = load_notebook(notebook)
    chapter = resolve_chapter(nb)
    filled = fill_document(nb.raw, chapter)
    atomic_write(output, json.dumps(filled, indent=1, ensure_ascii=False) + "\n")
    return output

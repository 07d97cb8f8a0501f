"""The book's view of a chapter notebook: a myst-nb reader for ``.ipynb`` files.

Configured in ``_config.yml`` as ``nb_custom_formats: {.ipynb: autograder.book.read_notebook}``.
For a course chapter it fills every exercise with its reference solution (from
``solutions/``, the one source of truth), hides that executed cell, adds a sphinx-exercise
solution dropdown showing the code right after it, and drops the student's ``check(...)``
cells. The notebook on disk is untouched; any other notebook is read as it is.
"""
from __future__ import annotations

import ast
import json

import nbformat

from autograder.exercises import CHAPTER_MODULES, chapter
from autograder.fill import exercise_cells, fill_document, reference_source
from autograder.notebook import METADATA_KEY, cell_source, ipython_to_python


def exercise_label(name: str) -> str:
    """The sphinx-exercise label of an exercise, used by its ``{exercise}`` directive."""
    return f"ex-{name}"


def is_check_cell(source: str) -> bool:
    """A cell that only imports and calls ``check(...)``: it has no place in the book."""
    try:
        tree = ast.parse(ipython_to_python(source))
    except SyntaxError:
        return False
    calls = [n for n in tree.body if isinstance(n, ast.Expr) and isinstance(n.value, ast.Call)
             and isinstance(n.value.func, ast.Name) and n.value.func.id == "check"]
    others = [n for n in tree.body if n not in calls and not isinstance(n, (ast.Import, ast.ImportFrom))]
    return bool(calls) and not others


def solution_cell(name: str, source: str) -> dict:
    text = (
        f":::{{solution}} {exercise_label(name)}\n:class: dropdown\n\n"
        f"```python\n{source}\n```\n:::"
    )
    return {"cell_type": "markdown", "id": f"solution-{name}", "metadata": {}, "source": text}


def book_document(doc: dict) -> dict:
    slug = (doc.get("metadata", {}).get(METADATA_KEY) or {}).get("chapter")
    if slug not in CHAPTER_MODULES:
        return doc
    ch = chapter(slug)
    filled = fill_document(doc, ch)
    located = exercise_cells(filled, ch)
    after = {index: name for name, (index, _) in located.items()}
    cells = []
    for index, cell in enumerate(filled["cells"]):
        if cell.get("cell_type") == "code" and is_check_cell(cell_source(cell)):
            continue
        if index in after:
            cell.setdefault("metadata", {}).setdefault("tags", []).append("remove-cell")
            cells.append(cell)
            cells.append(solution_cell(after[index], reference_source(ch.exercise(after[index]))))
            continue
        cells.append(cell)
    filled["cells"] = cells
    return filled


def read_notebook(text: str) -> nbformat.NotebookNode:
    doc = json.loads(text)
    return nbformat.reads(json.dumps(book_document(doc)), as_version=4)

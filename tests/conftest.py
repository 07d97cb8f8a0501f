"""Shared helpers: build notebooks from code strings, grade them, run the CLI."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

REPO = Path(__file__).resolve().parent.parent
CHAPTERS = REPO / "chapters"
CHAPTER1 = CHAPTERS / "01_log_derivative_trick.ipynb"


def write_notebook(path: Path, cells: list[str], metadata: dict | None = None, markdown: list[str] = ()) -> Path:
    """A notebook of the given code cells (preceded by markdown cells, if any)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(m) for m in markdown] + [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata.update(metadata or {})
    nbformat.write(nb, str(path))
    return path


def grade_one(cells: list[str], name: str, **kwargs):
    """Grade a single exercise of a notebook made of ``cells`` (no file, no CLI)."""
    from autograder.exercises import find_exercise
    from autograder.grading import grade_exercise
    from autograder.notebook import notebook_from_sources

    exercise = find_exercise(name)
    assert exercise is not None, name
    return grade_exercise(notebook_from_sources(cells), exercise, **kwargs)


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300, env: dict | None = None
            ) -> subprocess.CompletedProcess:
    """``python -m autograder ARGS`` in a subprocess; ``env`` adds to the environment."""
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)], cwd=cwd or REPO,
                          capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})})


def load_json(path: Path) -> dict:
    return json.loads(Path(path).read_text())


@pytest.fixture(scope="session")
def filled_chapter1(tmp_path_factory) -> Path:
    """Chapter 1's notebook with the reference solutions filled in (by the CLI)."""
    out = tmp_path_factory.mktemp("filled") / "01_filled.ipynb"
    proc = run_cli("fill", CHAPTER1, "-o", out)
    assert proc.returncode == 0, proc.stderr
    return out


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> Path:
    """The book built once per session into a temporary folder (warnings are errors); its html/."""
    out = tmp_path_factory.mktemp("book")
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    proc = subprocess.run(
        [str(jupyter_book), "build", str(REPO), "--path-output", str(out), "--warningiserror", "--keep-going"],
        capture_output=True, text=True, timeout=3600,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-6000:]
    return out / "_build" / "html"

"""The chapter notebooks: stored clean, stubs that match the references, and graded end to end.

For every chapter: the stub notebook grades zero with exit code 1 and clean messages; the
filled notebook grades full marks with exit code 0, executes top to bottom under nbval (so
every assertion in the chapter text holds), and ``check(...)`` run inside a real Jupyter
kernel gives the same verdict as the command line.
"""
from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from autograder.book import exercise_label
from autograder.exercises import CHAPTER_MODULES, chapter, chapters
from autograder.fill import stub_source
from autograder.notebook import METADATA_KEY, cell_source
from conftest import CHAPTERS, REPO, load_json, run_cli

NOTEBOOKS = sorted(CHAPTERS.glob("*.ipynb"))
SLUGS = [p.stem for p in NOTEBOOKS]


def test_every_chapter_has_a_notebook_and_a_grader():
    assert SLUGS, "no chapter notebooks found"
    assert sorted(CHAPTER_MODULES) == SLUGS


def test_every_chapter_is_in_the_table_of_contents():
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    for slug in SLUGS:
        assert f"chapters/{slug}" in files


@pytest.mark.parametrize("path", NOTEBOOKS, ids=SLUGS)
def test_notebook_is_stored_clean(path):
    """No outputs, no execution counts: students get a clean notebook, diffs stay readable."""
    nb = nbformat.read(str(path), as_version=4)
    nbformat.validate(nb)
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.get("outputs") or c.get("execution_count") is not None)]
    assert not dirty, f"{path.name}: code cells {dirty} carry outputs or execution counts"
    assert nb.metadata[METADATA_KEY] == {"chapter": path.stem}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=SLUGS)
def test_each_exercise_is_one_stub_cell_matching_its_reference(path):
    """Exactly one cell defines each exercise, and its stub is the reference's signature and
    docstring followed by ``raise NotImplementedError`` (one source of truth: solutions/)."""
    nb = nbformat.read(str(path), as_version=4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for exercise in chapter(path.stem).exercises:
        defining = [s for s in code if re.search(rf"^(def|class) {exercise.name}\b", s, re.M)]
        assert len(defining) == 1, f"{exercise.name}: defined in {len(defining)} cells"
        assert stub_source(exercise) in defining[0], f"{exercise.name}: stub differs from the reference's signature/docstring"
        assert f":label: {exercise_label(exercise.name)}" in markdown, f"{exercise.name}: no exercise directive"
        assert f'check("{exercise.name}")' in "\n".join(code), f"{exercise.name}: no check cell"


def test_exercise_names_are_unique_module_level_definitions_in_solutions():
    defined: dict[str, list[str]] = {}
    for module in sorted((REPO / "solutions").glob("*.py")):
        tree = ast.parse(module.read_text())
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                defined.setdefault(node.name, []).append(module.name)
    for ch in chapters():
        for exercise in ch.exercises:
            assert defined.get(exercise.name) == [Path(ch.solutions_module.replace(".", "/") + ".py").name], exercise.name


@pytest.fixture(scope="module", params=SLUGS)
def filled(request, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("filled") / f"{request.param}.ipynb"
    proc = run_cli("fill", CHAPTERS / f"{request.param}.ipynb", "-o", out)
    assert proc.returncode == 0, proc.stderr
    return out


def test_filled_notebook_grades_full_marks(filled, tmp_path):
    report = tmp_path / "results.json"
    proc = run_cli("grade", filled, "--gradescope", report, "-v")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = load_json(report)
    assert results["tests"] and all(t["score"] == t["max_score"] > 0 for t in results["tests"]), results


@pytest.mark.parametrize("path", NOTEBOOKS, ids=SLUGS)
def test_stub_notebook_grades_zero_cleanly(path, tmp_path):
    before = path.read_bytes()
    report = tmp_path / "results.json"
    proc = run_cli("grade", path, "--gradescope", report)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stderr == ""
    results = load_json(report)
    assert results["score"] == 0
    names = [e.name for e in chapter(path.stem).exercises]
    assert [t["name"] for t in results["tests"]] == names
    for test in results["tests"]:
        assert "not implemented yet" in test["output"]
    assert path.read_bytes() == before, "the grader must never write to the notebook it grades"


def test_filled_notebook_runs_under_nbval(filled):
    """Every cell of the chapter, its assertions included, runs with the reference solutions."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "-q", "-p", "no:cacheprovider", filled.name],
        cwd=filled.parent, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-5000:]


def _execute(path: Path) -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def _check_verdicts(nb) -> dict[str, str]:
    """Exercise name -> the score line that check(...) displayed in the kernel."""
    verdicts = {}
    for cell in nb.cells:
        match = re.fullmatch(r'check\("(\w+)"\)', cell_source(cell).strip()) if cell.cell_type == "code" else None
        if match:
            text = "".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in cell.outputs)
            verdicts[match.group(1)] = text.splitlines()[0] if text else "<no output>"
    return verdicts


def test_check_in_a_kernel_gives_the_command_line_verdict(tmp_path):
    """Run chapter 1 with one exercise solved, one wrong and one a stub, in a real kernel; the
    scores check() shows must be the scores the command line gives the saved notebook."""
    source = load_json(CHAPTERS / "01_log_derivative_trick.ipynb")
    wrong = (
        "def categorical_score(a, logits):\n"
        "    logits = np.asarray(logits, dtype=float)\n"
        "    p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)  # overflows\n"
        "    return (np.asarray(a)[..., None] == np.arange(logits.shape[-1])) - p\n"
    )
    from autograder.exercises import find_exercise
    from autograder.fill import reference_source

    for cell in source["cells"]:
        text = cell_source(cell)
        if text.startswith("def gaussian_score("):
            cell["source"] = reference_source(find_exercise("gaussian_score"))
        elif text.startswith("def categorical_score("):
            cell["source"] = wrong
    path = tmp_path / "student copy.ipynb"
    path.write_text(json.dumps(source))
    verdicts = _check_verdicts(_execute(path))

    report = tmp_path / "results.json"
    run_cli("grade", path, "--gradescope", report)
    for test in load_json(report)["tests"]:
        expected = f"{test['number']} {test['name']}: {test['score']}/{test['max_score']}"
        assert verdicts[test["name"]].startswith(expected), (verdicts, test)
    assert verdicts["gaussian_score"].endswith("(passed)")
    assert "(failed)" in verdicts["categorical_score"]
    assert "(not implemented)" in verdicts["autograd_score"]

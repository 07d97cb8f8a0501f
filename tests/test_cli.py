"""The command line, run as a real subprocess: exit codes, error lines, reports, folders, fill.

The contract is "How the exercises are graded" in the curriculum. All notebooks are built
synthetically in temporary folders; correct code is the reference solutions' own source.
"""
from __future__ import annotations

import inspect
import json
import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import nbformat
import pytest

from autograder.isolation import landlock_abi

import solutions.ch01_log_derivative_trick as ref
from conftest import load_json, run_cli, write_notebook

IMPORTS = "import numpy as np\nimport torch\n"
SOURCES = {name: inspect.getsource(getattr(ref, name))
           for name in ("gaussian_score", "categorical_score", "autograd_score")}
NUMBERS = {"gaussian_score": "1.1", "categorical_score": "1.2", "autograd_score": "1.3"}
META = {"pg_course": {"chapter": "01_log_derivative_trick"}}

CATEGORICAL_WRONG = '''
def categorical_score(a, logits):
    logits = np.asarray(logits, dtype=np.float64)
    p = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    return p - (np.asarray(a)[..., None] == np.arange(logits.shape[-1]))
'''

STUBS = {
    "gaussian_score": 'def gaussian_score(x, mu, sigma):\n    """Score of N(x; mu, sigma^2)."""\n    raise NotImplementedError\n',
    "categorical_score": 'def categorical_score(a, logits):\n    """one_hot(a) - softmax(logits)."""\n    raise NotImplementedError\n',
    "autograd_score": 'def autograd_score(log_prob, theta, x):\n    """Per-sample gradients."""\n    raise NotImplementedError\n',
}

TABLE_ROW = re.compile(r"^(\d+\.\d+)\s+(\w+)\s+(\d+)/(\d+)\s", re.M)


def table_scores(stdout: str) -> dict[str, tuple[int, int]]:
    return {m.group(2): (int(m.group(3)), int(m.group(4))) for m in TABLE_ROW.finditer(stdout)}


def assert_no_traceback(proc):
    assert "Traceback" not in proc.stderr and "Traceback" not in proc.stdout, proc.stderr


def assert_one_error_line(proc):
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert_no_traceback(proc)
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), proc.stderr


def junit_cases(path: Path) -> list[ET.Element]:
    return list(ET.parse(path).getroot().iter("testcase"))


def junit_props(case: ET.Element) -> dict[str, str]:
    return {p.get("name"): p.get("value") for p in case.iter("property")}


def check_gradescope_schema(doc: dict, names: list[str]):
    assert set(doc) >= {"score", "execution_time", "tests"}
    assert isinstance(doc["score"], (int, float)) and not isinstance(doc["score"], bool)
    assert isinstance(doc["execution_time"], (int, float)) and doc["execution_time"] >= 0
    assert [t["name"] for t in doc["tests"]] == names
    for test in doc["tests"]:
        assert set(test) >= {"name", "number", "score", "max_score", "status", "output", "visibility"}, test
        assert test["number"] == NUMBERS[test["name"]]
        assert re.fullmatch(r"\d+\.\d+", test["number"])
        assert 0 <= test["score"] <= test["max_score"] and test["max_score"] > 0
        assert test["status"] in ("passed", "failed")
        assert (test["status"] == "passed") == (test["score"] == test["max_score"])
        assert isinstance(test["output"], str) and test["output"]
        assert test["visibility"] in ("visible", "hidden", "after_due_date", "after_published")
    assert doc["score"] == sum(t["score"] for t in doc["tests"])


# --- grading a whole chapter -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Two CLI runs, each writing Gradescope and JUnit reports: all correct, and one exercise wrong."""
    runs = {}
    for kind, cells in {
        "correct": [IMPORTS, *SOURCES.values()],
        "one wrong": [IMPORTS, SOURCES["gaussian_score"], CATEGORICAL_WRONG, SOURCES["autograd_score"]],
    }.items():
        folder = tmp_path_factory.mktemp(kind.replace(" ", "_"))
        nb = write_notebook(folder / "submission.ipynb", cells)
        before = nb.read_bytes()
        proc = run_cli("grade", nb, "--gradescope", folder / "results.json", "--junit", folder / "junit.xml")
        runs[kind] = {"proc": proc, "nb": nb, "before": before, "folder": folder,
                      "gradescope": folder / "results.json", "junit": folder / "junit.xml"}
    return runs


def test_all_correct_exits_0(graded):
    proc = graded["correct"]["proc"]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stderr == ""
    scores = table_scores(proc.stdout)
    assert list(scores) == list(SOURCES)
    assert all(got == full for got, full in scores.values())


def test_one_wrong_exits_1(graded):
    proc = graded["one wrong"]["proc"]
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_no_traceback(proc)
    scores = table_scores(proc.stdout)
    assert scores["categorical_score"][0] < scores["categorical_score"][1]
    assert scores["gaussian_score"][0] == scores["gaussian_score"][1]
    assert scores["autograd_score"][0] == scores["autograd_score"][1]


@pytest.mark.parametrize("kind", ["correct", "one wrong"])
def test_grading_never_writes_the_notebook(graded, kind):
    run = graded[kind]
    assert run["nb"].read_bytes() == run["before"]
    assert sorted(p.name for p in run["folder"].iterdir()) == ["junit.xml", "results.json", "submission.ipynb"]


@pytest.mark.parametrize("kind", ["correct", "one wrong"])
def test_gradescope_schema_and_scores_match_table(graded, kind):
    run = graded[kind]
    doc = load_json(run["gradescope"])
    check_gradescope_schema(doc, list(SOURCES))
    table = table_scores(run["proc"].stdout)
    assert {t["name"]: (t["score"], t["max_score"]) for t in doc["tests"]} == table


def test_gradescope_partial_credit_explains_itself(graded):
    doc = load_json(graded["one wrong"]["gradescope"])
    test = {t["name"]: t for t in doc["tests"]}["categorical_score"]
    assert test["status"] == "failed" and test["score"] < test["max_score"]
    assert "FAIL" in test["output"] and "expected" in test["output"]


@pytest.mark.parametrize("kind", ["correct", "one wrong"])
def test_junit_one_testcase_per_exercise(graded, kind):
    run = graded[kind]
    cases = junit_cases(run["junit"])
    assert [c.get("name") for c in cases] == list(SOURCES)
    table = table_scores(run["proc"].stdout)
    for case in cases:
        props = junit_props(case)
        score, full = table[case.get("name")]
        assert (int(props["score"]), int(props["max_score"])) == (score, full)
        assert props["number"] == NUMBERS[case.get("name")]
        failed = case.find("failure") is not None
        assert failed == (score < full), case.get("name")
    root = ET.parse(run["junit"]).getroot()
    assert int(root.get("tests")) == 3
    assert int(root.get("failures")) == sum(s < f for s, f in table.values())


# --- inputs that cannot be graded -----------------------------------------------------------------------

def _bad_inputs(folder: Path) -> dict[str, Path]:
    out = {}
    out["missing file"] = folder / "missing.ipynb"
    out["missing folder"] = folder / "no_such_folder"
    (folder / "empty.ipynb").write_bytes(b"")
    out["empty file"] = folder / "empty.ipynb"
    full = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(SOURCES["gaussian_score"])]))
    (folder / "truncated.ipynb").write_text(full[: len(full) // 2])
    out["truncated JSON"] = folder / "truncated.ipynb"
    (folder / "text.ipynb").write_text("def gaussian_score(x, mu, sigma):\n    return x\n")
    out["text named .ipynb"] = folder / "text.ipynb"
    (folder / "binary.ipynb").write_bytes(b"\x89PNG\r\n\x1a\n\xff\xfe\x00")
    out["binary file"] = folder / "binary.ipynb"
    (folder / "list.ipynb").write_text("[1, 2, 3]")
    out["JSON that is not a notebook"] = folder / "list.ipynb"
    v3 = {"nbformat": 3, "nbformat_minor": 0, "metadata": {},
          "worksheets": [{"cells": [{"cell_type": "code", "input": SOURCES["gaussian_score"], "outputs": []}]}]}
    (folder / "v3.ipynb").write_text(json.dumps(v3))
    out["nbformat 3"] = folder / "v3.ipynb"
    out["no known chapter"] = write_notebook(folder / "homework.ipynb", ["import numpy as np\nx = np.ones(3)"])
    out["unknown chapter in metadata"] = write_notebook(
        folder / "other.ipynb", ["x = 1"], metadata={"pg_course": {"chapter": "99_nothing"}})
    (folder / "empty_folder").mkdir()
    out["folder without notebooks"] = folder / "empty_folder"
    return out


BAD = ["missing file", "missing folder", "empty file", "truncated JSON", "text named .ipynb", "binary file",
       "JSON that is not a notebook", "nbformat 3", "no known chapter", "unknown chapter in metadata",
       "folder without notebooks"]


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory):
    return _bad_inputs(tmp_path_factory.mktemp("bad"))


@pytest.mark.parametrize("kind", BAD)
def test_ungradable_input_exits_2_with_one_error_line(bad_inputs, kind):
    path = bad_inputs[kind]
    before = path.read_bytes() if path.is_file() else None
    proc = run_cli("grade", path)
    assert_one_error_line(proc)
    assert str(path.name) in proc.stderr
    if before is not None:
        assert path.read_bytes() == before


@pytest.mark.parametrize("content", [
    pytest.param("[" * 100_000 + "]" * 100_000, id="deeply nested JSON"),
    pytest.param('{"cells": [], "nbformat": 4, "n": ' + "1" * 5000 + "}", id="JSON integer of 5000 digits"),
])
def test_pathological_json_exits_2_with_one_error_line(tmp_path, content):
    path = tmp_path / "odd.ipynb"
    path.write_text(content)
    assert_one_error_line(run_cli("grade", path))


def test_gradable_and_ungradable_together_exit_2(tmp_path):
    good = write_notebook(tmp_path / "good.ipynb", [IMPORTS, SOURCES["categorical_score"]])
    proc = run_cli("grade", good, tmp_path / "missing.ipynb", "--gradescope", tmp_path / "results.json")
    assert_one_error_line(proc)
    assert "missing.ipynb" in proc.stderr
    assert table_scores(proc.stdout)["categorical_score"] == (5, 5)  # the good one is still graded
    doc = load_json(tmp_path / "results.json")
    assert {t["name"]: t["score"] for t in doc["tests"]}["categorical_score"] == 5


# --- renamed copies, folders --------------------------------------------------------------------------

RENAME_CELLS = [IMPORTS, SOURCES["gaussian_score"], CATEGORICAL_WRONG]  # 5/5, partial, missing


def test_renamed_copies_grade_the_same(tmp_path):
    names = ["01_log_derivative_trick.ipynb", "My Homework (final) v2.ipynb", "x.ipynb", "05_reinforce.ipynb"]
    paths = []
    for i, name in enumerate(names):
        folder = tmp_path / f"copy{i}"
        folder.mkdir()
        paths.append(write_notebook(folder / name, RENAME_CELLS))
        folder = tmp_path / f"meta{i}"
        folder.mkdir()
        paths.append(write_notebook(folder / name, RENAME_CELLS, metadata=META))
    proc = run_cli("grade", *paths, "--junit", tmp_path / "junit.xml")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_no_traceback(proc)
    suites = list(ET.parse(tmp_path / "junit.xml").getroot().iter("testsuite"))
    assert len(suites) == len(paths)
    scores = [
        [(c.get("classname"), c.get("name"), junit_props(c)["score"], junit_props(c)["max_score"])
         for c in suite.iter("testcase")]
        for suite in suites
    ]
    assert all(s == scores[0] for s in scores), scores
    assert [name for _, name, _, _ in scores[0]] == list(SOURCES)
    assert scores[0][0][2] == scores[0][0][3]  # gaussian_score full marks
    assert int(scores[0][1][2]) < int(scores[0][1][3])  # categorical_score lost marks


def test_renamed_copy_without_exercises_but_with_metadata_is_graded(tmp_path):
    path = write_notebook(tmp_path / "whatever.ipynb", ["x = 1"], metadata=META)
    proc = run_cli("grade", path)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert_no_traceback(proc)
    assert {name: got for name, (got, _) in table_scores(proc.stdout).items()} == dict.fromkeys(SOURCES, 0)


def test_folder_grades_every_notebook(tmp_path):
    folder = tmp_path / "submissions"
    (folder / "sub").mkdir(parents=True)
    a = write_notebook(folder / "alice.ipynb", [IMPORTS, SOURCES["gaussian_score"]])
    b = write_notebook(folder / "sub" / "bob.ipynb", [IMPORTS, SOURCES["categorical_score"]])
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "alice-checkpoint.ipynb").write_text("not a notebook")
    (folder / "notes.txt").write_text("not a notebook either")
    proc = run_cli("grade", folder, "--junit", tmp_path / "junit.xml")
    assert proc.returncode == 1, proc.stdout + proc.stderr  # each notebook misses two exercises
    assert proc.stderr == ""
    assert str(a) in proc.stdout and str(b) in proc.stdout
    assert "checkpoint" not in proc.stdout
    suites = {s.get("name"): s for s in ET.parse(tmp_path / "junit.xml").getroot().iter("testsuite")}
    assert set(suites) == {str(a), str(b)}
    full = {
        path: [c.get("name") for c in suite.iter("testcase") if c.find("failure") is None]
        for path, suite in suites.items()
    }
    assert full == {str(a): ["gaussian_score"], str(b): ["categorical_score"]}


# --- stubs and fill -----------------------------------------------------------------------------------

def _chapter_like_notebook(path: Path) -> Path:
    """What a student receives: narrative, imports, one stub cell per exercise, check cells."""
    nb = nbformat.v4.new_notebook()
    nb.metadata.update(META)
    cells = [nbformat.v4.new_markdown_cell("# The log-derivative trick"),
             nbformat.v4.new_code_cell(IMPORTS + "%matplotlib inline")]
    for name, stub in STUBS.items():
        cells += [
            nbformat.v4.new_markdown_cell(f"## Exercise {NUMBERS[name]}: `{name}`"),
            nbformat.v4.new_code_cell("# helper comment above the exercise\n" + stub + "\nEXTRA = 1\n"),
            nbformat.v4.new_code_cell(f'from autograder import check\ncheck("{name}")'),
        ]
    cells.append(nbformat.v4.new_code_cell("for i in range(3):\n    print(gaussian_score(0.1 * i, 0.0, 1.0))"))
    nb.cells = cells
    nbformat.write(nb, str(path))
    return path


@pytest.fixture(scope="module")
def stub_notebook(tmp_path_factory) -> Path:
    return _chapter_like_notebook(tmp_path_factory.mktemp("stubs") / "01_log_derivative_trick.ipynb")


def test_stubs_are_not_implemented(stub_notebook, tmp_path):
    proc = run_cli("grade", stub_notebook, "--gradescope", tmp_path / "results.json", "--junit", tmp_path / "junit.xml")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert proc.stderr == ""
    scores = table_scores(proc.stdout)
    assert list(scores) == list(SOURCES) and all(got == 0 for got, _ in scores.values())
    assert proc.stdout.count("not implemented") == 3
    doc = load_json(tmp_path / "results.json")
    check_gradescope_schema(doc, list(SOURCES))
    for test in doc["tests"]:
        assert test["score"] == 0 and test["status"] == "failed"
        assert f"{test['name']}: 0/{test['max_score']} (not implemented)" in test["output"]
    failures = [c.find("failure") for c in junit_cases(tmp_path / "junit.xml")]
    assert [f.get("type") for f in failures] == ["not implemented"] * 3


def test_fill_writes_a_notebook_with_full_marks(stub_notebook, tmp_path):
    before = stub_notebook.read_bytes()
    out = tmp_path / "filled" / "filled.ipynb"
    proc = run_cli("fill", stub_notebook, "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert_no_traceback(proc)
    assert stub_notebook.read_bytes() == before  # the input is only read

    filled = nbformat.read(str(out), as_version=4)
    original = nbformat.read(str(stub_notebook), as_version=4)
    assert len(filled.cells) == len(original.cells)
    assert filled.metadata["pg_course"] == META["pg_course"]
    for new, old in zip(filled.cells, original.cells):
        if "raise NotImplementedError" in old.source:
            assert "raise NotImplementedError" not in new.source
            assert new.source.startswith("# helper comment above the exercise\n")
            assert "EXTRA = 1" in new.source
        else:
            assert new.source == old.source

    proc = run_cli("grade", out)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert all(got == full for got, full in table_scores(proc.stdout).values())


@pytest.mark.parametrize("spelling", ["same", "dotted"])
def test_fill_refuses_to_overwrite_its_input(stub_notebook, spelling):
    before = stub_notebook.read_bytes()
    target = stub_notebook if spelling == "same" else stub_notebook.parent / "." / ".." / stub_notebook.parent.name / stub_notebook.name
    proc = run_cli("fill", stub_notebook, "-o", target)
    assert_one_error_line(proc)
    assert stub_notebook.read_bytes() == before


@pytest.mark.parametrize("kind", ["missing file", "truncated JSON", "no known chapter"])
def test_fill_of_ungradable_input_exits_2(bad_inputs, kind, tmp_path):
    proc = run_cli("fill", bad_inputs[kind], "-o", tmp_path / "out.ipynb")
    assert_one_error_line(proc)
    assert not (tmp_path / "out.ipynb").exists()


# --- a hostile submission against the command line -------------------------------------------------------

FORGE_AND_KILL = '''
import numpy as np
def gaussian_score(x, mu, sigma):
    import json, os, signal
    grader = os.getppid()
    argv = open(f"/proc/{grader}/cmdline", "rb").read().split(b"\\0")
    out = os.path.join(os.readlink(f"/proc/{grader}/cwd"), argv[argv.index(b"--gradescope") + 1].decode())
    tests = [{"name": n, "number": k, "score": 6, "max_score": 6, "status": "passed", "output": "", "visibility": "visible"}
             for n, k in [("gaussian_score", "1.1"), ("categorical_score", "1.2"), ("autograd_score", "1.3")]]
    with open(out, "w") as handle:
        json.dump({"score": 18, "execution_time": 1.0, "tests": tests}, handle)
    os.kill(grader, signal.SIGKILL)
'''


@pytest.mark.skipif(landlock_abi() < 6, reason="this kernel has no Landlock ABI >= 6: signals are not scoped")
def test_submission_cannot_forge_gradescope_results(tmp_path):
    nb = write_notebook(tmp_path / "forge.ipynb", [FORGE_AND_KILL])
    results = tmp_path / "results.json"
    proc = run_cli("grade", nb, "--gradescope", results)
    if results.exists():
        assert load_json(results)["score"] == 0, f"forged results.json survived (exit {proc.returncode})"
    assert proc.returncode == 1, (proc.returncode, proc.stderr)

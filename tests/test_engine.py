"""The grading engine: slicing, IPython syntax, syntax errors, and the sandbox.

Every notebook here is built synthetically (``write_notebook`` / ``grade_one``); nothing
depends on the chapter notebook under ``chapters/``. Correct code is the reference
solutions' own source, pasted with ``inspect.getsource``.
"""
from __future__ import annotations

import inspect
import os
import signal
import time
from pathlib import Path

import pytest

import solutions.ch01_log_derivative_trick as ref
from autograder.grading import grade_path
from autograder.isolation import landlock_abi
from autograder.notebook import notebook_from_sources
from autograder.slicing import slice_exercise
from conftest import grade_one, write_notebook

IMPORTS = "import numpy as np\n"
GAUSS = inspect.getsource(ref.gaussian_score)
CAT = inspect.getsource(ref.categorical_score)

# Wrong on purpose: the sign of both coordinates is flipped.
GAUSS_WRONG = '''
def gaussian_score(x, mu, sigma):
    x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
    z = (x - mu) / sigma
    return -np.stack(np.broadcast_arrays(z / sigma, (z**2 - 1.0) / sigma), axis=-1)
'''


def assert_full(result):
    assert result.full_marks, result.feedback()
    assert result.status == "passed", result.feedback()


def assert_zero(result):
    assert result.score == 0, result.feedback()
    assert result.max_score > 0
    assert not result.full_marks


def all_messages(result) -> str:
    return "\n".join([c.message for c in result.checks] + list(result.notes))


def slice_text(cells: list[str], name: str) -> str:
    return "\n".join(src for _, src in slice_exercise(notebook_from_sources(cells), name).cells)


# --- slicing: only what the exercise needs runs ------------------------------------------------

NARRATIVE = [
    "import time\nimport matplotlib.pyplot as plt",
    "while True:\n    pass",
    "plt.plot([1, 2, 3])\nplt.show()",
    "time.sleep(100)",
    "_ = time.sleep(100)",  # an assignment, but nothing the exercise needs
    "print(gaussian_score(1.0, 0.0, 1.0))",
]


def test_narrative_cells_are_not_run():
    cells = [IMPORTS, *NARRATIVE[:3], GAUSS, *NARRATIVE[3:]]
    start = time.monotonic()
    result = grade_one(cells, "gaussian_score", timeout=10)
    assert_full(result)
    assert time.monotonic() - start < 8


def test_slice_leaves_narrative_out():
    text = slice_text([IMPORTS, *NARRATIVE[:3], GAUSS, *NARRATIVE[3:]], "gaussian_score")
    assert "def gaussian_score" in text
    assert "import numpy as np" in text
    for absent in ("while True", "plt.show", "time.sleep", "import matplotlib", "print("):
        assert absent not in text, text


def test_slice_keeps_line_numbers():
    """Blanked lines, not removed ones: a traceback's line number is the student's."""
    nb = notebook_from_sources([IMPORTS + "x = 1\nprint(x)\n" + GAUSS])
    (label, source), = slice_exercise(nb, "gaussian_score").cells
    assert label == "cell 1"
    assert source.split("\n").index("def gaussian_score(x, mu, sigma):") == \
        nb.cells[0].source.split("\n").index("def gaussian_score(x, mu, sigma):")


HELPER = '''
def _standardise(x, mu, sigma):
    x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
    return (x - mu) / sigma, sigma
'''
USES_HELPER = '''
def gaussian_score(x, mu, sigma):
    z, sigma = _standardise(x, mu, sigma)
    return np.stack(np.broadcast_arrays(z / sigma, (z**2 - 1.0) / sigma), axis=-1)
'''


@pytest.mark.parametrize("order", ["helper first", "helper after the exercise"])
def test_helper_function_in_another_cell_is_found(order):
    cells = [IMPORTS, HELPER, "x = 3", USES_HELPER] if order == "helper first" else [IMPORTS, USES_HELPER, "x = 3", HELPER]
    assert_full(grade_one(cells, "gaussian_score", timeout=10))


USES_CONSTANTS = '''
def gaussian_score(x, mu, sigma):
    x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
    z = (x - mu) / sigma
    return np.stack(np.broadcast_arrays(z / sigma, (z**POWER - ONE) / sigma), axis=AXIS)
'''


def test_global_constants_are_found():
    cells = [IMPORTS, "POWER = 2\nAXIS = -1", "BASE = 1.0\nONE = BASE * 1", "print(POWER)", USES_CONSTANTS]
    assert_full(grade_one(cells, "gaussian_score", timeout=10))


def test_last_definition_wins_correct_last():
    assert_full(grade_one([IMPORTS, GAUSS_WRONG, GAUSS], "gaussian_score", timeout=10))


def test_last_definition_wins_wrong_last():
    result = grade_one([IMPORTS, GAUSS, GAUSS_WRONG], "gaussian_score", timeout=10)
    assert_zero(result)
    assert "sign" in all_messages(result)  # the hint for a flipped sign


def test_last_binding_of_a_constant_wins():
    """After "Run all" a function sees the last value of a global; an assignment sees the value before it."""
    cells = [IMPORTS, "POWER = 3\nAXIS = 0", "P2 = 2\nAXIS_NOW = -1", "POWER = P2\nAXIS = AXIS_NOW\nP2 = 7",
             "BASE = 1.0\nONE = BASE\nBASE = 5.0", USES_CONSTANTS]
    assert_full(grade_one(cells, "gaussian_score", timeout=10))


@pytest.mark.parametrize("definition", [
    "for _ in range(1):\n    SQUARE = 2",
    "import contextlib\nwith contextlib.nullcontext():\n    SQUARE = 2",
])
def test_name_bound_only_in_a_loop_gives_explained_name_error(definition):
    exercise = '''
def gaussian_score(x, mu, sigma):
    x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))
    z = (x - mu) / sigma
    return np.stack(np.broadcast_arrays(z / sigma, (z**SQUARE - 1.0) / sigma), axis=-1)
'''
    cells = [IMPORTS, definition, exercise]
    code = slice_exercise(notebook_from_sources(cells), "gaussian_score")
    assert "SQUARE" in code.unrunnable
    assert "cell 2" in code.unrunnable["SQUARE"]

    result = grade_one(cells, "gaussian_score", timeout=10)
    assert_zero(result)
    message = result.checks[0].message
    assert "NameError: name 'SQUARE'" in message
    assert "defined only in cell 2" in message
    assert "does not run" in message


def test_exercise_defined_only_in_a_loop_is_reported():
    cells = [IMPORTS, "for _ in range(1):\n" + "\n".join("    " + line for line in GAUSS.splitlines())]
    result = grade_one(cells, "gaussian_score", timeout=10)
    assert result.status == "missing"
    assert_zero(result)
    assert any("cell 2" in note and "does not run" in note for note in result.notes), result.notes


def test_missing_exercise_is_missing():
    result = grade_one([IMPORTS, "x = 1"], "gaussian_score", timeout=10)
    assert result.status == "missing"
    assert_zero(result)
    assert "no code cell defines `gaussian_score`" in result.notes[0]


# --- IPython syntax --------------------------------------------------------------------------------

MAGIC_CELLS = {
    "line magic": "%matplotlib inline",
    "shell": "!pip install x",
    "assigned shell": "files = !ls",
    "assigned magic": "out = %timeit -o np.zeros(3)",
    "continued shell": "!echo one \\\n    two",
    "time cell": "%%time\ny = np.zeros(3)\nfor i in range(3):\n    y[i] = i",
    "bash cell": "%%bash\necho hi\nfor i in 1 2; do echo $i; done\nif [ 1 ]; then sleep 100; fi",
    "help": "np.mean?",
    "help2": "np.mean??",
    "prefix help": "?np.mean",
    "mixed": "import numpy as np\n%matplotlib inline\nx = np.ones(2)\n!ls -la\nnp.mean?",
}


@pytest.mark.parametrize("magic", list(MAGIC_CELLS), ids=list(MAGIC_CELLS))
def test_ipython_syntax_in_other_cells(magic):
    cells = [IMPORTS, MAGIC_CELLS[magic], GAUSS, MAGIC_CELLS[magic]]
    assert_full(grade_one(cells, "gaussian_score", timeout=10))


@pytest.mark.parametrize("prefix", ["%%time\n", "%%capture\n", "%matplotlib inline\n!pip install x\nfiles = !ls\n"])
def test_ipython_syntax_in_the_exercise_cell(prefix):
    cells = [prefix + IMPORTS + GAUSS + "\nnp.mean?\ngaussian_score?\n"]
    assert_full(grade_one(cells, "gaussian_score", timeout=10))


def test_shell_assignment_does_not_define_a_name_the_grader_runs():
    """``files = !ls`` becomes a get_ipython() call that does nothing when graded."""
    cells = [IMPORTS, "files = !ls", GAUSS]
    assert "get_ipython" not in slice_text(cells, "gaussian_score")


# --- a syntax error in one cell ---------------------------------------------------------------------

BROKEN = "def gaussian_score(x, mu, sigma)\n    return x\n"  # missing colon


def test_syntax_error_cell_other_exercises_still_graded(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", [IMPORTS, CAT, BROKEN, "print(1"])
    result = grade_path(path, timeout=10)
    assert result.error is None
    by_name = {e.name: e for e in result.exercises}
    assert_full(by_name["categorical_score"])
    gauss = by_name["gaussian_score"]
    assert_zero(gauss)
    notes = " ".join(gauss.notes)
    assert "cell 3" in notes and "syntax error" in notes, gauss.notes
    assert "cell 4" not in notes  # that broken cell never mentions gaussian_score
    assert "cell 3" in gauss.feedback()


def test_syntax_error_note_counts_markdown_cells(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", [IMPORTS, BROKEN], markdown=["# Title", "Some text"],
                          metadata={"pg_course": {"chapter": "01_log_derivative_trick"}})
    gauss = {e.name: e for e in grade_path(path, timeout=10).exercises}["gaussian_score"]
    assert_zero(gauss)
    assert any("cell 4" in note for note in gauss.notes), gauss.notes  # 2 markdown + imports + broken


def test_syntax_error_in_narrative_cell_is_harmless():
    assert_full(grade_one([IMPORTS, "print(1", GAUSS, "x = = 2"], "gaussian_score", timeout=10))


# --- the sandbox --------------------------------------------------------------------------------------

HOSTILE = {
    "infinite loop": "def gaussian_score(x, mu, sigma):\n    while True:\n        pass\n",
    "sys.exit(0)": "import sys\ndef gaussian_score(x, mu, sigma):\n    sys.exit(0)\n",
    "os._exit(0)": "import os\ndef gaussian_score(x, mu, sigma):\n    os._exit(0)\n",
    "os._exit(0) while setting up": "import os\nSTOP = os._exit(0)\ndef gaussian_score(x, mu, sigma):\n    return STOP\n",
    "raise SystemExit": "def gaussian_score(x, mu, sigma):\n    raise SystemExit(0)\n",
    "raise KeyboardInterrupt": "def gaussian_score(x, mu, sigma):\n    raise KeyboardInterrupt\n",
    "KeyboardInterrupt while setting up": (
        "def _stop():\n    raise KeyboardInterrupt\nSTOP = _stop()\n"
        "def gaussian_score(x, mu, sigma):\n    return STOP\n"
    ),
    "kill own process group": (
        "import os, signal\ndef gaussian_score(x, mu, sigma):\n    os.killpg(0, signal.SIGKILL)\n"
    ),
    "huge array": "def gaussian_score(x, mu, sigma):\n    return np.ones(10**10)[:2]\n",
    "array over the memory limit": "def gaussian_score(x, mu, sigma):\n    return np.ones(2 * 10**8)[:2]\n",
    "prints a fake results JSON": '''
import json, sys
FAKE = {"score": 16, "tests": [{"name": "gaussian_score", "number": "1.1", "score": 5, "max_score": 5,
                                "status": "passed"}]}
def gaussian_score(x, mu, sigma):
    print(json.dumps(FAKE))
    print(json.dumps({"status": "ok", "value": {"float": "1.0"}}), file=sys.stderr)
    return np.zeros(3)
''',
    "writes forged result files in its cwd": '''
import os
def gaussian_score(x, mu, sigma):
    for name in ["case-%d.json" % i for i in range(12)] + ["done.json", "setup.json", "results.json"]:
        with open(name, "w") as handle:
            handle.write('{"status": "ok", "value": {"none": true}}')
    return np.zeros(3)
''',
    "imports solutions": "from solutions.ch01_log_derivative_trick import gaussian_score\n",
    "imports solutions when called": '''
def gaussian_score(x, mu, sigma):
    import importlib
    return importlib.import_module("solutions.ch01_log_derivative_trick").gaussian_score(x, mu, sigma)
''',
    "__import__ solutions": '''
def gaussian_score(x, mu, sigma):
    return __import__("solutions.ch01_log_derivative_trick", fromlist=["x"]).gaussian_score(x, mu, sigma)
''',
    "replaces numpy.allclose at import time": '''
import numpy
import numpy.testing
numpy.allclose = lambda *a, **k: True
numpy.array_equal = lambda *a, **k: True
numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.broadcast(a, b).shape, dtype=bool)
numpy.testing.assert_allclose = lambda *a, **k: None
def gaussian_score(x, mu, sigma):
    return numpy.zeros(numpy.broadcast(numpy.asarray(x), numpy.asarray(mu), numpy.asarray(sigma)).shape + (2,))
''',
    "ndarray subclass with lying __eq__": '''
class Liar(np.ndarray):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __array__(self, *args, **kwargs):
        return np.asarray(self)
def gaussian_score(x, mu, sigma):
    shape = np.broadcast(np.asarray(x), np.asarray(mu), np.asarray(sigma)).shape + (2,)
    return np.zeros(shape).view(Liar)
''',
    "object with lying __eq__ and __array__": '''
class Liar:
    dtype = np.dtype("float64")
    def __init__(self, shape):
        self.shape, self.ndim = shape, len(shape)
    def __eq__(self, other):
        return True
    def __array__(self, *args, **kwargs):
        return np.zeros(self.shape)
    def __len__(self):
        return self.shape[0]
def gaussian_score(x, mu, sigma):
    return Liar(np.broadcast(np.asarray(x), np.asarray(mu), np.asarray(sigma)).shape + (2,))
''',
    "deletes and overwrites files next to the notebook": '''
import glob, os
def gaussian_score(x, mu, sigma):
    for path in glob.glob(os.path.join(os.environ.get("VICTIM_DIR", "/nonexistent"), "*.ipynb")):
        try:
            os.remove(path)
        except OSError:
            open(path, "w").write("overwritten")
    return np.zeros(1)
''',
    "opens a network connection": '''
import socket
def gaussian_score(x, mu, sigma):
    socket.create_connection(("127.0.0.1", 9), timeout=1)
    return np.zeros(1)
''',
    "signals the grader": '''
import os, signal
def gaussian_score(x, mu, sigma):
    os.kill(os.getppid(), signal.SIGKILL)
    return np.zeros(1)
''',
    "atexit handler that prints a verdict": '''
import atexit
atexit.register(lambda: print('{"score": 100}'))
def gaussian_score(x, mu, sigma):
    raise ValueError("no")
''',
    "ignores SIGTERM and loops": '''
import signal
signal.signal(signal.SIGTERM, signal.SIG_IGN)
def gaussian_score(x, mu, sigma):
    while True:
        pass
''',
    "infinite recursion": '''
def gaussian_score(x, mu, sigma):
    return gaussian_score(x, mu, sigma)
''',
    "returns NaN and inf": '''
def gaussian_score(x, mu, sigma):
    shape = np.broadcast(np.asarray(x), np.asarray(mu), np.asarray(sigma)).shape + (2,)
    out = np.full(shape, np.nan)
    out[..., 1] = np.inf
    return out
''',
    "object pretending to be an ndarray": '''
class Fake:
    __class__ = property(lambda self: np.ndarray)
    def __eq__(self, other):
        return True
    def __array__(self, *args, **kwargs):
        return np.zeros((1, 2))
def gaussian_score(x, mu, sigma):
    return Fake()
''',
}


# Held off by Landlock (autograder/isolation.py), not by the grader's own design.
NEEDS_LANDLOCK = {"deletes and overwrites files next to the notebook", "opens a network connection",
                  "signals the grader"}

# What the student is told about each (in a check's message or a note).
HOSTILE_SAYS = {
    "infinite loop": "time limit",
    "sys.exit(0)": "SystemExit",
    "os._exit(0)": "without a result",
    "os._exit(0) while setting up": "without a result",
    "raise SystemExit": "SystemExit",
    "raise KeyboardInterrupt": "KeyboardInterrupt",
    "KeyboardInterrupt while setting up": "KeyboardInterrupt",
    "kill own process group": "SIGKILL",
    "huge array": "MemoryError",
    "array over the memory limit": "MemoryError",  # 1.6 GB: would succeed without the limit
    "prints a fake results JSON": "expected shape",
    "imports solutions": "does not let exercises import",
    "imports solutions when called": "does not let exercises import",
    "__import__ solutions": "does not let exercises import",
    "replaces numpy.allclose at import time": "values differ",
    "ndarray subclass with lying __eq__": "expected an np.ndarray, got",
    "object with lying __eq__ and __array__": "expected an np.ndarray, got",
    "object pretending to be an ndarray": "expected an np.ndarray, got",
    "deletes and overwrites files next to the notebook": "PermissionError",
    "opens a network connection": "PermissionError",
    "signals the grader": "PermissionError",
    "atexit handler that prints a verdict": "ValueError",
    "ignores SIGTERM and loops": "time limit",
    "infinite recursion": "RecursionError",
    "returns NaN and inf": "got nan",
}


@pytest.mark.parametrize("hostile", list(HOSTILE), ids=list(HOSTILE))
def test_hostile_submission_earns_nothing_and_others_are_graded(hostile, tmp_path, monkeypatch):
    if hostile in NEEDS_LANDLOCK and landlock_abi() < 6:
        pytest.skip("this kernel has no Landlock ABI >= 6: files, network and signals are not isolated")
    path = write_notebook(tmp_path / "hostile.ipynb", [IMPORTS, HOSTILE[hostile], CAT])
    before = path.read_bytes()
    grader_cwd = tmp_path / "grader-cwd"
    grader_cwd.mkdir()
    monkeypatch.chdir(grader_cwd)
    monkeypatch.setenv("VICTIM_DIR", str(tmp_path))  # tells the file-deleting submission where to aim
    result = grade_path(path, timeout=3, memory_mb=1024)
    assert result.error is None, result.error
    by_name = {e.name: e for e in result.exercises}
    assert_zero(by_name["gaussian_score"])
    assert_full(by_name["categorical_score"])
    if hostile in HOSTILE_SAYS:
        assert HOSTILE_SAYS[hostile] in all_messages(by_name["gaussian_score"]), by_name["gaussian_score"].feedback()
    assert path.read_bytes() == before  # the grader never writes to the notebook it grades
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grader-cwd", "hostile.ipynb"]
    assert list(grader_cwd.iterdir()) == []  # files the student wrote stay in the sandbox


def test_patching_numpy_types_only_breaks_the_patcher():
    code = (
        "np.ndarray = type('ndarray', (), {})\n"
        "np.allclose = lambda *a, **k: True\n"
        "def gaussian_score(x, mu, sigma):\n"
        "    return np.zeros(np.broadcast(np.asarray(x), np.asarray(mu), np.asarray(sigma)).shape + (2,))\n"
    )
    assert_zero(grade_one([IMPORTS, code], "gaussian_score", timeout=10))


def test_system_exit_is_reported_per_case():
    """SystemExit ends one call, not the process: every case still gets its own verdict."""
    result = grade_one([IMPORTS, HOSTILE["raise SystemExit"]], "gaussian_score", timeout=10)
    assert all("raised SystemExit" in c.message for c in result.checks), result.feedback()


def _forking(mark: str, detach: bool) -> str:
    # The child becomes `sleep <mark>`: the test finds survivors by that command line (the
    # sandbox lets student code write only inside its own job folder, so no pid file).
    return f'''
import os
def gaussian_score(x, mu, sigma):
    if os.fork() == 0:
        {"os.setsid()" if detach else "pass"}
        os.execv("/bin/sleep", ["sleep", "{mark}"])
    return np.zeros(1)
'''


def _processes_with(mark: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _check_children_die(tmp_path: Path, detach: bool):
    mark = f"{100 + (os.getpid() % 1000) + time.time() % 1:.6f}"
    path = write_notebook(tmp_path / "fork.ipynb", [IMPORTS, _forking(mark, detach), CAT])
    try:
        result = grade_path(path, timeout=10)
        by_name = {e.name: e for e in result.exercises}
        assert_zero(by_name["gaussian_score"])
        assert_full(by_name["categorical_score"])
        deadline = time.monotonic() + 1  # SIGKILL is asynchronous: allow it to land
        while _processes_with(mark) and time.monotonic() < deadline:
            time.sleep(0.05)
        survivors = _processes_with(mark)
        assert not survivors, f"forked children outlived grading: {survivors}"
    finally:
        for pid in _processes_with(mark):  # clean up what this test started
            os.kill(pid, signal.SIGKILL)


def test_forked_child_does_not_outlive_grading(tmp_path):
    _check_children_die(tmp_path, detach=False)


def test_forked_child_in_new_session_does_not_outlive_grading(tmp_path):
    _check_children_die(tmp_path, detach=True)


BYPASSES = {
    "removes the import blocker from sys.meta_path": '''
def gaussian_score(x, mu, sigma):
    import sys
    sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "_BlockReferenceSolutions"]
    from solutions.ch01_log_derivative_trick import gaussian_score as reference
    return reference(x, mu, sigma)
''',
    "loads the solutions file by path": '''
def gaussian_score(x, mu, sigma):
    import importlib.util, os, autograder
    root = os.path.dirname(os.path.dirname(autograder.__file__))
    spec = importlib.util.spec_from_file_location("not_solutions", os.path.join(root, "solutions", "ch01_log_derivative_trick.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.gaussian_score(x, mu, sigma)
''',
}


@pytest.mark.parametrize("bypass", list(BYPASSES), ids=list(BYPASSES))
@pytest.mark.skipif(landlock_abi() < 1, reason="this kernel has no Landlock: solutions/ stays readable")
def test_reference_solutions_cannot_be_reached(bypass):
    assert_zero(grade_one([IMPORTS, BYPASSES[bypass]], "gaussian_score", timeout=10))


def test_torch_subclass_earns_nothing():
    code = '''
import torch
class Liar(torch.Tensor):
    def __eq__(self, other):
        return True
def autograd_score(log_prob, theta, x):
    n = log_prob(theta, x).shape[0]
    return torch.zeros(n, theta.shape[0], dtype=theta.dtype).as_subclass(Liar)
'''
    assert_zero(grade_one([IMPORTS, code], "autograd_score", timeout=30))


def test_grader_never_writes_the_notebook(tmp_path):
    path = write_notebook(tmp_path / "nb.ipynb", [IMPORTS, GAUSS, CAT, "%matplotlib inline", "print(1"],
                          metadata={"pg_course": {"chapter": "01_log_derivative_trick"}})
    before, mtime = path.read_bytes(), path.stat().st_mtime_ns
    result = grade_path(path, timeout=10)
    assert result.error is None
    assert path.read_bytes() == before
    assert path.stat().st_mtime_ns == mtime
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nb.ipynb"]

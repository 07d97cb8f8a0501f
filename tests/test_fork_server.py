"""The fork server (autograder/_zygote.py) changes speed, never verdicts."""
from __future__ import annotations

import inspect
import json

import pytest

import solutions.ch01_log_derivative_trick as ref
from autograder import sandbox
from autograder.isolation import landlock_abi
from conftest import grade_one, load_json, run_cli, write_notebook

pytestmark = pytest.mark.skipif(landlock_abi() < 6, reason="the fork server is used only with Landlock ABI >= 6")

CELLS = [
    "import numpy as np\nimport torch",
    inspect.getsource(ref.gaussian_score),
    "def categorical_score(a, logits):\n"
    "    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)  # overflows at 1e3\n"
    "    return np.eye(p.shape[-1])[a] - p\n",
    inspect.getsource(ref.autograd_score).replace("retain_graph=True", "retain_graph=True, create_graph=False"),
]


def test_direct_spawn_and_fork_server_give_the_same_report(tmp_path):
    nb = write_notebook(tmp_path / "nb.ipynb", CELLS)
    reports = {}
    for mode in ("1", "0"):
        out = tmp_path / f"results-{mode}.json"
        proc = run_cli("grade", nb, "--gradescope", out, env={"PG_AUTOGRADER_FORKSERVER": mode})
        assert proc.returncode == 1, proc.stderr
        tests = load_json(out)["tests"]
        reports[mode] = json.dumps([(t["name"], t["score"], t["max_score"], t["output"]) for t in tests])
    assert reports["1"] == reports["0"]
    assert "softmax overflowed" in reports["1"]


def test_a_dead_fork_server_is_replaced():
    server = sandbox.fork_server()
    assert server is not None and server.alive
    server.proc.kill()
    server.proc.wait()
    result = grade_one([CELLS[0], CELLS[1]], "gaussian_score")
    assert result.full_marks, result.feedback()
    assert sandbox.fork_server() is not server

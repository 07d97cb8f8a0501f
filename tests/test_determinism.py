"""The same notebook gets the same report every time: scores, messages, hints."""
from __future__ import annotations

import inspect

import solutions.ch01_log_derivative_trick as ref
from conftest import load_json, run_cli, write_notebook

CELLS = [
    "import numpy as np\nimport torch",
    inspect.getsource(ref.gaussian_score).replace("d_mu = z / sigma", "d_mu = z"),  # wrong: partial marks
    "def categorical_score(a, logits):\n"
    "    p = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)\n"
    "    return np.eye(p.shape[-1])[a] - p\n",
    inspect.getsource(ref.autograd_score),
]


def test_three_gradings_of_one_notebook_agree(tmp_path):
    nb = write_notebook(tmp_path / "nb.ipynb", CELLS)
    reports = []
    for i in range(3):
        out = tmp_path / f"results-{i}.json"
        run_cli("grade", nb, "--gradescope", out)
        doc = load_json(out)
        doc.pop("execution_time")
        reports.append(doc)
    assert reports[0] == reports[1] == reports[2]
    assert 0 < reports[0]["score"] < sum(t["max_score"] for t in reports[0]["tests"])

"""Instructor-only checks (``--hidden``): graded, reported separately, never revealing inputs."""
from __future__ import annotations

import inspect
from pathlib import Path

import solutions.ch01_log_derivative_trick as ref
from conftest import load_json, run_cli, write_notebook

EXAMPLE = Path(__file__).parent / "hidden_checks_example.py"
IMPORTS = "import numpy as np"
# Right on every public input (all have fewer than 100 entries), wrong on the hidden one.
OVERFITTED = inspect.getsource(ref.gaussian_score).replace(
    '    x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))',
    '    x, mu, sigma = (np.asarray(v, dtype=np.float64) for v in (x, mu, sigma))\n'
    '    if x.size > 100:\n'
    '        raise ValueError(f"x was {x[:3]}, mu was {mu}, sigma was {sigma}")')
SECRETS = ("-7.5", "31", "300", "x was")


def grade(tmp_path, code):
    nb = write_notebook(tmp_path / "nb.ipynb", [IMPORTS, code])
    results = tmp_path / "results.json"
    reports = tmp_path / "reports"
    proc = run_cli("grade", nb, "--hidden", EXAMPLE, "--gradescope", results, "--reports", reports)
    return proc, load_json(results), (reports / "nb.txt").read_text()


def test_hidden_checks_count_but_reveal_nothing(tmp_path):
    proc, results, report = grade(tmp_path, OVERFITTED)
    tests = {t["name"]: t for t in results["tests"]}
    visible, hidden = tests["gaussian_score"], tests["gaussian_score (hidden checks)"]
    assert (visible["score"], visible["max_score"], visible["visibility"]) == (5, 5, "visible")
    assert (hidden["score"], hidden["max_score"], hidden["visibility"]) == (0, 2, "after_published")
    assert hidden["number"] == visible["number"] == "1.1"
    assert "raised ValueError on a hidden input" in hidden["output"]
    assert proc.returncode == 1  # marks were lost, if only hidden ones
    for text in (hidden["output"], visible["output"], report, proc.stdout):
        for secret in SECRETS:
            assert secret not in text, (secret, text)


def test_correct_code_passes_hidden_checks(tmp_path):
    proc, results, _ = grade(tmp_path, inspect.getsource(ref.gaussian_score))
    hidden = {t["name"]: t for t in results["tests"]}["gaussian_score (hidden checks)"]
    assert hidden["score"] == hidden["max_score"] == 2


def test_a_bad_hidden_checks_file_is_one_line_exit_2(tmp_path):
    bad = tmp_path / "hidden.py"
    bad.write_text("HIDDEN_CHECKS = {'no_such_exercise': []}\n")
    nb = write_notebook(tmp_path / "nb.ipynb", [IMPORTS])
    proc = run_cli("grade", nb, "--hidden", bad)
    assert proc.returncode == 2 and proc.stderr.startswith("error:") and len(proc.stderr.splitlines()) == 1
    assert "Traceback" not in proc.stderr

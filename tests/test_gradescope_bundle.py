"""The Gradescope bundle: its layout, and its run_autograder run the way Gradescope runs it."""
from __future__ import annotations

import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import load_json, run_cli

EXAMPLE_HIDDEN = Path(__file__).parent / "hidden_checks_example.py"


def make_bundle(tmp_path, *extra) -> Path:
    out = tmp_path / "autograder.zip"
    proc = run_cli("gradescope-bundle", "-o", out, *extra)
    assert proc.returncode == 0, proc.stderr
    return out


def unpack(bundle: Path, root: Path) -> Path:
    """Lay the bundle out as Gradescope does: /autograder/source, submission, results."""
    source = root / "source"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(source)
        for info in archive.infolist():  # zipfile does not restore permission bits
            mode = info.external_attr >> 16
            if mode:
                os.chmod(source / info.filename, mode)
    (root / "submission").mkdir()
    return source


def run_autograder(root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    return subprocess.run([str(root / "source" / "run_autograder")], env=env, capture_output=True, text=True,
                          timeout=600)


def test_bundle_layout(tmp_path):
    with zipfile.ZipFile(make_bundle(tmp_path)) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
    for required in ("setup.sh", "run_autograder", "requirements.txt", "pyproject.toml",
                     "autograder/cli.py", "solutions/ch01_log_derivative_trick.py", "pglib/__init__.py"):
        assert required in names, required
    assert modes["run_autograder"] & stat.S_IXUSR and modes["setup.sh"] & stat.S_IXUSR
    assert not any("__pycache__" in n for n in names)
    assert "hidden_checks.py" not in names


def test_setup_installs_the_cpu_build_of_torch_first(tmp_path):
    with zipfile.ZipFile(make_bundle(tmp_path)) as archive:
        setup = archive.read("setup.sh").decode()
    script = tmp_path / "setup.sh"
    script.write_text(setup)
    syntax = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr
    pip_lines = [line for line in setup.splitlines() if "bin/pip install " in line]
    torch_line = next(i for i, line in enumerate(pip_lines) if "download.pytorch.org/whl/cpu" in line)
    constrained = next(i for i, line in enumerate(pip_lines) if "-c requirements.txt" in line)
    assert "torch==2.13.0" in pip_lines[torch_line] and torch_line < constrained, setup


def test_run_autograder_grades_a_submission(tmp_path, filled_chapter1):
    source = unpack(make_bundle(tmp_path, "--hidden", EXAMPLE_HIDDEN), tmp_path)
    assert (source / "hidden_checks.py").exists()
    (tmp_path / "submission" / "my notebook.ipynb").write_bytes(filled_chapter1.read_bytes())
    proc = run_autograder(tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    results = load_json(tmp_path / "results" / "results.json")
    tests = {t["name"]: t for t in results["tests"]}
    assert results["score"] == 16 + 2  # all public checks, and the hidden ones
    assert tests["gaussian_score (hidden checks)"]["visibility"] == "after_published"


def test_run_autograder_without_a_notebook_still_writes_results(tmp_path):
    unpack(make_bundle(tmp_path), tmp_path)
    (tmp_path / "submission" / "notes.txt").write_text("I forgot the notebook")
    proc = run_autograder(tmp_path)
    assert proc.returncode == 0
    results = load_json(tmp_path / "results" / "results.json")
    assert results["score"] == 0 and "No Jupyter notebook" in results["output"]

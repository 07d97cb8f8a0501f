"""The GitHub Actions workflows users copy: valid, consistent with the project, and working.

Each workflow is validated against GitHub's workflow schema (SchemaStore's, vendored by
check-jsonschema, so no network), and its commands against the project: `make` targets
exist, `python -m autograder` command lines parse with the real CLI, actions are pinned to
a major version. The classroom workflow's grading command is run here on a real notebook.
"""
from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from autograder.cli import build_parser
from conftest import REPO, load_json, run_cli

WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))


def _steps(path: Path) -> list[dict]:
    doc = yaml.safe_load(path.read_text())
    return [step for job in doc["jobs"].values() for step in job.get("steps", [])]


def _commands(path: Path) -> list[str]:
    """Each shell command of the workflow's run steps, folded lines joined."""
    commands = []
    for step in _steps(path):
        for line in step.get("run", "").replace("\\\n", " ").splitlines():
            commands += [c.strip() for c in line.split("&&") if c.strip()]
    return commands


def test_there_are_the_three_workflows():
    assert {p.name for p in WORKFLOWS} == {"tests.yml", "pages.yml", "classroom.yml"}


def test_workflows_match_githubs_schema():
    checker = Path(sys.executable).parent / "check-jsonschema"
    proc = subprocess.run([str(checker), "--builtin-schema", "vendor.github-workflows", *map(str, WORKFLOWS)],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_actions_are_pinned_to_a_major_version(path):
    for step in _steps(path):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_commands_exist_in_the_project(path):
    makefile = (REPO / "Makefile").read_text()
    for command in _commands(path):
        words = shlex.split(command)
        if words[0] == "make":
            for target in words[1:]:
                assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"{path.name}: no make target {target}"
        if "-m" in words and words[words.index("-m") + 1] == "autograder":
            args = words[words.index("-m") + 2:]
            build_parser().parse_args(args)  # exits (fails the test) on an unknown option


def test_ci_and_the_tests_workflow_run_the_readme_test_command():
    readme = (REPO / "README.md").read_text()
    assert "make test" in readme and "make book" in readme
    assert "make test" in (REPO / ".ci" / "run").read_text()
    assert "make test" in _commands(REPO / ".github" / "workflows" / "tests.yml")
    assert "make book" in _commands(REPO / ".github" / "workflows" / "pages.yml")


def test_the_classroom_grading_command_produces_its_reports(tmp_path, filled_chapter1):
    """Run the classroom workflow's grade command, as written, in a copy of a student's repository."""
    command = next(c for c in _commands(REPO / ".github" / "workflows" / "classroom.yml") if "autograder grade" in c)
    args = shlex.split(command.replace('"$GITHUB_STEP_SUMMARY"', "summary.md"))
    args = args[args.index("grade"):]
    (tmp_path / "chapters").mkdir()
    (tmp_path / "chapters" / "01_log_derivative_trick.ipynb").write_bytes(filled_chapter1.read_bytes())
    proc = run_cli(*args, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert load_json(tmp_path / "results.json")["score"] == 16
    assert "<testsuites" in (tmp_path / "report.xml").read_text()
    assert (tmp_path / "summary.csv").read_text().startswith("student,")
    assert "| 1.1 | `gaussian_score` | ✅ 5/5 |" in (tmp_path / "summary.md").read_text()

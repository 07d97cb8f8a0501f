"""A Gradescope autograder bundle: ``python -m autograder gradescope-bundle -o autograder.zip``.

Gradescope builds an image by running ``setup.sh`` once (as root, in ``/autograder/source``),
then, for each submission, copies the student's files to ``/autograder/submission`` and runs
``run_autograder``, which must leave ``/autograder/results/results.json``. The bundle holds
the grader (``autograder/``, ``solutions/``, ``pglib/``, packaging, the pinned versions),
optionally an instructor-only hidden-checks file, and those two scripts.

Student code never runs in the grader's process, and (on Linux with Landlock, as on
Gradescope's images) cannot read ``solutions/``, write outside its sandbox or touch
``results.json``: see :mod:`autograder.isolation`.
"""
from __future__ import annotations

import shutil
import stat
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("autograder", "solutions", "pglib")
FILES = ("pyproject.toml", "requirements.txt", "README.md")
# What grading needs, installed at the exact versions of requirements.txt (used as constraints).
GRADER_REQUIREMENTS = "numpy scipy nbformat gymnasium torch==2.13.0"
# PyPI's torch wheel for Linux is the CUDA build (gigabytes of nvidia-* packages that grading
# never uses); PyTorch's CPU index serves 2.13.0+cpu, which satisfies ==2.13.0.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"

SETUP_SH = f"""#!/usr/bin/env bash
# Gradescope runs this once, as root, to build the autograder image.
set -euo pipefail
cd /autograder/source
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv python3-pip >/dev/null
python3 -m venv /autograder/venv
/autograder/venv/bin/pip install --quiet --upgrade pip
# torch first, CPU-only (override with TORCH_INDEX_URL); the rest then finds it installed.
/autograder/venv/bin/pip install --quiet --index-url "${{TORCH_INDEX_URL:-{TORCH_CPU_INDEX}}}" torch==2.13.0
/autograder/venv/bin/pip install --quiet -c requirements.txt {GRADER_REQUIREMENTS}
/autograder/venv/bin/pip install --quiet --no-deps .
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for each submission. The score is decided by the grader, in its own
# process, and written to results.json; a missing notebook still gets a results.json.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
PYTHON="${AUTOGRADER_PYTHON:-$ROOT/venv/bin/python}"
cd "$ROOT/source" || exit 1
mkdir -p "$ROOT/results"
HIDDEN=()
if [ -f hidden_checks.py ]; then HIDDEN=(--hidden hidden_checks.py); fi
if ! find "$ROOT/submission" -name '*.ipynb' -not -path '*/.ipynb_checkpoints/*' | grep -q .; then
  echo '{"score": 0, "output": "No Jupyter notebook (.ipynb) was found in your submission.", "tests": []}' \\
    > "$ROOT/results/results.json"
  exit 0
fi
"$PYTHON" -m autograder grade "$ROOT/submission" --gradescope "$ROOT/results/results.json" "${HIDDEN[@]}"
# Exit 0: lost marks are in results.json; a non-zero exit would show as a failed autograder.
exit 0
"""


def build_bundle(output: str | Path, hidden: str | Path | None = None) -> Path:
    """Write the bundle zip to ``output`` and return its path."""
    output = Path(output)
    with tempfile.TemporaryDirectory() as tmp:
        stage = Path(tmp)
        for package in PACKAGES:
            shutil.copytree(ROOT / package, stage / package,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        for name in FILES:
            shutil.copy(ROOT / name, stage / name)
        if hidden is not None:
            shutil.copy(hidden, stage / "hidden_checks.py")
        for name, text in (("setup.sh", SETUP_SH), ("run_autograder", RUN_AUTOGRADER)):
            path = stage / name
            path.write_text(text)
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
        output.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(output, "w", zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(stage.rglob("*")):
                info = zipfile.ZipInfo.from_file(path, path.relative_to(stage).as_posix())
                if path.is_file():
                    archive.writestr(info, path.read_bytes(), zipfile.ZIP_DEFLATED)
    return output

"""How fast the autograder grades, next to executing the same notebooks in a Jupyter kernel.

    python benchmarks/grading_speed.py [--submissions 100] [--repeats 3] [--chapters 01 02]

Prints a table with, for each chapter:
  - seconds to grade the filled chapter notebook with `python -m autograder grade`
    (a whole command: interpreter start, imports, sandboxes; median of --repeats runs);
  - seconds to execute the same notebook top to bottom in a Jupyter kernel with nbclient
    (kernel start included: the floor of what otter-grader, nbgrader and nbval pay);
  - their ratio;
and, for a batch of --submissions notebooks of chapter 1 (a mix of solved, stub and buggy
copies), submissions graded per minute by `grade FOLDER`, against the same batch executed
in kernels (extrapolated from the measured per-notebook kernel time).
Targets (issue 6): a chapter in under 3 s; at least 5 times faster than kernel execution.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
CHAPTERS = REPO / "chapters"


def run(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "autograder", *args], cwd=REPO, capture_output=True, check=False)
    return time.perf_counter() - start


def kernel_seconds(path: Path) -> float:
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(str(path), as_version=4)
    start = time.perf_counter()
    NotebookClient(nb, timeout=1200, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    return time.perf_counter() - start


def make_batch(folder: Path, solved: Path, stub: Path, n: int) -> None:
    """n submissions: a third solved, a third stubs, a third with one exercise broken."""
    doc = json.loads(solved.read_text())
    broken = json.loads(json.dumps(doc))
    for cell in broken["cells"]:
        text = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        if text.startswith("def categorical_score("):
            cell["source"] = text.replace("logits.max(axis=-1, keepdims=True)", "0.0")
    for i in range(n):
        target = folder / f"student_{i:03d}.ipynb"
        if i % 3 == 0:
            shutil.copy(solved, target)
        elif i % 3 == 1:
            shutil.copy(stub, target)
        else:
            target.write_text(json.dumps(broken))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--submissions", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--chapters", nargs="*", help="chapter number prefixes (default: all)")
    args = parser.parse_args()

    notebooks = sorted(CHAPTERS.glob("*.ipynb"))
    if args.chapters:
        notebooks = [p for p in notebooks if any(p.name.startswith(c) for c in args.chapters)]
    work = Path(tempfile.mkdtemp(prefix="pg-bench-"))
    rows = []
    try:
        for stub in notebooks:
            solved = work / stub.name
            subprocess.run([sys.executable, "-m", "autograder", "fill", str(stub), "-o", str(solved)],
                           cwd=REPO, check=True, capture_output=True)
            grade = statistics.median(run("grade", str(solved)) for _ in range(args.repeats))
            kernel = statistics.median(kernel_seconds(solved) for _ in range(args.repeats))
            rows.append((stub.stem, grade, kernel))

        print(f"machine: {os.cpu_count()} cores; median of {args.repeats} runs\n")
        print(f"| {'chapter':<30} | grade (s) | kernel (s) | kernel / grade |")
        print(f"|{'-' * 32}|-----------|------------|----------------|")
        for name, grade, kernel in rows:
            print(f"| {name:<30} | {grade:9.2f} | {kernel:10.2f} | {kernel / grade:13.1f}x |")

        first = notebooks[0]
        batch = work / "submissions"
        batch.mkdir()
        make_batch(batch, work / first.name, first, args.submissions)
        elapsed = run("grade", str(batch), "--csv", str(work / "summary.csv"))
        per_minute = args.submissions / elapsed * 60
        kernel_each = next(k for n, _, k in rows if n == first.stem)
        kernel_minute = 60 / kernel_each  # one kernel at a time, as nbclient runs them
        print(f"\nbatch of {args.submissions} {first.stem} submissions (1/3 solved, 1/3 stubs, 1/3 one bug):")
        print(f"  autograder: {elapsed:.1f} s, {per_minute:.0f} submissions/min")
        print(f"  kernels:    ~{args.submissions * kernel_each:.0f} s, {kernel_minute:.0f} submissions/min "
              f"(measured {kernel_each:.1f} s per notebook, one kernel at a time)")
        print(f"  ratio:      {per_minute / kernel_minute:.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()

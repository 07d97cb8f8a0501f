"""Rewrite the exercise stubs of the chapter notebooks from the reference solutions.

A stub is the reference's signature and docstring followed by ``raise NotImplementedError``
(``autograder.fill.stub_source``). After changing a docstring in ``solutions/``, run

    python scripts/sync_stubs.py          # rewrite the stubs in chapters/*.ipynb
    python scripts/sync_stubs.py --check  # only report notebooks whose stubs are out of date

Only exercise definitions change; other cells, and the notebook's metadata, are kept.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from autograder.exercises import chapter
from autograder.fill import fill_document, stub_source

CHAPTERS = Path(__file__).resolve().parent.parent / "chapters"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="report out-of-date stubs, change nothing")
    args = parser.parse_args()
    stale = []
    for path in sorted(CHAPTERS.glob("*.ipynb")):
        doc = json.loads(path.read_text())
        synced = fill_document(doc, chapter(path.stem), source=stub_source)
        if synced != doc:
            stale.append(path.name)
            if not args.check:
                path.write_text(json.dumps(synced, indent=1, ensure_ascii=False) + "\n")
    verb = "out of date" if args.check else "rewritten"
    print(f"{verb}: {', '.join(stale)}" if stale else "all stubs match the reference solutions")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())

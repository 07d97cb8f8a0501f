"""The registry of chapters and their exercises, and how a notebook's chapter is found."""
from __future__ import annotations

import importlib
import pkgutil
import re
from functools import lru_cache

from autograder.notebook import Notebook, NotebookError, defined_names
from autograder.spec import Chapter, Exercise



def _discover() -> dict[str, str]:
    """slug -> grader module, for every ``chNN.py`` in this package (each defines CHAPTER).

    Grader modules import only NumPy and the autograder; the reference solutions (and torch)
    load only when a chapter is graded.
    """
    found = {}
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if re.fullmatch(r"ch\d\d", info.name):
            module = importlib.import_module(f"{__name__}.{info.name}")
            found[module.CHAPTER.slug] = module.__name__
    return found


CHAPTER_MODULES = _discover()


@lru_cache(maxsize=None)
def chapter(slug: str) -> Chapter:
    return importlib.import_module(CHAPTER_MODULES[slug]).CHAPTER


def chapters() -> list[Chapter]:
    return [chapter(slug) for slug in CHAPTER_MODULES]


def find_exercise(name: str) -> Exercise | None:
    for ch in chapters():
        found = ch.exercise(name)
        if found is not None:
            return found
    return None


def resolve_chapter(nb: Notebook) -> Chapter:
    """The notebook's chapter: its metadata, else the exercises it defines, else its file name."""
    declared = nb.declared_chapter
    if declared in CHAPTER_MODULES:
        return chapter(declared)
    names = {n for cell in nb.cells for n in defined_names(cell)}
    votes = {ch.slug: sum(e.name in names for e in ch.exercises) for ch in chapters()}
    best = max(votes, key=votes.get) if votes else None
    if best is not None and votes[best] > 0:
        return chapter(best)
    if nb.path is not None:
        match = re.match(r"(\d+)", nb.path.name)
        for ch in chapters():
            if match and int(match.group(1)) == ch.number:
                return ch
    where = f"{nb.path}: " if nb.path else ""
    said = f"its metadata names an unknown chapter {declared!r}" if declared else "no course metadata"
    raise NotebookError(
        f"{where}cannot tell which chapter this notebook belongs to ({said}, no exercise of "
        "the course defined, no chapter number in the file name)"
    )

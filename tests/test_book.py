"""The book builds (warnings as errors, no network) and shows what readers need.

The build goes to a temporary folder, so it neither depends on nor disturbs ``_build/``.
"""
from __future__ import annotations

import html as html_module
import re
from pathlib import Path

import pytest

from autograder.exercises import chapters

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def html(built_book) -> Path:
    return built_book


def test_front_matter_pages_exist(html):
    for page in ("intro.html", "how_to_use.html", "notation.html", "bibliography.html"):
        assert (html / page).is_file(), page


@pytest.mark.parametrize("ch", chapters(), ids=lambda c: c.slug)
def test_chapter_page_shows_exercises_solutions_and_figures(html, ch):
    page = (html / "chapters" / f"{ch.slug}.html").read_text()
    assert ch.title in page
    # Each exercise is rendered, followed by a closed dropdown that holds the reference code.
    solutions = page.split('<div class="solution dropdown admonition"')[1:]
    assert len(solutions) == len(ch.exercises)
    for exercise, solution in zip(ch.exercises, solutions):
        assert f'id="ex-{exercise.name}"' in page, exercise.name
        text = html_module.unescape(re.sub(r"<[^>]+>", "", solution))
        assert re.search(rf"\b(def|class) {exercise.name}\b", text), exercise.name
    # The student's stubs and check() cells are not in the book.
    assert "NotImplementedError" not in page
    for exercise in ch.exercises:
        assert f"check(&quot;{exercise.name}" not in page and f'check("{exercise.name}' not in page
    # Every figure the chapter computes is there and its file exists.
    images = re.findall(r'<img[^>]+src="([^"]+)"', page)
    assert images, "the chapter shows no figure"
    for src in images:
        assert (html / "chapters" / src).resolve().is_file(), src
    assert "Traceback" not in page


def test_citations_resolve_to_the_bibliography(html):
    page = (html / "chapters" / "01_log_derivative_trick.html").read_text()
    assert "Williams" in page and "bibliography.html#id" in page


@pytest.mark.parametrize("ch", chapters(), ids=lambda c: c.slug)
def test_launch_and_download_buttons_give_the_student_notebook(html, ch):
    page = (html / "chapters" / f"{ch.slug}.html").read_text()
    assert "colab.research.google.com/github/" in page and f"chapters/{ch.slug}.ipynb" in page
    assert "mybinder.org/v2/gh/" in page
    download = html / "_sources" / "chapters" / f"{ch.slug}.ipynb"
    assert f"_sources/chapters/{ch.slug}.ipynb" in page and download.is_file()
    student = download.read_text()
    assert student.count("raise NotImplementedError") >= len(ch.exercises), "the download is not the stub notebook"
    assert '"outputs": []' in student and '"output_type"' not in student

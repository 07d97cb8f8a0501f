"""The mutation-testing harness every chapter's ``test_chNN_mutants.py`` uses.

A chapter's test module lists its mutants (realistic wrong implementations, each a notebook
cell; the grader must take marks off every one, and say the ``expect``-ed hint where it has
one) and its correct alternatives (written differently from the reference; the grader must
give them full marks), then calls :func:`define_tests`. All are graded once per module, in
parallel (each grade runs in its own sandbox), and the generated tests read the results.
"""
from __future__ import annotations

import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest

from conftest import grade_one


@dataclass(frozen=True)
class Impl:
    id: str
    exercise: str
    source: str
    expect: str | None = None  # a distinctive substring the feedback must contain (hint or message)

    @property
    def key(self) -> str:
        return f"{self.exercise}/{self.id}"

    def cells(self, imports: str) -> list[str]:
        return [imports, textwrap.dedent(self.source).strip() + "\n"]


def define_tests(namespace: dict, *, mutants: list[Impl], correct: list[Impl], exercises: tuple[str, ...],
                 imports: str, slow_first: str | None = None) -> None:
    """Add the fixture and the tests of a mutation-test module to ``namespace`` (its globals()).

    ``slow_first`` names an exercise to grade first (e.g. a torch one), so the pool drains evenly.
    """
    key = lambda impl: impl.key  # noqa: E731

    def test_the_lists_are_well_formed():
        keys = [i.key for i in mutants + correct]
        assert len(keys) == len(set(keys)), "duplicate ids"
        for exercise in exercises:
            assert sum(m.exercise == exercise for m in mutants) >= 5, exercise
            assert sum(c.exercise == exercise for c in correct) >= 2, exercise

    @pytest.fixture(scope="module")
    def graded():
        impls = sorted(mutants + correct, key=lambda i: i.exercise != slow_first)
        with ThreadPoolExecutor(max_workers=4) as pool:
            results = list(pool.map(lambda i: grade_one(i.cells(imports), i.exercise), impls))
        return {i.key: r for i, r in zip(impls, results)}

    @pytest.mark.parametrize("mutant", mutants, ids=key)
    def test_mutant_loses_marks(graded, mutant):
        result = graded[mutant.key]
        feedback = result.feedback()
        assert result.max_score > 0
        assert result.score < result.max_score, f"mutant {mutant.id} survived:\n{feedback}"
        assert result.status == "failed", feedback
        if mutant.expect is not None:
            assert mutant.expect in feedback, f"expected {mutant.expect!r} in the feedback:\n{feedback}"

    @pytest.mark.parametrize("impl", correct, ids=key)
    def test_correct_alternative_gets_full_marks(graded, impl):
        result = graded[impl.key]
        assert result.full_marks, f"correct implementation {impl.id} lost marks:\n{result.feedback()}"
        assert result.status == "passed", result.feedback()

    def test_kill_rate(graded):
        killed = [m for m in mutants if graded[m.key].score < graded[m.key].max_score]
        for exercise in exercises:
            mine = [m for m in mutants if m.exercise == exercise]
            print(f"{exercise}: {sum(m in killed for m in mine)}/{len(mine)} mutants killed")
        print(f"kill rate: {len(killed)}/{len(mutants)} = {len(killed) / len(mutants):.3f}")
        assert len(killed) == len(mutants), f"surviving mutants: {[m.key for m in mutants if m not in killed]}"

    namespace.update(graded=graded, test_the_lists_are_well_formed=test_the_lists_are_well_formed,
                     test_mutant_loses_marks=test_mutant_loses_marks,
                     test_correct_alternative_gets_full_marks=test_correct_alternative_gets_full_marks,
                     test_kill_rate=test_kill_rate)

"""Mutation testing of the chapter 3 grader (the harness: tests/mutation.py)."""
from __future__ import annotations

from mutation import Impl, define_tests

IMPORTS = "import numpy as np"


# --- 3.1 score_function_gradient ----------------------------------------------------------------

SF = "score_function_gradient"

SF_MUTANTS = [
    Impl("sum-not-mean", SF, """
        def score_function_gradient(f_values, scores):
            f = np.asarray(f_values, dtype=float)
            return (f[:, None] * np.asarray(scores, dtype=float)).sum(axis=0)
        """, expect="you summed over the samples"),
    Impl("f-broadcast-on-last-axis", SF, """
        def score_function_gradient(f_values, scores):
            f = np.asarray(f_values, dtype=float)
            return (f * np.asarray(scores, dtype=float)).mean(axis=0)
        """, expect="broadcast against the last axis of scores"),
    Impl("product-of-means", SF, """
        def score_function_gradient(f_values, scores):
            f = np.asarray(f_values, dtype=float)
            return f.mean() * np.asarray(scores, dtype=float).mean(axis=0)
        """, expect="the mean of a product is not the product of the means"),
    Impl("divides-by-n-minus-1", SF, """
        def score_function_gradient(f_values, scores):
            f = np.asarray(f_values, dtype=float)
            return f @ np.asarray(scores, dtype=float) / max(len(f) - 1, 1)
        """, expect="you divided by N - 1"),
    Impl("mean-over-parameters", SF, """
        def score_function_gradient(f_values, scores):
            f = np.asarray(f_values, dtype=float)
            return (f[:, None] * np.asarray(scores, dtype=float)).mean(axis=1)
        """, expect="one entry per sample"),
    Impl("per-sample-terms", SF, """
        def score_function_gradient(f_values, scores):
            f = np.asarray(f_values, dtype=float)
            return f[:, None] * np.asarray(scores, dtype=float)
        """, expect="per-sample terms"),
    Impl("no-asarray-lists-fail", SF, """
        def score_function_gradient(f_values, scores):
            return (f_values[:, None] * scores).mean(axis=0)
        """, expect="[FAIL] array-like inputs"),
    Impl("returns-float32", SF, """
        def score_function_gradient(f_values, scores):
            f = np.asarray(f_values, dtype=np.float32)
            return (f[:, None] * np.asarray(scores, dtype=np.float32)).mean(axis=0)
        """, expect="expected dtype float64, got float32"),
    Impl("returns-list", SF, """
        def score_function_gradient(f_values, scores):
            f = np.asarray(f_values, dtype=float)
            return list((f[:, None] * np.asarray(scores, dtype=float)).mean(axis=0))
        """, expect="expected an np.ndarray, got list"),
]

SF_CORRECT = [
    Impl("transposed-matmul", SF, """
        def score_function_gradient(f_values, scores):
            f = np.asarray(f_values, dtype=float)
            return np.asarray(scores, dtype=float).T @ f / f.size
        """),
    Impl("einsum", SF, """
        def score_function_gradient(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return np.einsum("i,ij->j", f, s) / len(f)
        """),
    Impl("explicit-loop", SF, """
        def score_function_gradient(f_values, scores):
            s = np.asarray(scores, dtype=float)
            total = np.zeros(s.shape[1])
            for f_i, s_i in zip(f_values, s):
                total += f_i * s_i
            return total / len(s)
        """),
]

# --- 3.2 baselined_gradient ---------------------------------------------------------------------

BG = "baselined_gradient"

BG_MUTANTS = [
    Impl("baseline-on-samples-axis", BG, """
        def baselined_gradient(f_values, scores, baseline):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return ((f - np.asarray(baseline, dtype=float))[:, None] * s).mean(axis=0)
        """, expect="subtracted along the samples axis"),
    Impl("baseline-ignored", BG, """
        def baselined_gradient(f_values, scores, baseline):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return (f[:, None] * s).mean(axis=0)
        """, expect="the baseline was not subtracted"),
    Impl("baseline-added", BG, """
        def baselined_gradient(f_values, scores, baseline):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return ((f[:, None] + baseline) * s).mean(axis=0)
        """, expect="the baseline was added to f"),
    Impl("subtracted-after-averaging", BG, """
        def baselined_gradient(f_values, scores, baseline):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return (f[:, None] * s).mean(axis=0) - np.asarray(baseline, dtype=float)
        """, expect="subtracted the baseline from the average"),
    Impl("first-baseline-only", BG, """
        def baselined_gradient(f_values, scores, baseline):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            b = np.atleast_1d(np.asarray(baseline, dtype=float))[0]
            return ((f - b)[:, None] * s).mean(axis=0)
        """, expect="only baseline[0] was used"),
    Impl("sum-not-mean", BG, """
        def baselined_gradient(f_values, scores, baseline):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return ((f[:, None] - baseline) * s).sum(axis=0)
        """, expect="you summed over the samples"),
    Impl("no-asarray-lists-fail", BG, """
        def baselined_gradient(f_values, scores, baseline):
            return ((f_values[:, None] - baseline) * scores).mean(axis=0)
        """, expect="[FAIL] d = 1, N = 1 and lists"),
    Impl("scalar-baseline-via-float", BG, """
        def baselined_gradient(f_values, scores, baseline):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return ((f - float(np.mean(baseline)))[:, None] * s).mean(axis=0)
        """),
]

BG_CORRECT = [
    Impl("mean-fs-minus-b-mean-s", BG, """
        def baselined_gradient(f_values, scores, baseline):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return (f[:, None] * s).mean(axis=0) - np.asarray(baseline, dtype=float) * s.mean(axis=0)
        """),
    Impl("broadcast-to-then-loop", BG, """
        def baselined_gradient(f_values, scores, baseline):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            n, d = s.shape
            b = np.broadcast_to(np.asarray(baseline, dtype=float), (d,))
            out = np.empty(d)
            for j in range(d):
                out[j] = sum((f[i] - b[j]) * s[i, j] for i in range(n)) / n
            return out
        """),
    Impl("einsum-with-advantages", BG, """
        def baselined_gradient(f_values, scores, baseline):
            s = np.asarray(scores, dtype=float)
            advantages = np.subtract.outer(np.asarray(f_values, dtype=float), np.zeros(s.shape[1])) - baseline
            return np.einsum("ij,ij->j", advantages, s) / s.shape[0]
        """),
]

# --- 3.3 optimal_baseline -----------------------------------------------------------------------

OB = "optimal_baseline"

OB_MUTANTS = [
    Impl("no-squares", OB, """
        def optimal_baseline(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return (f @ s) / s.sum(axis=0)
        """, expect="the weights are not squared"),
    Impl("plain-mean-of-f", OB, """
        def optimal_baseline(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return np.full(s.shape[1], f.mean())
        """, expect="that is the plain mean of f"),
    Impl("abs-weights", OB, """
        def optimal_baseline(f_values, scores):
            f, w = np.asarray(f_values, dtype=float), np.abs(np.asarray(scores, dtype=float))
            return (f @ w) / w.sum(axis=0)
        """, expect="the weights are |s_ij|"),
    Impl("swapped-ratio", OB, """
        def optimal_baseline(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return (s**2).sum(axis=0) / (f @ s**2)
        """, expect="numerator and denominator are swapped"),
    Impl("divides-by-n", OB, """
        def optimal_baseline(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return (f @ s**2) / len(f)
        """, expect="not by N"),
    Impl("one-baseline-for-all-coordinates", OB, """
        def optimal_baseline(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            w = (s**2).sum(axis=1)
            return np.full(s.shape[1], (f @ w) / w.sum())
        """, expect="one baseline for all coordinates"),
    Impl("sum-over-parameters", OB, """
        def optimal_baseline(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return f * (s**2).sum(axis=1) / (s**2).sum(axis=1)
        """, expect="one entry per sample"),
    Impl("squared-after-summing", OB, """
        def optimal_baseline(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return (f @ s) ** 2 / (s**2).sum(axis=0)
        """),
]

OB_CORRECT = [
    Impl("np-average-weights", OB, """
        def optimal_baseline(f_values, scores):
            s = np.asarray(scores, dtype=float)
            f = np.broadcast_to(np.asarray(f_values, dtype=float)[:, None], s.shape)
            return np.average(f, axis=0, weights=s**2)
        """),
    Impl("ratio-of-means", OB, """
        def optimal_baseline(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return np.mean(f[:, None] * s * s, axis=0) / np.mean(s * s, axis=0)
        """),
    Impl("explicit-loop", OB, """
        def optimal_baseline(f_values, scores):
            s = np.asarray(scores, dtype=float)
            out = []
            for j in range(s.shape[1]):
                num = sum(float(f_i) * s[i, j] ** 2 for i, f_i in enumerate(f_values))
                out.append(num / sum(s[:, j] ** 2))
            return np.array(out)
        """),
]

# --- 3.4 leave_one_out_gradient -----------------------------------------------------------------

LOO = "leave_one_out_gradient"

LOO_MUTANTS = [
    Impl("sample-mean-baseline", LOO, """
        def leave_one_out_gradient(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return ((f - f.mean())[:, None] * s).mean(axis=0)
        """, expect="that is the sample-mean baseline"),
    Impl("others-divided-by-n", LOO, """
        def leave_one_out_gradient(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            b = (f.sum() - f) / len(f)
            return ((f - b)[:, None] * s).mean(axis=0)
        """, expect="divides their sum by N - 1"),
    Impl("no-baseline", LOO, """
        def leave_one_out_gradient(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return (f[:, None] * s).mean(axis=0)
        """, expect="no baseline was subtracted"),
    Impl("sum-not-mean", LOO, """
        def leave_one_out_gradient(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            b = (f.sum() - f) / (len(f) - 1)
            return ((f - b)[:, None] * s).sum(axis=0)
        """, expect="you summed over the samples"),
    Impl("outer-divides-by-n-minus-1", LOO, """
        def leave_one_out_gradient(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            n = len(f)
            b = (f.sum() - f) / (n - 1)
            return ((f - b)[:, None] * s).sum(axis=0) / (n - 1)
        """, expect="you divided by N - 1"),
    Impl("previous-sample-as-baseline", LOO, """
        def leave_one_out_gradient(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return ((f - np.roll(f, 1))[:, None] * s).mean(axis=0)
        """),
    Impl("mean-over-parameters", LOO, """
        def leave_one_out_gradient(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            b = (f.sum() - f) / (len(f) - 1)
            return ((f - b)[:, None] * s).mean(axis=1)
        """, expect="one entry per sample"),
    Impl("no-asarray-lists-fail", LOO, """
        def leave_one_out_gradient(f_values, scores):
            b = (f_values.sum() - f_values) / (len(f_values) - 1)
            return ((f_values - b)[:, None] * scores).mean(axis=0)
        """, expect="[FAIL] array-like inputs"),
]

LOO_CORRECT = [
    Impl("sample-mean-then-n-minus-1", LOO, """
        def leave_one_out_gradient(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            return ((f - f.mean())[:, None] * s).sum(axis=0) / (len(f) - 1)
        """),
    Impl("explicit-delete-loop", LOO, """
        def leave_one_out_gradient(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            total = np.zeros(s.shape[1])
            for i in range(len(f)):
                total += (f[i] - np.delete(f, i).mean()) * s[i]
            return total / len(f)
        """),
    Impl("averaging-matrix", LOO, """
        def leave_one_out_gradient(f_values, scores):
            f, s = np.asarray(f_values, dtype=float), np.asarray(scores, dtype=float)
            n = len(f)
            others = (np.ones((n, n)) - np.eye(n)) / (n - 1)
            return s.T @ (f - others @ f) / n
        """),
]

# --- 3.5 pathwise_gaussian_gradient -------------------------------------------------------------

PW = "pathwise_gaussian_gradient"

PW_MUTANTS = [
    Impl("sigma-without-eps", PW, """
        def pathwise_gaussian_gradient(fprime_values, eps):
            fp = np.asarray(fprime_values, dtype=float)
            return np.array([fp.mean(), fp.mean()])
        """, expect="the sigma component misses eps"),
    Impl("swapped", PW, """
        def pathwise_gaussian_gradient(fprime_values, eps):
            fp, e = np.asarray(fprime_values, dtype=float), np.asarray(eps, dtype=float)
            return np.array([(fp * e).mean(), fp.mean()])
        """, expect="the two components are swapped"),
    Impl("product-of-means", PW, """
        def pathwise_gaussian_gradient(fprime_values, eps):
            fp, e = np.asarray(fprime_values, dtype=float), np.asarray(eps, dtype=float)
            return np.array([fp.mean(), fp.mean() * e.mean()])
        """, expect="multiplies the mean of f' by the mean of eps"),
    Impl("sum-not-mean", PW, """
        def pathwise_gaussian_gradient(fprime_values, eps):
            fp, e = np.asarray(fprime_values, dtype=float), np.asarray(eps, dtype=float)
            return np.array([fp.sum(), (fp * e).sum()])
        """, expect="you summed over the samples"),
    Impl("per-sample-terms", PW, """
        def pathwise_gaussian_gradient(fprime_values, eps):
            fp, e = np.asarray(fprime_values, dtype=float), np.asarray(eps, dtype=float)
            return np.stack([fp, fp * e], axis=-1)
        """, expect="you returned the per-sample terms"),
    Impl("returns-list", PW, """
        def pathwise_gaussian_gradient(fprime_values, eps):
            fp, e = np.asarray(fprime_values, dtype=float), np.asarray(eps, dtype=float)
            return [fp.mean(), (fp * e).mean()]
        """, expect="expected an np.ndarray, got list"),
    Impl("score-function-confusion", PW, """
        def pathwise_gaussian_gradient(fprime_values, eps):
            fp, e = np.asarray(fprime_values, dtype=float), np.asarray(eps, dtype=float)
            return np.array([(fp * e).mean(), (fp * (e**2 - 1)).mean()])
        """),
    Impl("no-asarray-lists-fail", PW, """
        def pathwise_gaussian_gradient(fprime_values, eps):
            return np.array([fprime_values.mean(), (fprime_values * eps).mean()])
        """, expect="[FAIL] array-like inputs"),
]

PW_CORRECT = [
    Impl("stack-then-mean", PW, """
        def pathwise_gaussian_gradient(fprime_values, eps):
            fp, e = np.asarray(fprime_values, dtype=float), np.asarray(eps, dtype=float)
            return np.stack([fp, fp * e]).mean(axis=1)
        """),
    Impl("jacobian-rows", PW, """
        def pathwise_gaussian_gradient(fprime_values, eps):
            e = np.asarray(eps, dtype=float)
            dx_dtheta = np.column_stack([np.ones_like(e), e])  # (N, 2): dx/dmu, dx/dsigma
            return np.asarray(fprime_values, dtype=float) @ dx_dtheta / len(e)
        """),
    Impl("np-mean-of-lists", PW, """
        def pathwise_gaussian_gradient(fprime_values, eps):
            pairs = [(float(a), float(a) * float(b)) for a, b in zip(fprime_values, eps)]
            return np.mean(np.array(pairs), axis=0)
        """),
]

MUTANTS = SF_MUTANTS + BG_MUTANTS + OB_MUTANTS + LOO_MUTANTS + PW_MUTANTS
CORRECT = SF_CORRECT + BG_CORRECT + OB_CORRECT + LOO_CORRECT + PW_CORRECT
EXERCISES = (SF, BG, OB, LOO, PW)


define_tests(globals(), mutants=MUTANTS, correct=CORRECT, exercises=EXERCISES, imports=IMPORTS,
             slow_first=None)

"""Chapter 4 graders: softmax_policy (4.1), sample_trajectories (4.2), trajectory_score (4.3),
expected_return (4.4), reinforce_gradient (4.5).

Inputs come from fixed seeds and cover the contract: random MDPs and trajectories of several
sizes, states that are never visited (so that S must come from theta), horizons and batches
of one, gamma = 0 and 1, array-likes, logits of magnitude 1e3 and float32 tensors.

``sample_trajectories`` is graded by distribution, never sample by sample: Pearson
chi-square tests of s_0 against mu0, of a_t given s_t against softmax(theta[s_t]) and of
s_{t+1} given (s_t, a_t) against P[s_t, a_t], pooled over t. There are
``SAMPLING_TESTS = 27`` such tests, each at level ``SAMPLING_ALPHA / 27``, so by Bonferroni a
correct sampler fails the exercise with probability at most ``SAMPLING_ALPHA = 1e-4`` (the
chi-square approximation is asymptotic: categories with expected counts below 5 are pooled,
and most tests rest on thousands of draws; tests/test_ch04_solutions.py checks the
calibration on the reference sampler). The other checks of the exercise are
exact: shapes and dtypes, a forced trajectory (one-hot dynamics and saturated logits), and
reproducibility from the seed of ``rng`` (which a correct sampler fails only if two seeds
give identical batches: each of the 200 actions collides with probability at most 0.6, so
at most 0.6**200 < 1e-44). The seeds are fixed, so each verdict is the same on every run. ``expected_return`` is checked with ``Case(op="backward")``: its value and its
gradient with respect to theta must both match, so an answer cut off from autograd loses
marks.
"""
from __future__ import annotations

import numpy as np

from autograder.checks import (as_array, bonferroni, close, describe_type, frequency_test,
                               matches_reference, matches_reference_gradients, softmax)
from autograder.spec import Case, Chapter, Check, Exercise, Hint, Outcome
from autograder.wire import Rng, Tensor

# The whole sampling exercise's false-failure probability for a correct implementation.
SAMPLING_ALPHA = 1e-4


def _logsoftmax(theta):
    z = np.asarray(theta, dtype=np.float64)
    z = z - z.max(axis=-1, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=-1, keepdims=True))


def _random_mdp(rng, S, A, sparsity=0.0):
    """(P (S, A, S), mu0 (S,)): Dirichlet rows, some entries zeroed when sparsity > 0."""
    def rows(shape):
        p = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
        if sparsity > 0:
            keep = rng.uniform(size=p.shape) >= sparsity
            np.put_along_axis(keep, np.argmax(p, axis=-1)[..., None], True, axis=-1)
            p = p * keep
            p /= p.sum(axis=-1, keepdims=True)
        return p
    return rows((S, A, S)), rows((S,))


def _theta_label(theta, note=""):
    theta = np.asarray(theta)
    return f"theta of shape {theta.shape}" + (f" ({note})" if note else "")


# --- 4.1 softmax_policy ---------------------------------------------------------------------

def softmax_policy_checks() -> list[Check]:
    rng = np.random.default_rng(4001)
    random_cases = [Case((t,), _theta_label(t)) for t in
                    (rng.normal(0, 2, (4, 3)), rng.normal(0, 1, (6, 2)), rng.normal(1, 3, (2, 7)))]
    big = np.array([[1e3, 0.0, -1e3], [-1e3, -1e3, -1e3], [1e3, 1e3, 1e3], [999.0, 1e3, 998.5]])
    large_cases = [
        Case((big,), _theta_label(big, "entries of magnitude 1e3, equal rows included")),
        Case((rng.normal(0, 1, (3, 4)) * 1e3,), "theta of shape (3, 4), entries of magnitude 1e3"),
    ]
    edge_cases = [
        Case(([[0.0, 1.0], [2, -1]],), "theta=[[0.0, 1.0], [2, -1]] (nested lists, ints)"),
        Case((rng.normal(size=(1, 5)),), _theta_label(np.zeros((1, 5)), "one state")),
        Case((rng.normal(size=(4, 1)),), _theta_label(np.zeros((4, 1)), "one action")),
    ]
    judge = matches_reference()
    return [
        Check("values on random theta", random_cases, judge, points=2),
        Check("logits of magnitude 1e3 stay finite and exact", large_cases, judge),
        Check("lists, one state, one action", edge_cases, judge),
    ]


SOFTMAX_POLICY_HINTS = [
    Hint("the softmax overflowed (exp(1000) is inf in float64): subtract each row's largest "
         "logit, theta.max(axis=-1, keepdims=True), before exponentiating",
         lambda args, got, exp: (not np.all(np.isfinite(as_array(got))))
         and np.abs(np.asarray(args[0], float)).max() > 700),
    Hint("the softmax is normalised over the states (axis 0); each row theta[s] is one "
         "distribution over actions: normalise over the last axis",
         lambda args, got, exp: close(got, softmax(args[0], axis=0))),
    Hint("the result is transposed: rows are states, shape (S, A)",
         lambda args, got, exp: close(got, as_array(exp).T)),
    Hint("these are log-probabilities (a log-softmax); the exercise asks for the probabilities",
         lambda args, got, exp: close(got, _logsoftmax(args[0]))),
    Hint("the rows are not normalised: divide exp(theta[s] - max) by its sum over actions",
         lambda args, got, exp: close(got, np.exp(np.asarray(args[0], float)
                                                  - np.asarray(args[0], float).max(-1, keepdims=True)))
         or close(got, np.exp(np.asarray(args[0], float)))),
]


# --- 4.2 sample_trajectories ----------------------------------------------------------------

# The two MDPs whose samples are tested statistically. Their sizes fix how many tests there
# are: per MDP, one test of s_0, S tests of actions and S * A tests of transitions.
_DIST_SPECS = [  # (seed, S, A, horizon, n, sparsity, saturated rows)
    (4021, 3, 2, 6, 3000, 0.0, False),
    (4022, 4, 3, 5, 3000, 0.3, True),
]
SAMPLING_TESTS = sum(1 + S + S * A for _, S, A, _, _, _, _ in _DIST_SPECS)  # 27
_PER_TEST_ALPHA = bonferroni(SAMPLING_ALPHA, SAMPLING_TESTS)


def _distribution_cases() -> list[Case]:
    cases = []
    for seed, S, A, horizon, n, sparsity, saturated in _DIST_SPECS:
        rng = np.random.default_rng(seed)
        P, mu0 = _random_mdp(rng, S, A, sparsity)
        theta = rng.normal(0, 1.5, (S, A))
        note = ""
        if saturated:
            # Logits of magnitude 1e3: one row still random (0.62, 0.38, 0), one deterministic.
            theta[0] = [1e3, 999.5, -1e3]
            theta[1] = [-1e3, 1e3, 0.0]
            note = ", logits of magnitude 1e3 in rows 0 and 1"
        label = (f"theta of shape {theta.shape}, P of shape {P.shape}, mu0 of shape {mu0.shape}, "
                 f"horizon={horizon}, n={n}, rng=np.random.default_rng({seed}){note}")
        cases.append(Case((theta, P, mu0, horizon, n, Rng(seed)), label))
    return cases


def _sampling_label(theta, P, mu0, horizon, n, seed, note=""):
    return (f"theta of shape {np.shape(theta)}, P of shape {np.shape(P)}, mu0 of shape "
            f"{np.shape(mu0)}, horizon={horizon}, n={n}, rng=np.random.default_rng({seed})"
            + (f" ({note})" if note else ""))


def _parse_trajectories(value, args):
    """(states, actions) as int arrays of the right shape and range, or a failing Outcome."""
    theta, _, _, horizon, n = args[:5]
    S, A = np.shape(theta)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        return Outcome(False, f"expected a pair (states, actions), got {describe_type(value)}"
                              + (f" of length {len(value)}" if isinstance(value, (tuple, list)) else ""))
    out = []
    for name, v, size in (("states", value[0], S), ("actions", value[1], A)):
        if not isinstance(v, np.ndarray):
            return Outcome(False, f"{name}: expected an np.ndarray, got {describe_type(v)}")
        if not np.issubdtype(v.dtype, np.integer):
            return Outcome(False, f"{name}: expected an integer array, got dtype {v.dtype} "
                                  "(use .astype(int) or integer-valued sampling)")
        if v.shape != (n, horizon):
            return Outcome(False, f"{name}: expected shape (n, horizon) = {(n, horizon)}, "
                                  f"got {v.shape}")
        if v.size and (v.min() < 0 or v.max() >= size):
            return Outcome(False, f"{name}: entries must lie in 0..{size - 1}, got values "
                                  f"from {v.min()} to {v.max()}")
        out.append(v.astype(np.int64))
    return tuple(out)


def _valid_trajectories(case, got, expected, args) -> Outcome:
    parsed = _parse_trajectories(got.value, args)
    return parsed if isinstance(parsed, Outcome) else Outcome(True)


def _forced_trajectories(case, got, expected, args) -> Outcome:
    """One-hot mu0 and P, saturated logits: there is exactly one possible trajectory."""
    parsed = _parse_trajectories(got.value, args)
    if isinstance(parsed, Outcome):
        return parsed
    for name, g, e in zip(("states", "actions"), parsed, expected):
        if not np.array_equal(g, e):
            row = int(np.argmax(np.any(g != e, axis=1)))
            return Outcome(False, f"{name}: the only possible trajectory has {name} "
                                  f"{e[row].tolist()}, row {row} has {g[row].tolist()}")
    return Outcome(True)


def _initial_states(case, got, expected, args) -> Outcome:
    parsed = _parse_trajectories(got.value, args)
    if isinstance(parsed, Outcome):
        return parsed
    states, _ = parsed
    mu0 = np.asarray(args[2], dtype=np.float64)
    counts = np.bincount(states[:, 0], minlength=mu0.size)
    outcome = frequency_test(counts, mu0, _PER_TEST_ALPHA)
    if outcome.passed:
        return outcome
    return Outcome(False, f"initial states s_0 = states[:, 0]: {outcome.message}")


def _action_frequencies(case, got, expected, args) -> Outcome:
    parsed = _parse_trajectories(got.value, args)
    if isinstance(parsed, Outcome):
        return parsed
    states, actions = parsed
    pi = softmax(args[0])
    S, A = pi.shape
    for s in range(S):
        counts = np.bincount(actions[states == s], minlength=A)
        outcome = frequency_test(counts, pi[s], _PER_TEST_ALPHA)
        if not outcome.passed:
            message = f"actions taken in state {s} (pooled over t): {outcome.message}"
            if counts.sum() > 0 and frequency_test(counts, np.full(A, 1.0 / A), 1e-3).passed:
                message += ("; they look uniform: draw a_t from softmax(theta[s_t]), not "
                            "uniformly")
            return Outcome(False, message)
    return Outcome(True)


def _transition_frequencies(case, got, expected, args) -> Outcome:
    parsed = _parse_trajectories(got.value, args)
    if isinstance(parsed, Outcome):
        return parsed
    states, actions = parsed
    P = np.asarray(args[1], dtype=np.float64)
    mu0 = np.asarray(args[2], dtype=np.float64)
    S, A = P.shape[:2]
    now, act, nxt = states[:, :-1], actions[:, :-1], states[:, 1:]
    for s in range(S):
        for a in range(A):
            counts = np.bincount(nxt[(now == s) & (act == a)], minlength=S)
            outcome = frequency_test(counts, P[s, a], _PER_TEST_ALPHA)
            if not outcome.passed:
                message = (f"next states s_(t+1) after state {s} and action {a}: "
                           f"{outcome.message}")
                column = P[:, a, s]
                if counts.sum() > 0 and frequency_test(counts, mu0, 1e-3).passed:
                    message += ("; they look like draws from mu0: draw s_(t+1) from "
                                "P[s_t, a_t]")
                elif (counts.sum() > 0 and column.sum() > 0
                      and frequency_test(counts, column / column.sum(), 1e-3).passed):
                    message += ("; they follow the column P[:, a, s] instead: P[s, a, s'] is "
                                "p(s' | s, a), so draw s_(t+1) from the row P[s_t, a_t]")
                return Outcome(False, message)
    return Outcome(True)


def _reproducible(case, got, expected, args) -> Outcome:
    """Judge of the replay_rng probe: (rng, a copy of rng, another generator)."""
    runs = []
    for value in got.value:
        parsed = _parse_trajectories(value, args)
        if isinstance(parsed, Outcome):
            return parsed
        runs.append(parsed)
    first, copy, other = runs
    if not all(np.array_equal(x, y) for x, y in zip(first, copy)):
        return Outcome(False, "two calls with identical generators gave different trajectories: draw every "
                              "random number from rng (e.g. rng.choice, rng.random), never from np.random.* "
                              "or a new generator")
    if all(np.array_equal(x, y) for x, y in zip(first, other)):
        return Outcome(False, "calls with different generators gave the same trajectories: draw every "
                              "random number from the rng you are given")
    return Outcome(True)


def sample_trajectories_checks() -> list[Check]:
    rng = np.random.default_rng(4002)
    shape_cases = []
    for S, A, horizon, n, seed in ((3, 2, 4, 5, 11), (2, 3, 1, 1, 12), (5, 2, 7, 2, 13)):
        P, mu0 = _random_mdp(rng, S, A)
        theta = rng.normal(0, 1, (S, A))
        shape_cases.append(Case((theta, P, mu0, horizon, n, Rng(seed)),
                                _sampling_label(theta, P, mu0, horizon, n, seed)))
    P, mu0 = _random_mdp(rng, 2, 2)
    shape_cases.append(Case((rng.normal(0, 1, (2, 2)).tolist(), P.tolist(), mu0.tolist(), 3, 4,
                             Rng(14)), "theta, P and mu0 as nested lists, horizon=3, n=4"))

    # Forced: s -> next[s, a] surely, and the logits pick action best[s] with certainty.
    forced_cases = []
    for S, A, horizon, n, seed in ((4, 2, 6, 3, 21), (3, 3, 5, 2, 22)):
        nxt = rng.integers(0, S, (S, A))
        P = np.eye(S)[nxt]
        best = rng.integers(0, A, S)
        theta = np.full((S, A), -1e3)
        theta[np.arange(S), best] = 1e3
        mu0 = np.eye(S)[rng.integers(0, S)]
        forced_cases.append(Case((theta, P, mu0, horizon, n, Rng(seed)), _sampling_label(
            theta, P, mu0, horizon, n, seed,
            "one-hot mu0 and P, logits of magnitude 1e3: only one trajectory is possible")))

    distribution = _distribution_cases()

    P, mu0 = _random_mdp(rng, 3, 3)
    theta = rng.normal(0, 0.5, (3, 3))
    repro_cases = [Case((theta, P, mu0, 5, 40, Rng(31)),
                        _sampling_label(theta, P, mu0, 5, 40, 31, "called with rng, a copy of it, and "
                                        "another generator"), op="probe:replay_rng")]
    return [
        Check("a pair of int arrays (n, horizon) with valid states and actions", shape_cases,
              _valid_trajectories),
        Check("a forced trajectory (one-hot dynamics, logits of magnitude 1e3)", forced_cases,
              _forced_trajectories),
        Check("initial states follow mu0 (chi-square test)", distribution, _initial_states,
              false_failure_rate=len(_DIST_SPECS) * _PER_TEST_ALPHA),
        Check("actions follow softmax(theta[s_t]) in every state (chi-square tests)",
              _distribution_cases(), _action_frequencies,
              false_failure_rate=sum(S for _, S, *_ in _DIST_SPECS) * _PER_TEST_ALPHA),
        Check("next states follow P[s_t, a_t] for every (s, a) (chi-square tests)",
              _distribution_cases(), _transition_frequencies,
              false_failure_rate=sum(S * A for _, S, A, *_ in _DIST_SPECS) * _PER_TEST_ALPHA),
        Check("rng is the only source of randomness (same seed, same trajectories)", repro_cases,
              _reproducible),
    ]


def _pair(value):
    return isinstance(value, (tuple, list)) and len(value) == 2


SAMPLE_TRAJECTORIES_HINTS = [
    Hint("the arrays are transposed: return shape (n, horizon), one trajectory per row",
         lambda args, got, exp: _pair(got) and np.shape(got[0]) == (args[3], args[4])
         and args[3] != args[4]),
    Hint("states and actions are swapped: return (states, actions)",
         lambda args, got, exp: _pair(got) and np.array_equal(got[0], exp[1])
         and np.array_equal(got[1], exp[0])),
    Hint("states[:, t] must be the state in which actions[:, t] was chosen: record s_t before "
         "drawing s_(t+1); states[:, 0] is drawn from mu0",
         lambda args, got, exp: _pair(got) and np.array_equal(np.asarray(got[0])[:, :-1],
                                                              np.asarray(exp[0])[:, 1:])),
    Hint("actions[:, t] must be drawn in state states[:, t] (you seem to draw it in the next "
         "state)",
         lambda args, got, exp: _pair(got) and np.array_equal(np.asarray(got[0]), exp[0])
         and np.array_equal(np.asarray(got[1])[:, :-1], np.asarray(exp[1])[:, 1:])),
]


# --- 4.3 trajectory_score -------------------------------------------------------------------

def _score_case(theta, states, actions, note=""):
    label = (f"theta of shape {np.shape(theta)}, states and actions of shape "
             f"{np.shape(states)}" + (f" ({note})" if note else ""))
    return Case((theta, states, actions), label)


def _random_trajectory(rng, S, A, T, visited=None):
    visited = S if visited is None else visited
    return rng.integers(0, visited, T), rng.integers(0, A, T)


def trajectory_score_checks() -> list[Check]:
    rng = np.random.default_rng(4003)
    random_cases = []
    for S, A, T in ((4, 3, 10), (3, 2, 25), (5, 4, 6)):
        random_cases.append(_score_case(rng.normal(0, 1.5, (S, A)),
                                        *_random_trajectory(rng, S, A, T)))
    unvisited_cases = [
        _score_case(rng.normal(0, 1, (6, 3)), *_random_trajectory(rng, 6, 3, 12, visited=3),
                    "states 3, 4, 5 are never visited"),
        _score_case(rng.normal(0, 1, (3, 5)), np.array([1, 1, 1, 1]), rng.integers(0, 5, 4),
                    "only state 1 is visited"),
    ]
    big = rng.normal(0, 1, (4, 3)) * 1e3
    big[1] = [1e3, 999.0, 1e3]
    large_cases = [_score_case(big, *_random_trajectory(rng, 4, 3, 9),
                               "logits of magnitude 1e3")]
    edge_cases = [
        Case(([[0.0, 1.0], [0.5, -0.5]], [0, 1, 1], [1, 0, 1]),
             "theta=[[0.0, 1.0], [0.5, -0.5]], states=[0, 1, 1], actions=[1, 0, 1] (lists)"),
        _score_case(rng.normal(0, 1, (3, 2)), np.array([2]), np.array([0]), "T = 1"),
    ]
    judge = matches_reference()
    return [
        Check("values on random trajectories", random_cases, judge, points=2),
        Check("the shape comes from theta: unvisited states have zero rows", unvisited_cases, judge),
        Check("logits of magnitude 1e3 stay finite and exact", large_cases, judge),
        Check("lists and a trajectory of one step", edge_cases, judge),
    ]


def _counts(args):
    """(N(s, a), N(s) as a column, pi) of one trajectory, from the inputs."""
    theta = np.asarray(args[0], dtype=np.float64)
    counts = np.zeros(theta.shape)
    np.add.at(counts, (np.asarray(args[1], int), np.asarray(args[2], int)), 1.0)
    return counts, counts.sum(axis=1, keepdims=True), softmax(theta)


def _score_variant(fn):
    def applies(args, got, exp):
        counts, visits, pi = _counts(args)
        return close(got, fn(counts, visits, pi, len(np.asarray(args[1]))))
    return applies


TRAJECTORY_SCORE_HINTS = [
    Hint("the softmax overflowed: subtract each row's largest logit before exponentiating",
         lambda args, got, exp: (not np.all(np.isfinite(as_array(got))))
         and np.abs(np.asarray(args[0], float)).max() > 700),
    Hint("the sign is flipped: grad log pi(a|s) is e_a - softmax(theta[s]), not the reverse",
         lambda args, got, exp: close(got, -as_array(exp))),
    Hint("the probability term is missing: each step contributes e_(a_t) - pi(.|s_t) to row "
         "s_t, not only the one-hot e_(a_t)",
         _score_variant(lambda c, v, pi, T: c)),
    Hint("the one-hot term is missing: each step contributes e_(a_t) - pi(.|s_t) to row s_t",
         _score_variant(lambda c, v, pi, T: -v * pi)),
    Hint("pi(.|s) is subtracted once per visited state; subtract it once per visit "
         "(a state visited k times contributes k copies)",
         _score_variant(lambda c, v, pi, T: c - (v > 0) * pi)),
    Hint("log-probabilities were subtracted; the score subtracts the probabilities "
         "softmax(theta[s])",
         lambda args, got, exp: close(got, _counts(args)[0] - _counts(args)[1]
                                      * _logsoftmax(args[0]))),
    Hint("the score is a sum over t, not a mean",
         _score_variant(lambda c, v, pi, T: (c - v * pi) / T)),
    Hint("the shape comes from theta (S, A), not from the largest state or action visited",
         lambda args, got, exp: as_array(got).ndim == 2
         and as_array(got).shape != as_array(exp).shape
         and as_array(got).shape[0] <= np.max(np.asarray(args[1])) + 1),
    Hint("the result is transposed: shape (S, A), rows are states",
         lambda args, got, exp: close(got, as_array(exp).T)),
]


# --- 4.4 expected_return --------------------------------------------------------------------

def _return_case(theta, P, R, mu0, gamma, horizon, dtype="float64", note=""):
    theta = np.asarray(theta, dtype=np.float64)
    label = (f"theta of shape {theta.shape} ({dtype}, requires grad), P, R, mu0 as tensors, "
             f"gamma={gamma}, horizon={horizon}" + (f", {note}" if note else ""))
    return Case((Tensor(theta, dtype, requires_grad=True), Tensor(P, dtype), Tensor(R, dtype),
                 Tensor(mu0, dtype), gamma, horizon), label, op="backward")


def _random_return_case(rng, S, A, gamma, horizon, dtype="float64", theta_scale=1.0, note=""):
    P, mu0 = _random_mdp(rng, S, A, sparsity=0.2)
    R = rng.normal(0.5, 1.0, (S, A))
    return _return_case(rng.normal(0, theta_scale, (S, A)), P, R, mu0, gamma, horizon, dtype, note)


def expected_return_checks() -> list[Check]:
    rng = np.random.default_rng(4004)
    random_cases = [_random_return_case(rng, S, A, g, T) for S, A, g, T in
                    ((3, 2, 0.9, 5), (4, 3, 0.95, 8), (2, 2, 0.5, 3), (5, 2, 0.99, 12))]
    edge_cases = [
        _random_return_case(rng, 4, 3, 0.9, 1, note="one step: J = sum_s mu0(s) E[R(s, a)]"),
        _random_return_case(rng, 3, 3, 0.0, 6, note="gamma = 0: only the first reward counts"),
        _random_return_case(rng, 3, 2, 1.0, 7, note="gamma = 1: no discount"),
    ]
    P, mu0 = _random_mdp(rng, 4, 3)
    theta = rng.normal(0, 1, (4, 3)) * 1e3
    theta[0] = [1e3, 999.5, 1e3 - 0.3]
    large_cases = [_return_case(theta, P, rng.normal(size=(4, 3)), mu0, 0.9, 6,
                                note="logits of magnitude 1e3")]
    f32_cases = [_random_return_case(rng, 3, 2, 0.9, 6, dtype="float32"),
                 _random_return_case(rng, 4, 4, 0.8, 4, dtype="float32")]
    exact = matches_reference_gradients(rtol=1e-6, atol=1e-9)
    return [
        Check("value and gradient on random MDPs", random_cases, exact, points=2),
        Check("one step, gamma = 0 and gamma = 1", edge_cases, exact),
        Check("logits of magnitude 1e3: finite value and gradient", large_cases, exact),
        Check("float32 in, float32 out (value and gradient)", f32_cases,
              matches_reference_gradients(rtol=1e-4, atol=1e-5)),
    ]


def _np_return(args, gamma=None, horizon=None, shift=0, reward_after=False, p_transposed=False):
    """J of the case's inputs in NumPy, with the variations that common mistakes make."""
    theta, P, R, mu0 = (np.asarray(a.detach().double().numpy()) for a in args[:4])
    gamma = args[4] if gamma is None else gamma
    horizon = args[5] if horizon is None else horizon
    pi = softmax(theta)
    if p_transposed:
        P = np.transpose(P, (2, 1, 0))
    d, J = mu0, 0.0
    for t in range(horizon):
        nxt = np.einsum("s,sa,sak->k", d, pi, P)
        J += gamma ** (t + shift) * ((nxt if reward_after else d) @ (pi * R).sum(-1))
        d = nxt
    return J


def _return_value(got):
    value = got[0] if isinstance(got, tuple) else got
    return as_array(value)


def _return_hint(**variant):
    return lambda args, got, exp: close(_return_value(got), _np_return(args, **variant))


EXPECTED_RETURN_HINTS = [
    Hint("the softmax overflowed (exp(1000) is inf): use torch.softmax(theta, dim=-1), which "
         "subtracts each row's largest logit for you",
         lambda args, got, exp: (not np.all(np.isfinite(_return_value(got))))
         and float(args[0].detach().abs().max()) > 700),
    Hint("the rewards are not discounted: step t contributes gamma**t times its expected reward",
         _return_hint(gamma=1.0)),
    Hint("the discount is off by one: the first reward (t = 0) gets gamma**0 = 1",
         _return_hint(shift=1)),
    Hint("the sum has one step too many: t runs over 0, ..., horizon - 1",
         lambda args, got, exp: close(_return_value(got), _np_return(args, horizon=args[5] + 1))),
    Hint("the sum has one step too few: t runs over 0, ..., horizon - 1",
         lambda args, got, exp: close(_return_value(got), _np_return(args, horizon=args[5] - 1))),
    Hint("the state distribution is updated before its reward is counted: add gamma**t "
         "E[R(s_t, a_t)] with d_t first, then compute d_(t+1)",
         _return_hint(reward_after=True)),
    Hint("P is indexed the wrong way round: P[s, a, s'] is p(s' | s, a), so d_(t+1)(s') sums "
         "d_t(s) pi(a|s) P[s, a, s'] over s and a",
         _return_hint(p_transposed=True)),
]


# --- 4.5 reinforce_gradient -----------------------------------------------------------------

def _reinforce_case(theta, states, actions, rewards, gamma, note=""):
    label = (f"theta of shape {np.shape(theta)}, states, actions and rewards of shape "
             f"{np.shape(states)}, gamma={gamma}" + (f" ({note})" if note else ""))
    return Case((theta, states, actions, rewards, gamma), label)


def random_batch(rng, S, A, n, T, visited=None, theta_scale=1.0):
    """A random (theta, states, actions, rewards) for a tabular estimator; states < visited."""
    visited = S if visited is None else visited
    theta = rng.normal(0, theta_scale, (S, A))
    states = rng.integers(0, visited, (n, T))
    actions = rng.integers(0, A, (n, T))
    rewards = rng.normal(0.7, 1.0, (n, T))
    return theta, states, actions, rewards


# theta, states, actions, rewards, gamma as nested lists: the array-like case
LIST_BATCH = ([[0.0, 1.0], [0.5, -0.5]], [[0, 1, 1], [1, 1, 0]], [[1, 0, 1], [0, 0, 1]],
              [[1, 0, 2], [0, 1, 1]], 0.9)


def tabular_batch_suites(rng, case):
    """The input suites of every tabular estimator with the signature of 4.5 (also 6.2, 6.3):
    (random, edge, gammas, large). ``case(theta, states, actions, rewards, gamma, note="")``
    makes one Case; it is called in order, so it may draw more from ``rng`` (e.g. baselines)."""
    random = [case(*random_batch(rng, S, A, n, T), g) for S, A, n, T, g in
              ((4, 3, 20, 6, 0.9), (3, 2, 50, 10, 0.95), (5, 4, 7, 3, 0.5))]
    edge = [
        case(*random_batch(rng, 4, 2, 1, 8), 0.9, "one trajectory"),
        case(*random_batch(rng, 6, 3, 10, 5, visited=3), 0.8, "states 3, 4, 5 are never visited"),
        case(*random_batch(rng, 3, 3, 12, 1), 0.9, "T = 1"),
    ]
    gammas = [
        case(*random_batch(rng, 3, 2, 15, 6), 0.0, "gamma = 0"),
        case(*random_batch(rng, 3, 2, 15, 6), 1.0, "gamma = 1"),
    ]
    theta, states, actions, rewards = random_batch(rng, 4, 3, 10, 5, theta_scale=1e3)
    theta[0] = [1e3, 999.0, 1e3 - 0.5]
    states[:, 0] = 0
    large = [case(theta, states, actions, rewards, 0.9, "logits of magnitude 1e3")]
    return random, edge, gammas, large


def reinforce_gradient_checks() -> list[Check]:
    rng = np.random.default_rng(4005)
    random_cases, edge_cases, gamma_cases, large_cases = tabular_batch_suites(rng, _reinforce_case)
    list_cases = [Case(LIST_BATCH, "theta, states, actions and rewards as nested lists of numbers, gamma=0.9")]
    judge = matches_reference()
    return [
        Check("values on random batches", random_cases, judge, points=2),
        Check("one trajectory, unvisited states, one step", edge_cases, judge),
        Check("gamma = 0 and gamma = 1", gamma_cases, judge),
        Check("logits of magnitude 1e3 stay finite and exact", large_cases, judge),
        Check("lists of numbers", list_cases, judge),
    ]


def _estimate(args, weights="return", discount_shift=0, gamma=None, mean=True):
    """The estimator with other per-step weights: the variants common mistakes compute."""
    theta = np.asarray(args[0], dtype=np.float64)
    states, actions = np.asarray(args[1], int), np.asarray(args[2], int)
    rewards = np.asarray(args[3], dtype=np.float64)
    gamma = float(args[4]) if gamma is None else gamma
    n, T = states.shape
    disc = gamma ** (np.arange(T) + discount_shift)
    if weights == "return":
        w = np.broadcast_to((rewards @ disc)[:, None], (n, T))
    elif weights == "reward-to-go":  # G_t = sum_{k >= t} gamma^(k-t) r_k, no gamma^t in front
        w = np.array([[rewards[i, t:] @ gamma ** np.arange(T - t) for t in range(T)]
                      for i in range(n)])
    elif weights == "discounted-reward-to-go":  # gamma^t G_t, chapter 6's estimator
        w = np.array([[gamma**t * (rewards[i, t:] @ gamma ** np.arange(T - t)) for t in range(T)]
                      for i in range(n)])
    elif weights == "reward":  # only r_t at step t
        w = rewards * disc
    else:  # "none": the mean score
        w = np.ones((n, T))
    pi = softmax(theta)
    out = np.zeros(theta.shape)
    np.add.at(out, (states, actions), w)
    visits = np.zeros(theta.shape[0])
    np.add.at(visits, states, w)
    out -= visits[:, None] * pi
    return out / n if mean else out


def _estimate_hint(**variant):
    return lambda args, got, exp: close(got, _estimate(args, **variant))


REINFORCE_GRADIENT_HINTS = [
    Hint("the softmax overflowed: subtract each row's largest logit before exponentiating",
         lambda args, got, exp: (not np.all(np.isfinite(as_array(got))))
         and np.abs(np.asarray(args[0], float)).max() > 700),
    Hint("this is the sum over trajectories; the estimate is their mean (divide by n)",
         _estimate_hint(mean=False)),
    Hint("the sign is flipped: grad log pi(a|s) is e_a - softmax(theta[s])",
         lambda args, got, exp: close(got, -as_array(exp))),
    Hint("the rewards are not discounted: each trajectory's weight is sum_t gamma**t r_t",
         _estimate_hint(gamma=1.0)),
    Hint("the discount is off by one: the return is sum_t gamma**t r_t, starting at gamma**0 = 1",
         _estimate_hint(discount_shift=1)),
    Hint("each step is weighted by its reward-to-go; the exercise's estimator weights every "
         "step by the whole return of its trajectory, sum_t gamma**t r_t (reward-to-go is "
         "chapter 6)",
         lambda args, got, exp: close(got, _estimate(args, weights="reward-to-go"))
         or close(got, _estimate(args, weights="discounted-reward-to-go"))),
    Hint("each step is weighted by its own reward r_t; the estimator weights every step by the "
         "whole return of its trajectory",
         lambda args, got, exp: close(got, _estimate(args, weights="reward"))
         or close(got, _estimate(args, weights="reward", gamma=1.0))),
    Hint("the returns are missing: multiply each trajectory's score by its return",
         _estimate_hint(weights="none")),
    Hint("the shape comes from theta (S, A), not from the largest state or action visited",
         lambda args, got, exp: as_array(got).ndim == 2
         and as_array(got).shape != as_array(exp).shape
         and as_array(got).shape[0] <= np.max(np.asarray(args[1])) + 1),
]


CHAPTER = Chapter(
    slug="04_policy_gradient",
    number=4,
    title="The policy gradient",
    solutions_module="solutions.ch04_policy_gradient",
    exercises=[
        Exercise("4.1", "softmax_policy", softmax_policy_checks, SOFTMAX_POLICY_HINTS, timeout=20),
        Exercise("4.2", "sample_trajectories", sample_trajectories_checks,
                 SAMPLE_TRAJECTORIES_HINTS, timeout=90),
        Exercise("4.3", "trajectory_score", trajectory_score_checks, TRAJECTORY_SCORE_HINTS,
                 timeout=20),
        Exercise("4.4", "expected_return", expected_return_checks, EXPECTED_RETURN_HINTS,
                 timeout=40),
        Exercise("4.5", "reinforce_gradient", reinforce_gradient_checks,
                 REINFORCE_GRADIENT_HINTS, timeout=20),
    ],
)

"""Chapter 5 graders: trajectory_returns (5.1), surrogate_loss (5.2), CategoricalPolicy (5.3).

Inputs come from fixed seeds and cover the contract: flat batches of several episodes of
random lengths (episodes of one step, a single episode, a batch of one step, CartPole-like
batches of 500-step episodes), gamma = 0, 1 and in between, array-likes (lists, int
rewards, 0/1 dones).

``surrogate_loss`` is checked with ``Case(op="backward")``: the value and the gradient with
respect to ``log_probs`` must match the reference, and when ``weights`` also requires grad,
no gradient may reach it (the reference detaches the weights, so its gradient with respect
to them is absent; an all-zero gradient is accepted as the same thing).

``CategoricalPolicy`` is a class: its instances cannot cross the process boundary, so each
check runs a probe of :mod:`autograder.probes` on the student's class inside the sandbox
(and on the reference here) and compares plain-data answers: the type of the module and of
what ``forward`` returns, batch shapes and dtypes, probabilities (finite, normalised, row by
row the distribution of that row's observation alone, different for different
observations), the gradient of ``log_prob`` reaching every parameter, the parameter shapes
that ``hidden_sizes`` implies, and that the network is an MLP whatever its activation: the
log-odds between actions are affine in the observation without hidden layers and not
affine with them. Every check is deterministic: no sampling enters a verdict.
"""
from __future__ import annotations

import numpy as np

from autograder.checks import (as_array, close, compare_values, describe_type, matches_reference,
                               matches_reference_gradients)
from autograder.spec import Case, Chapter, Check, Exercise, Hint, Outcome
from autograder.wire import Tensor, TensorData

# --- 5.1 trajectory_returns -------------------------------------------------------------------


def _flat_batch(lengths, rewards):
    lengths = np.asarray(lengths, dtype=int)
    dones = np.zeros(int(lengths.sum()), dtype=bool)
    dones[np.cumsum(lengths) - 1] = True
    return np.asarray(rewards), dones


def _returns_case(rng, lengths, gamma, *, scale=1.0, note=""):
    rewards, dones = _flat_batch(lengths, rng.normal(0.5, scale, int(np.sum(lengths))))
    label = (f"rewards and dones of shape ({dones.size},): {len(lengths)} episodes of lengths "
             f"{list(map(int, lengths))}, gamma = {gamma}" + (f" ({note})" if note else ""))
    return Case((rewards, dones, gamma), label)


def returns_checks() -> list[Check]:
    rng = np.random.default_rng(5001)
    random_cases = [
        _returns_case(rng, [3, 5, 1, 4], 0.9),
        _returns_case(rng, [10, 7, 12], 0.99),
        _returns_case(rng, [2, 2, 2, 2, 2], 0.5, scale=3.0),
        _returns_case(rng, rng.integers(1, 16, 8), 0.95),
    ]
    gamma_cases = [
        _returns_case(rng, [4, 6, 3], 1.0, note="no discount: plain sums"),
        _returns_case(rng, [5, 2, 4], 0.0, note="gamma = 0: the episode's first reward"),
    ]
    edge_cases = [
        _returns_case(rng, [9], 0.8, note="a single episode"),
        _returns_case(rng, [1], 0.9, note="one step"),
        _returns_case(rng, [1, 1, 1, 1], 0.7, note="episodes of one step"),
        _returns_case(rng, [1, 6, 1], 0.9),
    ]
    arraylike_cases = [
        Case(([1, 1, 1, 1, 1], [False, False, True, False, True], 0.5),
             "rewards=[1, 1, 1, 1, 1] (ints), dones=[False, False, True, False, True] (lists), "
             "gamma = 0.5"),
        Case(([0.5, -1.0, 2.0, 3.0], [0, 1, 0, 1], 1),
             "rewards=[0.5, -1.0, 2.0, 3.0], dones=[0, 1, 0, 1] (0/1 ints), gamma = 1 (an int)"),
    ]
    lengths = [500, 23, 187, 9]
    cartpole_rewards, cartpole_dones = _flat_batch(lengths, np.ones(sum(lengths)))
    cartpole_cases = [Case((cartpole_rewards, cartpole_dones, 0.99),
                           "a CartPole batch: rewards all 1, episodes of lengths "
                           "[500, 23, 187, 9], gamma = 0.99")]
    judge = matches_reference()
    return [
        Check("values on random flat batches", random_cases, judge, points=2),
        Check("gamma = 1 and gamma = 0", gamma_cases, judge),
        Check("a single episode, one step, episodes of one step", edge_cases, judge),
        Check("array-like inputs (lists, ints, 0/1 dones)", arraylike_cases, judge),
        Check("long episodes (CartPole's 500 steps)", cartpole_cases, judge),
    ]


def _segments(dones):
    """(start, stop) of each episode, dones[t] marking an episode's last step."""
    dones = np.asarray(dones, dtype=bool)
    ends = np.flatnonzero(dones) + 1
    if ends.size == 0 or ends[-1] != dones.size:
        ends = np.append(ends, dones.size)
    starts = np.concatenate([[0], ends[:-1]])
    return list(zip(starts, ends))


def _per_step(args, episode_value):
    """(T,): episode_value(rewards of the episode, gamma, start) repeated over its steps."""
    rewards = np.asarray(args[0], dtype=np.float64)
    out = np.empty_like(rewards)
    for start, stop in _segments(args[1]):
        out[start:stop] = episode_value(rewards[start:stop], float(args[2]), start)
    return out


def _to_go(rewards, dones, gamma):
    out = np.empty(len(rewards))
    running = 0.0
    for t in range(len(rewards) - 1, -1, -1):
        running = rewards[t] + gamma * (0.0 if dones[t] else running)
        out[t] = running
    return out


def _rtg(args):
    rewards = np.asarray(args[0], dtype=np.float64)
    return _to_go(rewards, np.asarray(args[1], dtype=bool), float(args[2]))


def _rtg_no_restart(args):
    rewards = np.asarray(args[0], dtype=np.float64)
    return _to_go(rewards, np.zeros(rewards.size, dtype=bool), float(args[2]))


def _whole_batch(args):
    rewards = np.asarray(args[0], dtype=np.float64)
    return np.full(rewards.size, rewards @ float(args[2]) ** np.arange(rewards.size))


def _starts_as_dones(args):
    """Episodes split *before* each step marked done (dones read as 'first step')."""
    dones = np.asarray(args[1], dtype=bool)
    shifted = np.append(dones[1:], True)
    return _per_step((args[0], shifted, args[2]), lambda r, g, s: r @ g ** np.arange(r.size))


RETURNS_HINTS = [
    Hint("that is the reward-to-go sum_{k>=t} gamma^(k-t) r_k (chapter 6); plain REINFORCE "
         "weights every step by the return of its whole episode, rewards before t included",
         lambda args, got, exp: close(got, _rtg(args))),
    Hint("the returns do not restart at episode ends: after a step with dones[t] true, the "
         "next step starts a new episode with a new return",
         lambda args, got, exp: close(got, _whole_batch(args)) or close(got, _rtg_no_restart(args))),
    Hint("the discount restarts with each episode: its first reward has weight gamma^0 = 1, "
         "but the exponent here counts steps from the start of the batch",
         lambda args, got, exp: close(got, _per_step(
             args, lambda r, g, s: r @ g ** (s + np.arange(r.size))))),
    Hint("the discount is applied from the wrong end: the episode's first reward has weight "
         "1 and its last gamma^(L-1), not the other way round",
         lambda args, got, exp: close(got, _per_step(
             args, lambda r, g, s: r @ g ** np.arange(r.size)[::-1]))),
    Hint("the rewards are not discounted: the return is sum_k gamma^k r_(start+k)",
         lambda args, got, exp: close(got, _per_step(args, lambda r, g, s: r.sum()))),
    Hint("one value per episode was returned; the exercise asks for one per step, shape (T,): "
         "repeat each episode's return over its steps",
         lambda args, got, exp: close(got, [_per_step(args, lambda r, g, s: r @ g ** np.arange(
             r.size))[start] for start, _ in _segments(args[1])])),
    Hint("dones[t] marks the LAST step of an episode (the next one starts at t + 1), not "
         "the first step of the next",
         lambda args, got, exp: close(got, _starts_as_dones(args))),
]


# --- 5.2 surrogate_loss -----------------------------------------------------------------------


def _surrogate_case(rng, T, *, dtype="float64", weights_grad=True, scale=20.0, note="",
                    op="backward", weights=None, observe=False):
    log_probs = np.log(rng.uniform(0.05, 0.95, T))
    if weights is None:
        weights = rng.normal(scale / 2, scale, T)
    label = (f"log_probs of shape ({T},) ({dtype}, requires grad), weights of shape ({T},) "
             f"({dtype}{', requires grad' if weights_grad else ''})" + (f", {note}" if note else ""))
    return Case((Tensor(log_probs, dtype, requires_grad=True),
                 Tensor(np.asarray(weights, dtype=np.float64), dtype, requires_grad=weights_grad)),
                label, op=op, observe_args=observe)


def _surrogate_judge(rtol: float = 1e-6, atol: float = 1e-9):
    """The value and d loss / d log_probs equal the reference's; nothing reaches weights."""
    return matches_reference_gradients(rtol, atol, names=("log_probs", "weights"), constants=(1,))


def _unchanged_judge(rtol: float = 1e-6, atol: float = 1e-9):
    """op="call" with observe_args: weights keep their values, .grad and requires_grad."""
    def judge(case, got, expected, args) -> Outcome:
        after = got.args_after[1] if got.args_after and len(got.args_after) > 1 else None
        before = args[1]
        if not isinstance(after, TensorData):
            return Outcome(False, "weights could not be read back after the call")
        if not np.array_equal(after.array, before.detach().numpy()):
            return Outcome(False, "weights changed during the call: compute with them, do not modify them")
        if after.requires_grad != bool(before.requires_grad):
            return Outcome(False, "weights.requires_grad changed during the call (.detach_() or "
                                  "requires_grad_(False) on the caller's tensor?): use weights.detach(), "
                                  "which returns a new tensor and leaves the caller's alone")
        return compare_values(got.value, expected, rtol=rtol, atol=atol)

    return judge


def surrogate_checks() -> list[Check]:
    rng = np.random.default_rng(5002)
    value_cases = [
        _surrogate_case(rng, 7, weights_grad=False),
        _surrogate_case(rng, 40, weights_grad=False, note="weights of mixed signs", scale=5.0),
        _surrogate_case(rng, 200, weights_grad=False, weights=np.repeat([23.0, 71.0, 106.0], [40, 60, 100]),
                        note="weights constant within three episodes"),
    ]
    detach_cases = [
        _surrogate_case(rng, 12),
        _surrogate_case(rng, 30, scale=3.0),
    ]
    f32_cases = [_surrogate_case(rng, 9, dtype="float32"),
                 _surrogate_case(rng, 50, dtype="float32", weights_grad=False)]
    edge_cases = [
        _surrogate_case(rng, 1, note="one step"),
        _surrogate_case(rng, 6, weights=np.zeros(6), note="all weights zero"),
    ]
    unchanged_cases = [_surrogate_case(rng, 8, op="call", observe=True,
                                       note="weights must keep requires_grad=True")]
    return [
        Check("value and gradient with respect to log_probs", value_cases, _surrogate_judge(), points=2),
        Check("no gradient reaches weights, even when they require grad", detach_cases,
              _surrogate_judge(), points=2),
        Check("float32 in, float32 out (value and gradient)", f32_cases,
              _surrogate_judge(rtol=1e-5, atol=1e-6)),
        Check("one step; weights all zero", edge_cases, _surrogate_judge()),
        Check("the caller's weights are left unchanged", unchanged_cases, _unchanged_judge()),
    ]


def _loss_value(got) -> np.ndarray:
    value = got[0] if isinstance(got, tuple) else got
    return as_array(value)


def _np(tensor) -> np.ndarray:
    return tensor.detach().double().numpy()


def _if_value_wrong(applies):
    """Backward cases return (value, gradients), which the engine cannot compare as a
    whole, so it asks the hints even when only a gradient is wrong: a value hint applies
    only if the value itself is wrong."""
    def test(args, got, exp):
        return not close(_loss_value(got), _loss_value(exp)) and applies(args, got, exp)
    return test


SURROGATE_HINTS = [
    Hint("the sign is flipped: the surrogate is MINUS the mean of log_probs * weights, so that "
         "gradient descent on it climbs the return",
         _if_value_wrong(lambda args, got, exp: close(_loss_value(got), -_loss_value(exp)))),
    Hint("you summed over the steps; the surrogate is the mean over the T steps",
         _if_value_wrong(lambda args, got, exp: _np(args[0]).size > 1 and close(
             _loss_value(got), _loss_value(exp) * _np(args[0]).size))),
    Hint("the mean of a product is not the product of the means: average log_probs * weights "
         "step by step",
         _if_value_wrong(lambda args, got, exp: close(_loss_value(got), -_np(args[0]).mean() * _np(args[1]).mean()))),
    Hint("return one number (a 0-dim tensor), the mean over steps, not the per-step terms",
         _if_value_wrong(lambda args, got, exp: close(_loss_value(got), -_np(args[0]) * _np(args[1])))),
    Hint("the log-probabilities were exponentiated: the surrogate uses log pi(a_t | s_t) as given",
         _if_value_wrong(lambda args, got, exp: close(_loss_value(got), -(np.exp(_np(args[0])) * _np(args[1])).mean()))),
]


# --- 5.3 CategoricalPolicy --------------------------------------------------------------------


def _hidden_label(hidden) -> str:
    return "default hidden_sizes" if hidden is None else f"hidden_sizes={tuple(hidden)}"


def _policy_label(obs_dim, n_actions, hidden, extra="") -> str:
    label = f"CategoricalPolicy({obs_dim}, {n_actions}" + (
        "" if hidden is None else f", hidden_sizes={tuple(hidden)}") + ")"
    return label + (f", {extra}" if extra else "")


def _obs(rng, shape):
    return Tensor(rng.normal(0.0, 1.5, shape), "float32")


def _policy_case(probe, obs_dim, n_actions, hidden, *more, extra="", seed=0):
    return Case((obs_dim, n_actions, None if hidden is None else tuple(hidden), seed, *more),
                _policy_label(obs_dim, n_actions, hidden, extra), op=f"probe:{probe}")


def _interface_judge(case, got, expected, args) -> Outcome:
    is_module, kind, is_categorical = got.value
    if not is_module:
        return Outcome(False, f"an instance is {kind}, not a torch.nn.Module: subclass "
                              "torch.nn.Module and call super().__init__() first")
    if not is_categorical:
        return Outcome(False, f"forward(obs) returned {kind}; return a "
                              "torch.distributions.Categorical (e.g. Categorical(logits=...))")
    return Outcome(True)


def _shapes_judge(case, got, expected, args) -> Outcome:
    if not isinstance(got.value, list) or len(got.value) != len(expected):
        return Outcome(False, f"unexpected probe answer {describe_type(got.value)}")
    for mine, want in zip(got.value, expected):
        obs_shape, batch, probs, dtype, log_prob = mine
        if tuple(batch) != tuple(want[1]):
            return Outcome(False, f"for obs of shape {tuple(obs_shape)} the distribution's batch shape "
                                  f"is {tuple(batch)}, expected obs.shape[:-1] = {tuple(want[1])}")
        if tuple(probs) != tuple(want[2]):
            return Outcome(False, f"for obs of shape {tuple(obs_shape)} probs has shape {tuple(probs)}, "
                                  f"expected {tuple(want[2])}")
        if dtype != want[3]:
            return Outcome(False, f"float32 observations gave probabilities of dtype torch.{dtype}; "
                                  f"keep torch.{want[3]} (no .double())")
        if tuple(log_prob) != tuple(want[4]):
            return Outcome(False, f"log_prob of a sampled action has shape {tuple(log_prob)} for obs "
                                  f"of shape {tuple(obs_shape)}, expected {tuple(want[4])}")
    return Outcome(True)


def _probabilities_judge(case, got, expected, args) -> Outcome:
    batch, alone = (np.asarray(a, dtype=np.float64) for a in got.value)
    want = np.asarray(expected[0])
    if batch.shape != want.shape:
        return Outcome(False, f"probs of a batch of observations {want.shape[:-1]} has shape "
                              f"{batch.shape}, expected {want.shape}")
    if not np.all(np.isfinite(batch)):
        return Outcome(False, "the probabilities are not all finite")
    sums = batch.sum(axis=-1)
    if np.any(np.abs(sums - 1) > 1e-5) or np.any(batch < 0):
        return Outcome(False, f"the probabilities of each observation must be >= 0 and sum to 1 over "
                              f"the actions (the last axis); row sums are {np.round(sums, 5)}")
    if alone.shape != batch.shape or np.max(np.abs(alone - batch)) > 1e-5:
        return Outcome(False, "the distribution of row i of a batch differs from that of obs[i] on its "
                              "own: each row must depend on its own observation only (a softmax over "
                              "the batch axis? normalise over the last axis, the actions)")
    return Outcome(True)


def _depends_judge(case, got, expected, args) -> Outcome:
    batch = np.asarray(got.value[0], dtype=np.float64)
    if batch.ndim != 2 or batch.shape[0] < 2:
        return Outcome(False, f"probs of a batch has shape {batch.shape}, expected {np.shape(expected[0])}")
    spread = np.max(np.abs(batch - batch[0]))
    if spread < 1e-4:
        return Outcome(False, f"every observation gets the same distribution (largest difference "
                              f"{spread:.2g}): the policy must compute its logits from obs")
    return Outcome(True)


def _gradient_judge(case, got, expected, args) -> Outcome:
    n, trainable, reached, useful, differentiable = got.value
    if n == 0:
        return Outcome(False, "the module has no parameters: assign layers to attributes (self.net = "
                              "...) or put them in nn.Sequential / nn.ModuleList, not in a plain list")
    if trainable < n:
        return Outcome(False, f"{n - trainable} of the {n} parameter tensors have requires_grad=False: "
                              "every parameter must be trainable")
    if not differentiable:
        return Outcome(False, "dist.log_prob(actions) is not differentiable with respect to the "
                              "parameters: the logits were cut off from autograd (torch.no_grad(), "
                              ".detach(), NumPy?)")
    if reached < trainable:
        return Outcome(False, f"{trainable - reached} of the {trainable} parameter tensors get no gradient "
                              "from dist.log_prob(actions).sum(): every parameter must take part in forward")
    if useful < reached:
        return Outcome(False, f"{reached - useful} parameter tensors get a gradient that is zero or not "
                              "finite from dist.log_prob(actions).sum()")
    return Outcome(True)


def _parameters_judge(case, got, expected, args) -> Outcome:
    shapes, count = got.value
    want_shapes, want_count = expected
    if [tuple(s) for s in shapes] != [tuple(s) for s in want_shapes]:
        obs_dim, n_actions, hidden = args[0], args[1], args[2]
        sizes = [obs_dim, *((64,) if hidden is None else hidden), n_actions]
        layers = " -> ".join(map(str, sizes))
        return Outcome(False, f"expected parameters of shapes {[tuple(s) for s in want_shapes]} "
                              f"({want_count} numbers: Linear layers {layers}, each with its bias), got "
                              f"{[tuple(s) for s in shapes]} ({count} numbers)")
    return Outcome(True)


AFFINE_TOLERANCE = 1e-4  # float32 rounding of log-odds is ~1e-6 relative
NONLINEAR_MINIMUM = 1e-2  # a hidden layer of 16 units at random initialisation gives ~1e-1


def _architecture_judge(case, got, expected, args) -> Outcome:
    curvature, hidden = float(got.value), args[2]
    if hidden == () and curvature > AFFINE_TOLERANCE:
        return Outcome(False, f"with hidden_sizes=() the network should be a single Linear layer, so the "
                              f"log-odds between two actions are affine in the observation; they bend by "
                              f"{curvature:.2g}: is something applied to the logits (a tanh, a softmax)?")
    if hidden != () and curvature < NONLINEAR_MINIMUM:
        return Outcome(False, f"with hidden_sizes={hidden} the network is affine in the observation "
                              f"(curvature {curvature:.2g}): put a nonlinearity (tanh, ReLU...) between "
                              "consecutive Linear layers")
    return Outcome(True)


def policy_checks() -> list[Check]:
    rng = np.random.default_rng(5003)
    interface_cases = [
        _policy_case("policy_interface", 4, 2, None, _obs(rng, (3, 4)), extra="obs of shape (3, 4)"),
        _policy_case("policy_interface", 6, 3, (16,), _obs(rng, (5, 6)), extra="obs of shape (5, 6)"),
    ]
    shape_cases = [
        _policy_case("policy_batch_shapes", 4, 2, None,
                     [_obs(rng, s) for s in ((4,), (7, 4), (3, 5, 4), (1, 4))],
                     extra="obs of shapes (4,), (7, 4), (3, 5, 4) and (1, 4)"),
        _policy_case("policy_batch_shapes", 3, 5, (8, 8),
                     [_obs(rng, s) for s in ((3,), (2, 3), (1, 1, 3))],
                     extra="obs of shapes (3,), (2, 3) and (1, 1, 3)"),
    ]
    probability_cases = [
        _policy_case("policy_probabilities", 4, 2, (64,), _obs(rng, (6, 4)), extra="obs of shape (6, 4)"),
        _policy_case("policy_probabilities", 5, 3, (16, 16), _obs(rng, (8, 5)), extra="obs of shape (8, 5)"),
        _policy_case("policy_probabilities", 4, 2, (), _obs(rng, (5, 4)), extra="obs of shape (5, 4)"),
    ]
    depends_cases = [
        _policy_case("policy_probabilities", 4, 2, None, _obs(rng, (6, 4)), extra="six observations"),
        _policy_case("policy_probabilities", 4, 3, (), _obs(rng, (6, 4)), extra="six observations"),
    ]
    gradient_cases = [
        _policy_case("policy_gradient_flow", 4, 2, None, _obs(rng, (10, 4)),
                     Tensor(rng.integers(0, 2, 10), "int64"), extra="obs of shape (10, 4)"),
        _policy_case("policy_gradient_flow", 3, 4, (8, 8), _obs(rng, (12, 3)),
                     Tensor(rng.integers(0, 4, 12), "int64"), extra="obs of shape (12, 3)"),
        _policy_case("policy_gradient_flow", 4, 2, (), _obs(rng, (6, 4)),
                     Tensor(rng.integers(0, 2, 6), "int64"), extra="obs of shape (6, 4)"),
    ]
    parameter_cases = [_policy_case("policy_parameter_shapes", d, k, h) for d, k, h in
                       ((4, 2, None), (4, 2, ()), (4, 2, (32, 32)), (6, 3, (16, 8, 4)))]
    architecture_cases = [
        _policy_case("policy_log_odds_curvature", 4, 2, hidden, _obs(rng, (16, 4)), _obs(rng, (16, 4)),
                     extra="16 pairs of observations", seed=11 + i)
        for i, hidden in enumerate([(), (16,), (8, 8)])
    ]
    return [
        Check("a torch.nn.Module whose forward returns a Categorical", interface_cases, _interface_judge),
        Check("batch shape obs.shape[:-1], float32 probabilities", shape_cases, _shapes_judge),
        Check("probabilities: finite, normalised, row by row", probability_cases, _probabilities_judge),
        Check("the distribution depends on the observation", depends_cases, _depends_judge),
        Check("every parameter is trainable and gets a gradient from log_prob", gradient_cases,
              _gradient_judge),
        Check("hidden_sizes sets the layers (default (64,))", parameter_cases, _parameters_judge),
        Check("an MLP: affine without hidden layers, nonlinear with them", architecture_cases,
              _architecture_judge, points=2),
    ]


CHAPTER = Chapter(
    slug="05_reinforce",
    number=5,
    title="REINFORCE",
    solutions_module="solutions.ch05_reinforce",
    exercises=[
        Exercise("5.1", "trajectory_returns", returns_checks, RETURNS_HINTS, timeout=20),
        Exercise("5.2", "surrogate_loss", surrogate_checks, SURROGATE_HINTS, timeout=40),
        Exercise("5.3", "CategoricalPolicy", policy_checks, [], timeout=60),
    ],
)

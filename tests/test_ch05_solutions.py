"""The chapter 5 reference solutions against independent computations.

``trajectory_returns`` is checked against a brute-force double loop (every step sums its
episode's discounted rewards from scratch) and against closed forms (CartPole's constant
rewards: a geometric series); ``surrogate_loss`` against its gradient written out by hand,
-weights / T; ``CategoricalPolicy`` against the same network written with plain tensor
operations on its own parameters, against the parameter count of an MLP, and against the
REINFORCE estimator computed by hand for a linear softmax policy. The probes the grader runs
on the class are checked on the reference here. All inputs come from fixed seeds.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder import probes
from autograder.exercises import chapter
from solutions.ch05_reinforce import CategoricalPolicy, surrogate_loss, trajectory_returns

SEEDS = range(10)


def _random_batch(rng, n_episodes, max_length=12):
    lengths = rng.integers(1, max_length + 1, n_episodes)
    rewards = rng.normal(0.0, 2.0, lengths.sum())
    dones = np.zeros(lengths.sum(), dtype=bool)
    dones[np.cumsum(lengths) - 1] = True
    return rewards, dones, lengths


def _brute_force_returns(rewards, dones, gamma):
    out = []
    for t in range(len(rewards)):
        start = t
        while start > 0 and not dones[start - 1]:
            start -= 1
        end = t
        while not dones[end]:
            end += 1
        out.append(sum(gamma ** (k - start) * rewards[k] for k in range(start, end + 1)))
    return np.array(out)


# --- 5.1 trajectory_returns ---------------------------------------------------------------------

@pytest.mark.parametrize("gamma", [0.0, 0.5, 0.9, 0.99, 1.0])
@pytest.mark.parametrize("seed", SEEDS)
def test_trajectory_returns_match_a_brute_force_double_loop(seed, gamma):
    rng = np.random.default_rng(seed)
    rewards, dones, _ = _random_batch(rng, int(rng.integers(1, 8)))
    got = trajectory_returns(rewards, dones, gamma)
    assert isinstance(got, np.ndarray) and got.dtype == np.float64 and got.shape == rewards.shape
    np.testing.assert_allclose(got, _brute_force_returns(rewards, dones, gamma), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_trajectory_returns_are_constant_within_episodes_and_restart(seed):
    rng = np.random.default_rng(100 + seed)
    rewards, dones, lengths = _random_batch(rng, 6)
    got = trajectory_returns(rewards, dones, 0.9)
    pieces = np.split(got, np.cumsum(lengths)[:-1])
    for piece, reward_piece in zip(pieces, np.split(rewards, np.cumsum(lengths)[:-1])):
        assert np.all(piece == piece[0])
        assert piece[0] == pytest.approx(reward_piece @ 0.9 ** np.arange(reward_piece.size), rel=1e-12)


def test_trajectory_returns_of_cartpole_batches_are_geometric_series():
    lengths = np.array([500, 1, 37, 212])
    dones = np.zeros(lengths.sum(), dtype=bool)
    dones[np.cumsum(lengths) - 1] = True
    rewards = np.ones(lengths.sum())
    for gamma in (0.9, 0.99):
        expected = np.repeat((1 - gamma**lengths) / (1 - gamma), lengths)
        np.testing.assert_allclose(trajectory_returns(rewards, dones, gamma), expected, rtol=1e-12)
    np.testing.assert_array_equal(trajectory_returns(rewards, dones, 1.0), np.repeat(lengths, lengths))


def test_trajectory_returns_accept_array_likes_and_leave_inputs_alone():
    rewards, dones = [1, 2, 3, 4], [0, 1, 0, 1]
    np.testing.assert_allclose(trajectory_returns(rewards, dones, 0.5), [2.0, 2.0, 5.0, 5.0])
    array = np.array([1.0, 2.0, 3.0])
    flags = np.array([False, False, True])
    trajectory_returns(array, flags, 0.5)
    np.testing.assert_array_equal(array, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(flags, [False, False, True])


# --- 5.2 surrogate_loss -------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("seed", SEEDS)
def test_surrogate_loss_value_and_gradient_by_hand(seed, dtype):
    rng = np.random.default_rng(200 + seed)
    T = int(rng.integers(1, 50))
    log_probs = torch.tensor(np.log(rng.uniform(0.01, 1.0, T)), dtype=dtype, requires_grad=True)
    weights = torch.tensor(rng.normal(10, 20, T), dtype=dtype, requires_grad=True)
    loss = surrogate_loss(log_probs, weights)
    assert loss.dtype == dtype and loss.shape == ()
    expected = -np.mean(log_probs.detach().double().numpy() * weights.detach().double().numpy())
    tol = 1e-5 if dtype == torch.float32 else 1e-12
    assert float(loss.detach()) == pytest.approx(expected, rel=tol, abs=tol)
    loss.backward()
    np.testing.assert_allclose(log_probs.grad.double().numpy(), -weights.detach().double().numpy() / T,
                               rtol=tol, atol=tol)
    assert weights.grad is None  # the weights are constants: no gradient reaches them
    assert weights.requires_grad  # and the caller's tensor is left as it was


def test_surrogate_gradient_is_the_reinforce_estimator_of_a_linear_softmax_policy():
    """-(T / n) d loss / d theta = (1/n) sum_i G_i sum_t (e_a - softmax(W s + b)) (s, 1)."""
    rng = np.random.default_rng(7)
    lengths = np.array([5, 9, 3, 7])
    T, n = lengths.sum(), lengths.size
    obs = rng.normal(size=(T, 4))
    W, b = rng.normal(size=(2, 4)), rng.normal(size=2)
    actions = rng.integers(0, 2, T)
    rewards = rng.normal(1.0, 0.5, T)
    dones = np.zeros(T, dtype=bool)
    dones[np.cumsum(lengths) - 1] = True
    G = trajectory_returns(rewards, dones, 0.95)

    W_t = torch.tensor(W, requires_grad=True)
    b_t = torch.tensor(b, requires_grad=True)
    dist = torch.distributions.Categorical(logits=torch.tensor(obs) @ W_t.T + b_t)
    loss = surrogate_loss(dist.log_prob(torch.tensor(actions)), torch.tensor(G))
    grad_W, grad_b = torch.autograd.grad(loss, [W_t, b_t])

    logits = obs @ W.T + b
    p = np.exp(logits - logits.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    score_b = np.eye(2)[actions] - p
    score_W = score_b[:, :, None] * obs[:, None, :]
    episode = np.repeat(np.arange(n), lengths)
    g_W = sum(G[episode == i][0] * score_W[episode == i].sum(axis=0) for i in range(n)) / n
    g_b = sum(G[episode == i][0] * score_b[episode == i].sum(axis=0) for i in range(n)) / n
    np.testing.assert_allclose(-(T / n) * grad_W.numpy(), g_W, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(-(T / n) * grad_b.numpy(), g_b, rtol=1e-12, atol=1e-12)


# --- 5.3 CategoricalPolicy ----------------------------------------------------------------------

def _by_hand(policy, obs):
    """The documented architecture with plain tensor operations on the module's parameters."""
    linears = [m for m in policy.modules() if isinstance(m, torch.nn.Linear)]
    x = obs
    for i, layer in enumerate(linears):
        x = x @ layer.weight.T + layer.bias
        if i < len(linears) - 1:
            x = torch.tanh(x)
    return torch.softmax(x, dim=-1)


@pytest.mark.parametrize("hidden", [(), (64,), (32, 32), (16, 8, 4)])
@pytest.mark.parametrize("lead", [(), (5,), (3, 4)])
def test_categorical_policy_is_the_documented_mlp(hidden, lead):
    torch.manual_seed(0)
    policy = CategoricalPolicy(4, 3, hidden)
    obs = torch.randn(*lead, 4)
    dist = policy(obs)
    assert isinstance(policy, torch.nn.Module)
    assert isinstance(dist, torch.distributions.Categorical)
    assert dist.batch_shape == lead and dist.probs.shape == lead + (3,)
    assert dist.probs.dtype == torch.float32
    torch.testing.assert_close(dist.probs, _by_hand(policy, obs), rtol=1e-5, atol=1e-6)
    sizes = [4, *hidden, 3]
    assert sum(p.numel() for p in policy.parameters()) == sum(
        a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    assert len([m for m in policy.modules() if isinstance(m, torch.nn.Linear)]) == len(hidden) + 1


def test_categorical_policy_default_is_one_hidden_layer_of_64():
    policy = CategoricalPolicy(4, 2)
    assert sorted(tuple(p.shape) for p in policy.parameters()) == [(2,), (2, 64), (64,), (64, 4)]


def test_categorical_policy_gradients_reach_every_parameter():
    torch.manual_seed(1)
    policy = CategoricalPolicy(4, 2, (16, 16))
    obs = torch.randn(20, 4)
    dist = policy(obs)
    dist.log_prob(dist.sample()).sum().backward()
    for p in policy.parameters():
        assert p.requires_grad and p.grad is not None and torch.isfinite(p.grad).all()
        assert (p.grad != 0).any()


def test_categorical_policy_without_hidden_layers_is_linear_in_the_logits():
    torch.manual_seed(2)
    policy = CategoricalPolicy(4, 3, ())
    x, y = torch.randn(4, dtype=torch.float32), torch.randn(4, dtype=torch.float32)
    logits = lambda o: policy(o).logits - policy(o).logits[..., :1]  # noqa: E731
    torch.testing.assert_close(logits(0.3 * x + 0.7 * y), 0.3 * logits(x) + 0.7 * logits(y),
                               rtol=1e-5, atol=1e-5)


# --- the probes the grader runs on the class --------------------------------------------------

OBS = torch.tensor(np.random.default_rng(3).normal(0, 1.5, (6, 4)), dtype=torch.float32)


def test_probes_on_the_reference_report_a_correct_policy():
    interface = probes.get("policy_interface")(CategoricalPolicy, 4, 2, None, 0, OBS)
    assert interface == (True, "a torch.distributions.categorical.Categorical", True)
    shapes = probes.get("policy_batch_shapes")(CategoricalPolicy, 4, 2, (8,), 0, [OBS[0], OBS, OBS[None]])
    assert shapes == [((4,), (), (2,), "float32", ()), ((6, 4), (6,), (6, 2), "float32", (6,)),
                      ((1, 6, 4), (1, 6), (1, 6, 2), "float32", (1, 6))]
    batch, alone = probes.get("policy_probabilities")(CategoricalPolicy, 4, 2, (8,), 0, OBS)
    np.testing.assert_allclose(batch, alone, atol=1e-6)
    np.testing.assert_allclose(batch.sum(axis=1), 1.0, atol=1e-6)
    assert np.max(np.abs(batch - batch[0])) > 1e-2  # the observation matters, by a margin
    flow = probes.get("policy_gradient_flow")(CategoricalPolicy, 4, 2, (8, 8), 0, OBS,
                                              torch.tensor([0, 1, 1, 0, 1, 0]))
    assert flow == (6, 6, 6, 6, True)
    assert probes.get("policy_parameter_shapes")(CategoricalPolicy, 4, 2, (), 0) == ([(2,), (2, 4)], 10)


def test_the_curvature_probe_tells_affine_from_nonlinear_networks():
    """The log-odds of a policy without hidden layers are affine in the observation; with a
    hidden layer and any activation they are not, by a wide margin on both thresholds."""
    from autograder.exercises.ch05 import AFFINE_TOLERANCE, NONLINEAR_MINIMUM

    x, y = torch.randn(16, 4, generator=torch.Generator().manual_seed(1)), OBS.repeat(3, 1)[:16]
    curvature = probes.get("policy_log_odds_curvature")
    assert curvature(CategoricalPolicy, 4, 2, (), 11, x, y) < AFFINE_TOLERANCE / 10
    for hidden in ((16,), (8, 8)):
        assert curvature(CategoricalPolicy, 4, 2, hidden, 12, x, y) > NONLINEAR_MINIMUM * 3

    class ReluPolicy(torch.nn.Module):
        def __init__(self, obs_dim, n_actions, hidden_sizes=(64,)):
            super().__init__()
            sizes = [obs_dim, *hidden_sizes, n_actions]
            layers = []
            for a, b in zip(sizes, sizes[1:]):
                layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
            self.net = torch.nn.Sequential(*layers[:-1])

        def forward(self, obs):
            return torch.distributions.Categorical(logits=self.net(obs))

    assert curvature(ReluPolicy, 4, 2, (16,), 12, x, y) > NONLINEAR_MINIMUM * 3


def test_probes_leave_the_global_torch_random_state_alone():
    state = torch.get_rng_state()
    probes.get("policy_parameter_shapes")(CategoricalPolicy, 4, 2, None, 123)
    assert torch.equal(state, torch.get_rng_state())


def test_chapter_5_grader_declares_the_contract():
    ch = chapter("05_reinforce")
    assert ch.number == 5 and ch.title == "REINFORCE"
    assert [(e.number, e.name) for e in ch.exercises] == [
        ("5.1", "trajectory_returns"), ("5.2", "surrogate_loss"), ("5.3", "CategoricalPolicy")]
    for exercise in ch.exercises:
        first, second = exercise.build_checks(), exercise.build_checks()
        assert [c.name for c in first] and sum(c.points for c in first) > 0
        # fixed seeds: the same inputs every time the checks are built
        assert [[case.label for case in c.cases] for c in first] == \
            [[case.label for case in c.cases] for c in second]

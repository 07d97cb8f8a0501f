"""The plain-data boundary: what crosses, how it is rebuilt, and what is refused."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from autograder import fixtures, wire


def roundtrip_input(obj):
    encoder = wire.Encoder()
    spec = encoder.encode(obj)
    return wire.to_live(spec, encoder.arrays)


def roundtrip_output(obj):
    encoder = wire.Encoder()
    spec = encoder.encode(obj)
    return wire.decode_data(spec, encoder.arrays)


def test_plain_values_cross_unchanged():
    value = [1, 2.5, float("nan"), True, None, "text", (np.arange(3), np.float32(1.5))]
    back = roundtrip_input(value)
    assert back[:2] == [1, 2.5] and np.isnan(back[2]) and back[3:6] == [True, None, "text"]
    assert isinstance(back[6], tuple) and np.array_equal(back[6][0], np.arange(3))
    assert back[6][1] == np.float32(1.5) and back[6][1].dtype == np.float32


def test_tensor_marker_becomes_a_leaf_with_its_grad():
    t = roundtrip_input(wire.Tensor(np.ones(3), "float32", requires_grad=True, grad=np.full(3, 0.5)))
    assert type(t) is torch.Tensor and t.dtype == torch.float32 and t.requires_grad and t.is_leaf
    assert torch.equal(t.grad, torch.full((3,), 0.5))


def test_fixture_and_rng_markers():
    assert roundtrip_input(wire.Fixture("gaussian_mu_log_sigma")) is fixtures.gaussian_mu_log_sigma
    a, b = roundtrip_input(wire.Rng(5)), roundtrip_input(wire.Rng(5))
    assert isinstance(a, np.random.Generator) and a is not b
    assert np.array_equal(a.normal(size=4), b.normal(size=4)), "every call gets a fresh generator from the seed"


def test_outputs_become_plain_records():
    t = torch.tensor([1.0, 2.0], requires_grad=True)
    got = roundtrip_output((t * 2, t))
    assert isinstance(got[0], wire.TensorData) and got[0].has_grad_fn and got[0].requires_grad
    assert np.array_equal(got[0].array, [2.0, 4.0]) and got[0].dtype == "float32"
    assert roundtrip_output(np.array([object()], dtype=object)) == wire.Unsupported("numpy array of dtype object")
    assert roundtrip_output({"a": 1}) == wire.Unsupported("dict")
    assert roundtrip_output(np.arange(3).view(np.matrix)) == wire.Unsupported("numpy.matrix")


@pytest.mark.parametrize("tree", [{}, {"array": "missing"}, {"list": "not a list"}, {"what": 1}, [1], {"int": "9" * 500}])
def test_malformed_output_trees_are_refused(tree):
    with pytest.raises(ValueError):
        wire.decode_data(tree, {})

"""The plain-data boundary between the grader and the process that runs student code.

Values cross as a JSON tree whose leaves name arrays in a ``.npz`` file, written and read
with ``allow_pickle=False``: nothing that crosses can run code when it is loaded.

Two directions use the same tree format:

* inputs, grader -> worker: NumPy arrays, numbers, lists and three markers, :class:`Tensor`
  (becomes a ``torch.Tensor`` in the worker), :class:`Fixture` (a callable of
  :mod:`autograder.fixtures`, looked up by name) and :class:`Rng` (a fresh
  ``numpy.random.Generator`` from a seed);
* outputs, worker -> grader: whatever student code returned, turned into arrays, numbers and
  :class:`TensorData` records. Anything else arrives as :class:`Unsupported`, naming its type.

This module imports only NumPy at module level: the worker must start fast.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAX_ITEMS = 10_000  # elements of one returned list/tuple the worker will encode
MAX_DEPTH = 8  # nesting depth of returned containers


@dataclass(frozen=True)
class Tensor:
    """An input that the worker turns into ``torch.tensor(array, dtype=dtype)``."""

    array: np.ndarray
    dtype: str = "float64"
    requires_grad: bool = False
    grad: np.ndarray | None = None  # a .grad to preset, to check that code leaves it alone


@dataclass(frozen=True)
class Fixture:
    """An input that is a callable defined in :mod:`autograder.fixtures`."""

    name: str


@dataclass(frozen=True)
class Rng:
    """An input that is ``numpy.random.default_rng(seed)``, fresh for every call."""

    seed: int


@dataclass
class TensorData:
    """What a returned ``torch.Tensor`` looks like once it has crossed back."""

    array: np.ndarray
    dtype: str  # e.g. "float32", without the "torch." prefix
    requires_grad: bool
    has_grad_fn: bool
    grad: np.ndarray | None = None


@dataclass
class Unsupported:
    """A returned object that is not plain data: only its type name crosses back."""

    type_name: str


@dataclass
class Encoder:
    """Collects the arrays of one tree under generated keys."""

    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def _store(self, array: np.ndarray) -> str:
        key = f"a{len(self.arrays)}"
        self.arrays[key] = array
        return key

    def encode(self, obj: Any, depth: int = 0) -> dict:
        if depth > MAX_DEPTH:
            return {"unsupported": "container nested too deeply"}
        if obj is None:
            return {"none": True}
        if isinstance(obj, bool):
            return {"bool": bool(obj)}
        if isinstance(obj, int):
            return {"int": str(int(obj))}
        if isinstance(obj, float):
            return {"float": repr(float(obj))}
        if isinstance(obj, str):
            return {"str": obj[:200]}
        if isinstance(obj, Tensor):
            spec = {"tensor_in": self._store(np.asarray(obj.array)), "dtype": obj.dtype,
                    "requires_grad": obj.requires_grad}
            if obj.grad is not None:
                spec["grad"] = self._store(np.asarray(obj.grad))
            return spec
        if isinstance(obj, Fixture):
            return {"fixture": obj.name}
        if isinstance(obj, Rng):
            return {"rng": int(obj.seed)}
        if type(obj) is np.ndarray or isinstance(obj, np.generic):
            array = np.asarray(obj)
            if array.dtype.hasobject or array.dtype.kind not in "biufc":
                return {"unsupported": f"numpy array of dtype {array.dtype}"}
            tag = "array" if type(obj) is np.ndarray else "npscalar"
            return {tag: self._store(np.array(array, copy=True))}
        if isinstance(obj, (list, tuple)):
            if len(obj) > MAX_ITEMS:
                return {"unsupported": f"{type(obj).__name__} of {len(obj)} items"}
            tag = "list" if isinstance(obj, list) else "tuple"
            return {tag: [self.encode(v, depth + 1) for v in obj]}
        if _is_torch_tensor(obj):
            return self._encode_tensor(obj)
        return {"unsupported": _type_name(obj)}

    def _encode_tensor(self, t) -> dict:
        # type(t) must be exactly torch.Tensor or Parameter; .detach() etc. are torch's own.
        import torch

        base = torch.Tensor.detach(t)
        spec = {
            "tensor": self._store(base.cpu().numpy().copy()),
            "dtype": str(base.dtype).removeprefix("torch."),
            "requires_grad": bool(torch.Tensor.requires_grad.__get__(t)),
            "has_grad_fn": torch.Tensor.grad_fn.__get__(t) is not None,
        }
        grad = torch.Tensor.grad.__get__(t) if spec["requires_grad"] and t.is_leaf else None
        if grad is not None:
            spec["grad"] = self._store(grad.detach().cpu().numpy().copy())
        return spec


def _is_torch_tensor(obj) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and type(obj) in (torch.Tensor, torch.nn.Parameter)


def _type_name(obj) -> str:
    cls = type(obj)
    module = getattr(cls, "__module__", "") or ""
    name = getattr(cls, "__qualname__", "object")
    return f"{module}.{name}" if module and module != "builtins" else name


def decode_data(spec: dict, arrays) -> Any:
    """Decode an output tree in the grader: only arrays, numbers and records come out.

    Raises ValueError on a tree the worker could not have written honestly.
    """
    if not isinstance(spec, dict) or len(spec) == 0:
        raise ValueError("malformed output tree")
    if "none" in spec:
        return None
    if "bool" in spec:
        return bool(spec["bool"])
    if "int" in spec:
        text = str(spec["int"])
        if len(text) > 400:
            raise ValueError("integer too large")
        return int(text)
    if "float" in spec:
        return float(str(spec["float"]))
    if "str" in spec:
        return str(spec["str"])[:200]
    if "array" in spec:
        return _array(arrays, spec["array"])
    if "npscalar" in spec:
        return _array(arrays, spec["npscalar"])[()]
    if "list" in spec or "tuple" in spec:
        items = spec.get("list", spec.get("tuple"))
        if not isinstance(items, list):
            raise ValueError("malformed output tree")
        values = [decode_data(v, arrays) for v in items[:MAX_ITEMS]]
        return values if "list" in spec else tuple(values)
    if "tensor" in spec:
        grad = spec.get("grad")
        return TensorData(
            array=_array(arrays, spec["tensor"]),
            dtype=str(spec.get("dtype", "?")),
            requires_grad=bool(spec.get("requires_grad")),
            has_grad_fn=bool(spec.get("has_grad_fn")),
            grad=None if grad is None else _array(arrays, grad),
        )
    if "unsupported" in spec:
        return Unsupported(str(spec["unsupported"])[:200])
    raise ValueError("malformed output tree")


def _array(arrays, key) -> np.ndarray:
    if str(key) not in arrays:
        raise ValueError(f"output names a missing array {str(key)[:20]!r}")
    return np.asarray(arrays[str(key)])


def to_live(spec: dict, arrays) -> Any:
    """Decode an input tree into live objects (in the worker, and for reference calls)."""
    if "none" in spec:
        return None
    if "bool" in spec:
        return spec["bool"]
    if "int" in spec:
        return int(spec["int"])
    if "float" in spec:
        return float(spec["float"])
    if "str" in spec:
        return spec["str"]
    if "array" in spec:
        return np.array(arrays[spec["array"]], copy=True)
    if "npscalar" in spec:
        return np.array(arrays[spec["npscalar"]])[()]
    if "list" in spec:
        return [to_live(v, arrays) for v in spec["list"]]
    if "tuple" in spec:
        return tuple(to_live(v, arrays) for v in spec["tuple"])
    if "tensor_in" in spec:
        import torch

        tensor = torch.tensor(np.array(arrays[spec["tensor_in"]]), dtype=getattr(torch, spec["dtype"]))
        if spec.get("requires_grad"):
            tensor.requires_grad_(True)
            if "grad" in spec:
                tensor.grad = torch.tensor(np.array(arrays[spec["grad"]]), dtype=tensor.dtype)
        return tensor
    if "fixture" in spec:
        from autograder import fixtures

        return fixtures.get(spec["fixture"])
    if "rng" in spec:
        return np.random.default_rng(int(spec["rng"]))
    raise ValueError(f"cannot decode input {spec!r}")


def apply_op(op: str, fn, args, kwargs):
    """What a case does with the exercise ``fn`` (the student's, or the reference):

    * ``"call"``: ``fn(*args, **kwargs)``;
    * ``"backward"``: the call, then :func:`backward_of` (a torch gradient check);
    * ``"probe:NAME"``: ``probes.NAME(fn, *args, **kwargs)``, trusted code of
      :mod:`autograder.probes` that exercises an object (e.g. a class the student wrote)
      and returns plain data about it.
    """
    if op == "call":
        return fn(*args, **kwargs)
    if op == "backward":
        return backward_of(fn(*args, **kwargs), args)
    if op.startswith("probe:"):
        from autograder import probes

        return probes.get(op.removeprefix("probe:"))(fn, *args, **kwargs)
    raise ValueError(f"unknown operation {op!r}")


def backward_of(value, args):
    """For gradient checks: ``(value, [d sum(value) / d a for each tensor input a that requires grad])``.

    Used identically on the student's output (in the worker) and the reference (in the grader).
    """
    import torch

    if type(value) is not torch.Tensor:
        raise TypeError(f"expected a torch.Tensor to differentiate, got {type(value).__name__}")
    leaves = [a for a in args if type(a) is torch.Tensor and a.requires_grad]
    if value.requires_grad and leaves:
        grads = torch.autograd.grad(value.sum(), leaves, allow_unused=True)
    else:
        grads = [None] * len(leaves)
    return (value.detach(), [None if g is None else g.detach() for g in grads])

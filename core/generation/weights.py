"""GPT-2's projections as `nn.Linear`: transformers writes them as its own `Conv1D` (a linear layer with its weight
transposed), which no quantizer library recognises. Turned into `nn.Linear` once, the model's every projection is
quantized by torchao and by `torch_dynamic_int8` as any Linear is; the arithmetic is unchanged."""
from __future__ import annotations

from typing import Any


def as_linear(model: Any) -> int:
    """Replace every transformers `Conv1D` in `model` by the equal `nn.Linear`, in place; returns how many."""
    from torch import nn
    from transformers.pytorch_utils import Conv1D

    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, Conv1D):
                linear = nn.Linear(child.weight.shape[0], child.weight.shape[1], bias=child.bias is not None)
                linear.weight.data = child.weight.data.t().contiguous()
                if child.bias is not None:
                    linear.bias.data = child.bias.data
                setattr(parent, name, linear)
                swapped += 1
    return swapped

"""What the diagnostics measure: the memory a forward pass keeps for the backward pass."""
from __future__ import annotations

import pytest
import torch

from coursekit import diagnostics, models


def test_memory_saved_for_backward_grows_with_the_batch_and_shrinks_with_checkpointing():
    model = models.create("small_cnn", num_classes=8, width=8)
    small, large = (diagnostics.saved_for_backward_mb(model, torch.randn(n, 3, 32, 32)) for n in (4, 16))
    assert large == pytest.approx(4 * small, rel=0.05)
    model.set_grad_checkpointing()
    assert diagnostics.saved_for_backward_mb(model, torch.randn(16, 3, 32, 32)) < large / 3
    x = torch.randn(4, 3, 32, 32, requires_grad=True)
    model(x).sum().backward()  # and the gradients still flow through the recomputed segments
    assert x.grad is not None and model.features[0][0].weight.grad is not None

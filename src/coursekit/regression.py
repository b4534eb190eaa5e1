"""Predicting a quantity (an age) from an image: four heads on the same network, what each is trained
to minimise and how each turns its outputs into an age, the measures they are compared by, and a
ridge regression solved in closed form for frozen features.

- **L1** on the age: one output, the age itself; the loss is the absolute error.
- **L1 on log-age**: one output, the logarithm of the age; an error of two years counts more at
  four than at sixty, as a person's eye does.
- **Groups**: classification into age groups (cross-entropy); the predicted age is the median
  training age of the predicted group.
- **CORAL** (Cao, Mirjalili and Raschka 2020): ordinal regression as K - 1 binary questions, "is the
  age above k?", answered by one shared weight vector with K - 1 biases, so that the answers are
  consistent; the predicted age is the youngest age plus the number of "yes".
"""
from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

HEADS = ("l1", "log-l1", "groups", "coral")
# The eight age groups of the student project this chapter answers, by their youngest age.
GROUP_STARTS = (0, 3, 10, 20, 30, 40, 50, 60)
YOUNGEST, OLDEST = 1, 116  # the ages UTKFace's names can hold


def age_groups(ages: torch.Tensor, starts: Sequence[int] = GROUP_STARTS) -> torch.Tensor:
    """The group of each age: the index of the last start at or below it."""
    return torch.bucketize(ages, torch.tensor(starts, dtype=ages.dtype), right=True) - 1


def group_names(starts: Sequence[int] = GROUP_STARTS) -> list[str]:
    """ "0-2", "3-9", ..., "60+"."""
    return [f"{a}-{b - 1}" for a, b in zip(starts, starts[1:])] + [f"{starts[-1]}+"]


class CoralLayer(nn.Module):
    """CORAL's output layer: ``K - 1`` logits ``w . x + b_k`` sharing one weight vector ``w``."""

    def __init__(self, in_features: int, ranks: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(1, in_features))
        nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)
        self.bias = nn.Parameter(torch.arange(ranks - 1, 0, -1, dtype=torch.float32) / ranks)  # decreasing: consistent at once

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.weight.t() + self.bias


def outputs(head: str) -> int:
    """How many outputs the network's last layer needs for ``head`` (CORAL's is a :class:`CoralLayer`)."""
    return {"l1": 1, "log-l1": 1, "groups": len(GROUP_STARTS), "coral": OLDEST - YOUNGEST}[_known(head)]


def new_head(head: str, in_features: int) -> nn.Module:
    """The last layer for ``head`` on ``in_features`` features."""
    if _known(head) == "coral":
        return CoralLayer(in_features, OLDEST - YOUNGEST + 1)
    return nn.Linear(in_features, outputs(head))


def _known(head: str) -> str:
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; use one of {', '.join(HEADS)}")
    return head


class AgeLoss(nn.Module):
    """What ``head`` minimises, from the network's outputs and the true ages (integers)."""

    def __init__(self, head: str) -> None:
        super().__init__()
        self.head = _known(head)

    def forward(self, output: torch.Tensor, ages: torch.Tensor) -> torch.Tensor:
        ages = ages.float()
        if self.head == "l1":
            return F.l1_loss(output[:, 0], ages)
        if self.head == "log-l1":
            return F.l1_loss(output[:, 0], ages.log())
        if self.head == "groups":
            return F.cross_entropy(output, age_groups(ages.long()))
        levels = (ages[:, None] > torch.arange(YOUNGEST, OLDEST, device=ages.device)).float()  # "above k?"
        return F.binary_cross_entropy_with_logits(output, levels, reduction="none").sum(1).mean()


def predict_ages(head: str, output: torch.Tensor, group_ages: torch.Tensor | None = None) -> torch.Tensor:
    """The age each output says (float). ``group_ages`` (for ``groups``) is the age to say for each group:
    the median training age of its members (:func:`group_medians`)."""
    head = _known(head)
    if head == "l1":
        return output[:, 0]
    if head == "log-l1":
        return output[:, 0].exp()
    if head == "groups":
        if group_ages is None:
            raise ValueError("the groups head needs group_ages, the age to say for each group (group_medians)")
        return group_ages[output.argmax(1)]
    return YOUNGEST + (output > 0).sum(1).float()


def group_medians(ages: torch.Tensor, starts: Sequence[int] = GROUP_STARTS) -> torch.Tensor:
    """The median age of each group among ``ages`` (a training set's), as floats."""
    groups = age_groups(ages, starts)
    return torch.stack([ages[groups == g].float().median() if (groups == g).any() else torch.tensor(float(s))
                        for g, s in enumerate(starts)])


def age_metrics(predicted: torch.Tensor, ages: torch.Tensor, within: float = 5.0) -> dict[str, float]:
    """Mean absolute error in years, the share of faces within ``within`` years (CS(5)), and the share
    whose predicted age falls in the true age's group."""
    error = (predicted.float() - ages.float()).abs()
    same_group = age_groups(predicted.round().clamp(YOUNGEST, OLDEST).long()) == age_groups(ages.long())
    return dict(mae=float(error.mean()), cs5=float((error <= within).float().mean()),
                group_accuracy=float(same_group.float().mean()), images=len(ages))


def median_baseline(train_ages: torch.Tensor, test_ages: torch.Tensor) -> dict[str, float]:
    """The measures of a predictor that says the training set's median age for every face: the floor
    every network must beat."""
    return age_metrics(torch.full_like(test_ages, float(train_ages.float().median()), dtype=torch.float32), test_ages)


def ridge(x: torch.Tensor, y: torch.Tensor, penalty: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Ridge regression in closed form: the weights ``w`` and intercept ``b`` minimising
    ``||x w + b - y||^2 + penalty ||w||^2``, from centred features by ``torch.linalg.solve``
    on ``(x^T x + penalty I) w = x^T y`` (in float64)."""
    x, y = x.double(), y.double()
    mean_x, mean_y = x.mean(0), y.mean()
    xc = x - mean_x
    w = torch.linalg.solve(xc.T @ xc + penalty * torch.eye(x.shape[1], dtype=x.dtype), xc.T @ (y - mean_y))
    return w.float(), (mean_y - mean_x @ w).float()


def ridge_by_validation(train_x: torch.Tensor, train_y: torch.Tensor, val_x: torch.Tensor, val_y: torch.Tensor,
                        penalties: Sequence[float] = (0.1, 1.0, 10.0, 100.0, 1000.0)) -> dict:
    """The ridge regression whose penalty gives the lowest validation MAE, refitted on the training
    features: its weights, intercept, penalty and the validation MAE of every penalty."""
    maes = {}
    for penalty in penalties:
        w, b = ridge(train_x, train_y, penalty)
        maes[penalty] = float((val_x @ w + b - val_y.float()).abs().mean())
    best = min(penalties, key=lambda p: (maes[p], -p))
    w, b = ridge(train_x, train_y, best)
    return dict(weight=w, bias=b, penalty=best, validation_mae={str(k): v for k, v in maes.items()})

"""What the course measures of a network's outputs, counted by torchmetrics where it counts the same.

* :func:`classification_metrics`: accuracy, top-5 accuracy, macro-F1, cross-entropy loss and the
  confusion matrix of a whole evaluation, from one confusion matrix
  (``torchmetrics.functional.classification.multiclass_confusion_matrix``).
* :func:`mean_absolute_error`: the regression chapter's measure (years of age, say).
* :func:`correct` and :func:`absolute_error`: one training batch's sums, which a training loop
  accumulates and divides by the images seen.

Only torch and torchmetrics are imported here (torchmetrics on first use, as it takes seconds to
import), so that every other module of the package may use these.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def classification_metrics(logits: torch.Tensor, labels: torch.Tensor) -> dict:
    """Accuracy, top-5 accuracy, macro-F1, cross-entropy loss and the confusion matrix.

    ``confusion[i][j]`` counts images of true class ``i`` predicted as class ``j``. The rates are
    computed in float64 from the integer counts; macro-F1 averages the F1 of the classes present
    among the ``labels`` (a class absent from them has no recall to speak of).
    """
    from torchmetrics.functional.classification import multiclass_confusion_matrix

    num_classes = logits.shape[1]
    pred = logits.argmax(1)
    confusion = multiclass_confusion_matrix(pred, labels, num_classes)
    tp = confusion.diag().double()
    precision_den = confusion.sum(0).double()  # predicted as the class
    recall_den = confusion.sum(1).double()     # truly of the class
    f1 = torch.where(precision_den + recall_den > 0, 2 * tp / (precision_den + recall_den), torch.zeros_like(tp))
    # torchmetrics' top-k accuracy is float32; this is the float64 rate of the older results
    top5 = (logits.topk(min(5, num_classes), dim=1).indices == labels[:, None]).any(1).double().mean()
    return dict(
        accuracy=float((pred == labels).double().mean()),
        top5=float(top5),
        macro_f1=float(f1[recall_den > 0].mean()),
        loss=float(F.cross_entropy(logits, labels)),
        confusion=confusion.tolist(),
        images=len(labels),
    )


def _as_target(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """A network's (N, 1) output as the shape of its (N,) target."""
    return pred.squeeze(-1) if pred.ndim == target.ndim + 1 and pred.shape[-1] == 1 else pred


def mean_absolute_error(pred: torch.Tensor, target: torch.Tensor) -> float:
    """The mean of ``|pred - target|`` (an (N, 1) output against (N,) targets is taken as (N,))."""
    from torchmetrics.functional import mean_absolute_error as mae

    return float(mae(_as_target(pred, target), target))


def correct(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The number of images of a batch whose largest logit is their class (a tensor, on ``output``'s
    device, so that a training loop adds it up without waiting for the device). Soft labels (N, C),
    as mixup and CutMix make, count as the class of their largest share."""
    hard = y.argmax(1) if y.ndim == 2 else y
    return (output.argmax(1) == hard).sum()


def absolute_error(output: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """The summed ``|output - y|`` of a batch (a tensor, detached from the graph so that a training loop
    may add it up), in float32 even from a half-precision output."""
    return (_as_target(output.detach(), y).float() - y).abs().sum()

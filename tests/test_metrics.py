"""``coursekit.metrics``: the same numbers, bit for bit, as the hand-written formulas they replace."""
import pytest
import torch
import torch.nn.functional as F

from coursekit import metrics


def old_classification_metrics(logits: torch.Tensor, labels: torch.Tensor) -> dict:
    """``coursekit.train.classification_metrics`` as it was before torchmetrics counted the confusion matrix."""
    num_classes = logits.shape[1]
    pred = logits.argmax(1)
    confusion = torch.bincount(labels * num_classes + pred, minlength=num_classes ** 2)
    confusion = confusion.view(num_classes, num_classes)
    tp = confusion.diag().double()
    precision_den = confusion.sum(0).double()  # predicted as the class
    recall_den = confusion.sum(1).double()     # truly of the class
    f1 = torch.where(precision_den + recall_den > 0, 2 * tp / (precision_den + recall_den), torch.zeros_like(tp))
    k = min(5, num_classes)
    top5 = (logits.topk(k, dim=1).indices == labels[:, None]).any(1).double().mean()
    return dict(
        accuracy=float((pred == labels).double().mean()),
        top5=float(top5),
        macro_f1=float(f1[recall_den > 0].mean()),
        loss=float(F.cross_entropy(logits, labels)),
        confusion=confusion.tolist(),
        images=len(labels),
    )


@pytest.mark.parametrize("n, classes, seed", [(1, 2, 0), (7, 3, 1), (100, 10, 2), (1000, 10, 3), (999, 37, 4),
                                              (2048, 100, 5), (313, 4, 6)])
def test_classification_metrics_equal_the_old_formulas_bit_for_bit(n, classes, seed):
    g = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, classes, generator=g) * 3
    labels = torch.randint(0, classes, (n,), generator=g)
    logits[: n // 2, :] += 4 * F.one_hot(labels[: n // 2], classes)  # some right, some wrong
    new, old = metrics.classification_metrics(logits, labels), old_classification_metrics(logits, labels)
    assert new.keys() == old.keys()
    for key in old:  # == on floats: the same bits (none of them is NaN here)
        assert new[key] == old[key] and type(new[key]) is type(old[key]), key


def test_ties_and_float16_logits_give_the_old_values():
    g = torch.Generator().manual_seed(0)
    logits = torch.randint(0, 3, (500, 10), generator=g).float()  # many ties: argmax and topk break them alike
    labels = torch.randint(0, 10, (500,), generator=g)
    assert metrics.classification_metrics(logits, labels) == old_classification_metrics(logits, labels)
    half = torch.randn(500, 10, generator=g).half()
    assert metrics.classification_metrics(half, labels) == old_classification_metrics(half, labels)


def test_macro_f1_averages_only_the_classes_present():
    # 3 images of classes 0 and 1, 4 classes: class 2 is predicted once but absent, class 3 never appears
    logits = torch.tensor([[5.0, 0, 0, 0], [0, 5, 0, 0], [0, 0, 5, 0]])
    labels = torch.tensor([0, 1, 1])
    m = metrics.classification_metrics(logits, labels)
    assert m["confusion"] == [[1, 0, 0, 0], [0, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0]]
    # F1 of class 0: 1; class 1: 2*1 / (1 + 2) = 2/3; classes 2 and 3 have no image and do not count
    assert m["macro_f1"] == pytest.approx((1 + 2 / 3) / 2)
    assert m["macro_f1"] == old_classification_metrics(logits, labels)["macro_f1"]
    assert m["accuracy"] == pytest.approx(2 / 3) and m["images"] == 3


def test_mean_absolute_error_by_hand():
    pred = torch.tensor([21.0, 35.5, 60.0, 18.0])
    target = torch.tensor([25.0, 35.0, 50.0, 18.0])
    assert metrics.mean_absolute_error(pred, target) == pytest.approx((4 + 0.5 + 10 + 0) / 4)
    # a network's (N, 1) output against (N,) targets, and integer ages
    assert metrics.mean_absolute_error(pred[:, None], target.long()) == pytest.approx(14.5 / 4)
    assert isinstance(metrics.mean_absolute_error(pred, target), float)


def test_absolute_error_is_the_batch_sum():
    pred = torch.tensor([[21.0], [35.5], [60.0], [18.0]], requires_grad=True)
    target = torch.tensor([25.0, 35.0, 50.0, 18.0])
    total = metrics.absolute_error(pred, target)
    assert float(total) == pytest.approx(14.5) and not total.requires_grad  # a loop adds it up: no graph kept
    assert float(metrics.absolute_error(pred.detach().half(), target)) == pytest.approx(14.5)
    assert total.dtype == torch.float32
    # summed over batches and divided by the images seen, it is the MAE
    assert float(total) / len(target) == pytest.approx(metrics.mean_absolute_error(pred.detach(), target))


def test_correct_on_hard_and_soft_labels():
    output = torch.tensor([[2.0, 1, 0], [0, 3, 1], [0, 1, 4], [5, 0, 0]])
    hard = torch.tensor([0, 1, 0, 2])
    assert metrics.correct(output, hard).item() == 2 and metrics.correct(output, hard).ndim == 0
    # soft labels (mixup, CutMix): an image counts as the class of its largest share
    soft = torch.tensor([[0.7, 0.3, 0.0], [0.4, 0.6, 0.0], [0.5, 0.0, 0.5], [0.0, 0.1, 0.9]])
    # largest shares: 0, 1, 0 (a tie goes to the first, as argmax breaks it), 2
    assert metrics.correct(output, soft).item() == 2
    assert metrics.correct(output, F.one_hot(hard, 3).float()).item() == metrics.correct(output, hard).item()

"""Predicting ages: the four heads' losses and decodings, the measures, the median baseline, ridge in
closed form, and a regression trained by the same loop as every classifier."""
from __future__ import annotations

import pytest
import torch

from coursekit import data, models, regression, train
from coursekit.runs import RunState


def test_age_groups_and_their_names():
    ages = torch.tensor([0, 2, 3, 9, 10, 19, 59, 60, 116])
    assert regression.age_groups(ages).tolist() == [0, 0, 1, 1, 2, 2, 6, 7, 7]
    assert regression.group_names() == ["0-2", "3-9", "10-19", "20-29", "30-39", "40-49", "50-59", "60+"]


@pytest.mark.parametrize("head", regression.HEADS)
def test_each_head_says_the_age_it_was_trained_towards(head):
    ages = torch.tensor([1, 4, 25, 33, 61, 116])
    layer = regression.new_head(head, 8)
    assert layer(torch.zeros(2, 8)).shape == (2, regression.outputs(head))
    if head == "l1":
        perfect = ages.float()[:, None]
    elif head == "log-l1":
        perfect = ages.float().log()[:, None]
    elif head == "groups":
        perfect = 20 * torch.nn.functional.one_hot(regression.age_groups(ages), 8).float()
    else:  # CORAL: a large positive logit for every "older than k" that holds, a large negative one otherwise
        perfect = 20 * ((ages[:, None] > torch.arange(1, 116)).float() * 2 - 1)
    loss = regression.AgeLoss(head)(perfect, ages)
    assert float(loss) < 1e-4
    medians = regression.group_medians(ages)
    said = regression.predict_ages(head, perfect, medians)
    if head == "groups":  # the median of the training ages in the predicted group
        assert said.tolist() == medians[regression.age_groups(ages)].tolist()
    else:
        assert said.tolist() == pytest.approx(ages.float().tolist(), rel=1e-5)
    assert float(regression.AgeLoss(head)(perfect.flip(0), ages)) > 0.5  # wrong answers cost


def test_the_groups_head_needs_the_ages_to_say():
    with pytest.raises(ValueError, match="group_medians"):
        regression.predict_ages("groups", torch.zeros(2, 8))
    with pytest.raises(ValueError, match="unknown head 'l2'"):
        regression.AgeLoss("l2")


def test_measures_and_the_median_baseline():
    found = regression.age_metrics(torch.tensor([20.0, 31.0, 48.0, 5.0]), torch.tensor([22, 25, 40, 5]))
    assert found["mae"] == pytest.approx((2 + 6 + 8 + 0) / 4) and found["cs5"] == 0.5
    assert found["group_accuracy"] == 0.75  # 20 and 22 share a group, 48 and 40, 5 and 5; 31 and 25 do not
    base = regression.median_baseline(torch.tensor([10, 30, 50]), torch.tensor([30, 40]))
    assert base["mae"] == 5.0 and base["cs5"] == 0.5


def test_ridge_recovers_a_linear_rule_and_validation_chooses_the_penalty():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(200, 5, generator=g)
    y = x @ torch.tensor([3.0, -2.0, 0.0, 1.0, 0.5]) + 40
    w, b = regression.ridge(x, y, penalty=1e-6)
    assert w.tolist() == pytest.approx([3.0, -2.0, 0.0, 1.0, 0.5], abs=1e-3) and float(b) == pytest.approx(40, abs=1e-3)
    clean = regression.ridge_by_validation(x[:150], y[:150], x[150:], y[150:], penalties=(0.1, 1e4))
    assert clean["penalty"] == 0.1 and clean["validation_mae"]["10000.0"] > clean["validation_mae"]["0.1"]
    noise = torch.randn(200, 50, generator=g)  # features that say nothing about the target
    target = 40 + 10 * torch.randn(200, generator=g)
    noisy = regression.ridge_by_validation(noise[:60], target[:60], noise[60:], target[60:], penalties=(1e-3, 1e4))
    assert noisy["penalty"] == 1e4  # shrinking the useless weights predicts better


def test_a_regression_trains_through_the_same_loop():
    """Brightness tells the age: L1 regression learns it through train.fit like any classifier."""
    g = torch.Generator().manual_seed(0)
    ages = torch.randint(10, 70, (96,), generator=g)
    images = (ages[:, None, None, None] * 3).expand(-1, 3, 8, 8).to(torch.uint8).contiguous()
    faces = data.ImageTensors(images, ages, tuple(str(a) for a in range(117)))
    model = models.create("small_cnn", num_classes=1, width=4)
    loader = data.DeviceLoader(faces, 16, train=True, seed=0)
    train.seed_everything(0)
    optimizer = train.make_optimizer(model, "adamw", 0.02, 0.0)
    schedule = train.make_schedule(optimizer, "onecycle", 30 * len(loader))
    before = regression.age_metrics(torch.full((96,), 40.0), ages)["mae"]
    train.fit(model, loader, optimizer, schedule, regression.AgeLoss("l1"), RunState(progress=False, verbose=False),
              epochs=30, runtime=train.Runtime.resolve("cpu"))
    logits, labels = train.predict(model, data.DeviceLoader(faces, 96, train=False), device="cpu")
    after = regression.age_metrics(regression.predict_ages("l1", logits), labels)["mae"]
    assert after < before / 2

import re
import time

import pytest
import torch
from torch import nn

from coursekit import data, diagnostics, metrics, models, profiles, train
from coursekit.runs import OutOfTime, RunState


def blobs(n_per_class=32, classes=3, size=8, seed=0) -> data.ImageTensors:
    """Images whose mean colour tells the class: a problem a tiny CNN learns in a few steps."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(classes).repeat_interleave(n_per_class)
    images = torch.randint(0, 100, (len(labels), 3, size, size), generator=g)
    images[torch.arange(len(labels)), labels % 3] += 150
    return data.ImageTensors(images.to(torch.uint8), labels, tuple(f"c{i}" for i in range(classes)))


def loaders(ds, batch_size=16):
    return (data.DeviceLoader(ds, batch_size, train=True, crop_padding=1, seed=0),
            data.DeviceLoader(ds, 48, train=False))


CPU = train.Runtime.resolve("cpu")


def fit(model, loader, epochs, *, state=None, optimizer="sgd", schedule="onecycle", lr=0.05, loss=None, seed=0,
        **kwargs):
    """``train.fit`` with an optimiser and a schedule built as the chapters' runners build them."""
    train.seed_everything(seed)
    opt = train.make_optimizer(model, optimizer, lr, 5e-4)
    sched = train.make_schedule(opt, schedule, epochs * len(loader))
    state = state or RunState(progress=False, verbose=False)
    return train.fit(model, loader, opt, sched, loss or train.CrossEntropy(), state, epochs=epochs, runtime=CPU,
                     **kwargs)


def test_fit_lowers_the_loss_and_learns():
    ds = blobs()
    model = models.create("small_cnn", num_classes=3, width=4)
    train_loader, test_loader = loaders(ds)
    before = train.evaluate(model, test_loader, device="cpu")
    result = fit(model, train_loader, 4, evaluate=train.evaluator(test_loader, CPU),
                 metrics={"train_accuracy": metrics.correct})
    after = train.evaluate(model, test_loader, device="cpu")
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert after["loss"] < before["loss"] and after["accuracy"] > 0.9
    assert [row["epoch"] for row in result.history] == [1, 2, 3, 4]
    assert {"lr", "seconds", "images_per_second", "test_accuracy", "test_loss", "train_accuracy"} <= set(result.history[0])
    assert result.history[-1]["test_accuracy"] == pytest.approx(after["accuracy"])  # the last evaluation is the model's
    assert result.images_seen == 4 * len(train_loader) * 16 and result.images_per_second > 0
    assert result.precision == "float32" and result.peak_memory_mb > 0


def test_evaluation_every_few_epochs_and_after_the_last():
    train_loader, test_loader = loaders(blobs())
    result = fit(models.create("small_cnn", num_classes=3, width=4), train_loader, 5, evaluate_every=2,
                 evaluate=train.evaluator(test_loader, CPU))
    assert [row["epoch"] for row in result.history if "test_accuracy" in row] == [2, 4, 5]
    assert all("train_loss" in row for row in result.history)
    with pytest.raises(ValueError, match="evaluate_every must be at least 1"):
        fit(models.create("small_cnn", num_classes=3, width=4), train_loader, 1, evaluate_every=0)


@pytest.mark.parametrize("optimizer,schedule", [("adamw", "cosine"), ("sgd", "constant")])
def test_other_optimizers_and_schedules(optimizer, schedule):
    ds = blobs()
    model = models.create("small_cnn", num_classes=3, width=4)
    result = fit(model, loaders(ds)[0], 2, optimizer=optimizer, schedule=schedule,
                 lr=1e-2 if optimizer == "adamw" else 0.02, loss=train.CrossEntropy(label_smoothing=0.1))
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]


def test_parameter_groups_are_the_callers_a_lower_rate_for_the_body():
    """The caller builds the optimiser: fit trains each group at its own rate (the schedule scales both)."""
    model = models.create("small_cnn", num_classes=3, width=4)
    loader = loaders(blobs())[0]
    opt = train.make_optimizer(model, "sgd", 0.01, 5e-4, lr_multipliers={"fc": 10})
    sched = train.make_schedule(opt, "constant", 2 * len(loader))
    body = [p.detach().clone() for n, p in model.named_parameters() if not n.startswith("fc")]
    train.fit(model, loader, opt, sched, train.CrossEntropy(), RunState(progress=False, verbose=False), epochs=2,
              runtime=CPU)
    assert sorted({g["lr"] for g in opt.param_groups}) == pytest.approx([0.01, 0.1])
    assert any(not torch.equal(a, b) for a, b in zip(body, (p for n, p in model.named_parameters() if not n.startswith("fc"))))


def test_soft_labels_mixup_train_and_count_their_largest_share():
    """Soft labels (a row of shares per image, as mixup makes) go through the same loss and metric."""
    ds = blobs()
    hard = loaders(ds)[0]

    class Soft:
        def __len__(self):
            return len(hard)

        def __iter__(self):
            for x, y in hard:
                yield x, 0.9 * nn.functional.one_hot(y, 3).float() + 0.1 / 3

    model = models.create("small_cnn", num_classes=3, width=4)
    result = fit(model, Soft(), 4, metrics={"train_accuracy": metrics.correct})
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    assert result.history[-1]["train_accuracy"] > 0.8


def test_a_regression_loss_lowers_its_mae():
    """Any loss and metric: L1 on a quantity (the brightness of an image), the MAE per epoch."""
    g = torch.Generator().manual_seed(0)
    x = torch.rand(256, 3, 8, 8, generator=g)
    target = 10 * x.mean((1, 2, 3))
    loader = [(x[i:i + 32], target[i:i + 32]) for i in range(0, 256, 32)]
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(192, 16), nn.ReLU(), nn.Linear(16, 1), nn.Flatten(0))
    result = fit(model, loader, 20, optimizer="adamw", lr=1e-2, loss=nn.L1Loss(),
                 metrics={"train_mae": metrics.absolute_error})
    assert result.history[-1]["train_mae"] < 0.3 * result.history[0]["train_mae"]
    assert result.history[-1]["train_mae"] == pytest.approx(result.history[-1]["train_loss"], rel=1e-4)  # L1 is the MAE


def test_bad_arguments_are_clear_errors():
    model = models.create("small_cnn", num_classes=3, width=4)
    loader = loaders(blobs())[0]
    with pytest.raises(ValueError, match="unknown optimizer 'adam'"):
        train.make_optimizer(model, "adam", 0.1, 0.0)
    with pytest.raises(ValueError, match="unknown schedule"):
        train.make_schedule(train.make_optimizer(model, "sgd", 0.1, 0.0), "step", 10)
    opt = train.make_optimizer(model, "sgd", 0.1, 0.0)
    with pytest.raises(ValueError, match="epochs must be at least 1"):
        train.fit(model, loader, opt, train.make_schedule(opt, "constant", 1), train.CrossEntropy(), RunState(), epochs=0)


def test_seeded_cpu_runs_repeat_exactly():
    ds = blobs()
    weights = []
    for _ in range(2):
        train.seed_everything(5)  # the initial weights too
        model = models.create("small_cnn", num_classes=3, width=4)
        fit(model, loaders(ds)[0], 2, seed=5)
        weights.append(model.fc.weight.detach().clone())
    assert torch.equal(weights[0], weights[1])


def state_after(epochs, checkpoint=None, interrupt_at=None, seed=0, identity=None):
    """Train a fresh model; optionally press Ctrl-C when (epoch, batch) ``interrupt_at`` is due."""
    torch.manual_seed(123)
    model = models.create("small_cnn", num_classes=3, width=4)
    loader = loaders(blobs())[0]
    if interrupt_at is not None:
        loader = train.InterruptAt(loader, *interrupt_at)
    state = RunState(checkpoint=checkpoint, identity=identity, progress=False, verbose=False)
    result = fit(model, loader, epochs, state=state, seed=seed)
    return model, result


def test_resume_after_an_epoch_gives_the_same_state(tmp_path):
    straight, straight_result = state_after(3)
    ckpt = tmp_path / "run.pt"
    state_after(1, checkpoint=ckpt)  # a first call that trains only one of the epochs...
    state = torch.load(ckpt, weights_only=False)
    assert state["epoch"] == 1 and state["step"] == 0
    # ...cannot be continued to 3 epochs: the schedule was built for 1. Resume a 3-epoch run instead:
    ckpt.unlink()
    with pytest.raises(KeyboardInterrupt):
        state_after(3, checkpoint=ckpt, interrupt_at=(1, 0))  # Ctrl-C at epoch 2's start
    resumed, resumed_result = state_after(3, checkpoint=ckpt)
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)
    assert [r["train_loss"] for r in resumed_result.history] == pytest.approx(
        [r["train_loss"] for r in straight_result.history])


def test_ctrl_c_mid_epoch_saves_and_resumes_at_the_same_batch(tmp_path):
    straight, _ = state_after(2)
    ckpt = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        state_after(2, checkpoint=ckpt, interrupt_at=(1, 2))  # 3rd batch of epoch 2
    saved = torch.load(ckpt, weights_only=False)
    assert (saved["epoch"], saved["step"]) == (1, 2)
    resumed, result = state_after(2, checkpoint=ckpt)
    assert len(result.history) == 2
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


@pytest.mark.parametrize("keep", [0.0, 0.5])  # a zero-byte checkpoint, and one cut short (a full disk, a copy)
def test_a_broken_checkpoint_is_an_error_that_names_its_path_and_the_fix(tmp_path, keep):
    ckpt = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        state_after(2, checkpoint=ckpt, interrupt_at=(1, 0))
    content = ckpt.read_bytes()
    ckpt.write_bytes(content[: int(len(content) * keep)])
    with pytest.raises(RuntimeError, match=re.escape(str(ckpt)) + r".*[Dd]elete it.*--force"):
        state_after(2, checkpoint=ckpt)


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    ckpt = tmp_path / "run.pt"
    with pytest.raises(KeyboardInterrupt):
        state_after(2, checkpoint=ckpt, interrupt_at=(1, 0), identity="run A")
    assert torch.load(ckpt, weights_only=False)["identity"] == "run A"
    with pytest.raises(RuntimeError, match=re.escape(str(ckpt)) + ".*run A, not to run B.*[Dd]elete it"):
        state_after(2, checkpoint=ckpt, identity="run B")
    straight, _ = state_after(2)
    resumed, result = state_after(2, checkpoint=ckpt, identity="run A")
    assert len(result.history) == 2
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


class FakeClock:
    """time.monotonic and time.perf_counter that advance ``step`` seconds at every reading."""

    def __init__(self, step: float) -> None:
        self.now, self.step = 0.0, step

    def __call__(self) -> float:
        self.now += self.step
        return self.now


def test_under_a_deadline_fit_stops_after_the_epoch_that_shows_the_rest_would_overrun(tmp_path, monkeypatch):
    clock = FakeClock(step=1.0)  # every reading one second later: an epoch measures a few seconds
    monkeypatch.setattr(time, "monotonic", clock)
    monkeypatch.setattr(time, "perf_counter", clock)
    ckpt = tmp_path / "run.pt"
    state = RunState(checkpoint=ckpt, progress=False, verbose=False).with_time_limit(12.0)
    with pytest.raises(OutOfTime, match="needs about"):
        state_after_with(state, epochs=10)
    saved = torch.load(ckpt, weights_only=False)
    assert 1 <= saved["epoch"] < 10 and saved["step"] == 0  # stopped at an epoch's end, its state kept
    monkeypatch.setattr(time, "monotonic", lambda: 0.0)
    assert RunState(deadline=5.0).time_left() == 5.0 and RunState().time_left() is None


def state_after_with(state, epochs):
    torch.manual_seed(123)
    model = models.create("small_cnn", num_classes=3, width=4)
    return fit(model, loaders(blobs())[0], epochs, state=state)


def test_classification_metrics_by_hand():
    # 4 images, 3 classes; predictions: 0->0, 0->1, 1->1, 2->1
    logits = torch.tensor([[5.0, 1, 0], [1, 5, 0], [0, 5, 1], [0, 5, 4]])
    labels = torch.tensor([0, 0, 1, 2])
    m = metrics.classification_metrics(logits, labels)
    assert m["accuracy"] == pytest.approx(0.5)
    assert m["confusion"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    # F1: class 0: 2*1/(1+2)=2/3; class 1: 2*1/(3+1)=1/2; class 2: 0 -> mean 7/18
    assert m["macro_f1"] == pytest.approx(7 / 18)
    assert m["top5"] == 1.0  # 3 classes: top-k is capped at 3
    assert m["loss"] == pytest.approx(float(nn.functional.cross_entropy(logits, labels)))


def test_evaluate_restores_training_mode():
    model = models.create("small_cnn", num_classes=3, width=4).train()
    train.evaluate(model, loaders(blobs())[1], device="cpu")
    assert model.training


def test_progress_setting(monkeypatch):
    monkeypatch.setenv("COURSEKIT_PROGRESS", "1")
    assert profiles.show_progress()
    monkeypatch.setenv("COURSEKIT_PROGRESS", "0")
    assert not profiles.show_progress()
    monkeypatch.delenv("COURSEKIT_PROGRESS")
    monkeypatch.setenv("CI", "true")
    assert not profiles.show_progress()


def test_lr_find_suggests_a_rate_before_the_divergence_and_restores_the_model():
    torch.manual_seed(0)
    x = torch.randn(256, 2)
    y = (x[:, 0] > 0).long()
    loader = [(x[i:i + 32].view(32, 2, 1, 1), y[i:i + 32]) for i in range(0, 256, 32)]
    model = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(2, 2))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    found = diagnostics.lr_find(model, loader, start_lr=1e-4, end_lr=1e4, steps=80, device="cpu", weight_decay=0.0)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert len(found["lrs"]) < 80  # a learning rate of 1e4 diverges: the test stopped before it
    assert 1e-3 < found["suggestion"] < found["lrs"][-1]
    assert found["smoothed"][-1] > 4 * min(found["smoothed"])  # it stopped because the smoothed loss diverged
    assert len(found["losses"]) == len(found["smoothed"]) == len(found["lrs"])
    assert found["lrs"][0] == 1e-4 and found["lrs"][1] / found["lrs"][0] == pytest.approx(1e8 ** (1 / 79))  # geometric


def test_measure_training_step_reports_throughput_and_memory():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                torch.nn.Linear(4, 10))
    before = [p.clone() for p in model.parameters()]
    found = diagnostics.measure_training_step(model, 4, 16, amp=True, steps=2, warmup=1, num_classes=10, device="cpu")
    assert found["images_per_second"] > 0 and found["peak_memory_mb"] > 0 and found["precision"] == "float32"
    assert any(not torch.equal(a, b) for a, b in zip(before, model.parameters()))  # it really trained


def test_a_range_test_is_read_below_the_minimum_of_the_smoothed_loss():
    """A spike after the minimum and the recovery from it are steeper than the descent; they must not count."""
    from coursekit import diagnostics

    lrs = [10 ** (-4 + i / 4) for i in range(17)]  # 1e-4 ... 1e0
    smoothed = [2.3, 2.3, 2.29, 2.2, 2.0, 1.8, 1.7, 1.65, 1.6, 1.7, 4.0, 1.0, 0.9, 3.0, 5.0, 6.0, 7.0]
    smoothed[11:13] = [4.5, 4.0]  # recovery from the spike: a steep fall, after the minimum
    found = diagnostics.read_range_test(lrs, smoothed)
    assert found["minimum"] == lrs[8]
    assert found["suggestion"] == lrs[4]  # central slope (1.8 - 2.2) / 0.5 is the steepest before step 8
    with pytest.raises(ValueError, match="lower rate"):
        diagnostics.read_range_test(lrs[:5], [1.0, 2.0, 3.0, 4.0, 5.0])


def test_a_range_test_reads_the_descent_not_the_noise_at_its_start():
    """Early wiggles between neighbouring points are steeper than the real descent; over half a decade they are not."""
    import math

    from coursekit import diagnostics

    lrs = [1e-6 * 1e7 ** (i / 99) for i in range(100)]
    smoothed = [2.6 - 0.6 / (1 + math.exp(-4 * (math.log10(lr) + 2))) for lr in lrs]  # descent centred at 1e-2
    smoothed[:12] = [2.66, 2.60, 2.58, 2.62, 2.55, 2.64, 2.60, 2.57, 2.63, 2.59, 2.61, 2.60]  # noise
    smoothed[80:] = [2.01 + 0.05 * k for k in range(20)]  # the loss grows again after its minimum
    found = diagnostics.read_range_test(lrs, smoothed)
    assert found["minimum"] == lrs[79]
    assert 3e-3 < found["suggestion"] < 3e-2


def test_layer_decay_lowers_the_rate_layer_by_layer_below_the_head():
    model = models.timm_module().create_model("vit_tiny_patch16_224", pretrained=False, num_classes=3, img_size=32,
                                              patch_size=8, depth=3)
    opt = train.make_optimizer(model, "adamw", 1e-3, 0.05, layer_decay=0.5)
    rate = {id(p): g["lr"] for g in opt.param_groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert rate[id(named["head.weight"])] == pytest.approx(1e-3)
    assert rate[id(named["blocks.2.attn.qkv.weight"])] == pytest.approx(5e-4)  # one layer below the head
    assert rate[id(named["blocks.0.attn.qkv.weight"])] == pytest.approx(1.25e-4)
    assert rate[id(named["patch_embed.proj.weight"])] == pytest.approx(6.25e-5)  # the embedding: the lowest
    decayed = {id(p): g["weight_decay"] for g in opt.param_groups for p in g["params"]}
    assert decayed[id(named["pos_embed"])] == 0 and decayed[id(named["blocks.0.attn.qkv.weight"])] == 0.05
    with pytest.raises(ValueError, match="not both"):
        train.make_optimizer(model, "adamw", 1e-3, 0.05, lr_multipliers={"head": 10}, layer_decay=0.5)

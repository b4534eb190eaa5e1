"""The fast CIFAR-10 recipe: each piece does what its docstring says, and the whole learns."""
import pytest
import torch

from coursekit import data, fast, models, profiles, train
from coursekit.models.fastcifar import FastCifarNet, whiten_from
from coursekit.runs import RunState

CPU = train.Runtime.resolve("cpu", amp=False)
QUIET = RunState(progress=False, verbose=False)


def easy_set(per_class: int = 40, classes: int = 4, seed: int = 0) -> data.ImageTensors:
    """Random images whose class shows in their mean colour: learnable in a few steps."""
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(classes).repeat_interleave(per_class)
    images = torch.randint(0, 120, (len(labels), 3, 32, 32), generator=g, dtype=torch.uint8)
    images[:, 0] += (40 * labels).to(torch.uint8)[:, None, None]
    return data.ImageTensors(images, labels, tuple(f"c{i}" for i in range(classes)), dict(kind="test", images=len(labels)))


def test_the_network_has_the_seam_and_airbenchs_shape():
    model = models.create("fast_cifar")
    x = torch.randn(2, 3, 32, 32)
    assert model.forward_features(x).shape == (2, 256, 3, 3)
    assert model.forward_head(model.forward_features(x), pre_logits=True).shape == (2, 256)
    assert torch.equal(model(x), model.forward_head(model.forward_features(x)))
    model.reset_classifier(7)
    assert model(x).shape == (2, 7)
    assert not model.whiten.weight.requires_grad
    assert all(not m.weight.requires_grad for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d))


def test_whitening_decorrelates_patches_to_unit_variance():
    g = torch.Generator().manual_seed(0)
    mix = torch.tensor([[1.0, 0.8, 0.6], [0.0, 0.5, 0.4], [0.0, 0.0, 0.2]])
    images = torch.einsum("ij,njhw->nihw", mix, torch.randn(200, 3, 16, 16, generator=g))  # correlated channels
    model = FastCifarNet()
    whiten_from(model, images, eps=0.0)
    out = torch.nn.functional.conv2d(images, model.whiten.weight[:12])  # the 12 filters (then their negatives)
    flat = out.transpose(0, 1).reshape(12, -1)
    covariance = torch.cov(flat)
    assert torch.allclose(covariance, torch.eye(12), atol=0.05)
    assert torch.equal(model.whiten.weight[12:], -model.whiten.weight[:12])


def test_triangular_schedule():
    assert fast.triangle(0, 100) == pytest.approx(0.2)
    assert fast.triangle(23, 100) == pytest.approx(1.0)
    assert fast.triangle(100, 100) == pytest.approx(0.07)
    assert fast.triangle(10, 100) < fast.triangle(20, 100) and fast.triangle(50, 100) > fast.triangle(90, 100)


def test_lookahead_moves_the_weights_to_the_average():
    model = torch.nn.Linear(2, 1)
    look = fast.Lookahead(torch.optim.SGD(model.parameters(), lr=0.1), model, every=5, total=100)
    start = model.weight.detach().clone()
    with torch.no_grad():
        model.weight.add_(1.0)
    look.update(decay=0.75)  # average = 0.75 start + 0.25 moved; the weights jump there
    assert torch.allclose(model.weight, start + 0.25)
    with torch.no_grad():
        model.weight.add_(5.0)
    look.update(decay=1.0)  # decay 1: back to the average, which does not move
    assert torch.allclose(model.weight, start + 0.25)


def test_flips_alternate_between_epochs():
    images = torch.arange(4 * 3 * 4 * 4, dtype=torch.float32).view(4, 3, 4, 4)
    labels = torch.arange(4)
    flips = torch.tensor([True, False, True, False])
    cfg = dict(batch_size=4, translate=0)
    seen = []
    batches = fast.FlipShiftBatches(images, labels, flips, cfg, torch.Generator().manual_seed(0))
    for epoch in range(2):
        batches.set_epoch(epoch)
        (x, y), = batches
        flipped = {int(label): torch.equal(img, images[label].flip(-1)) for img, label in zip(x, y)}
        seen.append(flipped)
    assert seen[0] == {0: True, 1: False, 2: True, 3: False}
    assert seen[1] == {0: False, 1: True, 2: False, 3: True}


def test_test_time_augmentation_of_a_mirror_symmetric_model_changes_nothing():
    class MeanColour(torch.nn.Module):  # blind to mirroring and to small shifts of a constant image
        def forward(self, x):
            return x.mean((2, 3))

    x = torch.ones(2, 3, 8, 8) * torch.tensor([1.0, 2.0, 3.0])[:, None, None]
    assert torch.allclose(fast.tta_logits(MeanColour(), x), MeanColour()(x))


def test_batch_norm_shifts_get_the_scaled_rate():
    model = FastCifarNet()
    opt = fast.make_optimizer(model, fast.RECIPE)
    norm, other = opt.param_groups
    assert norm["lr"] == pytest.approx(64 * other["lr"])
    assert norm["lr"] * norm["weight_decay"] == pytest.approx(other["lr"] * other["weight_decay"])
    assert sum(p.numel() for p in norm["params"]) == 2 * (64 + 256 + 256)


def test_the_recipe_learns_an_easy_problem():
    train_set, test_set = easy_set(seed=0), easy_set(per_class=10, seed=1)
    torch.manual_seed(0)
    model = FastCifarNet(num_classes=4, widths=(16, 32, 32))
    cfg = dict(fast.RECIPE, epochs=6, batch_size=32)
    fitted = fast.fit_fast(model, train_set, cfg, QUIET, runtime=CPU, validation=test_set)
    history = fitted.history
    assert {"validation_accuracy", "validation_loss", "lr"} <= set(history[0])
    assert len(history) == 6 and history[-1]["train_loss"] < history[0]["train_loss"]
    metrics = fast.evaluate(model, fast.normalised(test_set, CPU.device), test_set.labels, CPU, tta=True)
    assert metrics["accuracy"] > 0.6  # chance is 0.25


def test_cpu_bf16_is_detected_not_assumed(monkeypatch):
    monkeypatch.delenv("COURSEKIT_CPU_BF16", raising=False)
    monkeypatch.setattr(profiles, "cpu_flags", lambda: {"avx512f", "avx512_bf16"})  # AVX-512 BF16 alone: slower
    assert not profiles.cpu_has_bf16() and train.Runtime.resolve("cpu", amp=True).amp_dtype is None
    monkeypatch.setattr(profiles, "cpu_flags", lambda: {"avx512_bf16", "amx_bf16", "amx_tile"})
    if torch.ops.mkldnn._is_mkldnn_bf16_supported():
        assert profiles.cpu_has_bf16() and train.Runtime.resolve("cpu", amp=True).amp_dtype == torch.bfloat16
    assert train.Runtime.resolve("cpu").amp_dtype is None  # the CPU's default stays float32
    monkeypatch.setenv("COURSEKIT_CPU_BF16", "0")
    assert not profiles.cpu_has_bf16()
    monkeypatch.setenv("COURSEKIT_CPU_BF16", "1")
    assert profiles.cpu_has_bf16() and train.Runtime.resolve("cpu", amp=True).precision == "bfloat16 autocast"


def test_lookahead_ends_on_its_average_and_keeps_its_state_with_the_optimizer():
    model = torch.nn.Linear(2, 1)
    sgd = torch.optim.SGD(model.parameters(), lr=0.1)
    opt = fast.Lookahead(sgd, model, every=2, total=4)
    for _ in range(4):
        opt.zero_grad()
        model(torch.ones(3, 2)).sum().backward()
        opt.step()
    assert all(torch.equal(v, opt.average[k]) for k, v in model.state_dict().items())  # the last step: the average
    saved = opt.state_dict()
    again = fast.Lookahead(torch.optim.SGD(model.parameters(), lr=0.1), model, every=2, total=4)
    again.load_state_dict(saved)
    assert again.steps == 4 and again.param_groups[0]["lr"] == 0.1


@pytest.mark.parametrize("stop", [(2, 0), (1, 1)])  # at the start of the last epoch, and within an epoch
def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path, monkeypatch, stop):
    """The recipe trains through train.fit: one checkpoint format, resumed at the batch it stopped in,
    its generator (crops, flips) and lookahead's average restored."""
    train_set, cfg = easy_set(), dict(fast.RECIPE, epochs=3, batch_size=32)

    def trained(state=QUIET):
        torch.manual_seed(0)
        model = FastCifarNet(num_classes=4, widths=(8, 16, 16))
        return model, fast.fit_fast(model, train_set, cfg, state, runtime=CPU)

    straight, history = trained()
    real = fast.FlipShiftBatches.__iter__

    def ctrl_c_at(self):
        for step, batch in enumerate(real(self)):
            if (self.epoch, step) == stop:
                raise KeyboardInterrupt
            yield batch

    state = RunState(checkpoint=tmp_path / "run.pt", progress=False, verbose=False)
    monkeypatch.setattr(fast.FlipShiftBatches, "__iter__", ctrl_c_at)
    with pytest.raises(KeyboardInterrupt):
        trained(state)
    saved = torch.load(tmp_path / "run.pt", weights_only=False)
    assert (saved["epoch"], saved["step"]) == stop
    ran = []

    def recording(self):
        ran.append(self.epoch)
        yield from real(self)

    monkeypatch.setattr(fast.FlipShiftBatches, "__iter__", recording)
    resumed, again = trained(state)
    assert ran == list(range(stop[0], 3))  # only the epochs not finished are trained again
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    assert [r["train_loss"] for r in again.history] == [r["train_loss"] for r in history.history]

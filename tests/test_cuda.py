"""coursekit's GPU path, on a CUDA GPU (``pytest -m cuda``; skipped without one): mixed precision in
bf16 and in fp16 with its gradient scaler, channels_last, the loader on the GPU, a checkpoint saved on
the GPU and resumed to the same loss, and peak memory measured per run. The GPU plan runs these first."""
from __future__ import annotations

import pytest
import torch

from coursekit import data, metrics, models, train
from coursekit.runs import RunState
from test_train import blobs

pytestmark = [pytest.mark.cuda,
              pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")]
CUDA = torch.device("cuda")
QUIET = RunState(progress=False, verbose=False)


def fit_on_gpu(model, loader, epochs, state=QUIET):
    """train.fit on the GPU with the chapters' defaults (SGD, one-cycle, mixed precision, channels_last)."""
    runtime = train.Runtime.resolve(CUDA)
    train.seed_everything(0)
    model.to(runtime.device, memory_format=runtime.memory_format)
    optimizer = train.make_optimizer(model, "sgd", 0.05, 5e-4)
    schedule = train.make_schedule(optimizer, "onecycle", epochs * len(loader))
    return train.fit(model, loader, optimizer, schedule, train.CrossEntropy(), state, epochs=epochs, runtime=runtime,
                     metrics={"train_accuracy": metrics.correct})


def cuda_loader(seed: int = 0, batch_size: int = 16) -> data.DeviceLoader:
    return data.DeviceLoader(blobs(), batch_size, train=True, device=CUDA, crop_padding=1, seed=seed)


def test_fit_in_bf16_autocast_with_channels_last_learns_and_measures_its_memory():
    model = models.create("small_cnn", num_classes=3, width=4)
    result = fit_on_gpu(model, cuda_loader(), 4)
    expected = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    assert result.precision == f"{str(expected).replace('torch.', '')} autocast"
    assert result.history[-1]["train_loss"] < result.history[0]["train_loss"]
    conv = next(m for m in model.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    assert result.peak_memory_kind == "CUDA allocated (peak)"
    assert 0 < result.peak_memory_mb < torch.cuda.get_device_properties(CUDA).total_memory / 2**20


def test_peak_memory_is_each_runs_own():
    small = fit_on_gpu(models.create("small_cnn", num_classes=3, width=4), cuda_loader(), 1)
    big = fit_on_gpu(models.create("resnet20", num_classes=3), cuda_loader(batch_size=48), 1)
    again = fit_on_gpu(models.create("small_cnn", num_classes=3, width=4), cuda_loader(), 1)
    assert big.peak_memory_mb > small.peak_memory_mb
    assert again.peak_memory_mb < big.peak_memory_mb  # reset when each fit starts, not the process's peak


def test_fp16_autocast_scales_the_loss_and_still_learns():
    runtime = train.Runtime(CUDA, torch.float16, torch.channels_last)
    scaler = runtime.grad_scaler()
    assert scaler.is_enabled()
    model = models.create("small_cnn", num_classes=3, width=4).to(CUDA, memory_format=torch.channels_last)
    optimizer = train.make_optimizer(model, "sgd", 0.05, 5e-4)
    loader = cuda_loader()
    schedule = train.make_schedule(optimizer, "onecycle", 4 * len(loader))
    losses = []
    for _ in range(4):
        tally = dict(loss=0.0, seen=0, seconds=0.0, step=0)
        train.train_one_epoch(model, loader, optimizer, schedule, train.CrossEntropy(), runtime, tally, scaler=scaler)
        losses.append(float(tally["loss"]) / tally["seen"])
    assert scaler.get_scale() > 1 and all(torch.isfinite(torch.tensor(losses)))
    assert losses[-1] < losses[0]


def test_the_loader_cuts_and_augments_batches_on_the_gpu_repeatably():
    first = [x.clone() for x, _ in cuda_loader(seed=3)]
    again = [x for x, _ in cuda_loader(seed=3)]
    x, y = next(iter(cuda_loader()))
    assert x.device.type == "cuda" and y.device.type == "cuda" and x.dtype == torch.float32
    assert x.shape == (16, 3, 8, 8)
    assert all(torch.equal(a, b) for a, b in zip(first, again))


def test_a_checkpoint_saved_on_the_gpu_resumes_to_the_same_loss(tmp_path, monkeypatch):
    monkeypatch.setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True)
    monkeypatch.setattr(torch.backends.cudnn, "deterministic", True)
    try:
        def run(checkpoint=None, interrupt_at=None):
            torch.manual_seed(123)
            model = models.create("small_cnn", num_classes=3, width=4)
            loader = cuda_loader()
            if interrupt_at is not None:
                loader = train.InterruptAt(loader, *interrupt_at)
            return model, fit_on_gpu(model, loader, 3, RunState(checkpoint=checkpoint, progress=False, verbose=False))

        straight, straight_result = run()
        ckpt = tmp_path / "gpu.pt"
        with pytest.raises(KeyboardInterrupt):
            run(ckpt, interrupt_at=(1, 2))  # Ctrl-C at the third batch of epoch 2
        assert torch.load(ckpt, weights_only=False)["step"] == 2
        resumed, resumed_result = run(ckpt)
        assert [r["train_loss"] for r in resumed_result.history] == [r["train_loss"] for r in straight_result.history]
        for a, b in zip(straight.state_dict().values(), resumed.state_dict().values()):
            assert torch.equal(a, b)
    finally:
        torch.use_deterministic_algorithms(False)

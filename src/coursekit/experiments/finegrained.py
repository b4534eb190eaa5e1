"""Chapter "finegrained": fine-grained recognition on Stanford Cars. ImageNet's EfficientNet-Lite0
probed and fine-tuned (a rate chosen on validation images, what each part of the recipe adds, gradual
unfreezing, three resolutions), against a ResNet and a ViT trained from scratch; the runs' errors
kept for the chapter to read (which classes are confused, where the network looks)."""
from __future__ import annotations

from .core import Experiment, register
from .transfer import LITE0, LITE0_RECIPE, run_transfer

# The test images are read once, by the experiments below; the rate is chosen on the validation
# images carved out of the training split (``cars_rates``). Every fine-tuning run gets the same five
# epochs of batches of 32 (about 152 batches an epoch at 128 px), a body rate a tenth of the head's,
# the one-cycle schedule's warm-up and label smoothing of 0.1; ``cars_ablation`` takes each away.
EPOCHS = 5
BATCHES = 152  # an epoch of the training images (about 4,890 of them) in batches of 32
RATE = 0.001   # the body's peak rate, as the validation runs chose it (a test checks it against them)
RATES = (0.0003, 0.001, 0.003)
CARS = dict(LITE0_RECIPE, targets=["stanford-cars"], sizes=dict(all=None), methods=["fine-tune"],
            finetune_lr=RATE, label_smoothing=0.1, keep_confusion=True, test_per_class=None, pool_per_class=None)
BUDGET = {
    "ci": dict(seeds=[0], steps=2, batch_size=8, image_size=32, crop_padding=4, decode_per_class=2, pool_per_class=2,
               test_per_class=2, probe_weight_decays=[1e-2, 1.0]),
    "quick": dict(seeds=[0, 1, 2], steps=EPOCHS * BATCHES, batch_size=32),
    "full": dict(seeds=[0, 1, 2], steps=4 * EPOCHS * BATCHES, batch_size=32, image_size=224, crop_padding=28),
}
ONE_SEED = {profile: dict(sizes, seeds=[0]) for profile, sizes in BUDGET.items()}
# Grad-CAM of the fine-tuned network on the last stage whose maps are 8 x 8 at 128 px.
GRADCAM = dict(layer="blocks.5", per_kind=6)

register(Experiment(
    name="cars_rates", chapter="finegrained",
    title="EfficientNet-Lite0 fine-tuned on Stanford Cars at three peak rates, read on the validation images",
    base=dict(CARS, targets=["stanford-cars-val"], keep_confusion=False,
              variants={f"{lr:g}": dict(finetune_lr=lr) for lr in RATES}),
    sizes=ONE_SEED, runner=run_transfer))

register(Experiment(
    name="cars_finetune", chapter="finegrained",
    title="Stanford Cars from ImageNet's EfficientNet-Lite0 at 128 px: linear probe, fine-tuning, gradual unfreezing",
    base=dict(CARS, methods=["deep probe", "fine-tune", "fine-tune, gradual unfreezing"], gradcam=GRADCAM),
    sizes=BUDGET, runner=run_transfer))

ABLATION = {"one rate for every layer": dict(head_lr_multiplier=1), "no warm-up": dict(schedule="cosine"),
            "no label smoothing": dict(label_smoothing=0.0)}
register(Experiment(
    name="cars_ablation", chapter="finegrained",
    title="Fine-tuning on Stanford Cars with one part of the recipe taken away at a time",
    base=dict(CARS, keep_confusion=False, variants=ABLATION), sizes=BUDGET, runner=run_transfer))

RESOLUTIONS = (160, 224)  # besides the 128 px of cars_finetune
for pixels in RESOLUTIONS:
    register(Experiment(
        name=f"cars_res_{pixels}", chapter="finegrained",
        title=f"Stanford Cars from EfficientNet-Lite0 at {pixels} px: linear probe and fine-tuning (one seed)",
        base=dict(CARS, methods=["deep probe", "fine-tune"], image_size=pixels, crop_padding=pixels // 8,
                  keep_confusion=False),
        sizes=dict(ONE_SEED, quick=dict(ONE_SEED["quick"], image_size=pixels, crop_padding=pixels // 8)),
        runner=run_transfer))

# From scratch, at 64 px (a quarter of the pixels: what two CPU cores can train for fifteen epochs): a
# CIFAR ResNet-20 (SGD) and a small ViT of 8 x 8 patches, 64 tokens as on CIFAR-10 (AdamW).
SCRATCH_EPOCHS = 15
SCRATCH = dict(CARS, methods=["scratch"], image_size=64, crop_padding=8, keep_confusion=False)
SCRATCH_BUDGET = {profile: dict(sizes, image_size=64, crop_padding=8) for profile, sizes in BUDGET.items()}
SCRATCH_BUDGET["quick"]["steps"] = SCRATCH_EPOCHS * BATCHES
SCRATCH_NETWORKS = {
    "resnet": ("ResNet-20", dict(kind="scratch", name="resnet20"), dict(scratch_lr=0.05)),
    "vit": ("a ViT of 8 x 8 patches", dict(kind="scratch", name="vit_cifar",
                                           kwargs=dict(image_size=64, patch_size=8, dim=128, depth=4, heads=4,
                                                       mlp_ratio=2.0)),
            dict(optimizer="adamw", scratch_lr=1e-3, weight_decay=0.05)),
}
for key, (title, source, recipe) in SCRATCH_NETWORKS.items():
    register(Experiment(
        name=f"cars_scratch_{key}", chapter="finegrained",
        title=f"Stanford Cars from scratch at 64 px: {title}",
        base=dict(SCRATCH, sources=[source], **recipe), sizes=SCRATCH_BUDGET, runner=run_transfer))

__all__ = ["ABLATION", "BUDGET", "CARS", "EPOCHS", "GRADCAM", "LITE0", "RATE", "RATES", "RESOLUTIONS",
           "SCRATCH_NETWORKS"]

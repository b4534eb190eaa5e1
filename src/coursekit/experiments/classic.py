"""Chapter "classic": AlexNet, VGG, GoogLeNet and ResNet on one budget, and the degradation problem
(plain networks against ResNets of the same depth)."""
from __future__ import annotations

from .cifar import CIFAR10_RECIPE, train_cifar10_classifier
from .core import Experiment, register

# The four families share one budget per profile, so that they compare.
BUDGET = {
    "ci": dict(train_per_class=10, test_per_class=5, epochs=1, batch_size=25),
    "quick": dict(train_per_class=500, test_per_class=250, epochs=8, batch_size=128),
    "full": dict(train_per_class=None, test_per_class=None, epochs=40, batch_size=128),
}

CLASSIC = ["classic_alexnet", "classic_vgg", "classic_googlenet", "classic_resnet"]
for name, model, title, lr in [
    ("classic_alexnet", "cifar_alexnet", "AlexNet (CIFAR-size) on CIFAR-10", 0.05),
    ("classic_vgg", "cifar_vgg11_bn", "VGG-11 with batch norm (CIFAR-size) on CIFAR-10", 0.05),
    ("classic_googlenet", "cifar_googlenet", "GoogLeNet (CIFAR-size) on CIFAR-10", 0.05),
    ("classic_resnet", "resnet20", "ResNet-20 (He et al. 2016, CIFAR) on CIFAR-10", 0.1),
]:
    register(Experiment(name=name, title=title, chapter="classic", base=dict(CIFAR10_RECIPE, model=model, lr=lr),
                        sizes=BUDGET, runner=train_cifar10_classifier))

DEGRADATION = ["degradation_plain20", "degradation_resnet20", "degradation_plain56", "degradation_resnet56"]
for name in DEGRADATION:
    depth, plain = name[-2:], "plain" in name
    register(Experiment(
        name=name, chapter="classic",
        title=f"{'Plain' if plain else 'Residual'} {depth}-layer CIFAR network "
              f"({'no shortcuts' if plain else 'ResNet-' + depth})",
        base=dict(CIFAR10_RECIPE, model=f"cifar_plain{depth}" if plain else f"resnet{depth}", lr=0.05,
                  probe_gradients=True),
        sizes=BUDGET, runner=train_cifar10_classifier))

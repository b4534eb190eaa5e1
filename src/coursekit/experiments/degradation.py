"""Chapter "classic", the degradation problem: plain networks against ResNets of 20 and 56 layers,
trained until their training losses flatten, over seeds, with each convolution's gradient norm
measured at initialisation and after training; and the readings of those runs."""
from __future__ import annotations

import math

from .. import diagnostics, stats
from ..i18n import _, fill, number, plural, say
from ..results import RunResult
from .cifar import CIFAR10_RECIPE, train_cifar10_classifier
from .core import Experiment, over_seeds, register

# The degradation problem is a statement about training error at the end of training (He et al. 2016,
# Fig. 6), so each network trains until its training loss has flattened: quick on 5,000 images for 30
# epochs (the four networks of a seed see the same images in the same order), three seeds.
DEGRADATION_BUDGET = {
    "ci": dict(train_per_class=10, test_per_class=5, epochs=2, batch_size=25, seeds=[0]),
    "quick": dict(train_per_class=500, test_per_class=250, epochs=30, batch_size=128, seeds=[0, 1, 2]),
    "full": dict(train_per_class=None, test_per_class=None, epochs=40, batch_size=128, seeds=[0, 1, 2]),
}
DEGRADATION = ["degradation_plain20", "degradation_resnet20", "degradation_plain56", "degradation_resnet56"]
for name in DEGRADATION:
    depth, plain = name[-2:], "plain" in name
    register(Experiment(
        name=name, chapter="classic",
        title=f"{'Plain' if plain else 'Residual'} {depth}-layer CIFAR network "
              f"({'no shortcuts' if plain else 'ResNet-' + depth})",
        base=dict(CIFAR10_RECIPE, model=f"cifar_plain{depth}" if plain else f"resnet{depth}", lr=0.05,
                  probe_gradients=True),
        sizes=DEGRADATION_BUDGET, runner=over_seeds(train_cifar10_classifier)))


# --- the readings the chapter's text glues --------------------------------------------------------

def _error(result: dict) -> dict[int, float]:
    """The training error (%) of each seed's last epoch, measured on the augmented batches as He et al. do."""
    return {seed: 100 * (1 - acc) for seed, acc in RunResult.from_dict(result).final("train_accuracy").items()}


def facts_degradation(results: dict[str, dict]) -> dict[str, str]:
    """The final training errors of the plain networks and ResNets of 20 and 56 layers (``results`` by the
    names in :data:`DEGRADATION`, each over the same seeds), whether every training loss had flattened,
    and what the paired differences between them show."""
    err = {name: _error(results[name]) for name in DEGRADATION}
    out = {}
    for name, values in err.items():
        mean, _low, half = stats.mean_interval(list(values.values()))
        out[f"classic_{name}_err"] = say("{error:.1f} ± {half:.1f} %", error=mean, half=half)
    plain56 = results["degradation_plain56"]
    out["classic_deg_epochs"] = plural("{n} epoch", "{n} epochs", len(plain56["history"]))
    out["classic_deg_profile"] = plain56["profile"]
    out["classic_deg_seeds"] = str(len(err["degradation_plain56"]))
    out["classic_deg_images"] = number(plain56["provenance"]["data"]["train"]["images"], ",")
    shares = [diagnostics.flat_share(s.history) for n in DEGRADATION for s in RunResult.from_dict(results[n]).seeds]
    flat = max(shares) < diagnostics.FLAT_SHARE
    out["classic_deg_flat_share"] = say("{share:.0f} %", share=100 * max(shares))
    out |= {f"classic_deg_{k}": v for k, v in diagnostics.flat_rule().items()}
    out["classic_deg_flat_reading"] = (
        _("every training loss had flattened") if flat else
        _("not every training loss had flattened, so what follows compares speeds of optimisation, not the end points "
          "He et al. compare"))

    # each comparison is of training errors: "better" below means a higher error
    out["classic_plain_reading"] = stats.word(
        stats.compare(err["degradation_plain56"], err["degradation_plain20"]),
        better=_("the plain 56-layer network ends with a training error {size:.1f} ± {h:.1f} points higher than the "
                 "plain 20-layer one (the paired difference over seeds): the deeper network fits its own training "
                 "data worse, which is the degradation problem") if flat else
        _("the plain 56-layer network ends with a training error {size:.1f} ± {h:.1f} points higher than the plain "
          "20-layer one (the paired difference over seeds): the deeper network fits its own training data worse, "
          "although the run stopped before convergence"),
        worse=_("the plain 56-layer network ends with a training error {size:.1f} ± {h:.1f} points lower than the "
                "plain 20-layer one: this run does not show the degradation problem"),
        cannot_tell=_("the seeds cannot tell the training errors of plain-56 and plain-20 apart (difference {d:+.1f} "
                      "± {h:.1f} points): this run does not show the degradation problem"))
    out["classic_residual_reading"] = stats.word(
        stats.compare(err["degradation_resnet56"], err["degradation_resnet20"]),
        better=_("ResNet-56 ends {size:.1f} ± {h:.1f} points above ResNet-20: even with shortcuts the extra depth has "
                 "not paid here"),
        worse=_("ResNet-56 ends {size:.1f} ± {h:.1f} points below ResNet-20: with shortcuts, the extra depth lowers "
                "the training error"),
        cannot_tell=_("the seeds cannot tell ResNet-56 from ResNet-20 (difference {d:+.1f} ± {h:.1f} points): with "
                      "shortcuts, the extra depth shows no cost in training error here"))
    no_gain = _("at 56 layers the shortcuts do not lower the training error (difference {d:+.1f} ± {h:.1f} points)")
    out["classic_shortcut_reading"] = stats.word(
        stats.compare(err["degradation_plain56"], err["degradation_resnet56"]),
        better=_("at 56 layers the shortcuts lower the training error by {size:.1f} ± {h:.1f} points"),
        worse=no_gain, cannot_tell=no_gain)
    return out


def _times(ratio: float) -> str:
    """A ratio as the text writes it: 1,234; 0.57; 3.2e-04 (in French 1\u202f234; 0,57; 3,2e-04)."""
    return number(ratio, ",.0f" if ratio >= 100 else ".2f" if ratio >= 0.01 else ".1e")


def _spread(norms: list[float]) -> float:
    """Orders of magnitude between the largest and the smallest of ``norms``."""
    return math.log10(max(norms) / min(norms))


SPREAD_MARGIN = 1.0  # orders of magnitude by which plain-56's gradients must spread more to say so


def facts_gradients(results: dict[str, dict]) -> dict[str, str]:
    """The per-convolution gradient norms of plain-56 and ResNet-56 (``results`` by name): first over last
    layer at initialisation, and their spread in orders of magnitude before and after training."""
    plain, residual = (results[n]["gradient_norms"] for n in ("degradation_plain56", "degradation_resnet56"))
    sp, sr = _spread(plain["initial"]), _spread(residual["initial"])
    first_over_last = plain["initial"][0] / plain["initial"][-1]
    if sp <= sr + SPREAD_MARGIN:
        reading = _("the gradient norms of the plain network spread over about as many orders of magnitude as those "
                    "of ResNet-56 ({plain:.1f} against {residual:.1f}): as He et al. report, its gradients stay in a "
                    "healthy range, and its difficulty lies elsewhere")
    elif first_over_last > 1:
        reading = _("the gradient norms of the plain network spread over {plain:.1f} orders of magnitude across its "
                    "layers, against {residual:.1f} for ResNet-56: without shortcuts, the product of Jacobians makes "
                    "the gradient grow layer by layer towards the input, with batch normalisation in every layer")
    else:
        reading = _("the gradient norms of the plain network spread over {plain:.1f} orders of magnitude across its "
                    "layers, against {residual:.1f} for ResNet-56: without shortcuts, the product of Jacobians makes "
                    "the gradient shrink layer by layer towards the input, with batch normalisation in every layer")
    return {"classic_grad_plain56": _times(first_over_last),
            "classic_grad_resnet56": _times(residual["initial"][0] / residual["initial"][-1]),
            "classic_grad_reading": fill(reading, plain=sp, residual=sr),
            "classic_grad_trained": say("{plain:.1f} and {residual:.1f}", plain=_spread(plain["trained"]),
                                        residual=_spread(residual["trained"]))}

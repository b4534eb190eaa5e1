"""The readings of chapter "pretrained": on torchvision's metadata as installed, and on constructed
inputs that reach every wording."""
import pytest
import torchvision

from coursekit import experiments

facts = experiments.pretrained


def zoo_row(name, top1, gflops, params, weights="IMAGENET1K_V1", crop=224):
    return dict(name=name, top1=top1, top5=99.0, gflops=gflops, params=params, weights=weights, crop=crop)


ALEX, R50 = zoo_row("alexnet", 56.5, 0.71, 61_100_840), zoo_row("resnet50", 80.9, 4.09, 25_557_032, "IMAGENET1K_V2")


# --- on torchvision's metadata ----------------------------------------------------------------------------

def test_zoo_table_reads_the_default_weights_of_every_classifier():
    rows = {r["name"]: r for r in facts.zoo_table()}
    assert rows["resnet50"]["weights"] == "IMAGENET1K_V2" and rows["resnet50"]["crop"] == 224
    assert rows["resnet50"]["params"] == 25_557_032 and len(rows) >= 50


def test_zoo_facts_from_torchvision():
    rows = facts.zoo_table()
    got = facts.facts_zoo(rows)
    top = max(rows, key=lambda r: r["top1"])
    assert got["pretrained_top"].startswith(f"{top['name']} ({top['top1']:.1f} %, ")
    assert got["pretrained_alex"] == "56.5 % for 0.71 GFLOPs" and got["pretrained_r50"] == "80.9 % for 4.09 GFLOPs"
    assert got["pretrained_r50_ratio"] == "6"
    cheap = got["pretrained_cheap"].split(" (")[0]
    by_name = {r["name"]: r for r in rows}
    assert by_name[cheap]["top1"] >= 80.858 and by_name[cheap]["gflops"] <= 4.09
    assert ("SWAG" in top["weights"]) == got["pretrained_top_reading"].startswith(f"Its default weights, {top['weights']}")


def test_torchvision_and_resnet50_facts():
    got = facts.facts_torchvision()
    assert got["pretrained_tv_version"] == torchvision.__version__.split("+")[0]
    assert int(got["pretrained_n_all"]) > int(got["pretrained_n_classifiers"]) >= 50
    weights = torchvision.models.get_model_weights("resnet50")
    default = weights.DEFAULT.transforms()
    assert facts.facts_resnet50_weights() == dict(
        pretrained_r50_v1="76.1 %", pretrained_r50_v2="80.9 %", pretrained_r50_resize="256, 232",
        pretrained_r50_resize_v1=str(weights.IMAGENET1K_V1.transforms().resize_size[0]),
        pretrained_r50_resize_v2=str(weights.IMAGENET1K_V2.transforms().resize_size[0]),
        pretrained_r50_crop=str(default.crop_size[0]),
        pretrained_imagenet_mean="0.485, 0.456 and 0.406", pretrained_imagenet_std="0.229, 0.224 and 0.225")
    assert (default.mean, default.std) == ([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    assert facts.facts_resnet50_weights()["pretrained_r50_crop"] == "224"
    assert (facts.facts_resnet50_weights()["pretrained_r50_resize_v1"],
            facts.facts_resnet50_weights()["pretrained_r50_resize_v2"]) == ("256", "232")


# --- on coursekit's networks ------------------------------------------------------------------------------

def test_lite0_crop_map_and_input_range_are_read_from_the_network_and_its_weights():
    from coursekit import models

    lite0 = models.pretrained("efficientnet_lite0")  # installed with coursekit: no download
    got = facts.facts_lite0(lite0)
    transforms = lite0.weights.transforms()
    assert got["pretrained_lite0_crop"] == str(transforms.crop_size[0]) == "224"
    assert got["pretrained_lite0_map"] == "7 × 7" and got["pretrained_lite0_last"].startswith("a 7 × 7 map")
    assert (transforms.mean, transforms.std) == ([0.5] * 3, [0.5] * 3)
    assert got["pretrained_lite0_range"] == "[−1, 1]"
    assert got["pretrained_lite0_norm"] == "a mean of 0.5 and a standard deviation of 0.5 per channel"


def test_lite0_facts_with_other_normalisation():
    from types import SimpleNamespace

    from torch import nn

    class Net(nn.Module):  # a stem, and a last map of half the crop's side
        def __init__(self):
            super().__init__()
            self.conv_stem = nn.Conv2d(3, 4, 3, stride=2, padding=1)
            self.weights = SimpleNamespace(transforms=lambda: SimpleNamespace(
                crop_size=[32], mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225]))

        def forward_features(self, x):
            return self.conv_stem(x)

        forward = forward_features

    r50 = torchvision.models.get_model_weights("resnet50")
    got = facts.facts_lite0(Net(), r50)
    assert got["pretrained_lite0_crop"] == "32" and got["pretrained_lite0_map"] == "16 × 16"
    assert got["pretrained_lite0_norm"] == ("means of 0.485, 0.456 and 0.406 and standard deviations of 0.229, "
                                            "0.224 and 0.225")
    low, high = -0.485 / 0.229, (1 - 0.406) / 0.225  # the lowest and highest value over the channels
    assert got["pretrained_lite0_range"] == f"[{low:g}, {high:g}]".replace("-", "−")


def test_resnet20_facts_are_read_from_the_network():
    from coursekit import models

    net = models.create("resnet20", num_classes=10)
    got = facts.facts_resnet20(net)
    assert net.conv1.out_channels == 16 and net.conv1.kernel_size == (3, 3) and net.conv1.in_channels == 3
    assert got["pretrained_r20_stem"] == "sixteen 3 × 3 filters over the three colour channels"
    assert got["pretrained_r20_map"] == "8 × 8"  # 32 pixels halved twice
    assert facts.facts_resnet20(net, image_size=64)["pretrained_r20_map"] == "16 × 16"
    assert got["pretrained_r20_published"] == f"{facts.PUBLISHED_RESNET20} %" == "91.78 %"
    assert facts.facts_resnet20() == got  # built when not given


def test_pacs_classes_are_counted_as_loaded():
    from types import SimpleNamespace

    assert facts.facts_pacs(SimpleNamespace(classes=("dog", "elephant", "giraffe", "guitar", "horse", "house",
                                                     "person"))) == dict(pretrained_pacs_classes="seven")
    assert facts.facts_pacs(SimpleNamespace(classes=tuple(range(11)))) == dict(pretrained_pacs_classes="11")


# --- every wording, on constructed inputs ---------------------------------------------------------------

def test_the_top_classifier_pretrained_beyond_imagenet_or_not():
    swag = zoo_row("regnet_y_128gf", 88.2, 374.6, 644_812_894, weights="IMAGENET1K_SWAG_E2E_V1", crop=384)
    got = facts.facts_zoo([ALEX, R50, swag])
    assert got["pretrained_top"] == "regnet_y_128gf (88.2 %, 375 GFLOPs, 645 M parameters)"
    assert got["pretrained_top_reading"] == (
        "Its default weights, IMAGENET1K_SWAG_E2E_V1, were first pretrained on far more images than ImageNet holds "
        "and then fine-tuned on ImageNet at 384 pixels, so the comparison is not only one of architectures.")
    plain = zoo_row("bignet", 85.0, 20.0, 90_000_000)
    assert facts.facts_zoo([ALEX, R50, plain])["pretrained_top_reading"] == "Its default weights were trained on ImageNet alone."


def test_the_cheapest_network_as_accurate_as_resnet50():
    cheaper = zoo_row("efficient", 81.0, 1.0, 9_000_000)
    got = facts.facts_zoo([ALEX, R50, cheaper, zoo_row("cheap_but_worse", 80.0, 0.5, 5_000_000)])
    assert got["pretrained_cheap"] == "efficient (81.0 %, 1.00 GFLOPs, 4.1 times fewer than ResNet-50)"
    assert got["pretrained_r50_ratio"] == "6"
    assert facts.facts_zoo([ALEX, R50])["pretrained_cheap"].startswith("resnet50 (80.9 %, 4.09 GFLOPs, 1.0 times")


def test_the_exercise_answer_same_network_or_not():
    one = facts.facts_cheapest([R50, zoo_row("small", 82.0, 1.0, 5_000_000), ALEX])
    assert one["pretrained_ex_answer"] == "Here both are small: the same network wins on both counts."
    two = facts.facts_cheapest([R50, zoo_row("few_ops", 82.0, 1.0, 30_000_000), zoo_row("few_params", 81.0, 3.0, 4_000_000),
                                zoo_row("too_weak", 79.9, 0.1, 1_000_000)])
    assert two["pretrained_ex_answer"] == "Here the fewest GFLOPs belong to few_ops, the fewest parameters to few_params."


def test_cifar_reading_in_each_case():
    assert facts.facts_cifar(None, 20) == dict(
        pretrained_cifar_reading="This build could not load the weights, so it measured nothing.",
        pretrained_jpeg_summary="this build could not load the published weights to measure it")
    offline = dict(accuracy=0.9012, images=10_000, source=dict(kind="image-folder", description="offline CIFAR-10"))
    assert facts.facts_cifar(offline, None)["pretrained_cifar_reading"] == (
        "Evaluated on all 10,000 test images of the offline CIFAR-10, it reaches 90.12 %, 1.7 points below the "
        "91.78 % measured on the original test set. This copy is the offline one, in which every image was "
        "re-encoded as a JPEG of quality 75: the compression shifts pixel values and blurs fine detail.")
    assert facts.facts_cifar(offline, None)["pretrained_jpeg_summary"] == (
        "JPEG re-encoding alone cost the published CIFAR-10 ResNet-20 1.7 points, 91.78 % to 90.1 %")
    original = dict(accuracy=0.9175, images=200, source=dict(kind="torchvision", description="CIFAR-10 test set"))
    assert facts.facts_cifar(original, 20)["pretrained_cifar_reading"] == (
        "Evaluated on a stratified subset of 200 test images (20 per class, as the ci profile asks) of the CIFAR-10 "
        "test set, it reaches 91.75 %, to compare with the 91.78 % measured on the original test set.")
    assert facts.facts_cifar(original, 20)["pretrained_jpeg_summary"] == (
        "the published CIFAR-10 ResNet-20 reaches 91.8 % on the test set read here")


@pytest.mark.parametrize("straight, same", [(0.5, True), (0.5 + 1e-7, True), (0.5 + 1e-4, False)])
def test_resume_reading(straight, same):
    reading = facts.facts_resume(0.5, straight)["pretrained_resume_reading"]
    assert reading.startswith("The two runs end with the same loss") == same
    assert reading.startswith("The two runs end with slightly different losses") != same


def test_more_epochs_reading():
    assert facts.facts_more_epochs(None) == dict(
        pretrained_ex_epochs="here it does not fail, and trains a third epoch on the restored state")
    error = ValueError("Tried to step 41 times. The specified number of total steps is 40\nmore detail")
    assert facts.facts_more_epochs(error) == dict(
        pretrained_ex_epochs="fit stops with ValueError: Tried to step 41 times. The specified number of total steps is 40")


def test_training_beyond_the_schedule_stops_with_the_schedules_error():
    import torch

    from coursekit import data, models, train

    def fresh():
        train.seed_everything(0)
        return models.create("small_cnn", width=2)

    images = data.ImageTensors(torch.randint(0, 256, (20, 3, 32, 32), dtype=torch.uint8), torch.arange(20) % 10,
                               tuple(str(c) for c in range(10)))
    error = facts.train_beyond_schedule(fresh, data.DeviceLoader(images, 10, train=True), epochs=1)
    assert isinstance(error, ValueError)
    assert facts.facts_more_epochs(error)["pretrained_ex_epochs"].startswith("fit stops with ValueError: ")


def test_the_networks_after_resnet_are_measured_from_their_builders():
    from coursekit.experiments import pretrained

    rows = pretrained.after_resnet_table()
    by = {r["builder"]: r for r in rows}
    assert round(by["resnet50"]["params"] / 1e6, 1) == 25.6 and round(by["resnet50"]["macs"] / 1e9, 2) == 4.09
    assert by["seresnet50"]["top1"] is None and by["seresnet50"]["params"] > by["resnet50"]["params"]  # the SE gates
    assert pretrained.facts_after_resnet(rows)["pretrained_ops_reading"].startswith("agree with torchvision's")
    wrong = [dict(r, macs=2 * r["macs"]) if r["builder"] == "densenet121" else r for r in rows]
    assert pretrained.facts_after_resnet(wrong)["pretrained_ops_reading"] == (
        "differ from torchvision's `_ops` metadata for DenseNet-121")


def test_imagenet_photos_are_counted_by_their_exact_class():
    from types import SimpleNamespace

    import torch

    from coursekit import data

    names = [f"c{i}" for i in range(10)]
    names[3], names[7] = "ant", "bee"
    scores = -1 - torch.arange(10.0).repeat(4, 1)  # distinct, lower indices first: no ties in the top 5
    scores[0, 3] = scores[1, 7] = 9          # an ant and a bee named right
    scores[2, 0], scores[2, 3] = 9, 5        # a bee called c0, then ant, c1, c2, c4: wrong in the top 5 too
    scores[3, 1], scores[3, 7] = 9, 5        # a bee called c1, "bee" second: right within the top 5

    class Net:
        weights = SimpleNamespace(meta=dict(categories=names), transforms=lambda: (lambda x: x))

        def __call__(self, x):
            return scores[:len(x)]

    photos = data.ImageTensors(torch.zeros(4, 3, 2, 2, dtype=torch.uint8), torch.tensor([0, 1, 1, 1]), ("ants", "bees"))
    got = facts.facts_imagenet_photos(Net(), photos, batch_size=4)
    assert got == dict(pretrained_photos="4", pretrained_photos_top1="2 (50 %)", pretrained_photos_top5="3 (75 %)")


# --- in French (COURSEKIT_LANG=fr) ------------------------------------------------------------------------

NNBSP, NBSP = "\u202f", "\u00a0"


def test_zoo_and_exercise_facts_in_french(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    swag = zoo_row("regnet_y_128gf", 88.2, 374.6, 1_644_812_894, weights="IMAGENET1K_SWAG_E2E_V1", crop=384)
    got = facts.facts_zoo([ALEX, R50, swag, zoo_row("efficient", 81.0, 1.0, 9_000_000)])
    assert got["pretrained_top"] == f"regnet_y_128gf (88,2{NNBSP}%, 375 GFLOPs, 1{NNBSP}645 M de paramètres)"
    assert got["pretrained_top_reading"].startswith("Ses poids par défaut, IMAGENET1K_SWAG_E2E_V1, ont d'abord été "
                                                    "pré-entraînés")
    assert got["pretrained_alex"] == f"56,5{NNBSP}% pour 0,71 GFLOPs"
    assert got["pretrained_cheap"] == f"efficient (81,0{NNBSP}%, 1,00 GFLOPs, 4,1 fois moins que ResNet-50)"
    assert facts.facts_cheapest([R50, zoo_row("small", 82.0, 1.0, 5_000_000)])["pretrained_ex_answer"] == (
        f"Ici, c'est small dans les deux cas{NBSP}: le même réseau l'emporte sur les deux tableaux.")


def test_network_facts_in_french(monkeypatch):
    from types import SimpleNamespace

    from coursekit import models

    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    got = facts.facts_resnet20(models.create("resnet20", num_classes=10))
    assert got["pretrained_r20_stem"] == "seize filtres 3 × 3 sur les trois canaux de couleur"
    assert got["pretrained_r20_published"] == f"91,78{NNBSP}%"
    assert facts.facts_pacs(SimpleNamespace(classes=tuple(range(7)))) == dict(pretrained_pacs_classes="sept")
    weights = facts.facts_resnet50_weights()
    assert weights["pretrained_r50_v1"] == f"76,1{NNBSP}%"
    assert weights["pretrained_imagenet_mean"] == f"0,485{NNBSP}; 0,456 et 0,406"
    lite0 = facts.facts_lite0(models.pretrained("efficientnet_lite0"))
    assert lite0["pretrained_lite0_params"] == "4,7 millions" and lite0["pretrained_r50_params"] == "25,6 millions"
    assert lite0["pretrained_lite0_last"] == f"une carte 7 × 7 de 1{NNBSP}280 canaux pour une image de 224 pixels"
    assert lite0["pretrained_lite0_stem"] == "32 filtres de 3 × 3, appliqués avec un pas de 2"
    assert lite0["pretrained_lite0_range"] == f"[−1{NNBSP}; 1]"
    assert lite0["pretrained_lite0_norm"] == "une moyenne de 0,5 et un écart-type de 0,5 par canal"


def test_readings_in_french(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    offline = dict(accuracy=0.9012, images=10_000,
                   source=dict(kind="image-folder", description="ImageFolder copy of CIFAR-10 (test)"))
    got = facts.facts_cifar(offline, None)
    assert got["pretrained_cifar_reading"].startswith(
        f"Évalué sur les 10{NNBSP}000 images de test de la copie ImageFolder de CIFAR-10 (test), il atteint "
        f"90,12{NNBSP}%, soit 1,7 point de moins que les 91,78{NNBSP}% mesurés sur l'ensemble de test original.")
    assert got["pretrained_jpeg_summary"] == (
        f"le seul réencodage JPEG a coûté 1,7 point au ResNet-20 CIFAR-10 publié, de 91,78{NNBSP}% à 90,1{NNBSP}%")
    worse = dict(offline, accuracy=0.885)
    assert "coûté 3,3 points au" in facts.facts_cifar(worse, None)["pretrained_jpeg_summary"]  # plural from 2
    original = dict(accuracy=0.9175, images=200, source=dict(kind="torchvision", description="CIFAR-10 test set"))
    assert facts.facts_cifar(original, 20)["pretrained_cifar_reading"] == (
        "Évalué sur un sous-ensemble stratifié de 200 images de test (20 par classe, comme le demande le profil ci) "
        f"de «{NBSP}CIFAR-10 test set{NBSP}», il atteint 91,75{NNBSP}%, à comparer aux 91,78{NNBSP}% mesurés sur "
        "l'ensemble de test original.")
    assert facts.facts_cifar(None, 20)["pretrained_cifar_reading"].startswith("Cette compilation du livre n'a pas pu")
    assert facts.facts_resume(0.5, 0.5)["pretrained_resume_reading"] == (
        f"Les deux exécutions se terminent avec la même perte{NBSP}: l'interruption n'a laissé aucune trace")
    assert facts.facts_more_epochs(ValueError("Tried to step 41 times.\nmore")) == dict(
        pretrained_ex_epochs=f"fit s'arrête sur une ValueError{NBSP}: Tried to step 41 times.")


def test_networks_after_resnet_in_french(monkeypatch):
    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    rows = facts.after_resnet_table()
    assert {r["builder"]: r["idea"] for r in rows}["densenet121"] == (
        "chaque couche lit les cartes de toutes les couches qui la précèdent")
    assert facts.facts_after_resnet(rows)["pretrained_ops_reading"].startswith(
        "concordent avec les métadonnées `_ops` de torchvision pour chacun des 5 réseaux")
    wrong = [dict(r, macs=2 * r["macs"]) if r["builder"] == "densenet121" else r for r in rows]
    assert facts.facts_after_resnet(wrong)["pretrained_ops_reading"] == (
        "diffèrent des métadonnées `_ops` de torchvision pour DenseNet-121")


def test_figures_in_french(monkeypatch):
    import matplotlib.pyplot as plt
    import torch

    from coursekit import data, figures, models
    from coursekit.figures import diagrams
    from coursekit.models import inception

    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    fig = figures.model_zoo()
    ax = fig.axes[0]
    assert ax.get_title().startswith(f"Les {len(figures.zoo_table())} classifieurs ImageNet de torchvision (rouge{NBSP}:")
    assert ax.get_xlabel() == "GFLOPs par image (échelle logarithmique)"
    assert ax.get_ylabel() == "exactitude top-1 sur ImageNet-1K (%)"
    plt.close(fig)
    model = models.create("resnet20", num_classes=3)
    fig = figures.pretrained.first_layer_filters(model)
    assert fig.get_suptitle() == "Les 16 filtres de la première couche (3 × 3, RVB, chacun mis à l'échelle séparément)"
    plt.close(fig)
    test = data.ImageTensors(torch.zeros(3, 3, 32, 32, dtype=torch.uint8), torch.tensor([0, 1, 2]), ("a", "b", "c"))
    fig = figures.pretrained.grad_cam_gallery(model, test, model.layer3, (0.5,) * 3, (0.25,) * 3, count=3)
    assert all(f"(vraie classe{NBSP}: " in ax.get_title() for ax in fig.axes[:3])
    plt.close(fig)
    fig = figures.pretrained.jpeg_at_32px(test.images[:1])
    assert [ax.get_title() for ax in fig.axes[:2]] == ["image 32 × 32", "JPEG, qualité 75"]
    plt.close(fig)
    table = inception.GOOGLENET_TABLE["3a"]
    fig = diagrams.inception_module(inception.Inception(*table), table[0], "3a")
    found = [t.get_text() for t in fig.axes[0].texts]
    assert fig.axes[0].get_title() == "Module Inception 3a (tracé d'après sa définition)"
    assert f"entrée{NBSP}: {table[0]} canaux" in found and "conv. 3×3, 128 + BN + ReLU" in found
    assert "agrégation max. 3×3" in found
    plt.close(fig)
    found = [t.get_text() for t in diagrams.residual_blocks().axes[0].texts]
    assert f"contournement{NBSP}:\nidentité" in found and "bloc goulot (ResNet-50 et plus profonds)" in found
    plt.close("all")
    found = [t.get_text() for t in diagrams.encoder_block().axes[0].texts]
    assert f"auto-attention multi-têtes{NBSP}: 3 têtes de 64" in found and f"jetons{NBSP}: 65 × 192" in found
    plt.close("all")


def test_imagenet_photos_in_french(monkeypatch):
    from types import SimpleNamespace

    import torch

    from coursekit import data

    monkeypatch.setenv("COURSEKIT_LANG", "fr")
    names = [f"c{i}" for i in range(8)] + ["ant"]
    scores = -torch.arange(9.0).repeat(1200, 1)  # c0 first, ant last: never in the top 5 ...
    scores[:900, 8] = 9  # ... but for the first 900 of 1,200 ants

    class Net:
        weights = SimpleNamespace(meta=dict(categories=names), transforms=lambda: (lambda x: x))

        def __call__(self, x):
            return scores[:len(x)]

    photos = data.ImageTensors(torch.zeros(1200, 3, 1, 1, dtype=torch.uint8), torch.zeros(1200, dtype=torch.long),
                               ("ants",))
    got = facts.facts_imagenet_photos(Net(), photos, batch_size=1200)
    assert got == dict(pretrained_photos=f"1{NNBSP}200", pretrained_photos_top1=f"900 (75{NNBSP}%)",
                       pretrained_photos_top5=f"900 (75{NNBSP}%)")

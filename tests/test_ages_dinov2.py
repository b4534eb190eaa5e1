"""The age chapter's DINOv2 row (``full`` only) on any machine: timm's weights placed in a Hugging Face
cache the test generates, their position embeddings resampled to the faces' size, and the ridge head on
their frozen features through the chapter's own runner."""
from __future__ import annotations

import math

import torch

from conftest import cache_timm_weights
from coursekit import data, experiments, transfer
from coursekit.experiments import ages
from coursekit.runs import RunState
from test_utkface_data import make_faces


def test_dinov2_features_with_the_ridge_head_offline(tmp_path, monkeypatch):
    name = ages.DINOV2["name"].removeprefix("timm/")
    reference = cache_timm_weights(name, tmp_path, monkeypatch)
    source = dict(ages.DINOV2, kwargs=dict(img_size=28))  # 2 x 2 patches of 14 pixels
    model, mean, std = transfer.source_network(source)
    assert torch.equal(model.patch_embed.proj.weight, reference.patch_embed.proj.weight)
    assert model.pos_embed.shape[1] < reference.pos_embed.shape[1]  # resampled to the smaller grid

    make_faces(tmp_path / "data")
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path / "data"))
    monkeypatch.setenv("COURSEKIT_CACHE", str(tmp_path / "cache"))
    data.cache._LOADED.clear()
    cfg = dict(experiments.config("ages_dinov2_ridge", "full"), source=source, image_size=28)
    result = ages.ridge_on_features(cfg, RunState(progress=False))
    metrics = result["metrics"]
    test = data.load_utkface("test", 28)
    assert metrics["features"] == reference.num_features == 384
    assert len(metrics["predicted"]) == len(test) and math.isfinite(metrics["mae"])
    assert metrics["penalty"] in cfg["penalties"]
    data.cache._LOADED.clear()


def test_outside_full_the_row_is_a_visible_note():
    result, note = ages.full_only("ages_dinov2_ridge", "quick")
    assert result is None and "Not run in the `quick` profile" in note and "ages_dinov2_ridge" in note

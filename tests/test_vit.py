"""The Vision Transformer against timm's, and its attention maps."""
import pytest
import timm
import torch

from coursekit import models
from coursekit.models import vit


@pytest.mark.parametrize("name, timm_args", [
    ("vit_cifar", dict(img_size=32, patch_size=4, embed_dim=192, depth=6, num_heads=3, num_classes=10)),
    # the same code at ImageNet size (about 4 s): `pytest -m slow`; vit_cifar above compares it on every run
    pytest.param("vit_tiny_patch16_224", dict(img_size=224, patch_size=16, embed_dim=192, depth=12, num_heads=3,
                                              num_classes=1000), marks=pytest.mark.slow),
])
def test_same_parameters_and_outputs_as_timm(name, timm_args):
    torch.manual_seed(0)
    reference = timm.models.vision_transformer.VisionTransformer(**timm_args).eval()
    ours = models.create(name, num_classes=timm_args["num_classes"]).eval()
    assert models.count_parameters(ours) == models.count_parameters(reference)
    ours.load_state_dict(reference.state_dict(), strict=True)  # the same names and shapes
    x = torch.randn(2, 3, timm_args["img_size"], timm_args["img_size"])
    with torch.no_grad():
        assert torch.allclose(ours(x), reference(x), atol=1e-5)


def test_vit_cifar_has_the_size_the_chapter_says():
    model = models.create("vit_cifar")
    assert 2.6e6 < models.count_parameters(model) < 2.8e6
    assert model.patch_embed.num_patches == 64 and model.tokens(torch.zeros(1, 3, 32, 32)).shape == (1, 65, 192)


def test_attention_maps_are_distributions_and_agree_with_the_fused_forward():
    torch.manual_seed(0)
    model = models.create("vit_cifar", depth=2).eval()
    x = torch.randn(3, 3, 32, 32)
    maps = model.attention_maps(x)
    assert len(maps) == 2 and maps[0].shape == (3, 3, 65, 65)
    assert torch.allclose(maps[1].sum(-1), torch.ones(3, 3, 65), atol=1e-5)
    block = model.blocks[0]
    z = block.norm1(model.tokens(x))
    with torch.no_grad():
        assert torch.allclose(block.attn(z), block.attn(z, return_weights=True)[0], atol=1e-5)


def test_bad_shapes_are_refused():
    with pytest.raises(ValueError, match="not a multiple of patch_size 5"):
        vit.PatchEmbed(32, 5, 8)
    with pytest.raises(ValueError, match="not divisible by heads 5"):
        vit.Attention(192, 5)


def test_gradient_checkpointing_gives_the_same_gradients():
    torch.manual_seed(0)
    model = models.create("vit_cifar", depth=2)
    x, y = torch.randn(4, 3, 32, 32), torch.tensor([0, 1, 2, 3])

    def grads():
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        return [p.grad.clone() for p in model.parameters()]

    plain = grads()
    model.grad_checkpointing = True
    assert all(torch.allclose(a, b, atol=1e-6) for a, b in zip(plain, grads()))


def test_inspect_vit_measures_attention_and_position_embeddings():
    from coursekit import data
    from coursekit.models import analysis

    torch.manual_seed(0)
    model = models.create("vit_cifar", depth=2)
    labels = torch.arange(10).repeat(2)
    test = data.ImageTensors(torch.randint(0, 256, (20, 3, 32, 32), dtype=torch.uint8), labels, tuple("abcdefghij"))
    found = analysis.inspect_vit(model, test, count=4)
    assert len(found["images"]) == 4 and found["grid"] == 8
    assert len(found["cls_attention"]) == 4 and len(found["cls_attention"][0]) == 64
    assert abs(sum(found["cls_attention"][0]) - 1) < 0.05  # most of the class token's attention goes to patches
    assert len(found["mean_distance"]) == 2 and len(found["mean_distance"][0]) == 3
    assert all(0 < d < 32 * 2 ** 0.5 for block in found["mean_distance"] for d in block)
    sim = torch.tensor(found["position_similarity"])
    assert sim.shape == (64, 64) and torch.allclose(sim.diag(), torch.ones(64), atol=1e-3)

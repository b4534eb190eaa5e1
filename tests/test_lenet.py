"""LeNet-5 (``coursekit.models.lenet``) against the paper (LeCun et al. 1998): the layers' parameter
counts, C3's sparse connection table, the squashing function, the initialisation, and timm's seam."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from coursekit import models
from coursekit.models import lenet
from coursekit.models.lenet import C3_TABLE, LeNet5, ScaledTanh, SparseConv, Subsampling

# The paper's trainable parameters per layer (section II.B).
PAPER = dict(C1=156, S2=12, C3=1516, S4=32, C5=48120, F6=10164)


@pytest.fixture
def net() -> LeNet5:
    torch.manual_seed(0)
    return models.create("lenet5").eval()


def layers(net: LeNet5) -> dict[str, nn.Module]:
    f = net.features
    return dict(C1=f[0], S2=f[2], C3=f[4], S4=f[6], C5=f[8], F6=net.f6)


def trainable(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def test_output_shape_and_registry(net):
    assert isinstance(net, LeNet5) and "lenet5" in models.list_models()
    x = torch.randn(3, 1, 32, 32)
    assert net(x).shape == (3, 10)
    assert models.create("lenet5", num_classes=4)(x).shape == (3, 4)


def test_layer_parameter_counts_are_the_papers(net):
    found = {name: trainable(m) for name, m in layers(net).items()}
    assert found == PAPER
    assert isinstance(layers(net)["S2"], Subsampling) and isinstance(layers(net)["C3"], SparseConv)
    assert sum(found.values()) == 60_000
    assert trainable(net) == models.count_parameters(net) == 60_850  # the output layer: 84 x 10 + 10
    assert trainable(net.fc) == 850


def test_connections_per_image_are_counted():
    # C1 28x28x6x25, C3 10x10x1500, C5 120x400, F6 120x84, output 84x10 (subsampling: no multiplies counted)
    macs = models.count_macs(models.create("lenet5"), (1, 1, 32, 32))
    assert macs == 117_600 + 150_000 + 48_000 + 10_080 + 840


def test_feature_map_sizes_follow_the_paper(net):
    x = torch.randn(2, 1, 32, 32)
    sizes = []
    for m in net.features:
        x = m(x)
        if not isinstance(m, ScaledTanh):
            sizes.append(tuple(x.shape[1:]))
    assert sizes == [(6, 28, 28), (6, 14, 14), (16, 10, 10), (16, 5, 5), (120, 1, 1)]


def test_c3_table_is_table_one():
    assert len(C3_TABLE) == 16
    assert sum(len(t) for t in C3_TABLE) == 60  # the paper's 60 connections of C3 to S2
    assert [len(t) for t in C3_TABLE] == [3] * 6 + [4] * 9 + [6]
    assert all(t == sorted(set(t)) and set(t) <= set(range(6)) for t in C3_TABLE)
    assert set().union(*C3_TABLE) == set(range(6))
    assert all(sum(m in t for t in C3_TABLE) >= 1 for m in range(6))  # every S2 map is read
    assert C3_TABLE[-1] == [0, 1, 2, 3, 4, 5]
    assert len({tuple(t) for t in C3_TABLE}) == 16  # no two maps read the same inputs
    for k in range(6):  # the first six read three neighbours (cyclically)
        assert set(C3_TABLE[k]) == {k % 6, (k + 1) % 6, (k + 2) % 6}


def test_sparse_conv_reads_only_its_table_entry():
    torch.manual_seed(0)
    conv = SparseConv(C3_TABLE)
    assert [m.in_channels for m in conv.maps] == [len(t) for t in C3_TABLE]
    x = torch.randn(2, 6, 14, 14)
    y = conv(x)
    assert y.shape == (2, 16, 10, 10)
    for m in range(6):
        changed = x.clone()
        changed[:, m] += torch.randn(2, 14, 14)
        diff = (conv(changed) - y).abs().amax(dim=(0, 2, 3))
        for k, inputs in enumerate(C3_TABLE):
            if m in inputs:
                assert diff[k] > 1e-4, (k, m)
            else:
                assert diff[k] == 0, (k, m)


def test_sparse_conv_maps_are_their_own_convolutions():
    torch.manual_seed(1)
    conv = SparseConv(([0, 2], [1]), kernel_size=3)
    x = torch.randn(1, 3, 6, 6)
    expected0 = nn.functional.conv2d(x[:, [0, 2]], conv.maps[0].weight, conv.maps[0].bias)
    expected1 = nn.functional.conv2d(x[:, [1]], conv.maps[1].weight, conv.maps[1].bias)
    assert torch.allclose(conv(x), torch.cat([expected0, expected1], 1), atol=1e-6)


def test_scaled_tanh_maps_one_to_one():
    f = ScaledTanh()
    x = torch.tensor([-1.0, 0.0, 1.0, 100.0])
    y = f(x)
    assert abs(float(y[2]) - 1) < 1e-3 and abs(float(y[0]) + 1) < 1e-3 and y[1] == 0
    assert float(y[3]) == pytest.approx(1.7159, abs=1e-4)  # the asymptote A


def test_subsampling_sums_two_by_two_then_scales_and_shifts():
    s = Subsampling(2)
    with torch.no_grad():
        s.weight.copy_(torch.tensor([2.0, -1.0]))
        s.bias.copy_(torch.tensor([0.5, 0.0]))
    x = torch.arange(32, dtype=torch.float32).reshape(1, 2, 4, 4)
    y = s(x)
    assert y.shape == (1, 2, 2, 2)
    top_left = x[0, :, :2, :2].sum(dim=(1, 2))
    assert torch.allclose(y[0, :, 0, 0], top_left * torch.tensor([2.0, -1.0]) + torch.tensor([0.5, 0.0]))


def test_initialisation_is_uniform_within_2_4_over_fan_in(net):
    checked = 0
    for m in net.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            fan_in = m.weight[0].numel()
            bound = 2.4 / fan_in
            for p in (m.weight, m.bias):
                assert float(p.detach().abs().max()) <= bound + 1e-7
            assert float(m.weight.detach().abs().max()) > 0.7 * bound  # spread over the whole range, not a narrower one
            checked += 1
    assert checked == 1 + 16 + 1 + 1 + 1  # C1, C3's 16 maps, C5, F6 and the output layer
    # C3's maps have their own fan-in: a map reading 3 inputs (75 weights) starts wider than one reading 6
    c3 = layers(net)["C3"].maps
    assert float(c3[0].weight.detach().abs().max()) > 2.4 / 150


@torch.no_grad()
def test_timm_seam(net):
    x = torch.randn(4, 1, 32, 32)
    features = net.forward_features(x)
    assert features.shape == (4, 120, 1, 1)
    pre = net.forward_head(features, pre_logits=True)
    assert pre.shape == (4, 84) and float(pre.abs().max()) <= 1.7159  # after F6's squashing
    assert torch.allclose(net.forward_head(features), net(x))
    assert torch.allclose(net.get_classifier()(pre), net(x), atol=1e-6)
    net.reset_classifier(3)
    assert net(x).shape == (4, 3) and net.get_classifier().out_features == 3
    assert net.forward_head(features, pre_logits=True).shape == (4, 84)
    net.reset_classifier(0)
    assert net(x).shape == (4, 84)  # no classifier: the features


def test_trains_on_a_tiny_batch():
    torch.manual_seed(0)
    net = lenet.lenet5()
    x = torch.randn(16, 1, 32, 32)
    y = torch.arange(16) % 10
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    first = None
    for _ in range(15):
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        first = float(loss.detach()) if first is None else first
    assert float(loss.detach()) < 0.1 * first  # every layer passes gradient: it can fit 16 images
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters())

"""HintRegressor: the layer chosen for every guided/hint geometry."""
import pytest
import torch
from mmrazor.registry import MODELS
from torch import nn

import fitnets_mm  # noqa: F401
from fitnets_mm.models.connectors import HintRegressor, plan_spatial


def _map(c: int, h: int, w: int = None, n: int = 2) -> torch.Tensor:
    return torch.randn(n, c, h, w or h)


# (in_size, out_size, kwargs, layer type, kernel, stride, padding)
GEOMETRIES = [
    # equal sizes: same-padded conv, kernel_size 3 by default ...
    ((8, 8), (8, 8), {}, nn.Conv2d, (3, 3), (1, 1), (1, 1)),
    # ... or 1x1
    ((8, 8), (8, 8), dict(kernel_size=1), nn.Conv2d, (1, 1), (1, 1), (0, 0)),
    ((8, 8), (8, 8), dict(kernel_size=5), nn.Conv2d, (5, 5), (1, 1), (2, 2)),
    # larger guided map, not a whole multiple: the paper's N_g - N_h + 1
    ((18, 18), (16, 16), {}, nn.Conv2d, (3, 3), (1, 1), (0, 0)),
    ((20, 18), (16, 16), {}, nn.Conv2d, (5, 3), (1, 1), (0, 0)),
    # a whole factor larger: a stride-f conv
    ((32, 32), (16, 16), {}, nn.Conv2d, (2, 2), (2, 2), (0, 0)),
    ((16, 16), (4, 4), {}, nn.Conv2d, (4, 4), (4, 4), (0, 0)),
    # 'rule' forces the paper's kernel even for a whole factor
    ((32, 32), (16, 16), dict(spatial='rule'), nn.Conv2d, (17, 17), (1, 1),
     (0, 0)),
    # smaller by a whole factor: a stride-f transposed conv
    ((8, 8), (16, 16), {}, nn.ConvTranspose2d, (2, 2), (2, 2), (0, 0)),
    ((4, 8), (16, 8), {}, nn.ConvTranspose2d, (4, 1), (4, 1), (0, 0)),
]


@pytest.mark.parametrize('in_size,out_size,kwargs,layer,kernel,stride,pad',
                         GEOMETRIES)
def test_layer_and_output_shape_per_geometry(in_size, out_size, kwargs,
                                             layer, kernel, stride, pad):
    reg = HintRegressor(4, 6, in_size=in_size, out_size=out_size, **kwargs)
    assert type(reg.layer) is layer
    assert reg.layer.kernel_size == kernel
    assert reg.layer.stride == stride
    assert reg.layer.padding == pad
    out = reg(_map(4, *in_size))
    assert out.shape == (2, 6) + tuple(out_size)


def test_paper_rule_kernel_is_guided_minus_hint_plus_one():
    for g, h in [(18, 16), (21, 16), (9, 4), (31, 16)]:
        plan = plan_spatial((g, g), (h, h), spatial='auto')
        assert plan['kernel_size'] == (g - h + 1, ) * 2, (g, h)
        assert plan['stride'] == (1, 1) and plan['padding'] == (0, 0)
    plan = plan_spatial((32, 32), (16, 16), spatial='rule')
    assert plan['kernel_size'] == (17, 17)


def test_equal_sizes_default_when_out_size_omitted():
    reg = HintRegressor(4, 6, in_size=8)
    assert reg.out_size == (8, 8)
    assert reg(_map(4, 8)).shape == (2, 6, 8, 8)


def test_vectors_use_a_linear_layer():
    reg = HintRegressor(5, 7)
    assert isinstance(reg.layer, nn.Linear)
    assert (reg.layer.in_features, reg.layer.out_features) == (5, 7)
    assert reg(torch.randn(3, 5)).shape == (3, 7)


def test_built_from_the_registry():
    reg = MODELS.build(
        dict(type='HintRegressor', in_channels=4, out_channels=6, in_size=8))
    assert isinstance(reg, HintRegressor)
    assert reg(_map(4, 8)).shape == (2, 6, 8, 8)


def _biased(reg: HintRegressor, bias: float,
            std: float = 0.2) -> HintRegressor:
    """Make the pre-activation take both signs for sure."""
    with torch.no_grad():
        reg.layer.weight.normal_(std=std)
        reg.layer.bias.fill_(bias)
    return reg


def test_relu_is_applied_by_default():
    reg = _biased(HintRegressor(4, 6, in_size=8), 0.0)
    x = _map(4, 8)
    pre = reg.layer(x)
    assert (pre < 0).any()  # the test would be vacuous otherwise
    out = reg(x)
    assert (out >= 0).all()
    assert torch.equal(out, torch.relu(pre))


def test_no_activation_keeps_negative_values():
    reg = _biased(HintRegressor(4, 6, in_size=8, act_cfg=None), 0.0)
    x = _map(4, 8)
    out = reg(x)
    assert (out < 0).any()
    assert torch.equal(out, reg.layer(x))


def test_sigmoid_activation_maps_into_unit_interval():
    reg = _biased(
        HintRegressor(4, 6, in_size=8, act_cfg=dict(type='Sigmoid')), 0.0)
    x = _map(4, 8)
    out = reg(x)
    assert ((out > 0) & (out < 1)).all()
    assert torch.allclose(out, torch.sigmoid(reg.layer(x)))


def test_activation_applies_to_vectors_too():
    reg = _biased(HintRegressor(5, 7), -10.0)
    assert torch.equal(reg(torch.randn(3, 5)), torch.zeros(3, 7))


def test_from_shapes_infers_channels_and_sizes():
    reg = HintRegressor.from_shapes((1, 4, 18, 18), (1, 6, 16, 16))
    assert (reg.in_channels, reg.out_channels) == (4, 6)
    assert reg.layer.kernel_size == (3, 3)
    assert reg(_map(4, 18)).shape == (2, 6, 16, 16)
    vec = HintRegressor.from_shapes((1, 5), (1, 7), act_cfg=None)
    assert isinstance(vec.layer, nn.Linear) and isinstance(
        vec.act, nn.Identity)


def test_from_shapes_passes_other_arguments():
    reg = HintRegressor.from_shapes((1, 4, 8, 8), (1, 6, 8, 8),
                                    type='HintRegressor', kernel_size=1,
                                    bias=False)
    assert reg.layer.kernel_size == (1, 1)
    assert reg.layer.bias is None


def test_from_shapes_accepts_matching_explicit_values():
    reg = HintRegressor.from_shapes(
        (1, 4, 18, 18), (1, 6, 16, 16),
        in_channels=4,
        out_channels=6,
        in_size=18,
        out_size=(16, 16))
    assert reg(_map(4, 18)).shape == (2, 6, 16, 16)


@pytest.mark.parametrize('key,value', [('in_channels', 5),
                                       ('out_channels', 3),
                                       ('in_size', 16), ('out_size', (16, 8))])
def test_from_shapes_rejects_mismatching_explicit_values(key, value):
    with pytest.raises(ValueError, match='probe') as info:
        HintRegressor.from_shapes((1, 4, 18, 18), (1, 6, 16, 16),
                                  **{key: value})
    assert key in str(info.value)


@pytest.mark.parametrize('guided,hint', [
    ((1, 4, 12, 12), (1, 6, 16, 16)),
    ((1, 4, 8, 32), (1, 6, 16, 16)),
    ((1, 4, 8, 8), (1, 6)),
    ((1, 4), (1, 6, 8, 8)),
])
def test_impossible_pairs_raise_with_both_shapes_and_options(guided, hint):
    with pytest.raises(ValueError) as info:
        HintRegressor.from_shapes(guided, hint)
    msg = str(info.value)
    if len(guided) == len(hint):
        assert str(tuple(guided[2:])) in msg and str(tuple(hint[2:])) in msg
    else:
        assert str(guided) in msg and str(hint) in msg
    assert 'options' in msg


def test_impossible_sizes_raise_in_the_constructor():
    with pytest.raises(ValueError, match=r'\(12, 12\).*\(16, 16\).*options'):
        HintRegressor(4, 6, in_size=12, out_size=16)


@pytest.mark.parametrize('kwargs', [
    dict(in_channels=0, out_channels=6),
    dict(in_channels=4, out_channels=6, in_size=8, kernel_size=2),
    dict(in_channels=4, out_channels=6, in_size=8, spatial='paper'),
    dict(in_channels=4, out_channels=6, in_size=(8, 8, 8)),
])
def test_bad_arguments_raise(kwargs):
    with pytest.raises(ValueError):
        HintRegressor(**kwargs)


def test_maxout_regressor_for_a_maxout_hint_layer():
    """A maxout hint layer gets a maxout conv regressor with its pieces."""
    reg = HintRegressor.from_shapes((2, 16, 4, 4), (2, 48, 4, 4),
                                    kernel_size=1, num_pieces=2,
                                    act_cfg=None)
    assert reg.layer.out_channels == 96
    x = torch.randn(2, 16, 4, 4)
    out = reg(x)
    assert out.shape == (2, 48, 4, 4)
    pieces = reg.layer(x).unflatten(1, (48, 2))
    assert torch.equal(out, pieces.amax(dim=2))
    # vectors: a maxout linear layer
    fc = HintRegressor(8, 5, num_pieces=3, act_cfg=None)
    assert fc.layer.out_features == 15 and fc(torch.randn(4, 8)).shape == \
        (4, 5)
    with pytest.raises(ValueError, match='num_pieces.*got 0'):
        HintRegressor(8, 5, num_pieces=0)

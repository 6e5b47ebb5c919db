"""Tests for the parameter and multiplication counters."""
import pytest
import torch
from torch import nn

from fitnets_mm.models.backbones import MaxoutConv2d, MaxoutLinear
from fitnets_mm.models.utils.complexity import count_mult, count_params


def test_count_params_all_and_trainable():
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2, bias=False))
    assert count_params(model) == 3 * 4 + 4 + 4 * 2
    model[0].requires_grad_(False)
    assert count_params(model, trainable_only=True) == 4 * 2
    assert count_params(model) == 24


def test_count_mult_conv_and_linear():
    conv = nn.Conv2d(3, 8, 3, padding=1)
    assert count_mult(conv, (3, 10, 10)) == 8 * 10 * 10 * 3 * 3 * 3
    grouped = nn.Conv2d(4, 8, 3, padding=0, groups=2)
    assert count_mult(grouped, (4, 6, 6)) == 8 * 4 * 4 * 2 * 3 * 3
    assert count_mult(nn.Linear(5, 7), (5, )) == 35
    deconv = nn.ConvTranspose2d(4, 6, 2, stride=2)
    assert count_mult(deconv, (4, 3, 3)) == 4 * 3 * 3 * 6 * 2 * 2


def test_count_mult_counts_maxout_as_its_conv_and_skips_pooling():
    model = nn.Sequential(
        MaxoutConv2d(3, 4, kernel_size=3, num_pieces=2, pool_size=2),
        MaxoutLinear(4 * 4 * 4, 10, num_pieces=3))
    conv = 2 * 4 * 8 * 8 * 3 * 3 * 3  # pieces * units * detector * kernel
    fc = 3 * 10 * 64
    assert count_mult(model, (3, 8, 8)) == conv + fc


def test_count_mult_restores_modes_and_removes_hooks():
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.Dropout(), nn.Flatten())
    model.train()
    model[1].eval()
    count_mult(model, (1, 5, 5))
    assert model.training and model[0].training and not model[1].training
    assert not model[0]._forward_hooks
    # Counting twice gives the same number: nothing accumulates.
    assert count_mult(model, (1, 5, 5)) == count_mult(model, (1, 5, 5))


@pytest.mark.parametrize('shape', [(), (3, 0, 4), (3, -1), [2.0, 3]])
def test_count_mult_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match='input_shape'):
        count_mult(nn.Linear(2, 2), shape)


def test_count_mult_uses_the_model_dtype():
    model = nn.Linear(4, 2).double()
    assert count_mult(model, (4, )) == 8
    assert torch.get_default_dtype() == torch.float32


def test_count_mult_is_mmengines_count_without_norm_and_pooling():
    from mmengine.analysis import get_model_complexity_info
    model = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                          nn.Linear(8, 4))
    info = get_model_complexity_info(model, (3, 10, 10), show_table=False,
                                     show_arch=False)
    conv_and_fc = 8 * 8 * 8 * 3 * 3 * 3 + 8 * 4
    assert count_mult(model, (3, 10, 10)) == conv_and_fc
    # mmengine's total also counts the batch norm and the pooling.
    assert info['flops'] > conv_and_fc
    assert count_params(model) == info['params']


def test_count_until_a_layer_counts_only_what_runs_before_the_stop() -> None:
    model = nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(),
        nn.Conv2d(4, 8, 3, padding=1), nn.Flatten(), nn.Linear(8 * 6 * 6, 5))
    first = 4 * 6 * 6 * 3 * 3 * 3
    second = 8 * 6 * 6 * 4 * 3 * 3
    assert count_mult(model, (3, 6, 6), until='0') == first
    assert count_mult(model, (3, 6, 6), until='2') == first + second
    assert count_mult(model, (3, 6, 6)) == first + second + 8 * 6 * 6 * 5

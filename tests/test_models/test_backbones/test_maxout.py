"""Tests for the maxout layers and the paper's max-pooling."""
import pytest
import torch
from torch import nn

import fitnets_mm  # noqa: F401  (registers the modules)
from fitnets_mm.models.backbones import (Maxout, MaxoutConv2d, MaxoutLinear,
                                         paper_max_pool)


def test_maxout_is_the_max_over_consecutive_pieces():
    x = torch.randn(2, 12, 5, 4)
    out = Maxout(num_pieces=3)(x)
    assert out.shape == (2, 4, 5, 4)
    # Unit c owns channels 3c, 3c + 1, 3c + 2 (pylearn2's order).
    for c in range(4):
        manual = torch.max(torch.max(x[:, 3 * c], x[:, 3 * c + 1]),
                           x[:, 3 * c + 2])
        torch.testing.assert_close(out[:, c], manual)


def test_maxout_on_vectors_and_one_piece():
    x = torch.randn(3, 8)
    torch.testing.assert_close(Maxout(2)(x), x.view(3, 4, 2).amax(-1))
    torch.testing.assert_close(Maxout(1)(x), x)


def test_maxout_rejects_bad_pieces_and_channels():
    with pytest.raises(ValueError, match='num_pieces.*got 0'):
        Maxout(0)
    with pytest.raises(ValueError, match='divisible by 3.*got 4 channels'):
        Maxout(3)(torch.randn(1, 4, 2, 2))


def test_maxout_conv2d_equals_conv_then_manual_max_then_pool():
    torch.manual_seed(0)
    layer = MaxoutConv2d(3, 5, kernel_size=3, num_pieces=2, padding=1,
                         pool_size=2)
    assert layer.conv.out_channels == 10
    x = torch.randn(2, 3, 8, 8)
    z = layer.conv(x)
    manual = torch.max(z[:, 0::2], z[:, 1::2])
    manual = nn.functional.max_pool2d(manual, 2, 2, ceil_mode=True)
    out = layer(x)
    assert out.shape == (2, 5, 4, 4)
    torch.testing.assert_close(out, manual)


def test_maxout_conv2d_pool_then_maxout_gives_the_same():
    # pylearn2 pools the pieces, then takes the maximum: same result.
    torch.manual_seed(0)
    layer = MaxoutConv2d(2, 3, kernel_size=3, num_pieces=3, padding=0,
                         pool_size=4, pool_stride=2)
    x = torch.randn(2, 2, 13, 13)
    pooled = nn.functional.max_pool2d(layer.conv(x), 4, 2, ceil_mode=True)
    torch.testing.assert_close(layer(x), Maxout(3)(pooled))


def test_maxout_conv2d_without_pool_and_argument_checks():
    layer = MaxoutConv2d(4, 6, kernel_size=5, num_pieces=2, padding=2)
    assert layer.pool is None
    assert layer(torch.randn(1, 4, 7, 7)).shape == (1, 6, 7, 7)
    with pytest.raises(ValueError, match='pool_stride.*pool_size=None'):
        MaxoutConv2d(4, 6, pool_stride=2)
    with pytest.raises(ValueError, match='padding.*got -1'):
        MaxoutConv2d(4, 6, padding=-1)
    with pytest.raises(ValueError, match='out_channels.*got 0'):
        MaxoutConv2d(4, 0)


def test_maxout_linear_flattens_and_takes_the_max():
    torch.manual_seed(0)
    layer = MaxoutLinear(2 * 3 * 3, 4, num_pieces=5)
    x = torch.randn(2, 2, 3, 3)
    z = layer.fc(x.flatten(1))
    out = layer(x)
    assert out.shape == (2, 4)
    torch.testing.assert_close(out, z.view(2, 4, 5).amax(-1))
    with pytest.raises(ValueError, match='expects 18 features.*got 8'):
        layer(torch.randn(2, 8))


@pytest.mark.parametrize('size,kernel,stride,expected', [
    (33, 4, 2, 16),  # the CIFAR teacher's maps, as pylearn2 pools them
    (15, 4, 2, 7),
    (9, 2, 2, 5),
    (32, 2, 2, 16),
    (8, 8, 1, 1),
])
def test_paper_max_pool_covers_every_input(size, kernel, stride, expected):
    pool = paper_max_pool(kernel, stride)
    assert pool(torch.randn(1, 1, size, size)).shape[-1] == expected


def test_paper_max_pool_default_stride_and_checks():
    assert paper_max_pool(2).stride == 2
    with pytest.raises(ValueError, match='kernel_size.*got 0'):
        paper_max_pool(0)

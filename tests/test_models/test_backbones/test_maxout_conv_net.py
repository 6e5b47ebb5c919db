"""Tests for the generic MaxoutConvNet and the arch tables (MaxoutArchNet)."""
from typing import Dict

import pytest
import torch
from mmpretrain.registry import MODELS

import fitnets_mm  # noqa: F401  (registers the backbones)
from fitnets_mm.models.backbones import (FitNetCIFAR, FitNetMNIST,
                                         MaxoutArchNet, MaxoutConvNet)
from fitnets_mm.models.backbones import fitnet_cifar


def test_maxout_conv_net_from_stage_specs():
    net = MODELS.build(
        dict(
            type='MaxoutConvNet',
            stages=[
                dict(channels=[4, 6], kernel_size=[5, 3], padding=[2, 1]),
                dict(channels=8, pool_size=None, num_pieces=3),
            ],
            in_channels=1,
            input_size=(8, 12),
            fc_channels=5,
            fc_pieces=4,
            out_indices=(0, 1, 2, 3)))
    assert [layer.num_pieces for layer in net.layers] == [2, 2, 3, 4]
    assert net.layers[0].pool is None and net.layers[1].pool is not None
    assert net.out_shapes == [(4, 8, 12), (6, 4, 6), (8, 4, 6), (5, )]
    outs = net(torch.randn(2, 1, 8, 12))
    assert [tuple(o.shape[1:]) for o in outs] == net.out_shapes


@pytest.mark.parametrize('stages,match', [
    ([], 'non-empty list'),
    ([dict(channels=[4], stride=2)], r"unknown keys \['stride'\]"),
    ([dict(channels=[])], 'needs `channels`'),
    ([dict(channels=[4, 4], kernel_size=[3])], 'one value per conv layer'),
    ([dict(channels=[4], kernel_size=5, padding=0)] * 2,
     r'\(8, 8\) is too small for layer 1'),
])
def test_maxout_conv_net_rejects_bad_specs(stages, match):
    with pytest.raises(ValueError, match=match):
        MaxoutConvNet(stages=stages, input_size=8)


class _TinyTable(MaxoutArchNet):
    """An arch table of two tiny nets on 1x8x8 images."""

    default_arch = 'one'
    image_shape = (1, 8, 8)
    default_flatten_output = True
    arch_settings: Dict[str, dict] = {
        'one': dict(stages=[dict(channels=[4])]),
        'two': dict(stages=[dict(channels=[4, 6])], fc_channels=5),
    }


def test_arch_table_builds_the_named_arch_with_its_defaults():
    net = _TinyTable()
    assert net.arch == 'one' and net.in_channels == 1
    assert net.input_size == (8, 8) and net.flatten_output
    assert net.out_shapes == [(4, 4, 4)]
    assert net(torch.randn(2, 1, 8, 8))[0].shape == (2, 64)
    two = _TinyTable(arch='two', num_pieces=3, flatten_output=False,
                     out_indices=(0, 2))
    assert [layer.num_pieces for layer in two.layers] == [3, 3, 3]
    assert two.out_shapes == [(4, 8, 8), (6, 4, 4), (5, )]
    assert not two.flatten_output
    # the table itself is left as it was
    assert 'num_pieces' not in _TinyTable.arch_settings['two']['stages'][0]


def test_arch_table_rejects_unknown_arch():
    with pytest.raises(ValueError, match=r"one of \['one', 'two'\].*'three'"):
        _TinyTable(arch='three')


def test_paper_backbones_are_thin_tables():
    for cls, arch, flatten in ((FitNetCIFAR, 'fitnet4', False),
                               (FitNetMNIST, 'student', True)):
        assert issubclass(cls, MaxoutArchNet)
        assert '__init__' not in vars(cls)
        net = cls()
        assert net.arch == arch and net.flatten_output is flatten
    assert fitnet_cifar.MaxoutConvNet is MaxoutConvNet  # old import path
    assert MODELS.get('MaxoutConvNet') is MaxoutConvNet

"""Tests for the FitNets CIFAR-10 networks."""
import pytest
import torch
from mmengine.model import BaseModule
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

import fitnets_mm  # noqa: F401  (registers the backbones)
from fitnets_mm.models.backbones import (FitNetCIFAR, MaxoutConv2d,
                                         MaxoutConvNet, MaxoutLinear)
from fitnets_mm.models.utils.complexity import count_mult, count_params

# Romero et al. (2015), Table 5: (parameters, multiplications).
PAPER_TABLE5 = {
    'teacher': (9e6, 725e6),
    'fitnet1': (250e3, 30e6),
    'fitnet2': (862e3, 108e6),
    'fitnet3': (1.6e6, 392e6),
    'fitnet4': (2.5e6, 382e6),
}
# Our exact counts (backbone + 500->10 softmax), pinned against silent
# changes of the architectures.
MEASURED = {
    'teacher': (9_046_330, 725_090_696),
    'fitnet1': (251_194, 30_150_024),
    'fitnet2': (864_122, 107_775_880),
    'fitnet3': (1_506_138, 394_725_256),
    'fitnet4': (2_548_602, 381_749_128),
}
# Conv layers + the fully-connected maxout layer (the softmax is the head).
NUM_LAYERS = {
    'teacher': 4,
    'fitnet1': 10,
    'fitnet2': 10,
    'fitnet3': 12,
    'fitnet4': 18,
}


def build_classifier(arch: str, **backbone_kwargs) -> nn.Module:
    return MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(type='FitNetCIFAR', arch=arch, **backbone_kwargs),
            neck=None,
            head=dict(
                type='LinearClsHead',
                num_classes=10,
                in_channels=500,
                loss=dict(type='CrossEntropyLoss'))))


@pytest.mark.parametrize('arch', list(PAPER_TABLE5))
def test_counts_within_10_percent_of_table5(arch):
    model = build_classifier(arch)
    params = count_params(model)
    mult = count_mult(model, (3, 32, 32))
    paper_params, paper_mult = PAPER_TABLE5[arch]
    assert abs(params - paper_params) / paper_params < 0.10, params
    assert abs(mult - paper_mult) / paper_mult < 0.10, mult
    assert (params, mult) == MEASURED[arch]


@pytest.mark.parametrize('arch', list(PAPER_TABLE5))
def test_structure_and_output(arch):
    backbone = FitNetCIFAR(arch=arch)
    assert isinstance(backbone, BaseModule)
    assert len(backbone.layers) == NUM_LAYERS[arch]
    assert all(isinstance(layer, MaxoutConv2d)
               for layer in backbone.layers[:-1])
    assert isinstance(backbone.layers[-1], MaxoutLinear)
    # No normalization layers, as in the paper.
    assert not any(isinstance(m, nn.modules.batchnorm._NormBase)
                   for m in backbone.modules())
    outs = backbone(torch.randn(2, 3, 32, 32))
    assert isinstance(outs, tuple) and len(outs) == 1
    assert outs[0].shape == (2, 500)


def test_teacher_maps_follow_pylearn2_pooling():
    backbone = FitNetCIFAR(arch='teacher')
    assert backbone.out_shapes == [(96, 16, 16), (192, 7, 7), (192, 5, 5),
                                   (500, )]


def test_hint_and_guided_layers_have_the_paper_shapes():
    modules = dict(FitNetCIFAR(arch='teacher').named_modules())
    assert FitNetCIFAR.paper_hint_layer == {'teacher': 'layers.1'}
    assert FitNetCIFAR.paper_hint_layer['teacher'] in modules
    hint_index = int(FitNetCIFAR.paper_hint_layer['teacher'].split('.')[1])
    assert FitNetCIFAR(arch='teacher').out_shapes[hint_index] == (192, 7, 7)
    expected = {'fitnet1': 32, 'fitnet2': 80, 'fitnet3': 80, 'fitnet4': 80}
    assert set(FitNetCIFAR.paper_guided_layer) == set(expected)
    for arch, channels in expected.items():
        backbone = FitNetCIFAR(arch=arch)
        path = FitNetCIFAR.paper_guided_layer[arch]
        assert path in dict(backbone.named_modules())
        index = int(path.split('.')[1])
        # The last layer of the middle stage, pooled to 8x8.
        assert backbone.out_shapes[index] == (channels, 8, 8)
        assert backbone.out_shapes[index + 1][1:] == (8, 8)


def test_out_indices_return_the_named_layers():
    backbone = FitNetCIFAR(arch='fitnet1', out_indices=(1, 5, -1))
    assert backbone.out_indices == (1, 5, 9)
    outs = backbone(torch.randn(2, 3, 32, 32))
    assert [tuple(o.shape) for o in outs] == [(2, 16, 32, 32), (2, 32, 8, 8),
                                              (2, 500)]
    flat = FitNetCIFAR(arch='fitnet1', out_indices=5, flatten_output=True)
    assert flat(torch.randn(2, 3, 32, 32))[0].shape == (2, 32 * 8 * 8)


def test_num_pieces_is_configurable():
    backbone = FitNetCIFAR(arch='fitnet1', num_pieces=3)
    assert all(layer.num_pieces == 3 for layer in backbone.layers)
    assert backbone.layers[0].conv.out_channels == 16 * 3
    assert backbone(torch.randn(1, 3, 32, 32))[0].shape == (1, 500)


def test_registry_build_and_loss_forward():
    torch.manual_seed(0)
    model = build_classifier('fitnet1')
    assert isinstance(model.backbone, FitNetCIFAR)
    inputs = torch.randn(2, 3, 32, 32)
    samples = [DataSample().set_gt_label(i) for i in (3, 7)]
    losses = model(inputs, samples, mode='loss')
    assert set(losses) == {'loss'}
    assert torch.isfinite(losses['loss'])
    losses['loss'].backward()
    assert model.backbone.layers[0].conv.weight.grad is not None
    # The hint path works on a classifier too.
    assert 'backbone.layers.5' in dict(model.named_modules())


def test_bad_arch_and_out_indices():
    with pytest.raises(ValueError, match="one of .*'fitnet4'.*got 'fitnet5'"):
        FitNetCIFAR(arch='fitnet5')
    with pytest.raises(ValueError, match=r'\[-10, 9\].*got 10'):
        FitNetCIFAR(arch='fitnet1', out_indices=10)
    with pytest.raises(ValueError, match='at least one'):
        FitNetCIFAR(arch='fitnet1', out_indices=())

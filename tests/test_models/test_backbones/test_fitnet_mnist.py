"""Tests for the FitNets MNIST teacher and student."""
import pytest
import torch
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from torch import nn

import fitnets_mm  # noqa: F401  (registers the backbones)
from fitnets_mm.models.backbones import FitNetMNIST
from fitnets_mm.models.utils.complexity import count_mult, count_params

# Romero et al. (2015), Sec. 4.2 / Table 4: parameters.
PAPER_PARAMS = {'teacher': 361e3, 'student': 30e3}
# Our exact counts (backbone + softmax head): (params, mult).
MEASURED = {'teacher': (361_066, 28_673_136), 'student': (30_130, 5_310_648)}
HEAD_IN = {'teacher': 24 * 3 * 3, 'student': 12 * 3 * 3}


def build_classifier(arch: str) -> nn.Module:
    return MODELS.build(
        dict(
            type='ImageClassifier',
            backbone=dict(type='FitNetMNIST', arch=arch),
            neck=None,
            head=dict(
                type='LinearClsHead',
                num_classes=10,
                in_channels=HEAD_IN[arch],
                loss=dict(type='CrossEntropyLoss'))))


@pytest.mark.parametrize('arch', ['teacher', 'student'])
def test_counts_within_10_percent_of_the_paper(arch):
    model = build_classifier(arch)
    params = count_params(model)
    assert abs(params - PAPER_PARAMS[arch]) / PAPER_PARAMS[arch] < 0.10
    assert (params, count_mult(model, (1, 28, 28))) == MEASURED[arch]


def test_layers_and_shapes():
    teacher = FitNetMNIST(arch='teacher')
    student = FitNetMNIST(arch='student')
    assert len(teacher.layers) == 3 and len(student.layers) == 6
    assert teacher.out_shapes == [(48, 10, 10), (48, 4, 4), (24, 3, 3)]
    assert student.out_shapes == [(16, 24, 24), (16, 10, 10), (16, 12, 12),
                                  (16, 4, 4), (12, 8, 8), (12, 3, 3)]
    for net in (teacher, student):
        assert not any(isinstance(m, nn.modules.batchnorm._NormBase)
                       for m in net.modules())
    x = torch.randn(2, 1, 28, 28)
    assert teacher(x)[0].shape == (2, 216)
    assert student(x)[0].shape == (2, 108)
    maps = FitNetMNIST(arch='student', out_indices=(3, 5),
                       flatten_output=False)(x)
    assert [tuple(m.shape) for m in maps] == [(2, 16, 4, 4), (2, 12, 3, 3)]


def test_hint_and_guided_layers():
    assert FitNetMNIST.paper_hint_layer == {'teacher': 'layers.1'}
    assert FitNetMNIST.paper_guided_layer == {'student': 'layers.3'}
    teacher = FitNetMNIST(arch='teacher')
    student = FitNetMNIST(arch='student')
    assert 'layers.1' in dict(teacher.named_modules())
    assert 'layers.3' in dict(student.named_modules())
    # Hint and guided maps have the same 4x4 size.
    assert teacher.out_shapes[1][1:] == student.out_shapes[3][1:] == (4, 4)


def test_num_pieces_and_bad_arch():
    net = FitNetMNIST(arch='student', num_pieces=4)
    assert net.layers[4].conv.out_channels == 12 * 4
    with pytest.raises(ValueError, match="one of.*got 'fitnet1'"):
        FitNetMNIST(arch='fitnet1')


def test_registry_build_and_loss_forward():
    torch.manual_seed(0)
    model = build_classifier('student')
    samples = [DataSample().set_gt_label(i) for i in (0, 9)]
    losses = model(torch.randn(2, 1, 28, 28), samples, mode='loss')
    assert torch.isfinite(losses['loss'])

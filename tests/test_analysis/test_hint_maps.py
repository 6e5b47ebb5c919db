"""Hint maps: images in, teacher hints and regressed guided outputs out."""
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.registry import init_default_scope
from PIL import Image

import fitnets_mm  # noqa: F401  (registers FitNetsDistill)
from fitnets_mm.analysis import (channel_mean, compute_hint_maps, load_images,
                                 preprocess_images, value_range, wants_bgr)
from utils import toy_models as tm


def _classifier(width: int) -> dict:
    """The toy classifier, normalised by the algorithm's preprocessor."""
    cfg = tm.classifier_cfg(width)
    del cfg['data_preprocessor']
    return cfg


@pytest.fixture(scope='module')
def algorithm() -> torch.nn.Module:
    """A tiny FitNetsDistill: width-4 student, width-8 teacher, 16 x 16."""
    from mmengine.registry import DefaultScope
    from mmrazor.registry import MODELS

    # A module-scoped fixture runs before the suite's per-test scope reset:
    # leave no default scope behind for later test files.
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        return _build_algorithm(MODELS)


def _build_algorithm(MODELS: object) -> torch.nn.Module:
    return MODELS.build(
        dict(
            _scope_='mmrazor',
            type='FitNetsDistill',
            data_preprocessor=dict(
                type='mmpretrain.ClsDataPreprocessor',
                mean=[120.0, 110.0, 100.0],
                std=[50.0, 50.0, 50.0],
                to_rgb=True),
            architecture=_classifier(4),
            teacher=_classifier(8),
            distiller=dict(type='ConfigurableDistiller'),
            hints=[
                dict(student='backbone.layer2', teacher='backbone.layer2'),
                dict(student='backbone.layer1', teacher='backbone.layer3'),
            ],
            input_shape=(3, 16, 16))).eval()


def _stage(backbone: torch.nn.Module, x: torch.Tensor,
           n: int) -> torch.Tensor:
    """The output of ``backbone.layer{n}`` of a ResNet_CIFAR."""
    x = backbone.relu(backbone.norm1(backbone.conv1(x)))
    for i in range(1, n + 1):
        x = getattr(backbone, f'layer{i}')(x)
    return x


def test_maps_and_cosine_match_a_manual_forward(
        algorithm: torch.nn.Module) -> None:
    x = torch.randn(3, 3, 16, 16)
    algorithm.train()  # compute_hint_maps uses eval mode and restores modes
    maps = compute_hint_maps(algorithm, x, pair_index=0)
    assert algorithm.student.training and algorithm.regressors[0].training
    algorithm.eval()
    with torch.no_grad():
        hint = _stage(algorithm.teacher.backbone, x, 2)
        regressed = algorithm.regressors[0](_stage(
            algorithm.student.backbone, x, 2))
    assert torch.allclose(maps.hint, hint)
    assert torch.allclose(maps.regressed, regressed)
    expected = F.cosine_similarity(hint.flatten(1), regressed.flatten(1))
    assert torch.allclose(maps.cosine, expected)
    assert maps.cosine.shape == (3, )
    assert torch.equal(maps.difference, (hint - regressed).abs())
    assert (maps.student, maps.teacher) == ('backbone.layer2',
                                            'backbone.layer2')


def test_second_pair_and_bad_index(algorithm: torch.nn.Module) -> None:
    maps = compute_hint_maps(algorithm, torch.randn(2, 3, 16, 16), 1)
    # Student layer1 (16 x 16) regressed onto teacher layer3 (4 x 4).
    assert maps.hint.shape == maps.regressed.shape == (2, 32, 4, 4)
    with pytest.raises(ValueError, match=r'\[0, 1\] .* but got 2'):
        compute_hint_maps(algorithm, torch.randn(1, 3, 16, 16), 2)


def test_load_and_preprocess_images(algorithm: torch.nn.Module,
                                    tmp_path: Path) -> None:
    rgb = np.zeros((20, 30, 3), dtype=np.uint8)
    rgb[..., 0] = 200  # red
    Image.fromarray(rgb).save(tmp_path / 'red.png')
    (img, ) = load_images([str(tmp_path / 'red.png')], (3, 16, 12))
    assert img.shape == (16, 12, 3) and img.dtype == np.uint8
    assert (img[..., 0] == 200).all() and (img[..., 1:] == 0).all()
    (bgr, ) = load_images([str(tmp_path / 'red.png')], (3, 16, 12), bgr=True)
    assert (bgr[..., 2] == 200).all()
    (grey, ) = load_images([str(tmp_path / 'red.png')], (1, 8, 8))
    assert grey.shape == (8, 8, 1)
    with pytest.raises(ValueError, match='1 or 3 input channels'):
        load_images([str(tmp_path / 'red.png')], (4, 8, 8))

    # to_rgb=True: the preprocessor takes BGR, as LoadImageFromFile gives.
    assert wants_bgr(algorithm)
    batch = preprocess_images(algorithm, [bgr, bgr])
    assert batch.shape == (2, 3, 16, 12)
    # Red (200) normalised with the red channel's mean and std.
    assert torch.allclose(batch[:, 0], torch.tensor((200 - 120) / 50.0))
    assert torch.allclose(batch[:, 2], torch.tensor((0 - 100) / 50.0))


def test_channel_mean_and_range() -> None:
    maps = torch.arange(2 * 3 * 2 * 2, dtype=torch.float).view(2, 3, 2, 2)
    assert np.allclose(channel_mean(maps), maps.mean(1).numpy())
    assert channel_mean(torch.ones(2, 5)).shape == (2, 1, 5)
    with pytest.raises(ValueError, match=r'\(N, C, H, W\)'):
        channel_mean(torch.ones(2, 3, 4))
    assert value_range(np.zeros(2), np.ones(2)) == (0.0, 1.0)
    lo, hi = value_range(np.ones(2))
    assert hi > lo == 1.0


def test_connector_pair_of_an_mmrazor_distiller() -> None:
    """A FitNets hint written as an MMRazor connector + HintLoss is drawn."""
    from mmrazor.registry import MODELS
    init_default_scope('mmpretrain')
    distill = MODELS.build(
        dict(
            _scope_='mmrazor',
            type='SingleTeacherDistill',
            architecture=_classifier(4),
            teacher=_classifier(8),
            distiller=dict(
                type='ConfigurableDistiller',
                student_recorders=dict(
                    g=dict(type='ModuleOutputs', source='backbone.layer2')),
                teacher_recorders=dict(
                    h=dict(type='ModuleOutputs', source='backbone.layer2')),
                connectors=dict(
                    reg=dict(type='HintRegressor', in_channels=8,
                             out_channels=16, in_size=8)),
                distill_losses=dict(loss_hint=dict(type='HintLoss')),
                loss_forward_mappings=dict(
                    loss_hint=dict(
                        s_feature=dict(from_student=True, recorder='g',
                                       connector='reg'),
                        t_feature=dict(from_student=False,
                                       recorder='h'))))))
    distill.eval()
    x = torch.randn(2, 3, 16, 16)
    maps = compute_hint_maps(distill, x)
    assert maps.hint.shape == maps.regressed.shape == (2, 16, 8, 8)
    with torch.no_grad():
        regressed = distill.distiller.connectors['reg'](_stage(
            distill.student.backbone, x, 2))
        hint = _stage(distill.teacher.backbone, x, 2)
    assert torch.allclose(maps.regressed, regressed)
    assert torch.allclose(maps.hint, hint)

"""``fitnets_mm.compat.mmrazor_inplace``: in-place activations really off."""
from collections import OrderedDict
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope
from torch import nn

import fitnets_mm  # noqa: F401
from fitnets_mm.compat import mmrazor_inplace
from mmrazor.models.algorithms.base import BaseAlgorithm
from mmrazor.models.architectures.dynamic_ops.bricks.dynamic_container import \
    DynamicSequential
from mmrazor.registry import MODELS

OFD = next((Path(__file__).resolve().parents[2] / 'tests' / 'data' /
            'mmrazor_configs' / 'configs' / 'distill' / 'mmcls' /
            'ofd').glob('*.py'))


def _toy() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.Sequential(nn.BatchNorm2d(4),
                                          nn.ReLU(inplace=True)))


def test_mmrazor_own_case_dict_modules() -> None:
    # MMRazor's test_set_module_inplace_false, on torch 2.x's dict _modules.
    model = _toy()
    assert type(model._modules) is dict
    BaseAlgorithm.set_module_inplace_false(None, model, 'self.architecture')
    assert model[1][1].inplace is False


def test_upstream_method_misses_dict_modules() -> None:
    model = _toy()
    upstream = mmrazor_inplace.upstream_set_module_inplace_false
    assert upstream is not None
    # ``varstr`` is eval()ed in MMRazor's method, relative to ``self``.
    holder = type('Holder', (), {'set_module_inplace_false': upstream})()
    holder.architecture = model
    holder.set_module_inplace_false(model, 'self.architecture')
    assert model[1][1].inplace is True  # the bug this fix closes


def _ofd_bn1_records(monkeypatch: pytest.MonkeyPatch,
                     upstream: bool) -> torch.Tensor:
    if upstream:
        monkeypatch.setattr(BaseAlgorithm, 'set_module_inplace_false',
                            mmrazor_inplace.upstream_set_module_inplace_false)
    model_cfg = Config.fromfile(str(OFD)).model
    model_cfg.teacher_ckpt = None
    with DefaultScope.overwrite_default_scope('mmrazor'):
        model = MODELS.build(model_cfg)
    torch.manual_seed(0)
    inputs = torch.randn(2, 3, 32, 32)
    from mmpretrain.structures import DataSample
    samples = [DataSample().set_gt_label(i) for i in range(2)]
    model.train()
    model(inputs, samples, mode='loss')
    return (model.distiller.student_recorders.get_recorder('bb_3').get_record_data(),
            model.distiller.teacher_recorders.get_recorder('bb_3').get_record_data())


def test_ofd_pre_relu_recorder_holds_pre_activation(
        monkeypatch: pytest.MonkeyPatch) -> None:
    student, teacher = _ofd_bn1_records(monkeypatch, upstream=False)
    # backbone.bn1 feeds an in-place ReLU; its true output (BN after the
    # blocks' pre-activation sum) is partly negative.
    assert (student < 0).float().mean() > 0.3
    assert (teacher < 0).float().mean() > 0.3


def test_ofd_recorder_without_fix_holds_post_relu(
        monkeypatch: pytest.MonkeyPatch) -> None:
    student, teacher = _ofd_bn1_records(monkeypatch, upstream=True)
    assert student.min() >= 0 and teacher.min() >= 0


def test_dynamic_sequential_convert_from_dict_modules() -> None:
    static = nn.Sequential(OrderedDict(conv=nn.Conv2d(3, 4, 1),
                                       act=nn.ReLU()))
    dynamic = DynamicSequential.convert_from(static)
    assert list(dynamic._modules)[:2] == ['conv', 'act']
    assert dynamic.conv is static.conv

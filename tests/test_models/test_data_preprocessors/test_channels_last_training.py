"""``channels_last=True`` in the data preprocessor makes the student, the
teacher and the regressor compute in NHWC, with the same losses."""

import pytest
import torch

from fitnets_mm.models.algorithms import FitNetsDistill  # noqa: F401
from mmrazor.registry import MODELS  # noqa: I100

from utils import toy_models as tm


@pytest.fixture(autouse=True)
def _mmrazor_scope():
    """Build in MMRazor's scope whatever scope earlier tests left."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmrazor'):
        yield


def _build(channels_last: bool):
    cfg = tm.fitnets_cfg()
    for net in ('architecture', 'teacher'):
        cfg[net]['data_preprocessor'] = dict(
            type='BatchClsDataPreprocessor', mean=[127.5] * 3,
            std=[127.5] * 3, num_classes=tm.NUM_CLASSES,
            channels_last=channels_last)
    torch.manual_seed(0)
    return MODELS.build(cfg)


@pytest.mark.parametrize('stage', ['hint', 'kd'])
def test_channels_last_runs_nhwc_with_the_same_losses(stage) -> None:
    with tm.one_thread():
        outputs = {}
        losses = {}
        for cl in (False, True):
            model = _build(cl)
            model.set_stage(stage)
            model.train()
            seen = []
            for module in (model.student.backbone.layer2,
                           model.teacher.backbone.layer2,
                           model.regressors[0]):
                module.register_forward_hook(
                    lambda m, i, o: seen.append(o.is_contiguous(
                        memory_format=torch.channels_last)))
            data = model.data_preprocessor(tm.batch(4), True)
            assert data['inputs'].is_contiguous(
                memory_format=torch.channels_last) is cl
            losses[cl] = model.loss(data['inputs'], data['data_samples'])
            outputs[cl] = seen
        expected = 3 if stage == 'hint' else 2  # no regressor in stage 2
        assert outputs[True] == [True] * expected
        assert outputs[False] == [False] * expected
        for key, value in losses[False].items():
            torch.testing.assert_close(losses[True][key], value, rtol=1e-4,
                                       atol=1e-5)

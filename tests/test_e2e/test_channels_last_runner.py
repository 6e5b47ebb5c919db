"""Both FitNets stages train through the Runner in NCHW and in channels_last
(the default) with the same losses, and channels_last really reaches the
convolutions."""
from typing import Any, Dict, List

import pytest
import torch
from mmengine.hooks import Hook

from utils import toy_models as tm


class LossAndLayoutHook(Hook):
    """Record each iteration's stage, loss terms and the student's layout."""

    def __init__(self) -> None:
        self.seen: List[Dict[str, Any]] = []
        self.nhwc: List[bool] = []
        self._handle = None

    def before_train(self, runner) -> None:
        layer = runner.model.student.backbone.layer2
        self._handle = layer.register_forward_hook(
            lambda m, i, o: self.nhwc.append(
                o.is_contiguous(memory_format=torch.channels_last)
                and not o.is_contiguous()))

    def after_train_iter(self, runner, batch_idx, data_batch=None,
                         outputs=None) -> None:
        self.seen.append(dict(
            stage=runner.model.stage,
            **{k: float(v) for k, v in outputs.items() if 'loss' in k}))

    def after_train(self, runner) -> None:
        self._handle.remove()


def _train(work_dir: str, channels_last) -> LossAndLayoutHook:
    model = tm.fitnets_cfg()
    pre = dict(type='BatchClsDataPreprocessor', mean=[127.5] * 3,
               std=[127.5] * 3, num_classes=tm.NUM_CLASSES)
    if channels_last is not None:  # None: the default
        pre['channels_last'] = channels_last
    for net in ('architecture', 'teacher'):
        model[net]['data_preprocessor'] = dict(pre)
    hook = LossAndLayoutHook()
    runner = tm.build_runner(work_dir=work_dir, model=model, hint_epochs=1,
                             kd_epochs=1, custom_hooks=[hook])
    try:
        runner.train()
    finally:
        tm.reset_runner_state()
    return hook


def test_both_stages_train_with_the_same_losses_in_both_layouts(
        tmp_path) -> None:
    with tm.one_thread():
        nchw = _train(str(tmp_path / 'nchw'), channels_last=False)
        default = _train(str(tmp_path / 'default'), channels_last=None)
    assert [s['stage'] for s in default.seen] == ['hint', 'hint', 'kd', 'kd']
    assert [s['stage'] for s in nchw.seen] == ['hint', 'hint', 'kd', 'kd']
    assert default.nhwc and all(default.nhwc)  # the default is NHWC
    assert nchw.nhwc and not any(nchw.nhwc)
    for a, b in zip(nchw.seen, default.seen):
        assert set(a) == set(b)
        for key in a:
            if key != 'stage':
                # float reorderings of NHWC kernels, over 4 SGD steps
                assert b[key] == pytest.approx(a[key], rel=1e-4, abs=1e-6)

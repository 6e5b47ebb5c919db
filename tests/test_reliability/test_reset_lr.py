"""Resume with a new learning rate: ``tools/train.py --resume --reset-lr``.

``--resume`` restores the learning rate saved in the checkpoint, so a run
that diverged would resume with the rate that made it diverge. With
``--reset-lr`` the config's rate (here from ``--cfg-options``) replaces the
saved base rate and the schedule keeps its place; without it the saved rate
stays. The non-finite-loss error gives this command as its advice.

Protection: ``tools/train.py``'s ``ResetLearningRateHook``.
"""
import os
import re
import runpy
import sys
from pathlib import Path
from typing import Dict, List

from utils import reliability as H
import pytest
from mmengine.runner import Runner

from fitnets_mm.engine.hooks import NonFiniteLossError


def _train_cli(*args: str) -> None:
    argv = sys.argv
    sys.argv = ['tools/train.py', *args]
    try:
        runpy.run_path(H.TRAIN_PY, run_name='__main__')
    finally:
        sys.argv = argv


def _lrs(work_dir: Path) -> Dict[int, List[float]]:
    """The learning rates logged in each epoch."""
    lrs: Dict[int, List[float]] = {}
    for epoch, lr in re.findall(r'Epoch\(train\) \[(\d+)\]\[.*?lr: (\S+)',
                                H.log_text(str(work_dir))):
        lrs.setdefault(int(epoch), []).append(float(lr))
    return lrs


@pytest.fixture(scope='module')
def after_epoch_1(tmp_path_factory: pytest.TempPathFactory,
                  teacher_ckpt: str) -> tuple:
    """Config (1 hint + 2 KD epochs, lr 0.05, KD step decay x0.5 after the
    first KD epoch) and its checkpoint after epoch 1."""
    root = tmp_path_factory.mktemp('reset_lr')
    cfg = H.fitnets_cfg(str(root / 'first'), teacher_ckpt, hint_epochs=1,
                        kd_epochs=2)
    config = H.dump_cfg(cfg, str(root / 'cfg.py'))
    Runner.from_cfg(cfg.copy()).train()
    return config, str(root / 'first' / 'epoch_1.pth')


@pytest.mark.parametrize('reset', [True, False])
def test_resume_with_a_new_learning_rate(tmp_path: Path, after_epoch_1: tuple,
                                         reset: bool) -> None:
    config, checkpoint = after_epoch_1
    work_dir = tmp_path / 'work'
    _train_cli(config, '--work-dir', str(work_dir), '--resume', checkpoint,
               *(['--reset-lr'] if reset else []), '--cfg-options',
               'optim_wrapper.optimizer.lr=0.01')
    lrs = _lrs(work_dir)
    assert sorted(lrs) == [2, 3]
    base = 0.01 if reset else 0.05  # the config's, or the checkpoint's
    assert all(lr == pytest.approx(base) for lr in lrs[2])
    assert all(lr == pytest.approx(base / 2) for lr in lrs[3])  # step kept
    if reset:
        assert '--reset-lr: optimizer group base lr 0.05 (checkpoint) -> ' \
            '0.01 (config)' in H.log_text(str(work_dir))


def test_reset_lr_needs_resume(capsys: pytest.CaptureFixture,
                               after_epoch_1: tuple) -> None:
    with pytest.raises(SystemExit):
        _train_cli(after_epoch_1[0], '--reset-lr')
    assert '--reset-lr needs --resume' in capsys.readouterr().err


def test_non_finite_advice_names_the_working_command(
        tmp_path: Path, teacher_ckpt: str) -> None:
    cfg = H.fitnets_cfg(
        str(tmp_path / 'work'), teacher_ckpt, hint_epochs=1, kd_epochs=0,
        hints=[dict(student='backbone.layer2', teacher='backbone.layer2',
                    loss=dict(type='HintLossBreaksAfter', after=1))],
        custom_hooks=[])
    cfg.experiment_name = f'advice_{tmp_path.name}'
    import test_reliability.test_nonfinite  # noqa: F401  (registers HintLossBreaksAfter)
    with pytest.raises(NonFiniteLossError) as err:
        Runner.from_cfg(cfg).train()
    assert '--resume --reset-lr --cfg-options optim_wrapper.optimizer.lr=' \
        in str(err.value)
    assert os.path.basename(H.TRAIN_PY) in str(err.value)

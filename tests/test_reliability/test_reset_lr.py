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


def test_non_finite_advice_without_a_checkpoint_starts_again(
        tmp_path: Path, teacher_ckpt: str) -> None:
    """Diverged before any checkpoint: no --resume in the advice."""
    cfg = H.fitnets_cfg(
        str(tmp_path / 'work'), teacher_ckpt, hint_epochs=1, kd_epochs=0,
        hints=[dict(student='backbone.layer2', teacher='backbone.layer2',
                    loss=dict(type='HintLossBreaksAfter', after=1))],
        custom_hooks=[])
    cfg.experiment_name = f'advice_{tmp_path.name}'
    # registers HintLossBreaksAfter
    import test_reliability.test_nonfinite  # noqa: F401
    with pytest.raises(NonFiniteLossError) as err:
        Runner.from_cfg(cfg).train()
    message = str(err.value)
    assert '\n' not in message
    assert '--resume' not in message
    assert f'No checkpoint was saved in {tmp_path / "work"} yet' in message
    # the config: the copy the runner dumped (it was built from a dict)
    command = re.search(
        rf'python tools/train\.py (\S+) --work-dir {tmp_path / "work"} '
        r'--cfg-options optim_wrapper\.optimizer\.lr=LR\.$', message)
    assert command and os.path.isfile(command.group(1)), message


def test_non_finite_advice_is_a_command_that_works(
        tmp_path: Path, teacher_ckpt: str) -> None:
    """Diverged in epoch 2: the advised command, run as written (LR
    filled in), resumes from epoch_1.pth and finishes the run."""
    import shlex
    # registers KDLossBreaksAfter
    import test_reliability.test_nonfinite  # noqa: F401
    from mmengine.config import Config
    work_dir = tmp_path / 'work'
    config = H.dump_cfg(
        H.fitnets_cfg(
            str(work_dir), teacher_ckpt, hint_epochs=1, kd_epochs=1,
            **{'model.distiller.distill_losses.loss_kd.type':
               'KDLossBreaksAfter',
               'model.distiller.distill_losses.loss_kd.after': 2}),
        str(tmp_path / 'diverges.py'))
    with pytest.raises(NonFiniteLossError) as err:
        Runner.from_cfg(Config.fromfile(config)).train()
    message = str(err.value)
    command = re.search(r'python (tools/train\.py .*?optimizer\.lr=LR)',
                        message)
    assert command, message
    args = shlex.split(command.group(1).replace('=LR', '=0.01'))
    assert args[:2] == ['tools/train.py', config]
    assert f'--resume {work_dir / "epoch_1.pth"}' in command.group(1)
    # the loss that broke is fixed as the user would fix the config
    _train_cli(*args[1:],
               'model.distiller.distill_losses.loss_kd.after=1000')
    assert (work_dir / 'epoch_2.pth').exists()
    assert sorted(_lrs(work_dir)) == [1, 2]

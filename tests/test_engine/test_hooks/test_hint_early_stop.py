"""HintValidationHook(patience=...): stage 1 ends once its validation hint
loss stops improving, stage 2 follows at once, and a resumed run keeps the
shortened schedule."""
import glob
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook

from utils import toy_models as tm


class SpoilFromSecondEpoch(Hook):
    """Spoil the student after every hint epoch but the first, so that the
    validation hint loss never improves on epoch 1; record the stages."""

    priority = 'HIGHEST'

    def __init__(self):
        self.stages = []

    def before_train_epoch(self, runner):
        self.stages.append(runner.model.stage)

    def after_train_epoch(self, runner):
        if runner.epoch >= 1 and runner.model.stage == 'hint':
            with torch.no_grad():
                for p in runner.model.student.backbone.parameters():
                    p.mul_(3.0)


def _train(work_dir, patience, resume=False, hint_epochs=6, kd_epochs=2):
    spoil = SpoilFromSecondEpoch()
    runner = tm.build_runner(
        work_dir=str(work_dir), hint_epochs=hint_epochs, kd_epochs=kd_epochs,
        resume=resume,
        custom_hooks=[
            dict(type='HintValidationHook', keep_best=True,
                 patience=patience, dataloader=tm.dataloader_cfg()), spoil,
            dict(type='LossWeightScheduleHook', loss_names='loss_kd',
                 start=4.0, end=0.0, begin_epoch=0, end_epoch=2,
                 stage_relative=True, by_epoch=True),
        ],
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=1)))
    runner.train()
    return runner, spoil


def test_stage1_stops_after_patience_epochs_without_improvement(tmp_path):
    runner, spoil = _train(tmp_path, patience=2)
    log = tm.read_log(runner)
    # epoch 1 is the best; epochs 2 and 3 do not improve: stop after 3
    assert 'Stage 1 stopped early after 3 of 6 hint epochs' in log
    assert spoil.stages == ['hint'] * 3 + ['kd'] * 2
    assert runner.train_loop.hint_epochs == 3
    assert runner.train_loop.max_epochs == 5 and runner.epoch == 5
    assert 'reloaded the best stage-1 weights, from epoch 1' in log
    assert 'FitNets stage 2 (kd) from epoch 4' in log
    # the lambda schedule counts from the actual start of stage 2: 4 -> 0
    # over KD epochs [0, 2) by epoch gives 4 * (1 - 2/3) in the last epoch
    # (4.0, the value before the schedule, if it still counted from 6)
    lam = runner.model.distiller.distill_losses['loss_kd'].loss_weight
    assert lam == pytest.approx(4.0 / 3)
    assert sorted(osp.basename(p) for p in glob.glob(
        str(tmp_path / 'epoch_*.pth'))) == [f'epoch_{i}.pth'
                                            for i in range(1, 6)]


def test_without_patience_stage1_runs_its_length(tmp_path):
    runner, spoil = _train(tmp_path, patience=None, hint_epochs=4)
    assert spoil.stages == ['hint'] * 4 + ['kd'] * 2
    assert 'stopped early' not in tm.read_log(runner)


def test_a_resumed_run_keeps_the_early_end(tmp_path):
    _train(tmp_path, patience=2)
    # resume from the end of stage 1 (epoch 3): the run goes on in stage 2
    for name in ('epoch_4.pth', 'epoch_5.pth'):
        (tmp_path / name).unlink()
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))
    tm.reset_runner_state()
    runner, spoil = _train(tmp_path, patience=2, resume=True)
    assert spoil.stages == ['kd', 'kd']
    assert runner.train_loop.hint_epochs == 3 and runner.epoch == 5
    assert 'stage 1 stopped early after 3 hint epochs' in \
        tm.read_log(runner)


@pytest.mark.parametrize('patience', [0, -1, 1.5, True])
def test_patience_must_be_a_positive_int(patience):
    from fitnets_mm.engine.hooks import HintValidationHook
    with pytest.raises(ValueError, match='`patience` must be None or an '
                       f'int >= 1, but got {patience!r}'):
        HintValidationHook(patience=patience)


def test_patience_refuses_a_stage2_scheduler(tmp_path):
    runner = tm.build_runner(
        work_dir=str(tmp_path), hint_epochs=3, kd_epochs=2,
        param_scheduler=[dict(type='MultiStepLR', milestones=[1],
                              stage='kd')],
        custom_hooks=[dict(type='HintValidationHook', patience=1,
                           dataloader=tm.dataloader_cfg())])
    with pytest.raises(ValueError, match="stage='kd'"):
        runner.train()

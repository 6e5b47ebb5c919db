"""StageEarlyStoppingHook: stage-1 validations do not count; a plateau in
stage 2 stops the run; the count travels in the checkpoints."""
import pytest
from mmengine.hooks import Hook

from utils import toy_models as tm


class FakeAccuracy(Hook):
    """Replace the validation metrics by a given sequence, per epoch."""

    priority = 'VERY_HIGH'

    def __init__(self, values):
        self.values = values

    def after_val_epoch(self, runner, metrics=None):
        metrics['accuracy/top1'] = self.values[runner.epoch - 1]


def _train(tmp_path, values, hint_epochs, kd_epochs, patience=2,
           begin_level=None):
    runner = tm.build_runner(
        work_dir=str(tmp_path), hint_epochs=hint_epochs, kd_epochs=kd_epochs,
        val_dataloader=tm.dataloader_cfg(),
        val_evaluator=dict(type='mmpretrain.Accuracy'),
        val_cfg=dict(),
        custom_hooks=[FakeAccuracy(values),
                      dict(type='StageEarlyStoppingHook',
                           monitor='accuracy/top1', patience=patience,
                           min_delta=0.5, begin_level=begin_level)],
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1),
                           checkpoint=dict(type='CheckpointHook',
                                           interval=1)))
    runner.train()
    return runner


def test_stage1_validations_do_not_count(tmp_path):
    # stage 1 (3 epochs) at chance, flat: mmengine's hook would stop there
    values = [10, 10, 10, 50, 60, 60.2, 60.3, 61, 62, 63]
    runner = _train(tmp_path, values, hint_epochs=3, kd_epochs=7)
    # stage 2: 50, 60, then 60.2 and 60.3 do not beat 60 + 0.5: stop
    assert runner.epoch == 7
    assert 'did not improve in the last 2 records' in tm.read_log(runner)


def test_plateau_in_a_stage2_only_run(tmp_path):
    runner = _train(tmp_path, [50, 50.1, 50.2, 70], hint_epochs=0,
                    kd_epochs=4)
    assert runner.epoch == 3


def test_count_travels_in_the_checkpoint(tmp_path):
    import torch
    _train(tmp_path, [10, 50, 50.1, 50.2], hint_epochs=1, kd_epochs=3,
           patience=3)

    def saved(epoch):
        return torch.load(tmp_path / f'epoch_{epoch}.pth',
                          weights_only=False)['stage_early_stopping']

    # each checkpoint is written before its epoch's validation: epoch 3's
    # has seen epoch 2's 50 (best), epoch 4's also 50.1 (not better by 0.5)
    assert saved(3) == dict(best_score=50, wait_count=0)
    assert saved(4) == dict(best_score=50, wait_count=1)


def test_a_plateau_at_chance_is_not_convergence(tmp_path):
    # 4 epochs at chance, then the student leaves the plateau
    values = [10, 10, 10, 10, 70, 80, 80.1, 80.2, 90]
    without = _train(tmp_path / 'a', values, 0, len(values))
    assert without.epoch == 3  # mmengine's count stops it at chance
    runner = _train(tmp_path / 'b', values, 0, len(values), begin_level=20)
    assert runner.epoch == 8  # 80.1 and 80.2 do not beat 80 + 0.5
    log = tm.read_log(runner)
    assert 'accuracy/top1 = 70 passed 20 at epoch 5; the plateau count ' \
        '(patience 2) begins' in log
    assert log.count('passed 20') == 1


def test_a_run_that_never_passes_the_level_runs_to_its_cap(tmp_path):
    runner = _train(tmp_path, [10, 11, 10, 19, 10], 0, 5, begin_level=20)
    assert runner.epoch == 5
    assert 'did not improve' not in tm.read_log(runner)


def test_begin_level_is_checked():
    from fitnets_mm.engine.hooks import StageEarlyStoppingHook
    with pytest.raises(TypeError, match="begin_level must be a number or "
                       "None, got '20'"):
        StageEarlyStoppingHook('accuracy/top1', begin_level='20')


def test_a_resumed_run_keeps_counting_after_the_level(tmp_path):
    from types import SimpleNamespace

    from fitnets_mm.engine.hooks import StageEarlyStoppingHook
    hook = StageEarlyStoppingHook('accuracy/top1', begin_level=20,
                                  patience=2)
    hook.after_load_checkpoint(None, {'stage_early_stopping': dict(
        best_score=70.0, wait_count=1)})
    stop = SimpleNamespace(stop_training=False)
    runner = SimpleNamespace(train_loop=stop, epoch=9,
                             logger=SimpleNamespace(info=print))
    # a fall below the level after resuming still counts: the second record
    hook.after_val_epoch(runner, {'accuracy/top1': 15.0})
    assert stop.stop_training and hook.wait_count == 2

"""HintValidationHook: L_HT on the validation set each hint epoch, and the
best stage-1 weights reloaded at the switch."""
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook

from utils import toy_models as tm


class SpoilLastHintEpoch(Hook):
    """Record the student after each epoch; spoil it after the last hint
    epoch, before it is validated, so that an earlier epoch is the best."""

    priority = 'HIGHEST'

    def __init__(self, last_hint_epoch):
        self.last = last_hint_epoch
        self.states = {}
        self.at_epoch_start = {}

    def _student(self, runner):
        return {k: v.detach().clone()
                for k, v in runner.model.student.state_dict().items()}

    def before_train_epoch(self, runner):
        self.at_epoch_start[runner.epoch] = self._student(runner)

    def after_train_epoch(self, runner):
        self.states[runner.epoch] = self._student(runner)
        if runner.epoch == self.last:
            with torch.no_grad():
                for p in runner.model.student.backbone.parameters():
                    p.mul_(30.0)


def train(tmp_path, keep_best):
    spoil = SpoilLastHintEpoch(last_hint_epoch=1)
    runner = tm.build_runner(
        work_dir=str(tmp_path), hint_epochs=2, kd_epochs=1,
        custom_hooks=[
            dict(type='HintValidationHook', keep_best=keep_best,
                 dataloader=tm.dataloader_cfg()), spoil
        ],
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=1)))
    runner.train()
    return runner, spoil


def _val_losses(log):
    return [float(line.rpartition('hint.loss_ht: ')[2])
            for line in log.splitlines() if 'Epoch(hint val)' in line]


def _same(a, b):
    return all(torch.equal(a[k], b[k]) for k in a)


def test_hint_loss_is_validated_each_hint_epoch(tmp_path):
    runner, _ = train(tmp_path, keep_best=False)
    log = tm.read_log(runner)
    assert 'Epoch(hint val) [1]' in log and 'Epoch(hint val) [2]' in log
    assert 'Epoch(hint val) [3]' not in log  # not in stage 2
    losses = _val_losses(log)
    assert len(losses) == 2 and losses[1] > losses[0]  # spoilt epoch 2
    logged = runner.message_hub.get_scalar('hint_val/hint.loss_ht')
    assert logged.current() == pytest.approx(losses[1], rel=1e-3)


def test_best_stage1_weights_are_reloaded_at_the_switch(tmp_path):
    runner, spoil = train(tmp_path, keep_best=True)
    log = tm.read_log(runner)
    assert 'reloaded the best stage-1 weights, from epoch 1' in log
    # stage 2 began from epoch 1's weights, not the spoilt epoch 2
    assert _same(spoil.at_epoch_start[2], spoil.states[0])
    assert not _same(spoil.at_epoch_start[2], spoil.states[1])
    # the best-so-far travels in the stage-1 checkpoints, for resuming
    ckpt = torch.load(osp.join(str(tmp_path), 'epoch_1.pth'),
                      weights_only=False)
    assert ckpt['hint_validation']['epoch'] == 1
    assert 'hint_validation' not in torch.load(
        osp.join(str(tmp_path), 'epoch_2.pth'), weights_only=False)


def test_without_keep_best_stage2_starts_from_the_last_weights(tmp_path):
    runner, spoil = train(tmp_path, keep_best=False)
    spoilt = {k: v * 30.0 if k.startswith('backbone.') and
              v.dtype.is_floating_point and 'running' not in k
              and 'num_batches' not in k else v
              for k, v in spoil.states[1].items()}
    assert not _same(spoil.at_epoch_start[2], spoil.states[0])
    assert all(torch.allclose(spoil.at_epoch_start[2][k], spoilt[k])
               for k in spoilt)

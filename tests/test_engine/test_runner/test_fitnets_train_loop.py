"""FitNetsTrainLoop: stage per epoch, stage-relative schedulers, checks."""
import pytest

from utils import toy_models as tm


LR = 0.01
STAGE_SCHEDULERS = [
    dict(type='ConstantLR', factor=0.5, stage='hint', by_epoch=True),
    dict(type='MultiStepLR', milestones=[1], gamma=0.1, stage='kd',
         by_epoch=True),
]


def train(tmp_path, **kwargs):
    hook = tm.RecordHook()
    runner = tm.build_runner(
        work_dir=str(tmp_path), lr=LR, custom_hooks=[hook], **kwargs)
    runner.train()
    return runner, hook


def per_epoch(hook, key):
    return [e[key] for e in hook.epochs]


def test_stage_follows_epoch_and_switch_is_logged(tmp_path):
    runner, hook = train(tmp_path, hint_epochs=2, kd_epochs=2)
    assert per_epoch(hook, 'stage') == ['hint', 'hint', 'kd', 'kd']
    # every iteration of an epoch runs in the epoch's stage
    assert [(i['epoch'], i['stage']) for i in hook.iters] == [
        (0, 'hint'), (0, 'hint'), (1, 'hint'), (1, 'hint'), (2, 'kd'),
        (2, 'kd'), (3, 'kd'), (3, 'kd')
    ]
    assert runner.train_loop.max_epochs == 4
    assert runner.epoch == 4 and runner.iter == 8
    log = tm.read_log(runner)
    assert 'FitNets stage 1 (hint) from epoch 1: stage epochs 1-2 of 4.' \
        in log
    assert 'FitNets stage 2 (kd) from epoch 3: stage epochs 3-4 of 4.' in log
    assert log.count('FitNets stage 1 (hint) from') == 1
    assert log.count('FitNets stage 2 (kd) from') == 1
    # the loss names show the stage, and stage-2 lines carry no stage-1
    # losses (their smoothing windows are dropped at the switch)
    lines = [line for line in log.splitlines() if 'Epoch(train)' in line]
    assert all('hint.loss_ht' in line and 'distill.' not in line
               for line in lines if 'Epoch(train) [1]' in line or
               'Epoch(train) [2]' in line)
    assert all('distill.loss_kd' in line and 'hint.loss_ht' not in line
               for line in lines if 'Epoch(train) [3]' in line or
               'Epoch(train) [4]' in line)
    assert 'train/hint.loss_ht' not in runner.message_hub.log_scalars
    assert runner.message_hub.get_scalar('train/distill.loss_kd')


@pytest.mark.parametrize('hint_epochs,kd_epochs,expected', [
    (2, 2, [0.5 * LR, 0.5 * LR, LR, 0.1 * LR]),
    (1, 2, [0.5 * LR, LR, 0.1 * LR]),
    (3, 3, [0.5 * LR] * 3 + [LR, 0.1 * LR, 0.1 * LR]),
])
def test_stage_relative_schedulers_follow_the_stages(tmp_path, hint_epochs,
                                                     kd_epochs, expected):
    _, hook = train(
        tmp_path,
        hint_epochs=hint_epochs,
        kd_epochs=kd_epochs,
        param_scheduler=STAGE_SCHEDULERS)
    assert per_epoch(hook, 'lr') == pytest.approx(expected)
    # within an epoch the lr does not move (epoch-based schedulers)
    assert [i['lr'] for i in hook.iters] == pytest.approx(
        [lr for lr in expected for _ in range(2)])


def test_schedulers_of_a_zero_length_stage_are_dropped(tmp_path):
    runner, hook = train(
        tmp_path,
        hint_epochs=0,
        kd_epochs=2,
        param_scheduler=STAGE_SCHEDULERS)
    assert [type(s).__name__ for s in runner.param_schedulers] == \
        ['MultiStepLR']
    assert per_epoch(hook, 'lr') == pytest.approx([LR, 0.1 * LR])


def test_schedulers_without_stage_are_kept_absolute(tmp_path):
    runner, hook = train(
        tmp_path,
        hint_epochs=1,
        kd_epochs=2,
        param_scheduler=dict(
            type='MultiStepLR', milestones=[1], gamma=0.1, by_epoch=True))
    assert per_epoch(hook, 'lr') == pytest.approx([LR, 0.1 * LR, 0.1 * LR])


def test_stage_relative_begin_and_end(tmp_path):
    runner, hook = train(
        tmp_path,
        hint_epochs=1,
        kd_epochs=3,
        param_scheduler=dict(
            type='ConstantLR', factor=0.5, stage='kd', begin=1, end=2))
    # halved in the second KD epoch only
    assert per_epoch(hook, 'lr') == pytest.approx([LR, LR, 0.5 * LR, LR])
    with pytest.raises(ValueError, match='begin < end'):
        tm.build_runner(
            work_dir=str(tmp_path),
            hint_epochs=1,
            kd_epochs=1,
            param_scheduler=dict(
                type='ConstantLR', factor=0.5, stage='kd', begin=1)).train()


def test_plain_kd_when_hint_epochs_is_zero(tmp_path):
    runner, hook = train(
        tmp_path,
        hint_epochs=0,
        kd_epochs=2,
        model=tm.fitnets_cfg(hints=[]))
    assert per_epoch(hook, 'stage') == ['kd', 'kd']
    assert 'FitNets stage 2 (kd) from epoch 1' in tm.read_log(runner)
    assert 'train/hint.loss_ht' not in runner.message_hub.log_scalars


def test_hint_epochs_zero_skips_stage_one_even_with_hints(tmp_path):
    _, hook = train(tmp_path, hint_epochs=0, kd_epochs=1)
    assert per_epoch(hook, 'stage') == ['kd']


@pytest.mark.parametrize('kwargs,match', [
    (dict(hint_epochs=-1, kd_epochs=2), 'hint_epochs'),
    (dict(hint_epochs=1, kd_epochs=-2), 'kd_epochs'),
    (dict(hint_epochs=1.5, kd_epochs=2), 'hint_epochs'),
    (dict(hint_epochs=0, kd_epochs=0), 'both 0'),
    (dict(hint_epochs=1, kd_epochs=1, model=tm.fitnets_cfg(hints=[])),
     'no hint pairs'),
    (dict(hint_epochs=1, kd_epochs=1,
          param_scheduler=dict(type='ConstantLR', stage='warmup')),
     'stage'),
])
def test_invalid_settings_raise_before_any_iteration(tmp_path, kwargs, match):
    hook = tm.RecordHook()
    runner = tm.build_runner(
        work_dir=str(tmp_path), custom_hooks=[hook], **kwargs)
    with pytest.raises(ValueError, match=match):
        runner.train()
    assert hook.iters == [] and hook.epochs == []


def test_parts_every_run_needs_are_added_and_logged(tmp_path):
    """A config without the guards and HintStageHook (a restated
    ``custom_hooks``) still gets them, once each, and the log says so."""
    from fitnets_mm.engine.hooks import (FiniteLossGuardHook,
                                         FiniteWeightsGuardHook,
                                         HintStageHook)
    runner = tm.build_runner(work_dir=str(tmp_path / 'bare'), hint_epochs=1,
                             kd_epochs=1)
    runner.train()
    assert (tmp_path / 'bare' / 'hint_stage_last.pth').is_file()
    assert 'FitNetsTrainLoop added FiniteLossGuardHook, ' \
        'FiniteWeightsGuardHook, HintStageHook (every FitNets run has ' \
        'them; the config did not register them).' in tm.read_log(runner)
    tm.reset_runner_state()
    runner = tm.build_runner(work_dir=str(tmp_path / 'own'), hint_epochs=1,
                             kd_epochs=1,
                             custom_hooks=[dict(type='HintStageHook')])
    runner.train()
    for hook in (FiniteLossGuardHook, FiniteWeightsGuardHook, HintStageHook):
        assert sum(isinstance(h, hook) for h in runner.hooks) == 1, hook
    assert 'added FiniteLossGuardHook, FiniteWeightsGuardHook (every' in \
        tm.read_log(runner)
    tm.reset_runner_state()
    # plain KD: no stage 1, no HintStageHook
    runner = tm.build_runner(work_dir=str(tmp_path / 'kd'), hint_epochs=0,
                             kd_epochs=1)
    runner.train()
    assert not any(isinstance(h, HintStageHook) for h in runner.hooks)
    tm.reset_runner_state()

"""Resuming a FitNets run in either stage ends where an unbroken run does."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.hooks import Hook

from utils import toy_models as tm


HINT_EPOCHS, KD_EPOCHS = 2, 2  # 4 epochs of 2 iterations


class Interrupt(Exception):
    pass


class InterruptAfterEpoch(Hook):
    """Stop training once epoch ``k`` (1-based) is saved."""

    priority = 'LOWEST'  # after CheckpointHook

    def __init__(self, k: int) -> None:
        self.k = k

    def after_train_epoch(self, runner) -> None:
        if runner.epoch + 1 == self.k:  # `epoch` counts from 0 here
            raise Interrupt


@pytest.fixture(autouse=True)
def restore_determinism():
    yield
    torch.use_deterministic_algorithms(False)


def make_runner(work_dir, hooks, resume=False, **kwargs):
    kwargs.setdefault('param_scheduler', [
        dict(type='ConstantLR', factor=0.5, stage='hint'),
        dict(type='MultiStepLR', milestones=[1], gamma=0.1, stage='kd')
    ])
    return tm.build_runner(
        work_dir=str(work_dir),
        hint_epochs=HINT_EPOCHS,
        kd_epochs=KD_EPOCHS,
        train_dataloader=tm.dataloader_cfg(shuffle=True),
        custom_hooks=[dict(type='LossWeightScheduleHook')] + hooks,
        default_hooks=dict(
            logger=dict(type='LoggerHook', interval=1),
            checkpoint=dict(type='CheckpointHook', interval=1)),
        randomness=dict(seed=0, deterministic=True),
        resume=resume,
        **kwargs)


def student_state(runner):
    return {
        k: v.detach().clone()
        for k, v in runner.model.student.state_dict().items()
    }


@pytest.fixture(scope='module')
def unbroken(tmp_path_factory):
    record = tm.RecordHook()
    runner = make_runner(tmp_path_factory.mktemp('unbroken'), [record])
    runner.train()
    torch.use_deterministic_algorithms(False)
    return student_state(runner), record


def assert_same_optim_state(a, b):
    assert a['param_groups'] == b['param_groups']
    assert a['state'].keys() == b['state'].keys()
    for key in a['state']:
        for name, value in a['state'][key].items():
            other = b['state'][key][name]
            if isinstance(value, torch.Tensor):
                assert torch.equal(value, other), (key, name)
            else:
                assert value == other, (key, name)


@pytest.mark.parametrize('k,first_stage', [(1, 'hint'), (2, 'kd'),
                                           (3, 'kd')])
def test_resumed_run_matches_unbroken_run(tmp_path, unbroken, k,
                                          first_stage):
    final, full = unbroken
    interrupted = make_runner(tmp_path, [InterruptAfterEpoch(k)])
    with pytest.raises(Interrupt):
        interrupted.train()
    assert osp.isfile(osp.join(tmp_path, f'epoch_{k}.pth'))
    assert not osp.isfile(osp.join(tmp_path, f'epoch_{k + 1}.pth'))
    # the interrupted run's weights differ from the final ones
    assert any(not torch.equal(v, final[n])
               for n, v in student_state(interrupted).items())

    record = tm.RecordHook()
    resumed = make_runner(tmp_path, [record], resume=True)
    resumed.train()

    # it continued from epoch k, in the stage of that epoch
    assert [e['epoch'] for e in record.epochs] == list(range(k, 4))
    assert record.epochs[0]['stage'] == first_stage
    assert [e['stage'] for e in record.epochs] == \
        [e['stage'] for e in full.epochs[k:]]
    # a resume inside a stage is logged as such, with the stage's span
    begin, end = (1, 2) if first_stage == 'hint' else (3, 4)
    assert 'stage {} {} epoch {}: stage epochs {}-{} of 4.'.format(
        '1 (hint)' if first_stage == 'hint' else '2 (kd)',
        'from' if k + 1 == begin else 'resumed at', k + 1, begin,
        end) in tm.read_log(resumed)
    # lr, lambda and the optimizer state (momentum) are those of the
    # unbroken run at the same point
    assert [i['lr'] for i in record.iters] == \
        [i['lr'] for i in full.iters[2 * k:]]
    assert [i['loss_weight'] for i in record.iters] == \
        [i['loss_weight'] for i in full.iters[2 * k:]]
    assert_same_optim_state(record.epochs[0]['optim_state'],
                            full.epochs[k]['optim_state'])
    # momentum was saved; stage 2 starts from a fresh state
    assert bool(record.epochs[0]['optim_state']['state']) == (k != 2)

    state = student_state(resumed)
    assert state.keys() == final.keys()
    for name, value in state.items():
        assert torch.equal(value, final[name]), name


# Per-stage optimizers: RMSprop for the hints, SGD with momentum for KD, with
# the hint-trained layers at a tenth of the KD rate.
STAGE_OPTIM = dict(
    constructor='StageOptimWrapperConstructor',
    hint=dict(optimizer=dict(type='RMSprop', lr=1e-3, alpha=0.9)),
    kd=dict(optimizer=dict(type='SGD', lr=0.01, momentum=0.9)),
    kd_hint_lr_mult=0.1)
SCHED = dict(hint=[], kd=[dict(type='MultiStepLR', milestones=[1],
                              stage='kd')])


class StageOptimRecord(Hook):
    """Record both optimizers' states and lrs before every epoch."""

    priority = 'LOWEST'

    def __init__(self):
        self.epochs = []

    def before_train_epoch(self, runner):
        self.epochs.append({
            key: dict(state=copy.deepcopy(w.optimizer.state_dict()),
                      lr=[g['lr'] for g in w.param_groups])
            for key, w in runner.optim_wrapper.items()})


@pytest.fixture(scope='module')
def unbroken_stage_optim(tmp_path_factory):
    record = StageOptimRecord()
    runner = make_runner(tmp_path_factory.mktemp('unbroken_stage'),
                         [record], optim_wrapper=STAGE_OPTIM,
                         param_scheduler=SCHED)
    runner.train()
    torch.use_deterministic_algorithms(False)
    return student_state(runner), record


@pytest.mark.parametrize('k', [1, 2, 3])
def test_resume_with_per_stage_optimizers(tmp_path, unbroken_stage_optim, k):
    final, full = unbroken_stage_optim
    # stage 1 moved only the hint optimizer, stage 2 only the KD one
    assert full.epochs[2]['hint']['state']['state']
    assert not full.epochs[2]['kd']['state']['state']
    assert full.epochs[3]['kd']['state']['state']
    assert_same_optim_state(full.epochs[3]['hint']['state'],
                            full.epochs[2]['hint']['state'])
    interrupted = make_runner(tmp_path, [InterruptAfterEpoch(k)],
                              optim_wrapper=STAGE_OPTIM,
                              param_scheduler=SCHED)
    with pytest.raises(Interrupt):
        interrupted.train()
    record = StageOptimRecord()
    resumed = make_runner(tmp_path, [record], resume=True,
                          optim_wrapper=STAGE_OPTIM,
                              param_scheduler=SCHED)
    resumed.train()
    for key in ('hint', 'kd'):
        assert record.epochs[0][key]['lr'] == full.epochs[k][key]['lr']
        assert_same_optim_state(record.epochs[0][key]['state'],
                                full.epochs[k][key]['state'])
    state = student_state(resumed)
    for name, value in state.items():
        assert torch.equal(value, final[name]), name
